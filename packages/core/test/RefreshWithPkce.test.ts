import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fc from "effect/FastCheck"
import * as Redacted from "effect/Redacted"
import { inspect } from "node:util"
import * as AccessToken from "../src/AccessToken.js"
import * as Endpoint from "../src/Endpoint.js"
import * as Grant from "../src/Grant.js"
import * as OAuth2Client from "../src/OAuth2Client.js"
import * as TokenCipher from "../src/TokenCipher.js"
import * as TokenServer from "./utils/tokenServer.js"

const VERIFIER = "pkce-verifier-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG"
const REDIRECT = "http://127.0.0.1:8765/callback"
const CODE = "code-4d5e6f"
const REFRESH = "RT-1a2b3c-first"
const NEXT = "RT-7g8h9i-next"

const start = (refreshWithPkce: boolean | undefined, script: TokenServer.Script = TokenServer.token()) =>
  Effect.gen(function*() {
    const server = yield* TokenServer.make(script)
    const endpoint = yield* Endpoint.make({
      provider: "saxo-like",
      tokenUrl: server.url("/token"),
      authMethod: "none",
      refreshWithPkce
    })
    const client = yield* OAuth2Client.make({ endpoint, credentials: Endpoint.credentials("public-app") })
    return { server, client }
  })

const exchange = Grant.authorizationCode({
  code: Redacted.make(CODE),
  redirectUri: REDIRECT,
  codeVerifier: Redacted.make(VERIFIER)
})

const refreshOf = (token: AccessToken.AccessToken) =>
  Grant.refreshToken({
    refreshToken: token.refreshToken!,
    codeVerifier: token.codeVerifier,
    redirectUri: token.redirectUri
  })

