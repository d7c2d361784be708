/**
 * Interoperability: effect-oauth2's public API against a real authorization server, panva's oidc-provider, started
 * on 127.0.0.1 by each test. Everything runs on the live clock (the provider reads `Date.now()`), with lifetimes of
 * five seconds.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as http from "node:http"
import {
  AccessTokens,
  AuthorizationCode,
  type ClientAuth,
  Endpoint,
  Grant,
  OAuth2Client,
  type OAuth2Error,
  OAuth2HttpClient
} from "@effect-oauth2/core"
import * as AuthServer from "./utils/authServer.js"

const ALL_SCOPES = ["TRADER_READ", "TRADER_TRADE"]
const LOGIN_SCOPES = ["openid", "offline_access", ...ALL_SCOPES]

const Live = Layer.mergeAll(
  FetchHttpClient.layer,
  NodeHttpServer.layer(() => http.createServer(), { host: "127.0.0.1", port: 0 }),
  Logger.minimumLogLevel(LogLevel.Warning)
)

const endpointOf = (
  server: AuthServer.AuthServer,
  authMethod: ClientAuth.Method,
  basicEncoding: ClientAuth.BasicEncoding = "form"
) =>
  Endpoint.make({
    provider: "oidc-provider",
    environment: "interop",
    tokenUrl: server.tokenUrl,
    revocationUrl: server.revocationUrl,
    introspectionUrl: server.introspectionUrl,
    authorizeUrl: server.authorizeUrl,
    authMethod,
    basicEncoding,
    requestTimeout: "5 seconds"
  })

const clientOf = (
  server: AuthServer.AuthServer,
  client: AuthServer.Client,
  authMethod: ClientAuth.Method,
  basicEncoding: ClientAuth.BasicEncoding = "form"
) =>
  Effect.flatMap(endpointOf(server, authMethod, basicEncoding), (endpoint) =>
    OAuth2Client.make({ endpoint, credentials: Endpoint.credentials(client.id, client.secret) }))

/** The typed failure of an exit; fails the test on a success or a defect. */
const failureOf = <A>(exit: Exit.Exit<A, OAuth2Error.OAuth2Error>): OAuth2Error.OAuth2Error => {
  if (Exit.isSuccess(exit)) return assert.fail("expected a failure, got a success")
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) return assert.fail(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
  return failure.value
}

/** Calls the protected resource through withAccessToken; returns the client id it saw. */
const whoAmI = (server: AuthServer.AuthServer, tokens: AccessTokens.Service) =>
  Effect.gen(function*() {
    const client = OAuth2HttpClient.withAccessToken(yield* HttpClient.HttpClient, tokens)
    const response = yield* client.get(server.apiUrl)
    if (response.status !== 200) return yield* Effect.fail(`the API answered ${response.status}`)
    const body = (yield* response.json) as { readonly client_id: string }
    return body.client_id
  }).pipe(Effect.scoped)

/** Calls the protected resource with one fixed token, outside the library: the status it answers. */
const statusWith = (server: AuthServer.AuthServer, token: Redacted.Redacted<string>) =>
  Effect.promise(async () => {
    const response = await fetch(server.apiUrl, { headers: { authorization: `Bearer ${Redacted.value(token)}` } })
    await response.arrayBuffer()
    return response.status
  })

/** The headless login through the provider's own pages: PKCE S256, state, consent (for a refresh token). */
const login = (server: AuthServer.AuthServer, urls: Array<string> = [], browse: AuthServer.BrowseOptions = {}) =>
  AuthorizationCode.login({
    scopes: LOGIN_SCOPES,
    pkce: true,
    extraParams: { prompt: "consent" },
    timeout: "20 seconds",
    onAuthorizeUrl: (url) => {
      urls.push(url)
      return AuthServer.browse(server.issuer, url, browse)
    }
  })