describe("Endpoint.refreshWithPkce: the login's code_verifier and redirect_uri on every refresh (Saxo)", () => {
  it.scoped("kept with the token after the exchange, re-sent on refresh, and handed on to the refreshed token", () =>
    Effect.gen(function*() {
      const { client, server } = yield* start(true, [
        TokenServer.token({ refresh_token: REFRESH }),
        TokenServer.token({ refresh_token: NEXT })
      ])
      const token = yield* client.requestToken(exchange)
      assert.strictEqual(Redacted.value(token.codeVerifier!), VERIFIER)
      assert.strictEqual(token.redirectUri, REDIRECT)
      const refreshed = yield* client.requestToken(refreshOf(token))
      const sent = yield* server.last
      assert.strictEqual(sent.form.grant_type, "refresh_token")
      assert.strictEqual(sent.form.refresh_token, REFRESH)
      assert.strictEqual(sent.form.code_verifier, VERIFIER)
      assert.strictEqual(sent.form.redirect_uri, REDIRECT)
      assert.strictEqual(Redacted.value(refreshed.refreshToken!), NEXT)
      assert.strictEqual(Redacted.value(refreshed.codeVerifier!), VERIFIER)
      assert.strictEqual(refreshed.redirectUri, REDIRECT)
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scoped("off (the default): the verifier is not kept, and a refresh grant carrying one does not send it", () =>
    Effect.gen(function*() {
      const { client, server } = yield* start(undefined, TokenServer.token({ refresh_token: REFRESH }))
      const token = yield* client.requestToken(exchange)
      assert.isUndefined(token.codeVerifier)
      assert.isUndefined(token.redirectUri)
      yield* client.requestToken(
        Grant.refreshToken({ refreshToken: Redacted.make(REFRESH), codeVerifier: Redacted.make(VERIFIER), redirectUri: REDIRECT })
      )
      const sent = yield* server.last
      assert.strictEqual(sent.form.grant_type, "refresh_token")
      assert.isUndefined(sent.form.code_verifier)
      assert.isUndefined(sent.form.redirect_uri)
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scoped("a login without PKCE keeps the redirect_uri alone; a token without a refresh token keeps neither", () =>
    Effect.gen(function*() {
      const { client, server } = yield* start(true, [
        TokenServer.token({ refresh_token: REFRESH }),
        TokenServer.token({}),
        TokenServer.token({})
      ])
      const plain = yield* client.requestToken(Grant.authorizationCode({ code: Redacted.make(CODE), redirectUri: REDIRECT }))
      assert.isUndefined(plain.codeVerifier)
      assert.strictEqual(plain.redirectUri, REDIRECT)
      yield* client.requestToken(refreshOf(plain))
      const sent = yield* server.last
      assert.strictEqual(sent.form.redirect_uri, REDIRECT)
      assert.isUndefined(sent.form.code_verifier)
      const noRefresh = yield* client.requestToken(exchange)
      assert.isUndefined(noRefresh.refreshToken)
      assert.isUndefined(noRefresh.codeVerifier)
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scoped("the verifier never shows: not in String, JSON or inspect of the token, nor in an error echoing it", () =>
    Effect.gen(function*() {
      const { client } = yield* start(true, [
        TokenServer.token({ refresh_token: REFRESH }),
        TokenServer.oauthError("invalid_grant", { error_description: `bad code_verifier ${VERIFIER}` })
      ])
      const token = yield* client.requestToken(exchange)
      for (const shown of [String(token), JSON.stringify(token), inspect(token, { depth: 10 })]) {
        assert.notInclude(shown, VERIFIER)
      }
      const error = yield* Effect.flip(client.requestToken(refreshOf(token)))
      assert.strictEqual(error._tag, "Unauthorized")
      for (const shown of [error.message, JSON.stringify(error), inspect(error, { depth: 10 })]) {
        assert.notInclude(shown, VERIFIER)
      }
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.effect("stored: encoded in clear for the store (and so sealed by TokenCipher); an older token without it reads", () =>
    Effect.gen(function*() {
      const token = new AccessToken.AccessToken({
        value: Redacted.make("AT"),
        type: "Bearer",
        issuedAt: 0,
        expiresAt: 1_200_000,
        scopes: [],
        refreshToken: Redacted.make(REFRESH),
        codeVerifier: Redacted.make(VERIFIER),
        redirectUri: REDIRECT,
        extra: {}
      })
      const encoded = AccessToken.encode(token)
      assert.strictEqual(encoded.codeVerifier, VERIFIER)
      const decoded = yield* AccessToken.decodeUnknown(encoded)
      assert.strictEqual(Redacted.value(decoded.codeVerifier!), VERIFIER)
      assert.strictEqual(decoded.redirectUri, REDIRECT)
      const { codeVerifier: _v, redirectUri: _r, ...older } = encoded
      const old = yield* AccessToken.decodeUnknown(older)
      assert.isUndefined(old.codeVerifier)
      assert.isUndefined(old.redirectUri)
      // Sealed, the verifier is not readable in what a store persists.
      const cipher = yield* TokenCipher.make(TokenCipher.rawKey(Buffer.alloc(32, 7).toString("base64")))
      const key = { provider: "saxo", environment: "sim", clientId: "app", scopes: [] }
      const sealed = yield* TokenCipher.sealToken(cipher, key, token)
      assert.notInclude(sealed, VERIFIER)
      const opened = yield* TokenCipher.openToken(cipher, key, sealed)
      assert.strictEqual(Redacted.value(opened.codeVerifier!), VERIFIER)
    }))

  it.effect.prop(
    "any RFC 7636 verifier and loopback redirect: sent verbatim on refresh, kept, and never in a rendering or an error",
    [
      fc.stringMatching(/^[A-Za-z0-9._~-]{43,128}$/),
      fc.integer({ min: 1024, max: 65535 }),
      fc.stringMatching(/^\/[a-z0-9/_-]{0,30}$/)
    ],
    ([verifier, port, path]) =>
      Effect.gen(function*() {
        const redirectUri = `http://127.0.0.1:${port}${path}`
        const { client, server } = yield* start(true, [
          TokenServer.token({ refresh_token: REFRESH }),
          TokenServer.oauthError("invalid_grant", { error_description: `no: ${verifier}` })
        ])
        const token = yield* client.requestToken(
          Grant.authorizationCode({ code: Redacted.make(CODE), redirectUri, codeVerifier: Redacted.make(verifier) })
        )
        const error = yield* Effect.flip(client.requestToken(refreshOf(token)))
        const sent = yield* server.last
        assert.strictEqual(sent.form.code_verifier, verifier)
        assert.strictEqual(sent.form.redirect_uri, redirectUri)
        assert.strictEqual(Redacted.value(token.codeVerifier!), verifier)
        for (const shown of [String(token), JSON.stringify(token), inspect(token), error.message, JSON.stringify(error)]) {
          assert.notInclude(shown, verifier)
        }
      }).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer)),
    { fastCheck: { numRuns: 25 } }
  )
})