describe("client_credentials", () => {
  for (const [name, client, method] of [
    ["client_secret_basic", AuthServer.clients.basic, "client_secret_basic"],
    ["client_secret_post", AuthServer.clients.post, "client_secret_post"]
  ] as const) {
    it.scopedLive(`${name}: a token with the trader scopes, accepted by the resource server`, () =>
      Effect.gen(function*() {
        const server = yield* AuthServer.make()
        const oauth = yield* clientOf(server, client, method)
        const token = yield* oauth.requestToken(Grant.clientCredentials(ALL_SCOPES))
        assert.strictEqual(token.type, "Bearer")
        assert.deepStrictEqual(token.scopes, ALL_SCOPES)
        assert.strictEqual(Duration.toSeconds(token.lifetime), 5)
        assert.isUndefined(token.refreshToken)

        const tokens = yield* AccessTokens.make({ scopes: ALL_SCOPES }).pipe(
          Effect.provideService(OAuth2Client.OAuth2Client, oauth)
        )
        assert.strictEqual(yield* whoAmI(server, tokens), client.id)
        const info = yield* oauth.introspect(token.value, "access_token")
        assert.isTrue(info.active)
        assert.strictEqual(info.clientId, client.id)
        assert.deepStrictEqual(info.scopes, ALL_SCOPES)
        assert.deepStrictEqual(yield* server.tokenRequests, [
          { grantType: "client_credentials", outcome: "success" },
          { grantType: "client_credentials", outcome: "success" }
        ])
      }).pipe(Effect.provide(Live)))
  }

  it.scopedLive("a client id and secret with : @ space & + % / = go through Basic, form-encoded (RFC 6749 §2.3.1)", () =>
    Effect.gen(function*() {
      const server = yield* AuthServer.make()
      const client = AuthServer.clients.reserved
      const token = yield* (yield* clientOf(server, client, "client_secret_basic")).requestToken(
        Grant.clientCredentials(["TRADER_READ"])
      )
      assert.deepStrictEqual(token.scopes, ["TRADER_READ"])
      // The raw encoding is refused: the server form-decodes, and a bare '%' is no valid escape (invalid_request).
      const raw = yield* clientOf(server, client, "client_secret_basic", "raw")
      const error = failureOf(yield* Effect.exit(raw.requestToken(Grant.clientCredentials(["TRADER_READ"]))))
      assert.strictEqual(error._tag, "ProtocolError")
      assert.strictEqual(error._tag === "ProtocolError" ? error.error : undefined, "invalid_request")
      assert.isFalse(error.retryable)
      assert.deepStrictEqual((yield* server.tokenRequests).map((r) => r.outcome), ["success", "invalid_request"])
    }).pipe(Effect.provide(Live)))

  it.scopedLive("a scope outside the client's registration: InvalidScope naming the scopes asked for", () =>
    Effect.gen(function*() {
      const server = yield* AuthServer.make()
      const oauth = yield* clientOf(server, AuthServer.clients.readOnly, "client_secret_basic")
      const error = failureOf(yield* Effect.exit(oauth.requestToken(Grant.clientCredentials(ALL_SCOPES))))
      assert.strictEqual(error._tag, "InvalidScope")
      assert.deepStrictEqual(error._tag === "InvalidScope" ? error.requestedScopes : [], ALL_SCOPES)
      assert.isFalse(error.retryable)
      const ok = yield* oauth.requestToken(Grant.clientCredentials(["TRADER_READ"]))
      assert.deepStrictEqual(ok.scopes, ["TRADER_READ"])
    }).pipe(Effect.provide(Live)))

  it.scopedLive("a wrong secret: Unauthorized invalid_client, with either auth style, never retried", () =>
    Effect.gen(function*() {
      const server = yield* AuthServer.make()
      for (const [client, method] of [
        [AuthServer.clients.basic, "client_secret_basic"],
        [AuthServer.clients.post, "client_secret_post"]
      ] as const) {
        const oauth = yield* clientOf(server, { id: client.id, secret: `${client.secret}-wrong` }, method)
        const error = failureOf(yield* Effect.exit(oauth.requestToken(Grant.clientCredentials(ALL_SCOPES))))
        assert.strictEqual(error._tag, "Unauthorized")
        assert.strictEqual(error._tag === "Unauthorized" ? error.reason : undefined, "invalid_client")
        assert.isFalse(error.retryable)
        // Through the cache: one request, the error surfaces on get, nothing is cached.
        const tokens = yield* AccessTokens.make({ scopes: ALL_SCOPES }).pipe(
          Effect.provideService(OAuth2Client.OAuth2Client, oauth)
        )
        assert.strictEqual(failureOf(yield* Effect.exit(tokens.get))._tag, "Unauthorized")
        assert.isTrue(Option.isNone(yield* tokens.current))
      }
      const requests = yield* server.tokenRequests
      assert.strictEqual(requests.length, 4)
      assert.isTrue(requests.every((r) => r.outcome === "invalid_client"))
    }).pipe(Effect.provide(Live)))
})

describe("authorization code", () => {
  it.scopedLive("login with state and PKCE S256 through the provider's own pages; the token works", () =>
    Effect.gen(function*() {
      const server = yield* AuthServer.make()
      const oauth = yield* clientOf(server, AuthServer.clients.app, "client_secret_basic")
      const urls: Array<string> = []
      const token = yield* login(server, urls).pipe(Effect.provideService(OAuth2Client.OAuth2Client, oauth))
      const query = new URL(urls[0]!).searchParams
      assert.strictEqual(query.get("code_challenge_method"), "S256")
      assert.match(query.get("state") ?? "", /^[\w-]{43}$/)
      assert.match(query.get("redirect_uri") ?? "", /^http:\/\/127\.0\.0\.1:\d+\/callback$/)
      assert.deepStrictEqual([...token.scopes].sort(), ALL_SCOPES)
      assert.isDefined(token.refreshToken)
      assert.strictEqual(yield* statusWith(server, token.value), 200)
      assert.deepStrictEqual(yield* server.tokenRequests, [{ grantType: "authorization_code", outcome: "success" }])
    }).pipe(Effect.provide(Live)))

  it.scopedLive("the user denies consent: AuthorizationFailed access_denied, no token request", () =>
    Effect.gen(function*() {
      const server = yield* AuthServer.make()
      const oauth = yield* clientOf(server, AuthServer.clients.app, "client_secret_basic")
      const error = failureOf(
        yield* Effect.exit(
          login(server, [], { consent: "deny" }).pipe(Effect.provideService(OAuth2Client.OAuth2Client, oauth))
        )
      )
      assert.strictEqual(error._tag, "AuthorizationFailed")
      assert.strictEqual(error._tag === "AuthorizationFailed" ? error.reason : undefined, "access_denied")
      assert.deepStrictEqual(yield* server.tokenRequests, [])
    }).pipe(Effect.provide(Live)))

  it.scopedLive("refresh rotates the refresh token; the old one is then refused (and the grant with it)", () =>
    Effect.gen(function*() {
      const server = yield* AuthServer.make()
      const oauth = yield* clientOf(server, AuthServer.clients.app, "client_secret_basic")
      const first = yield* login(server).pipe(Effect.provideService(OAuth2Client.OAuth2Client, oauth))
      const oldRefresh = first.refreshToken!
      const second = yield* oauth.requestToken(Grant.refreshToken({ refreshToken: oldRefresh, grantedScopes: first.scopes }))
      assert.isDefined(second.refreshToken)
      assert.notStrictEqual(Redacted.value(second.refreshToken!), Redacted.value(oldRefresh))
      assert.notStrictEqual(Redacted.value(second.value), Redacted.value(first.value))
      assert.deepStrictEqual([...second.scopes].sort(), ALL_SCOPES)
      assert.strictEqual(yield* statusWith(server, second.value), 200)

      const replay = failureOf(
        yield* Effect.exit(oauth.requestToken(Grant.refreshToken({ refreshToken: oldRefresh })))
      )
      assert.strictEqual(replay._tag, "Unauthorized")
      assert.strictEqual(replay._tag === "Unauthorized" ? replay.reason : undefined, "invalid_grant")
      // oidc-provider treats the replay of a rotated refresh token as theft and revokes the whole grant.
      assert.isFalse((yield* oauth.introspect(second.value)).active)
      assert.isFalse((yield* oauth.introspect(second.refreshToken!, "refresh_token")).active)
      assert.deepStrictEqual((yield* server.tokenRequests).map((r) => `${r.grantType} ${r.outcome}`), [
        "authorization_code success",
        "refresh_token success",
        "refresh_token invalid_grant"
      ])
    }).pipe(Effect.provide(Live)))
})

describe("refresh-token lifetime", () => {
  it.scopedLive("refresh_token_expires_in from the server is kept; once it has passed, LoginRequired and no refresh sent", () =>
    Effect.gen(function*() {
      // Access tokens live 3 s, refresh tokens 1 s: the refresh token is dead before the access token is due for
      // renewal (at half its life), so no refresh may be sent with it.
      const server = yield* AuthServer.make({ accessTokenTtl: 3, refreshTokenTtl: 1, refreshTokenExpiresIn: true })
      const oauth = yield* clientOf(server, AuthServer.clients.app, "client_secret_basic")
      const sent = Date.now()
      const first = yield* login(server).pipe(Effect.provideService(OAuth2Client.OAuth2Client, oauth))
      assert.isDefined(first.refreshToken)
      assert.isDefined(first.refreshTokenExpiresAt, "the server's refresh_token_expires_in is kept")
      // Counted from the start of the second the token request was sent: never later than the server's own expiry.
      const died = first.refreshTokenExpiresAt!
      assert.isAtMost(died, Math.floor(Date.now() / 1000) * 1000 + 1000)
      assert.isAtLeast(died, Math.floor(sent / 1000) * 1000)
      assert.isBelow(died, first.expiresAt)

      const tokens = yield* AccessTokens.make({ acquire: "stored" }).pipe(
        Effect.provideService(OAuth2Client.OAuth2Client, oauth)
      )
      yield* tokens.set(first)
      // Bounded: the access token lives 3 s; poll until get stops serving it.
      let error: OAuth2Error.OAuth2Error | undefined
      for (let i = 0; i < 40 && error === undefined; i++) {
        const exit = yield* Effect.exit(tokens.get)
        if (Exit.isFailure(exit)) error = failureOf(exit)
        else yield* Effect.sleep("200 millis")
      }
      assert.isDefined(error, "get kept serving a token past its expiry")
      assert.strictEqual(error!._tag, "LoginRequired")
      assert.isFalse(error!.retryable)
      assert.include(error!.message, `The refresh token expired at ${new Date(died).toISOString()}`)
      assert.include(error!.message, "log in again")
      // The server saw the login and nothing else: no refresh with the dead refresh token.
      assert.deepStrictEqual((yield* server.tokenRequests).map((r) => `${r.grantType} ${r.outcome}`), [
        "authorization_code success"
      ])
    }).pipe(Effect.provide(Live)))

  it.scopedLive("a refresh answer carries the new refresh token's lifetime (rotation)", () =>
    Effect.gen(function*() {
      const server = yield* AuthServer.make({ refreshTokenTtl: 120, refreshTokenExpiresIn: true })
      const oauth = yield* clientOf(server, AuthServer.clients.app, "client_secret_basic")
      const first = yield* login(server).pipe(Effect.provideService(OAuth2Client.OAuth2Client, oauth))
      const second = yield* oauth.requestToken(
        Grant.refreshToken({ refreshToken: first.refreshToken!, grantedScopes: first.scopes })
      )
      for (const token of [first, second]) {
        const life = token.refreshTokenExpiresAt! - token.issuedAt
        // oidc-provider stores whole seconds; the remaining lifetime is at most the TTL.
        assert.isAtMost(life, 120_000)
        assert.isAtLeast(life, 110_000)
      }
    }).pipe(Effect.provide(Live)))
})

describe("revocation and introspection", () => {
  it.scopedLive("a revoked client-credentials token introspects as inactive and the API refuses it", () =>
    Effect.gen(function*() {
      const server = yield* AuthServer.make()
      const oauth = yield* clientOf(server, AuthServer.clients.post, "client_secret_post")
      const token = yield* oauth.requestToken(Grant.clientCredentials(ALL_SCOPES))
      const before = yield* oauth.introspect(token.value, "access_token")
      assert.isTrue(before.active)
      assert.isDefined(before.expiresAt)
      yield* oauth.revoke(token.value, "access_token")
      assert.deepStrictEqual(yield* oauth.introspect(token.value, "access_token"), {
        active: false,
        scopes: undefined,
        clientId: undefined,
        expiresAt: undefined,
        extra: {}
      })
      assert.strictEqual(yield* statusWith(server, token.value), 401)
      // RFC 7009 §2.2: revoking an unknown or already revoked token is a success too.
      yield* oauth.revoke(token.value, "access_token")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("AccessTokens.revoke after a login revokes the refresh and access tokens and drops them", () =>
    Effect.gen(function*() {
      const server = yield* AuthServer.make()
      const oauth = yield* clientOf(server, AuthServer.clients.app, "client_secret_basic")
      const token = yield* login(server).pipe(Effect.provideService(OAuth2Client.OAuth2Client, oauth))
      const tokens = yield* AccessTokens.make({ acquire: "stored" }).pipe(
        Effect.provideService(OAuth2Client.OAuth2Client, oauth)
      )
      yield* tokens.set(token)
      assert.strictEqual(yield* whoAmI(server, tokens), AuthServer.clients.app.id)
      yield* tokens.revoke
      assert.isTrue(Option.isNone(yield* tokens.current))
      assert.isFalse((yield* oauth.introspect(token.value, "access_token")).active)
      assert.isFalse((yield* oauth.introspect(token.refreshToken!, "refresh_token")).active)
      const after = failureOf(yield* Effect.exit(tokens.get))
      // The revoked refresh token is refused (invalid_grant): only a login helps.
      assert.strictEqual(after._tag, "LoginRequired")
    }).pipe(Effect.provide(Live)))
})

describe("expiry", () => {
  it.scopedLive(
    "5-second tokens over 7 seconds: the background refresh keeps every call working (client credentials and refresh tokens)",
    () =>
      Effect.gen(function*() {
        const server = yield* AuthServer.make({ accessTokenTtl: 5 })
        const cc = yield* clientOf(server, AuthServer.clients.basic, "client_secret_basic")
        const app = yield* clientOf(server, AuthServer.clients.app, "client_secret_basic")
        const ccTokens = yield* AccessTokens.make({ scopes: ALL_SCOPES }).pipe(
          Effect.provideService(OAuth2Client.OAuth2Client, cc)
        )
        const appTokens = yield* AccessTokens.make({ acquire: "stored" }).pipe(
          Effect.provideService(OAuth2Client.OAuth2Client, app)
        )
        yield* appTokens.set(yield* login(server).pipe(Effect.provideService(OAuth2Client.OAuth2Client, app)))

        const seen = { cc: new Set<string>(), app: new Set<string>() }
        const failures: Array<string> = []
        let calls = 0
        const firstCc = yield* ccTokens.get
        const firstApp = yield* appTokens.get
        const step = Effect.gen(function*() {
          for (const [name, tokens] of [["cc", ccTokens], ["app", appTokens]] as const) {
            calls++
            const exit = yield* Effect.exit(whoAmI(server, tokens))
            if (Exit.isFailure(exit)) failures.push(`${name}: ${Cause.pretty(exit.cause)}`)
            const current = yield* tokens.current
            if (Option.isSome(current)) seen[name].add(Redacted.value(current.value.value))
          }
        })
        const start = Date.now()
        yield* step.pipe(Effect.repeat(Schedule.spaced("250 millis").pipe(Schedule.upTo("7 seconds"))))
        const elapsed = (Date.now() - start) / 1000

        // The first tokens are dead by now, at the server: nothing served them after their expiry.
        assert.strictEqual(yield* statusWith(server, firstCc.value), 401)
        assert.strictEqual(yield* statusWith(server, firstApp.value), 401)
        assert.isFalse((yield* cc.introspect(firstCc.value)).active)

        const requests = yield* server.tokenRequests
        const ccRequests = requests.filter((r) => r.grantType === "client_credentials").length
        const refreshRequests = requests.filter((r) => r.grantType === "refresh_token").length
        const api = yield* server.apiCalls
        console.log(
          `[interop expiry] ${elapsed.toFixed(1)} s with 5 s tokens: ${calls} API calls (${api.ok} ok, ${api.unauthorized} ` +
            `401 incl. 2 probes), ${failures.length} failures; client_credentials requests ${ccRequests} ` +
            `(${seen.cc.size} tokens), refresh_token requests ${refreshRequests} (${seen.app.size} tokens)`
        )
        assert.deepStrictEqual(failures, [])
        assert.isAtLeast(seen.cc.size, 2)
        assert.isAtLeast(seen.app.size, 2)
        // One request per refresh point (half the lifetime) and no more: ceil(7 / 2.5) + the first.
        assert.isAtMost(ccRequests, 4)
        assert.isAtMost(refreshRequests, 3)
        assert.isTrue(requests.every((r) => r.outcome === "success"))
      }).pipe(Effect.provide(Live)),
    20_000
  )
})
