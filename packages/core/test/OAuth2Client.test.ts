import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as fc from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import { inspect } from "node:util"
import * as zlib from "node:zlib"
import * as AccessToken from "../src/AccessToken.js"
import * as Endpoint from "../src/Endpoint.js"
import * as Grant from "../src/Grant.js"
import * as OAuth2Client from "../src/OAuth2Client.js"
import * as OAuth2Error from "../src/OAuth2Error.js"
import * as TokenServer from "./utils/tokenServer.js"

const CLIENT_ID = "a:b"
const SECRET = "p@ss w0rd&+%/:="
const ACCESS = "AT-9f8e7d-live-access"
const REFRESH = "RT-1a2b3c-live-refresh"
const NEW_REFRESH = "RT-4d5e6f-next-refresh"
const CODE = "AC-77aa88-auth-code"
const VERIFIER = "PKCE-verifier-0123456789-abcdefghijklmnopqrstuvwxyz"
const T0 = 1_750_000_000_000

/** Every string a failure must never show, in every form it crossed the wire in. */
const SECRETS = [
  SECRET,
  encodeURIComponent(SECRET),
  new URLSearchParams([["", SECRET]]).toString().slice(1),
  Buffer.from(`${CLIENT_ID}:${SECRET}`).toString("base64"),
  Buffer.from(`a%3Ab:${new URLSearchParams([["", SECRET]]).toString().slice(1)}`).toString("base64"),
  ACCESS,
  REFRESH,
  NEW_REFRESH,
  CODE,
  VERIFIER
]

type Tag = OAuth2Error.OAuth2Error["_tag"]
type Of<T extends Tag> = Extract<OAuth2Error.OAuth2Error, { readonly _tag: T }>

const expectTag = <T extends Tag>(error: OAuth2Error.OAuth2Error, tag: T): Of<T> => {
  assert.strictEqual(error._tag, tag, `expected ${tag}, got ${error._tag}: ${error.message}`)
  return error as Of<T>
}

/** The typed failure of an exit; fails the test when the exit is a success or a defect. */
const failureOf = <A>(exit: Exit.Exit<A, OAuth2Error.OAuth2Error>): OAuth2Error.OAuth2Error => {
  if (Exit.isSuccess(exit)) return assert.fail("expected a failure, got a success")
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) return assert.fail(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
  return failure.value
}

const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
  ["FetchHttpClient", FetchHttpClient.layer],
  ["NodeHttpClient.layerUndici", NodeHttpClient.layerUndici]
]

interface StartOptions extends Partial<Omit<Endpoint.Options, "provider">> {
  readonly clientSecret?: string | null
}

/** A token server and a client pointed at it (through FetchHttpClient unless another client is provided). */
const start = (
  script: TokenServer.Script = TokenServer.token(),
  options: StartOptions = {}
): Effect.Effect<
  { readonly server: TokenServer.TokenServer; readonly client: OAuth2Client.Service },
  OAuth2Error.InvalidConfiguration,
  Scope.Scope | HttpClient.HttpClient
> =>
  Effect.gen(function*() {
    const server = yield* TokenServer.make(script)
    const { clientSecret, ...endpointOptions } = options
    const endpoint = yield* Endpoint.make({
      provider: "test",
      tokenUrl: server.url("/token"),
      revocationUrl: server.url("/revoke"),
      introspectionUrl: server.url("/introspect"),
      ...endpointOptions
    })
    const client = yield* OAuth2Client.make({
      endpoint,
      credentials: Endpoint.credentials(CLIENT_ID, clientSecret === null ? undefined : clientSecret ?? SECRET)
    })
    return { server, client }
  })

const fetchClient = Effect.provide(FetchHttpClient.layer)

const cc = (scopes: ReadonlyArray<string> = []) => Grant.clientCredentials(scopes)

/** Requests a token from a fresh server answering `reply`, and returns the token. */
const tokenFrom = (reply: TokenServer.Script, options: StartOptions = {}, grant: Grant.Grant = cc(["read"])) =>
  Effect.gen(function*() {
    const { client } = yield* start(reply, options)
    return yield* client.requestToken(grant)
  }).pipe(Effect.scoped, fetchClient)

/** Requests a token from a fresh server answering `reply`, and returns the failure. */
const failureFrom = (reply: TokenServer.Script, options: StartOptions = {}, grant: Grant.Grant = cc(["read"])) =>
  Effect.flip(tokenFrom(reply, options, grant))

describe("OAuth2Client: the token request", () => {
  it.scoped("client_credentials: a form POST with grant_type, space-joined scope, Accept JSON, endpoint params and headers", () =>
    Effect.gen(function*() {
      const { client, server } = yield* start(TokenServer.token(), {
        authMethod: "client_secret_post",
        params: { audience: "https://api.example.com" },
        headers: { "X-Api-Version": "2024-01-01" }
      })
      yield* client.requestToken(cc(["TRADER_READ", "TRADER_TRADE"]))
      const request = yield* server.last
      assert.strictEqual(request.method, "POST")
      assert.strictEqual(request.path, "/token")
      assert.strictEqual(request.headers["content-type"], "application/x-www-form-urlencoded")
      assert.strictEqual(request.headers.accept, "application/json")
      assert.strictEqual(request.headers["x-api-version"], "2024-01-01")
      assert.deepStrictEqual(request.form, {
        grant_type: "client_credentials",
        scope: "TRADER_READ TRADER_TRADE",
        audience: "https://api.example.com",
        client_id: CLIENT_ID,
        client_secret: SECRET
      })
      assert.include(request.body, "scope=TRADER_READ+TRADER_TRADE")
    }).pipe(fetchClient))

  it.scoped("the endpoint's scope delimiter joins the scopes (comma)", () =>
    Effect.gen(function*() {
      const { client, server } = yield* start(TokenServer.token(), { scopeDelimiter: "," })
      const token = yield* client.requestToken(cc(["read", "write", "trade"]))
      assert.strictEqual((yield* server.last).form.scope, "read,write,trade")
      assert.deepStrictEqual(token.scopes, ["read", "write", "trade"])
    }).pipe(fetchClient))

  it.scoped("no scopes asked: no scope parameter", () =>
    Effect.gen(function*() {
      const { client, server } = yield* start()
      yield* client.requestToken(cc())
      const request = yield* server.last
      assert.isFalse(request.formPairs.some(([k]) => k === "scope"))
    }).pipe(fetchClient))

  it.scoped("authorization_code: code, redirect_uri and code_verifier in the body", () =>
    Effect.gen(function*() {
      const { client, server } = yield* start(TokenServer.token({ refresh_token: NEW_REFRESH }))
      const token = yield* client.requestToken(Grant.authorizationCode({
        code: Redacted.make(CODE),
        redirectUri: "http://127.0.0.1:8765/callback",
        codeVerifier: Redacted.make(VERIFIER),
        scopes: ["read", "trade"]
      }))
      const request = yield* server.last
      assert.strictEqual(request.form.grant_type, "authorization_code")
      assert.strictEqual(request.form.code, CODE)
      assert.strictEqual(request.form.redirect_uri, "http://127.0.0.1:8765/callback")
      assert.strictEqual(request.form.code_verifier, VERIFIER)
      assert.deepStrictEqual(token.scopes, ["read", "trade"])
      assert.strictEqual(Redacted.value(token.refreshToken!), NEW_REFRESH)
    }).pipe(fetchClient))

  it.scoped("refresh_token: goes to the refresh URL when the endpoint has one", () =>
    Effect.gen(function*() {
      const server = yield* TokenServer.make()
      const endpoint = yield* Endpoint.make({
        provider: "test",
        tokenUrl: server.url("/token"),
        refreshUrl: server.url("/refresh")
      })
      const client = yield* OAuth2Client.make({ endpoint, credentials: Endpoint.credentials(CLIENT_ID, SECRET) })
      yield* client.requestToken(Grant.refreshToken({ refreshToken: Redacted.make(REFRESH) }))
      yield* client.requestToken(cc())
      const [refresh, fresh] = yield* server.requests
      assert.strictEqual(refresh!.path, "/refresh")
      assert.strictEqual(refresh!.form.grant_type, "refresh_token")
      assert.strictEqual(refresh!.form.refresh_token, REFRESH)
      assert.strictEqual(fresh!.path, "/token")
    }).pipe(fetchClient))

  it.scoped("a RequestInit the user provided to FetchHttpClient is kept (redirects still not followed)", () =>
    Effect.gen(function*() {
      const { client, server } = yield* start()
      yield* client.requestToken(cc()).pipe(
        Effect.provideService(FetchHttpClient.RequestInit, { headers: { "x-from-request-init": "yes" }, redirect: "follow" })
      )
      assert.strictEqual((yield* server.last).headers["x-from-request-init"], "yes")
    }).pipe(fetchClient))
})

describe("OAuth2Client: decoding the token response", () => {
  it.effect("expires_in as a number: expiresAt = issuedAt + expires_in, issuedAt = the clock when sent", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T0)
      const token = yield* tokenFrom(TokenServer.token({ access_token: ACCESS, expires_in: 3600 }))
      assert.strictEqual(Redacted.value(token.value), ACCESS)
      assert.strictEqual(token.type, "Bearer")
      assert.strictEqual(token.issuedAt, T0)
      assert.strictEqual(token.expiresAt, T0 + 3_600_000)
      assert.strictEqual(token.authorizationHeader(), `Bearer ${ACCESS}`)
      assert.strictEqual(Duration.toMillis(token.lifetime), 3_600_000)
      assert.strictEqual(Duration.toMillis(token.remainingAt(T0 + 600_000)), 3_000_000)
      assert.isFalse(token.isExpiredAt(T0 + 3_599_999))
      assert.isTrue(token.isExpiredAt(T0 + 3_600_000))
    }))

  it.effect("expires_in as a numeric string", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T0)
      const token = yield* tokenFrom(TokenServer.token({ expires_in: "86399" }))
      assert.strictEqual(token.expiresAt, T0 + 86_399_000)
    }))

  it.effect("expires_in missing: the endpoint's default lifetime", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T0)
      const token = yield* tokenFrom(TokenServer.json({ access_token: ACCESS, token_type: "Bearer" }), {
        defaultLifetime: "90 minutes"
      })
      assert.strictEqual(token.expiresAt, T0 + 90 * 60_000)
    }))

  for (const expiresIn of [0, "0"]) {
    it.effect(`expires_in ${JSON.stringify(expiresIn)}: already expired (expiresAt == issuedAt)`, () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(T0)
        const token = yield* tokenFrom(TokenServer.token({ expires_in: expiresIn }))
        assert.strictEqual(token.issuedAt, T0)
        assert.strictEqual(token.expiresAt, T0)
        assert.isTrue(token.isExpiredAt(T0))
      }))
  }

  it.effect("a negative expires_in (number or numeric string) is a MalformedResponse: RFC 6749 allows digits only", () =>
    Effect.gen(function*() {
      for (const expiresIn of [-30, -1, -0.5, "-5", " -60 ", "-0.25"]) {
        const error = yield* failureFrom(TokenServer.token({ access_token: ACCESS, expires_in: expiresIn }))
        const malformed = expectTag(error, "MalformedResponse")
        assert.include(malformed.reason, "negative", JSON.stringify(expiresIn))
        assert.isFalse(malformed.retryable)
      }
    }))

  it.effect("a sub-second expires_in stays a valid decoded lifetime (the refresh floor is AccessTokens' business)", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T0)
      const token = yield* tokenFrom(TokenServer.token({ expires_in: 0.5 }))
      assert.strictEqual(token.expiresAt, T0 + 500)
    }))

  it.effect("a huge expires_in is clamped to maxLifetime", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T0)
      const clampedDefault = yield* tokenFrom(TokenServer.token({ expires_in: 10 ** 12 }))
      assert.strictEqual(clampedDefault.expiresAt, T0 + 7 * 86_400_000)
      const clamped = yield* tokenFrom(TokenServer.token({ expires_in: "99999999999999999999" }), { maxLifetime: "2 days" })
      assert.strictEqual(clamped.expiresAt, T0 + 2 * 86_400_000)
    }))

  it.effect("a non-numeric expires_in is a MalformedResponse", () =>
    Effect.gen(function*() {
      const error = yield* failureFrom(TokenServer.token({ expires_in: "one hour" }))
      assert.include(expectTag(error, "MalformedResponse").reason, "expires_in")
    }))

  it.effect("expiresAt counts from when the request was sent, not from when the answer came", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T0)
      const release = yield* Deferred.make<void>()
      const { client, server } = yield* start(() =>
        Deferred.await(release).pipe(Effect.as(TokenServer.token({ expires_in: 3600 })))
      )
      const fiber = yield* Effect.fork(client.requestToken(cc()))
      yield* server.awaitRequests(1)
      yield* TestClock.adjust("10 seconds")
      yield* Deferred.succeed(release, undefined)
      const token = yield* Fiber.join(fiber)
      assert.strictEqual(token.issuedAt, T0)
      assert.strictEqual(token.expiresAt, T0 + 3_600_000)
    }).pipe(fetchClient, Effect.scoped))

  it.effect("token_type is case-insensitive and normalised to the accepted spelling", () =>
    Effect.gen(function*() {
      for (const type of ["bearer", "Bearer", "BEARER"]) {
        const token = yield* tokenFrom(TokenServer.token({ token_type: type }))
        assert.strictEqual(token.type, "Bearer")
        assert.strictEqual(token.authorizationHeader(), "Bearer server-access-token")
      }
      const dpop = yield* tokenFrom(TokenServer.token({ token_type: "dpop" }), { acceptedTokenTypes: ["Bearer", "DPoP"] })
      assert.strictEqual(dpop.type, "DPoP")
    }))

  it.effect("a missing token_type is an error, unless the endpoint has a default", () =>
    Effect.gen(function*() {
      const body = TokenServer.json({ access_token: ACCESS, expires_in: 3600 })
      const error = yield* failureFrom(body)
      assert.include(expectTag(error, "MalformedResponse").reason, "token_type")
      const token = yield* tokenFrom(body, { defaultTokenType: "Bearer" })
      assert.strictEqual(token.type, "Bearer")
    }))

  it.effect("an unknown token_type is a MalformedResponse, not a silent Bearer", () =>
    Effect.gen(function*() {
      const error = yield* failureFrom(TokenServer.token({ token_type: "mac" }), { defaultTokenType: "Bearer" })
      const malformed = expectTag(error, "MalformedResponse")
      assert.include(malformed.reason, `token_type "mac"`)
      assert.isFalse(malformed.retryable)
      const notString = yield* failureFrom(TokenServer.token({ token_type: 42 }))
      expectTag(notString, "MalformedResponse")
    }))

  it.effect("access_token missing or empty is a MalformedResponse", () =>
    Effect.gen(function*() {
      const missing = yield* failureFrom(TokenServer.json({ token_type: "Bearer", expires_in: 60 }))
      assert.include(expectTag(missing, "MalformedResponse").reason, "access_token")
      const empty = yield* failureFrom(TokenServer.token({ access_token: "" }))
      expectTag(empty, "MalformedResponse")
    }))

  it.effect("a form-urlencoded body is accepted", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(T0)
      const token = yield* tokenFrom(
        TokenServer.text(
          `access_token=${ACCESS}&token_type=bearer&expires_in=120&scope=read+write`,
          "application/x-www-form-urlencoded"
        )
      )
      assert.strictEqual(Redacted.value(token.value), ACCESS)
      assert.strictEqual(token.expiresAt, T0 + 120_000)
      assert.deepStrictEqual(token.scopes, ["read", "write"])
    }))

  it.effect("JSON is accepted whatever the content type claims", () =>
    Effect.gen(function*() {
      const body = JSON.stringify({ access_token: ACCESS, token_type: "Bearer", expires_in: 60 })
      for (const type of ["text/plain", "text/html", "application/x-www-form-urlencoded", "application/octet-stream"]) {
        const token = yield* tokenFrom(TokenServer.text(body, type))
        assert.strictEqual(Redacted.value(token.value), ACCESS, type)
      }
      const untyped = yield* tokenFrom(TokenServer.reply(body))
      assert.strictEqual(Redacted.value(untyped.value), ACCESS)
    }))

  it.effect("a 200 whose body has an `error` member is that error", () =>
    Effect.gen(function*() {
      const error = yield* failureFrom(TokenServer.json({ error: "invalid_client", access_token: ACCESS }))
      const unauthorized = expectTag(error, "Unauthorized")
      assert.strictEqual(unauthorized.reason, "invalid_client")
      assert.strictEqual(unauthorized.status, 200)
    }))

  it.effect("an HTML 502 from a gateway is a retryable error", () =>
    Effect.gen(function*() {
      const error = yield* failureFrom(
        TokenServer.text("<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html", { status: 502 })
      )
      assert.include(["ProtocolError", "MalformedResponse"], error._tag)
      assert.isTrue(error.retryable)
      assert.isTrue(OAuth2Error.isRetryable(error))
      assert.include(error.message, "502")
    }))

  it.effect("an HTML 200 is a non-retryable MalformedResponse naming the content type", () =>
    Effect.gen(function*() {
      const error = yield* failureFrom(TokenServer.text("<html>login</html>", "text/html; charset=utf-8"))
      const malformed = expectTag(error, "MalformedResponse")
      assert.strictEqual(malformed.contentType, "text/html; charset=utf-8")
      assert.isFalse(malformed.retryable)
    }))

  it.effect("an empty 200 is a MalformedResponse", () =>
    Effect.gen(function*() {
      const error = yield* failureFrom(TokenServer.reply("", { headers: { "content-type": "application/json" } }))
      assert.include(expectTag(error, "MalformedResponse").reason, "empty")
    }))

  it.effect("broken JSON is a MalformedResponse", () =>
    Effect.gen(function*() {
      // Figure Pay's documented example is exactly this kind of not-JSON.
      const error = yield* failureFrom(TokenServer.text(`{ "access_token" "${ACCESS}" }`, "application/json"))
      assert.include(expectTag(error, "MalformedResponse").reason, "JSON")
    }))

  for (const body of ["[]", `["${ACCESS}"]`, `"${ACCESS}"`, "42", "null", "true"]) {
    it.effect(`JSON that is not an object (${body.slice(0, 12)}) is a MalformedResponse`, () =>
      Effect.gen(function*() {
        const error = yield* failureFrom(TokenServer.text(body, "application/json"))
        expectTag(error, "MalformedResponse")
      }))
  }

  it.effect("unknown members are kept in `extra`: the known-harmless ones readable, every other one Redacted whole", () =>
    Effect.gen(function*() {
      const token = yield* tokenFrom(TokenServer.token({
        issued_at: "1700000000000",
        status: "approved",
        refresh_token_expires_in: 7776000,
        nested: { a: "NESTED-SECRET" },
        list: ["ARRAY-SECRET"],
        mac_key: "MAC-KEY-SECRET",
        jwt: "JWT-SECRET",
        apiKey: "API-KEY-SECRET",
        id_token: "ID-TOKEN-SECRET"
      }))
      assert.strictEqual(token.extra.issued_at, "1700000000000")
      assert.strictEqual(token.extra.status, "approved")
      assert.strictEqual(token.extra.refresh_token_expires_in, 7776000)
      const revealed: Record<string, unknown> = {
        nested: { a: "NESTED-SECRET" },
        list: ["ARRAY-SECRET"],
        mac_key: "MAC-KEY-SECRET",
        jwt: "JWT-SECRET",
        apiKey: "API-KEY-SECRET",
        id_token: "ID-TOKEN-SECRET"
      }
      for (const [name, value] of Object.entries(revealed)) {
        const member = token.extra[name]
        assert.isTrue(Redacted.isRedacted(member), name)
        // Code that asks for a member explicitly gets it whole.
        assert.deepStrictEqual(Redacted.value(member as Redacted.Redacted<unknown>), value)
      }
      for (const shown of [String(token), `${token}`, JSON.stringify(token), inspect(token, { depth: 10 })]) {
        for (const secret of ["NESTED-SECRET", "ARRAY-SECRET", "MAC-KEY-SECRET", "JWT-SECRET", "API-KEY-SECRET", "ID-TOKEN-SECRET"]) {
          assert.notInclude(shown, secret)
        }
        assert.include(shown, "approved")
      }
      assert.isUndefined(token.extra.access_token)
      assert.isUndefined(token.extra.expires_in)
      // A token store keeps the redacted members (in clear only in the encoded form it encrypts), redacted once read.
      const decoded = yield* AccessToken.decodeUnknown(JSON.parse(JSON.stringify(AccessToken.encode(token))))
      assert.strictEqual(decoded.extra.status, "approved")
      assert.isTrue(Redacted.isRedacted(decoded.extra.mac_key))
      assert.strictEqual(Redacted.value(decoded.extra.mac_key as Redacted.Redacted<unknown>), "MAC-KEY-SECRET")
      assert.deepStrictEqual(Redacted.value(decoded.extra.nested as Redacted.Redacted<unknown>), { a: "NESTED-SECRET" })
      assert.notInclude(inspect(decoded, { depth: 10 }), "MAC-KEY-SECRET")
    }))

  it.effect("a provider declares more harmless members with the endpoint's readableMembers", () =>
    Effect.gen(function*() {
      const token = yield* tokenFrom(
        TokenServer.token({ account: { id: "A1", kind: "margin" }, session_state: "s-1" }),
        { readableMembers: ["account"] }
      )
      assert.deepStrictEqual(token.extra.account, { id: "A1", kind: "margin" })
      assert.isTrue(Redacted.isRedacted(token.extra.session_state))
    }))

  it.effect("a built-in harmless name with a nested value is still Redacted (only plain values are readable)", () =>
    Effect.gen(function*() {
      const token = yield* tokenFrom(TokenServer.token({ status: { key: "STATUS-SECRET" } }))
      assert.isTrue(Redacted.isRedacted(token.extra.status))
      assert.notInclude(JSON.stringify(token), "STATUS-SECRET")
    }))

  it.effect("scope: the response's scope when present (space or the endpoint's delimiter), else the scopes asked for", () =>
    Effect.gen(function*() {
      const asked = yield* tokenFrom(TokenServer.token(), {}, cc(["read", "trade"]))
      assert.deepStrictEqual(asked.scopes, ["read", "trade"])
      const granted = yield* tokenFrom(TokenServer.token({ scope: "read" }), {}, cc(["read", "trade"]))
      assert.deepStrictEqual(granted.scopes, ["read"])
      const spaced = yield* tokenFrom(TokenServer.token({ scope: "read write" }), { scopeDelimiter: "," })
      assert.deepStrictEqual(spaced.scopes, ["read", "write"])
      const commas = yield* tokenFrom(TokenServer.token({ scope: "read,write" }), { scopeDelimiter: "," })
      assert.deepStrictEqual(commas.scopes, ["read", "write"])
    }))

  it.effect("a refresh whose response has no refresh_token keeps the old one; a new one replaces it", () =>
    Effect.gen(function*() {
      const grant = Grant.refreshToken({ refreshToken: Redacted.make(REFRESH), grantedScopes: ["read"] })
      const kept = yield* tokenFrom(TokenServer.token(), {}, grant)
      assert.strictEqual(Redacted.value(kept.refreshToken!), REFRESH)
      assert.deepStrictEqual(kept.scopes, ["read"])
      const rotated = yield* tokenFrom(TokenServer.token({ refresh_token: NEW_REFRESH }), {}, grant)
      assert.strictEqual(Redacted.value(rotated.refreshToken!), NEW_REFRESH)
      const none = yield* tokenFrom(TokenServer.token(), {}, cc())
      assert.isUndefined(none.refreshToken)
    }))

  it.scoped("a refresh never asks for more scope than was granted, and the token carries what was asked", () =>
    Effect.gen(function*() {
      const { client, server } = yield* start()
      const refresh = (scopes: ReadonlyArray<string> | undefined) =>
        client.requestToken(Grant.refreshToken({
          refreshToken: Redacted.make(REFRESH),
          grantedScopes: ["read", "write"],
          ...(scopes === undefined ? {} : { scopes })
        }))
      // Narrower: sent as asked.
      const narrower = yield* refresh(["read"])
      assert.strictEqual((yield* server.last).form.scope, "read")
      assert.deepStrictEqual(narrower.scopes, ["read"])
      // Wider: narrowed to the granted ones, and the token says so.
      const wider = yield* refresh(["read", "admin"])
      assert.strictEqual((yield* server.last).form.scope, "read")
      assert.deepStrictEqual(wider.scopes, ["read"])
      // Nothing granted among those asked, nothing asked, or an empty list: no scope sent, the granted scope kept.
      for (const scopes of [["admin"], undefined, []]) {
        const same = yield* refresh(scopes)
        assert.isUndefined((yield* server.last).form.scope, JSON.stringify(scopes))
        assert.deepStrictEqual(same.scopes, ["read", "write"], JSON.stringify(scopes))
      }
    }).pipe(fetchClient))

  it.effect("a body over maxResponseBytes is a MalformedResponse (declared length, or streamed without one)", () =>
    Effect.gen(function*() {
      const big = JSON.stringify({ access_token: ACCESS, token_type: "Bearer", padding: "x".repeat(5000) })
      const declared = yield* failureFrom(TokenServer.text(big, "application/json"), { maxResponseBytes: 1024 })
      assert.include(expectTag(declared, "MalformedResponse").reason, "1024-byte limit")
      const chunked = yield* failureFrom(
        TokenServer.raw((_req, res) => {
          res.writeHead(200, { "content-type": "application/json" })
          for (let i = 0; i < 5; i++) res.write(big.slice(i * 1000, (i + 1) * 1000))
          res.end(big.slice(5000))
        }),
        { maxResponseBytes: 1024 }
      )
      assert.include(expectTag(chunked, "MalformedResponse").reason, "1024-byte limit")
      const fits = yield* tokenFrom(TokenServer.text(big, "application/json"), { maxResponseBytes: big.length })
      assert.strictEqual(Redacted.value(fits.value), ACCESS)
    }))

  it.effect("a compressed body is bounded by its inflated size, not by its declared length", () =>
    Effect.gen(function*() {
      const big = JSON.stringify({ access_token: ACCESS, token_type: "Bearer", padding: "x".repeat(20_000) })
      const gzipped = zlib.gzipSync(big)
      const gzip = TokenServer.raw((_req, res) => {
        res.writeHead(200, {
          "content-type": "application/json",
          "content-encoding": "gzip",
          "content-length": String(gzipped.length)
        })
        res.end(gzipped)
      })
      assert.isBelow(gzipped.length, 1024)
      const error = yield* failureFrom(gzip, { maxResponseBytes: 4096 })
      assert.include(expectTag(error, "MalformedResponse").reason, "4096-byte limit")
      const fits = yield* tokenFrom(gzip, { maxResponseBytes: big.length })
      assert.strictEqual(Redacted.value(fits.value), ACCESS)
    }).pipe(fetchClient))

  it.scopedLive("a body over the limit is not downloaded: the connection is dropped", () =>
    Effect.gen(function*() {
      const closed = yield* Deferred.make<boolean>()
      const run = yield* Effect.runtime<never>()
      const { client } = yield* start(
        TokenServer.raw((_req, res) => {
          res.on("close", () => Effect.runFork(Deferred.succeed(closed, res.writableFinished).pipe(Effect.provide(run))))
          res.writeHead(200, { "content-type": "application/json", "content-length": String(100 * 1024 * 1024) })
          res.write(`{"access_token":"${ACCESS}","padding":"`)
          // ...and never finishes: only the client closing the connection ends this response.
        }),
        { maxResponseBytes: 4096 }
      )
      const error = yield* Effect.flip(client.requestToken(cc()))
      expectTag(error, "MalformedResponse")
      const finished = yield* Deferred.await(closed).pipe(Effect.timeout("5 seconds"))
      assert.isFalse(finished)
    }).pipe(fetchClient))
})

describe("OAuth2Client: redirects are never followed", () => {
  for (const [name, layer] of clients) {
    for (const status of [302, 307]) {
      it.scoped(`${name}: a ${status} is an error and the redirect target gets no request`, () =>
        Effect.gen(function*() {
          const target = yield* TokenServer.make()
          const { client, server } = yield* start(
            TokenServer.reply("", { status, headers: { location: target.url("/token") } })
          )
          const error = yield* Effect.flip(client.requestToken(cc(["read"])))
          const malformed = expectTag(error, "MalformedResponse")
          assert.strictEqual(malformed.status, status)
          assert.include(malformed.reason, "redirect")
          assert.strictEqual(yield* server.count, 1)
          assert.strictEqual(yield* target.count, 0)
        }).pipe(Effect.provide(layer)))
    }
  }

  it.scoped("FetchHttpClient with a user RequestInit asking to follow: still not followed", () =>
    Effect.gen(function*() {
      const target = yield* TokenServer.make()
      const { client } = yield* start(TokenServer.reply("", { status: 302, headers: { location: target.url() } }))
      const error = yield* Effect.flip(
        client.requestToken(cc()).pipe(Effect.provideService(FetchHttpClient.RequestInit, { redirect: "follow" }))
      )
      expectTag(error, "MalformedResponse")
      assert.strictEqual(yield* target.count, 0)
    }).pipe(fetchClient))
})

describe("OAuth2Client: RFC 6749 §5.2 errors", () => {
  const cases: ReadonlyArray<{
    readonly code: string
    readonly status: number
    readonly check: (error: OAuth2Error.OAuth2Error) => void
  }> = [
    {
      code: "invalid_request",
      status: 400,
      check: (e) => {
        const p = expectTag(e, "ProtocolError")
        assert.strictEqual(p.error, "invalid_request")
        assert.include(p.message, "malformed")
      }
    },
    {
      code: "invalid_client",
      status: 401,
      check: (e) => assert.strictEqual(expectTag(e, "Unauthorized").reason, "invalid_client")
    },
    {
      code: "invalid_grant",
      status: 400,
      check: (e) => assert.strictEqual(expectTag(e, "Unauthorized").reason, "invalid_grant")
    },
    {
      code: "unauthorized_client",
      status: 400,
      check: (e) => assert.strictEqual(expectTag(e, "Unauthorized").reason, "unauthorized_client")
    },
    {
      code: "unsupported_grant_type",
      status: 400,
      check: (e) => assert.strictEqual(expectTag(e, "ProtocolError").error, "unsupported_grant_type")
    },
    {
      code: "invalid_scope",
      status: 400,
      check: (e) => {
        const s = expectTag(e, "InvalidScope")
        assert.deepStrictEqual(s.requestedScopes, ["market-data-api", "oms-api"])
        assert.include(s.message, "market-data-api oms-api")
      }
    }
  ]
  it.effect.each(cases)("$code → the right error, not retryable", ({ check, code, status }) =>
    Effect.gen(function*() {
      const error = yield* failureFrom(
        TokenServer.oauthError(code, {}, { status }),
        {},
        cc(["market-data-api", "oms-api"])
      )
      check(error)
      assert.isFalse(error.retryable)
      assert.isFalse(OAuth2Error.isRetryable(error))
      assert.strictEqual(error.provider, "test")
      assert.strictEqual(error.source, "token-endpoint")
    }))

  it.effect("an unknown code is a ProtocolError with error, error_description and error_uri", () =>
    Effect.gen(function*() {
      const error = yield* failureFrom(TokenServer.oauthError("account_locked", {
        error_description: "The account is locked",
        error_uri: "https://auth.example.com/errors/locked"
      }))
      const p = expectTag(error, "ProtocolError")
      assert.strictEqual(p.status, 400)
      assert.strictEqual(p.error, "account_locked")
      assert.strictEqual(p.errorDescription, "The account is locked")
      assert.strictEqual(p.errorUri, "https://auth.example.com/errors/locked")
      assert.include(p.message, "The account is locked")
      assert.include(p.message, "https://auth.example.com/errors/locked")
      assert.isFalse(p.retryable)
    }))

  it.effect("a 401 with no body is Unauthorized (invalid_client)", () =>
    Effect.gen(function*() {
      const error = yield* failureFrom(TokenServer.reply("", { status: 401, headers: { "www-authenticate": "Basic" } }))
      const u = expectTag(error, "Unauthorized")
      assert.strictEqual(u.reason, "invalid_client")
      assert.strictEqual(u.status, 401)
      assert.isFalse(u.retryable)
    }))

  it.effect("429 with Retry-After in seconds is RateLimited with retryAfterMillis", () =>
    Effect.gen(function*() {
      const error = yield* failureFrom(TokenServer.reply("slow down", { status: 429, headers: { "retry-after": "42" } }))
      const r = expectTag(error, "RateLimited")
      assert.strictEqual(r.status, 429)
      assert.strictEqual(r.retryAfterMillis, 42_000)
      assert.isTrue(r.retryable)
      assert.include(r.message, "42s")
    }))

  it.effect("429 with Retry-After as an HTTP date is RateLimited, counted from the clock", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("Wed, 21 Oct 2015 07:28:00 GMT"))
      const error = yield* failureFrom(
        TokenServer.reply("", { status: 429, headers: { "retry-after": "Wed, 21 Oct 2015 07:30:00 GMT" } })
      )
      assert.strictEqual(expectTag(error, "RateLimited").retryAfterMillis, 120_000)
    }))

  it.effect("429 without Retry-After is RateLimited with no wait given", () =>
    Effect.gen(function*() {
      const error = yield* failureFrom(TokenServer.reply("", { status: 429 }))
      const r = expectTag(error, "RateLimited")
      assert.isUndefined(r.retryAfterMillis)
      assert.include(r.message, "no Retry-After")
    }))

  it.effect("503 with Retry-After is RateLimited; 503 without is a retryable ProtocolError", () =>
    Effect.gen(function*() {
      const limited = yield* failureFrom(TokenServer.reply("", { status: 503, headers: { "retry-after": "5" } }))
      assert.strictEqual(expectTag(limited, "RateLimited").retryAfterMillis, 5000)
      const down = yield* failureFrom(TokenServer.reply("", { status: 503 }))
      assert.isTrue(expectTag(down, "ProtocolError").retryable)
    }))

  it.effect("500 is a retryable ProtocolError; temporarily_unavailable and server_error are retryable too", () =>
    Effect.gen(function*() {
      const error = yield* failureFrom(TokenServer.json({ message: "boom" }, { status: 500 }))
      const p = expectTag(error, "ProtocolError")
      assert.strictEqual(p.status, 500)
      assert.isTrue(p.retryable)
      assert.isTrue(OAuth2Error.isRetryable(p))
      for (const code of ["temporarily_unavailable", "server_error"]) {
        const coded = yield* failureFrom(TokenServer.oauthError(code))
        assert.isTrue(expectTag(coded, "ProtocolError").retryable, code)
      }
    }))
})

describe("OAuth2Client: transport failures", () => {
  for (const [name, layer] of clients) {
    it.scoped(`${name}: connection refused is TransportError Network`, () =>
      Effect.gen(function*() {
        const url = yield* TokenServer.closedPortUrl
        const endpoint = yield* Endpoint.make({ provider: "test", tokenUrl: url })
        const client = yield* OAuth2Client.make({ endpoint, credentials: Endpoint.credentials(CLIENT_ID, SECRET) })
        const error = yield* Effect.flip(client.requestToken(cc()))
        const t = expectTag(error, "TransportError")
        assert.strictEqual(t.reason, "Network")
        assert.strictEqual(t.request, `POST ${url}`)
        assert.isTrue(t.retryable)
        assert.include(t.message, "not a credentials problem")
      }).pipe(Effect.provide(layer)))

    it.scoped(`${name}: connection reset is TransportError Network`, () =>
      Effect.gen(function*() {
        const { client, server } = yield* start(TokenServer.destroy)
        const error = yield* Effect.flip(client.requestToken(cc()))
        assert.strictEqual(expectTag(error, "TransportError").reason, "Network")
        assert.strictEqual(yield* server.count, 1)
      }).pipe(Effect.provide(layer)))

    it.scoped(`${name}: a reset while the body is read is TransportError Network`, () =>
      Effect.gen(function*() {
        const { client } = yield* start(TokenServer.raw((req, res) => {
          res.writeHead(200, { "content-type": "application/json", "content-length": "500" })
          res.write(`{"access_token":"${ACCESS}",`, () => req.socket.destroy())
        }))
        const error = yield* Effect.flip(client.requestToken(cc()))
        assert.strictEqual(expectTag(error, "TransportError").reason, "Network")
      }).pipe(Effect.provide(layer)))

    it.effect(`${name}: no answer within requestTimeout is TransportError Timeout`, () =>
      Effect.gen(function*() {
        const { client, server } = yield* start(TokenServer.hang, { requestTimeout: "2 seconds" })
        const fiber = yield* Effect.fork(client.requestToken(cc()))
        yield* server.awaitRequests(1)
        yield* TestClock.adjust("1999 millis")
        assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "not before the timeout")
        yield* TestClock.adjust("1 millis")
        const t = expectTag(failureOf(yield* Fiber.await(fiber)), "TransportError")
        assert.strictEqual(t.reason, "Timeout")
        assert.isTrue(t.retryable)
        assert.include(t.message, "timed out")
      }).pipe(Effect.provide(layer), Effect.scoped))
  }
})

describe("OAuth2Client: revocation (RFC 7009)", () => {
  it.scoped("sends token and token_type_hint with the client authentication; 200 is success", () =>
    Effect.gen(function*() {
      const { client, server } = yield* start(TokenServer.reply(""))
      yield* client.revoke(Redacted.make(REFRESH), "refresh_token")
      const request = yield* server.last
      assert.strictEqual(request.path, "/revoke")
      assert.strictEqual(request.method, "POST")
      assert.strictEqual(request.headers["content-type"], "application/x-www-form-urlencoded")
      assert.deepStrictEqual(request.form, { token: REFRESH, token_type_hint: "refresh_token" })
      assert.match(request.headers.authorization ?? "", /^Basic /)
      yield* client.revoke(Redacted.make(ACCESS))
      assert.deepStrictEqual((yield* server.last).form, { token: ACCESS })
    }).pipe(fetchClient))

  it.scoped("a 200 with any body (even HTML) is success", () =>
    Effect.gen(function*() {
      const { client } = yield* start(TokenServer.text("<html>ok</html>", "text/html"))
      yield* client.revoke(Redacted.make(ACCESS))
    }).pipe(fetchClient))

  it.scoped("503 is retryable; 400 unsupported_token_type is a ProtocolError", () =>
    Effect.gen(function*() {
      const { client, server } = yield* start([
        TokenServer.reply("", { status: 503 }),
        TokenServer.reply("", { status: 503, headers: { "retry-after": "30" } }),
        TokenServer.oauthError("unsupported_token_type")
      ])
      const down = yield* Effect.flip(client.revoke(Redacted.make(ACCESS)))
      assert.isTrue(down.retryable)
      assert.strictEqual(down.source, "revocation-endpoint")
      const limited = yield* Effect.flip(client.revoke(Redacted.make(ACCESS)))
      assert.strictEqual(expectTag(limited, "RateLimited").retryAfterMillis, 30_000)
      const unsupported = yield* Effect.flip(client.revoke(Redacted.make(ACCESS)))
      assert.strictEqual(expectTag(unsupported, "ProtocolError").error, "unsupported_token_type")
      assert.strictEqual(yield* server.count, 3)
    }).pipe(fetchClient))

  it.scoped("no revocationUrl: Unsupported, and no request", () =>
    Effect.gen(function*() {
      const { client, server } = yield* start(TokenServer.reply(""), { revocationUrl: undefined })
      const error = yield* Effect.flip(client.revoke(Redacted.make(ACCESS)))
      const u = expectTag(error, "Unsupported")
      assert.strictEqual(u.operation, "revocation")
      assert.isFalse(u.retryable)
      assert.strictEqual(yield* server.count, 0)
    }).pipe(fetchClient))
})

describe("OAuth2Client: introspection (RFC 7662)", () => {
  it.scoped("active true with its members; active false", () =>
    Effect.gen(function*() {
      const { client, server } = yield* start([
        TokenServer.json({ active: true, scope: "read write", client_id: "app", exp: 1_800_000_000, sub: "u1" }),
        TokenServer.json({ active: false })
      ])
      const live = yield* client.introspect(Redacted.make(ACCESS), "access_token")
      assert.deepStrictEqual(live, {
        active: true,
        scopes: ["read", "write"],
        clientId: "app",
        expiresAt: 1_800_000_000_000,
        extra: { sub: "u1" }
      })
      const request = yield* server.last
      assert.strictEqual(request.path, "/introspect")
      assert.deepStrictEqual(request.form, { token: ACCESS, token_type_hint: "access_token" })
      const dead = yield* client.introspect(Redacted.make(ACCESS))
      assert.isFalse(dead.active)
      assert.isUndefined(dead.scopes)
    }).pipe(fetchClient))

  it.scoped("a missing `active` is a MalformedResponse", () =>
    Effect.gen(function*() {
      const { client } = yield* start(TokenServer.json({ scope: "read" }))
      const error = yield* Effect.flip(client.introspect(Redacted.make(ACCESS)))
      const m = expectTag(error, "MalformedResponse")
      assert.strictEqual(m.source, "introspection-endpoint")
      assert.include(m.reason, "active")
    }).pipe(fetchClient))

  it.scoped("no introspectionUrl: Unsupported", () =>
    Effect.gen(function*() {
      const { client, server } = yield* start(TokenServer.json({ active: true }), { introspectionUrl: undefined })
      const error = yield* Effect.flip(client.introspect(Redacted.make(ACCESS)))
      assert.strictEqual(expectTag(error, "Unsupported").operation, "introspection")
      assert.strictEqual(yield* server.count, 0)
    }).pipe(fetchClient))
})

describe("OAuth2Client: a 5xx is a server failure, whatever its body says", () => {
  const cases: ReadonlyArray<{ readonly name: string; readonly status: number; readonly body: unknown; readonly said: string }> = [
    { name: "500 invalid_grant", status: 500, body: { error: "invalid_grant" }, said: "invalid_grant" },
    { name: "503 invalid_client", status: 503, body: { error: "invalid_client" }, said: "invalid_client" },
    { name: "502 invalid_scope with a description", status: 502, body: { error: "invalid_scope", error_description: "db down" }, said: "invalid_scope: db down" },
    { name: "504 slow_down", status: 504, body: { error: "slow_down" }, said: "slow_down" },
    {
      name: "hapi-style 500",
      status: 500,
      body: { statusCode: 500, error: "Internal Server Error", message: "An internal server error occurred" },
      said: "Internal Server Error: An internal server error occurred"
    }
  ]
  it.effect.each(cases)("$name: a retryable ProtocolError keeping the body's text, no OAuth error code", ({ body, said, status }) =>
    Effect.gen(function*() {
      const error = yield* failureFrom(TokenServer.json(body, { status }), {}, cc(["read"]))
      const p = expectTag(error, "ProtocolError")
      assert.strictEqual(p.status, status)
      assert.isUndefined(p.error, "a 5xx body's `error` is not taken as an OAuth error code")
      assert.isTrue(p.retryable)
      assert.strictEqual(p.errorDescription, said)
      assert.include(p.message, `HTTP ${status} (server said: ${said})`)
      assert.include(p.message, "retrying can help")
    }))

  it.effect.prop(
    "any 5xx (but a 503 with Retry-After) with any `error` member is retryable, never Unauthorized or InvalidScope",
    [
      fc.integer({ min: 500, max: 599 }),
      fc.oneof(
        fc.constantFrom("invalid_grant", "invalid_client", "unauthorized_client", "access_denied", "invalid_scope", "slow_down"),
        fc.string({ maxLength: 40 })
      )
    ],
    ([status, code]) =>
      Effect.gen(function*() {
        const error = yield* failureFrom(TokenServer.json({ error: code }, { status }))
        assert.strictEqual(error._tag, "ProtocolError", `${status} ${JSON.stringify(code)}: ${error._tag}`)
        assert.isTrue(error.retryable)
      }),
    { fastCheck: { numRuns: 40 } }
  )

  it.effect("a proxy's text/plain 503 keeps its words, sanitised; an HTML page is never quoted", () =>
    Effect.gen(function*() {
      const envoy = yield* failureFrom(TokenServer.text(
        "upstream connect error or disconnect/reset before headers. reset reason: connection failure\r\n\u001b[31m",
        "text/plain",
        { status: 503 }
      ))
      const p = expectTag(envoy, "ProtocolError")
      assert.isTrue(p.retryable)
      assert.strictEqual(
        p.errorDescription,
        "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
      )
      const html = yield* failureFrom(TokenServer.text("<h1>Bad Gateway</h1>", "text/html", { status: 502 }))
      assert.isUndefined(expectTag(html, "ProtocolError").errorDescription)
    }))

  it.effect("a 4xx keeps its §5.2 meaning; an `error` that cannot be a code (hapi's \"Bad Request\") is text", () =>
    Effect.gen(function*() {
      const grant = yield* failureFrom(TokenServer.oauthError("invalid_grant"))
      assert.strictEqual(expectTag(grant, "Unauthorized").reason, "invalid_grant")
      const hapi = yield* failureFrom(
        TokenServer.json({ statusCode: 400, error: "Bad Request", message: "Invalid request payload input" }, { status: 400 })
      )
      const p = expectTag(hapi, "ProtocolError")
      assert.isUndefined(p.error)
      assert.strictEqual(p.errorDescription, "Bad Request: Invalid request payload input")
    }))
})

describe("OAuth2Client: RFC 9457 problem details", () => {
  it.effect("a 400 application/problem+json: title and detail in the message, the type as the link", () =>
    Effect.gen(function*() {
      const error = yield* failureFrom(TokenServer.json({
        type: "https://auth.example.com/problems/grant",
        title: "Bad Request",
        status: 400,
        detail: "Invalid grant type"
      }, { status: 400, headers: { "content-type": "application/problem+json" } }))
      const p = expectTag(error, "ProtocolError")
      assert.strictEqual(p.errorDescription, "Bad Request: Invalid grant type")
      assert.strictEqual(p.errorUri, "https://auth.example.com/problems/grant")
      assert.include(p.message, "Invalid grant type")
      assert.include(p.message, "Bad Request")
      assert.isFalse(p.retryable)
    }))

  it.effect("a 401 problem: Unauthorized with the detail; a 503 problem: retryable with it; `about:blank` is no link", () =>
    Effect.gen(function*() {
      const problem = (status: number, detail: string) =>
        TokenServer.json({ type: "about:blank", title: "Problem", detail }, {
          status,
          headers: { "content-type": "application/problem+json" }
        })
      const refused = yield* failureFrom(problem(401, "client authentication failed"))
      const u = expectTag(refused, "Unauthorized")
      assert.include(u.message, "client authentication failed")
      const down = yield* failureFrom(problem(503, "maintenance until 10:00"))
      const p = expectTag(down, "ProtocolError")
      assert.isTrue(p.retryable)
      assert.include(p.message, "maintenance until 10:00")
      assert.isUndefined(p.errorUri)
    }))

  it.effect("a problem's text echoing a secret is scrubbed and sanitised", () =>
    Effect.gen(function*() {
      const error = yield* failureFrom(TokenServer.json({
        title: "Bad\u001b[2J Request",
        detail: `secret ${SECRET} refused\r\nerror: forged line`
      }, { status: 400, headers: { "content-type": "application/problem+json" } }))
      const p = expectTag(error, "ProtocolError")
      assert.notInclude(p.message, SECRET)
      assert.notMatch(p.message, /\p{Cc}/u)
      assert.include(p.message, "refused  error: forged line")
    }))
})

describe("OAuth2Client: null members and token characters", () => {
  for (const member of ["refresh_token", "scope"]) {
    it.effect(`"${member}": null is a MalformedResponse (RFC 6749 gives it no null form)`, () =>
      Effect.gen(function*() {
        const error = yield* failureFrom(TokenServer.token({ access_token: ACCESS, [member]: null }))
        const m = expectTag(error, "MalformedResponse")
        assert.include(m.reason, `${member} is null`)
        assert.isFalse(m.retryable)
        const refresh = yield* failureFrom(
          TokenServer.token({ access_token: ACCESS, [member]: null }),
          {},
          Grant.refreshToken({ refreshToken: Redacted.make(REFRESH), grantedScopes: ["read"] })
        )
        expectTag(refresh, "MalformedResponse")
      }))
  }

  it.effect("a refresh_token that is not a string is a MalformedResponse (not silently the old one)", () =>
    Effect.gen(function*() {
      const grant = Grant.refreshToken({ refreshToken: Redacted.make(REFRESH), grantedScopes: ["read"] })
      for (const value of [42, true, { t: NEW_REFRESH }, [NEW_REFRESH]]) {
        const error = yield* failureFrom(TokenServer.token({ refresh_token: value }), {}, grant)
        assert.include(expectTag(error, "MalformedResponse").reason, "refresh_token is not a string")
        assert.notInclude(error.message, NEW_REFRESH)
      }
    }))

  const endpoint = Effect.runSync(Endpoint.make({ provider: "test", tokenUrl: "https://auth.example.com/token" }))
  const decode = (body: Record<string, unknown>, grant: Grant.Grant = cc()) =>
    OAuth2Client.decodeTokenResponse({
      endpoint,
      grant,
      body,
      status: 200,
      contentType: "application/json",
      issuedAt: T0
    })
  const decoded = (body: Record<string, unknown>) => Effect.runSync(decode(body))
  const refused = (body: Record<string, unknown>) => Effect.runSync(Effect.flip(decode(body)))

  /** A string with at least one character that cannot go into an Authorization header. */
  const badToken = fc.tuple(
    fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 20 }),
    fc.oneof(
      fc.integer({ min: 0, max: 0x20 }).map((c) => String.fromCharCode(c)),
      fc.constant("\u007f"),
      fc.integer({ min: 0x80, max: 0x10ffff }).filter((c) => c < 0xd800 || c > 0xdfff).map((c) => String.fromCodePoint(c))
    ),
    fc.string({ unit: "binary", maxLength: 20 })
  ).map(([head, bad, tail]) => `TOKEN-${head}${bad}${tail}`)

  const visibleToken = fc.string({
    unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
    minLength: 1,
    maxLength: 60
  })

  it.prop(
    "an access_token or refresh_token with a space, control or non-ASCII character is refused, never shown",
    [badToken, fc.constantFrom("access_token", "refresh_token")],
    ([token, member]) =>
      {
        const body = member === "access_token"
          ? { access_token: token, token_type: "Bearer" }
          : { access_token: ACCESS, token_type: "Bearer", refresh_token: token }
        const error = refused(body)
        assert.include(expectTag(error, "MalformedResponse").reason, member)
        const visible = token.slice(0, 6)
        for (const shown of [error.message, JSON.stringify(error), inspect(error, { depth: 10 })]) {
          assert.notInclude(shown, token)
          assert.notInclude(shown, visible)
        }
      },
    { fastCheck: { numRuns: 300 } }
  )

  it.prop(
    "an access_token and refresh_token of visible ASCII are accepted exactly",
    [visibleToken, visibleToken],
    ([access, refresh]) =>
      {
        const token = decoded({ access_token: access, token_type: "Bearer", refresh_token: refresh })
        assert.strictEqual(Redacted.value(token.value), access)
        assert.strictEqual(Redacted.value(token.refreshToken!), refresh)
      },
    { fastCheck: { numRuns: 300 } }
  )

  it.prop(
    "any negative expires_in (integer, fraction, numeric string) is a MalformedResponse; 0 and positive ones are not",
    [
      fc.oneof(
        fc.integer({ min: -(2 ** 40), max: -1 }),
        fc.double({ max: -Number.MIN_VALUE, noNaN: true, noDefaultInfinity: true }),
        fc.tuple(fc.nat(), fc.option(fc.nat(), { nil: undefined })).filter(([i, f]) => i > 0 || (f ?? 0) > 0).map((
          [i, f]
        ) => `-${i}${f === undefined ? "" : `.${f}`}`)
      ),
      fc.oneof(fc.constant(0), fc.constant("0"), fc.double({ min: 0, max: 1e6, noNaN: true }), fc.nat().map(String))
    ],
    ([negative, valid]) =>
      {
        const error = refused({ access_token: ACCESS, token_type: "Bearer", expires_in: negative })
        assert.include(expectTag(error, "MalformedResponse").reason, "negative")
        const token = decoded({ access_token: ACCESS, token_type: "Bearer", expires_in: valid })
        assert.isAtLeast(token.expiresAt, T0)
      },
    { fastCheck: { numRuns: 300 } }
  )

  it.prop(
    "every unknown member is Redacted whole: no rendering of the token shows any part of it",
    [
      fc.string({ minLength: 1, maxLength: 12 }).filter((name) =>
        !["access_token", "token_type", "expires_in", "scope", "refresh_token", ...OAuth2Client.readableMembers].includes(name)
        && name !== "__proto__"
      ),
      fc.letrec<{ value: unknown }>((tie) => ({
        value: fc.oneof(
          { depthSize: "small", withCrossShrink: true },
          fc.constant("MEMBER-SECRET"),
          fc.array(tie("value"), { maxLength: 3 }).map((xs) => [...xs, "MEMBER-SECRET"]),
          fc.dictionary(fc.string({ maxLength: 5 }), tie("value"), { maxKeys: 3 }).map((o) => ({ ...o, k: "MEMBER-SECRET" }))
        )
      })).value
    ],
    ([name, value]) =>
      {
        const token = decoded({ access_token: ACCESS, token_type: "Bearer", [name]: value })
        assert.isTrue(Redacted.isRedacted(token.extra[name]))
        assert.deepStrictEqual(Redacted.value(token.extra[name] as Redacted.Redacted<unknown>), value)
        for (const shown of [String(token), JSON.stringify(token), inspect(token, { depth: 20 })]) {
          assert.notInclude(shown, "MEMBER-SECRET")
        }
      },
    { fastCheck: { numRuns: 200 } }
  )
})

describe("OAuth2Client: a 204 (no body) is an answer, not a network failure", () => {
  for (const [name, layer] of clients) {
    it.scoped(`${name}: revocation answered 204 is a success`, () =>
      Effect.gen(function*() {
        const { client, server } = yield* start(TokenServer.reply("", { status: 204 }))
        yield* client.revoke(Redacted.make(ACCESS), "access_token")
        assert.strictEqual(yield* server.count, 1)
      }).pipe(Effect.provide(layer)))

    it.scoped(`${name}: a token or introspection endpoint answering 204 is a MalformedResponse that says so`, () =>
      Effect.gen(function*() {
        const { client } = yield* start(TokenServer.reply("", { status: 204 }))
        const token = yield* Effect.flip(client.requestToken(cc()))
        const m = expectTag(token, "MalformedResponse")
        assert.strictEqual(m.status, 204)
        assert.include(m.reason, "204 No Content")
        assert.isFalse(m.retryable)
        const introspection = yield* Effect.flip(client.introspect(Redacted.make(ACCESS)))
        assert.include(expectTag(introspection, "MalformedResponse").reason, "204 No Content")
      }).pipe(Effect.provide(layer)))
  }
})

describe("OAuth2Client: server text is sanitised wherever it is shown", () => {
  const hostile = fc.array(
    fc.oneof(
      fc.string({ unit: "binary", maxLength: 30 }),
      fc.string({ unit: "binary-ascii", maxLength: 30 }),
      fc.constantFrom(
        "\u001b[2J",
        "\u001b]0;pwned\u0007",
        "\u009b31m",
        "\r\nerror: forged",
        "\u0000",
        "\u202e",
        "\u2066",
        "\u2028",
        "\u200b",
        "\ud800",
        "x".repeat(700)
      )
    ),
    { maxLength: 8 }
  ).map((parts) => parts.join(""))

  const CONTROL = /[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]/u
  const BOUND = 2500

  const assertSafe = (text: string) => {
    assert.notMatch(text, CONTROL, JSON.stringify(text.slice(0, 200)))
    assert.isAtMost(text.length, BOUND)
  }

  it.effect.prop(
    "for any error, error_description, error_uri, problem title/detail or message a server sends, every message and field is clean and bounded",
    [
      fc.constantFrom(400, 401, 403, 500, 503),
      fc.constantFrom("invalid_grant", "invalid_scope", "invalid_request", "weird"),
      hostile,
      hostile,
      hostile,
      fc.boolean()
    ],
    ([status, code, description, uri, other, useCode]) =>
      Effect.gen(function*() {
        const body = useCode
          ? { error: code, error_description: description, error_uri: uri }
          : { error: other, title: description, detail: uri, message: other, type: `https://x.example/${uri}` }
        const error = yield* failureFrom(TokenServer.json(body, { status }), {}, cc(["read"]))
        assertSafe(error.message)
        for (const value of Object.values(error)) {
          if (typeof value === "string") assertSafe(value)
        }
      }),
    { fastCheck: { numRuns: 60 } }
  )

  it.effect("a 900 KB error_description: the message and the warning stay short", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const logger = Logger.make((options) => void lines.push(Logger.logfmtLogger.log(options)))
      const error = yield* failureFrom(
        TokenServer.oauthError("invalid_request", { error_description: `\u001b[2J${"A".repeat(900_000)}` })
      ).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      assertSafe(error.message)
      assert.isAtMost((error as OAuth2Error.ProtocolError).errorDescription!.length, 501)
      assert.isTrue((error as OAuth2Error.ProtocolError).errorDescription!.endsWith("…"))
      for (const line of lines) assert.isAtMost(line.length, BOUND)
    }))

  it.effect("a description cut at the cap never ends with the beginning of an echoed secret", () =>
    Effect.gen(function*() {
      for (let offset = 490; offset <= 500; offset++) {
        const error = yield* failureFrom(
          TokenServer.oauthError("invalid_request", { error_description: `${"d".repeat(offset)}${SECRET}` }),
          { authMethod: "client_secret_post" }
        )
        const description = (error as OAuth2Error.ProtocolError).errorDescription!
        assert.notInclude(description, SECRET.slice(0, 3), `cut at ${offset}`)
      }
      // Cut at the input's bound (a long run of control characters first) rather than at the cap.
      for (const padding of [2253, 2254, 2255]) {
        const error = yield* failureFrom(
          TokenServer.oauthError("invalid_request", { error_description: `${"\u0000".repeat(padding)}${SECRET}` }),
          { authMethod: "client_secret_post" }
        )
        const description = (error as OAuth2Error.ProtocolError).errorDescription ?? ""
        assert.notInclude(description, SECRET.slice(0, 2), `bound cut after ${padding}`)
      }
    }))

  it.prop(
    "every message of the family is clean and bounded, whatever text its fields hold",
    [hostile, hostile, hostile],
    ([a, b, c]) => {
      const errors: ReadonlyArray<OAuth2Error.OAuth2Error> = [
        new OAuth2Error.InvalidScope({ source: "resource-server", requestedScopes: [a, b], requiredScope: c, description: b }),
        new OAuth2Error.Unauthorized({ source: "token-endpoint", reason: "invalid_grant", description: a }),
        new OAuth2Error.Expired({ source: "token-endpoint", hint: "Log in.", lastFailure: a + b + c }),
        new OAuth2Error.TransportError({ source: "token-endpoint", reason: "Network", request: "POST https://x", description: a }),
        new OAuth2Error.MalformedResponse({ source: "token-endpoint", status: 200, contentType: a, reason: b }),
        new OAuth2Error.ProtocolError({ source: "token-endpoint", status: 400, error: a, errorDescription: b, errorUri: c }),
        new OAuth2Error.AuthorizationFailed({ source: "authorization", reason: a, description: b }),
        new OAuth2Error.TokenStoreError({ source: "token-store", operation: "get", description: a + b + c })
      ]
      for (const error of errors) assertSafe(error.message)
    },
    { fastCheck: { numRuns: 200 } }
  )
})

describe("Endpoint validation", () => {
  const make = (tokenUrl: string, options: Partial<Endpoint.Options> = {}) =>
    Endpoint.make({ provider: "test", tokenUrl, ...options })

  it.effect("https, http://127.0.0.1, http://localhost and http://[::1] are accepted", () =>
    Effect.gen(function*() {
      for (const url of [
        "https://auth.example.com/oauth2/token",
        "http://127.0.0.1:8080/token",
        "http://127.1.2.3/token",
        "http://localhost:3000/token",
        "http://[::1]:9000/token"
      ]) {
        const endpoint = yield* make(url)
        assert.strictEqual(endpoint.tokenUrl, url)
      }
    }))

  it.effect("http:// on a non-loopback host is InvalidConfiguration (unless allowInsecureHttp)", () =>
    Effect.gen(function*() {
      for (const url of ["http://auth.example.com/token", "http://localhost.example.com/token", "http://10.0.0.1/t"]) {
        const error = yield* Effect.flip(make(url))
        assert.strictEqual(error._tag, "InvalidConfiguration")
        assert.include(error.message, "https://")
      }
      const insecure = yield* make("http://auth.example.com/token", { allowInsecureHttp: true })
      assert.strictEqual(insecure.tokenUrl, "http://auth.example.com/token")
      const revocation = yield* Effect.flip(make("https://a.example.com/token", { revocationUrl: "http://a.example.com/r" }))
      assert.include(revocation.message, "revocationUrl")
    }))

  it.effect("a URL with credentials is rejected without repeating them", () =>
    Effect.gen(function*() {
      for (const url of ["https://client:Sup3rS3cret@auth.example.com/token", "http://client:Sup3rS3cret@127.0.0.1/t"]) {
        const error = yield* Effect.flip(make(url))
        assert.strictEqual(error._tag, "InvalidConfiguration")
        assert.include(error.message, "credentials")
        assert.notInclude(error.message, "Sup3rS3cret")
      }
    }))

  it.effect("a relative or scheme-less URL is rejected, without repeating a secret it may carry", () =>
    Effect.gen(function*() {
      for (const url of ["/oauth2/token", "auth.example.com/token", "client:Sup3rS3cret@auth.example.com/token"]) {
        const error = yield* Effect.flip(make(url))
        assert.strictEqual(error._tag, "InvalidConfiguration", url)
        assert.notInclude(error.message, "Sup3rS3cret")
        assert.notInclude(JSON.stringify(error), "Sup3rS3cret")
      }
    }))

  it.effect("maxResponseBytes must be positive; defaults are documented values", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(make("https://a.example.com/t", { maxResponseBytes: 0 }))
      assert.include(error.message, "maxResponseBytes")
      const endpoint = yield* make("https://a.example.com/t")
      assert.strictEqual(endpoint.authMethod, "client_secret_basic")
      assert.strictEqual(endpoint.basicEncoding, "form")
      assert.strictEqual(endpoint.scopeDelimiter, " ")
      assert.isUndefined(endpoint.defaultTokenType)
      assert.deepStrictEqual(endpoint.acceptedTokenTypes, ["Bearer"])
    }))

  it.effect("OAuth2Client.layer fails with InvalidConfiguration for a bad URL", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Layer.build(OAuth2Client.layer({
          endpoint: { provider: "test", tokenUrl: "http://auth.example.com/token" },
          credentials: Endpoint.credentials(CLIENT_ID, SECRET)
        })).pipe(Effect.scoped, fetchClient)
      )
      assert.strictEqual(error._tag, "InvalidConfiguration")
    }))
})

describe("secrets never leak", () => {
  const captureLogs = <A, E, R>(self: Effect.Effect<A, E, R>) =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const logger = Logger.make((options) => {
        lines.push(Logger.logfmtLogger.log(options))
        lines.push(Logger.jsonLogger.log(options))
      })
      const exit = yield* self.pipe(
        Effect.exit,
        Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
        Logger.withMinimumLogLevel(LogLevel.All)
      )
      return { exit, lines }
    })

  const views = (error: OAuth2Error.OAuth2Error): Record<string, string> => ({
    message: error.message,
    string: String(error),
    json: JSON.stringify(error),
    encoded: JSON.stringify(Schema.encodeSync(OAuth2Error.OAuth2Error)(error)),
    inspect: inspect(error, { depth: 10 }),
    pretty: Cause.pretty(Cause.fail(error))
  })

  const assertClean = (where: string, text: string) => {
    for (const secret of SECRETS) {
      assert.notInclude(text, secret, `${where} shows a secret`)
    }
  }

  type Op = "token" | "refresh" | "code" | "revoke" | "introspect"
  const scenarios: ReadonlyArray<{
    readonly name: string
    readonly script: TokenServer.Script
    readonly op: Op
    readonly tag: Tag
    readonly options?: StartOptions
  }> = [
    { name: "invalid_client 401", script: TokenServer.oauthError("invalid_client", {}, { status: 401 }), op: "token", tag: "Unauthorized" },
    {
      name: "invalid_client with client_secret_post, description echoing the secret",
      script: TokenServer.oauthError("invalid_client", { error_description: `bad secret ${SECRET}` }),
      op: "token",
      tag: "Unauthorized",
      options: { authMethod: "client_secret_post" }
    },
    {
      name: "invalid_grant echoing the refresh token",
      script: TokenServer.oauthError("invalid_grant", { error_description: `refresh token ${REFRESH} is revoked` }),
      op: "refresh",
      tag: "Unauthorized"
    },
    {
      name: "invalid_grant echoing the code and verifier",
      script: TokenServer.oauthError("invalid_grant", {
        error_description: `code ${CODE} / verifier ${VERIFIER}`,
        error_uri: `https://auth.example.com/e?code=${CODE}`
      }),
      op: "code",
      tag: "Unauthorized"
    },
    { name: "invalid_scope", script: TokenServer.oauthError("invalid_scope"), op: "token", tag: "InvalidScope" },
    {
      name: "unknown code echoing the secret in every member",
      script: TokenServer.oauthError(`weird_${SECRET}`, {
        error_description: `client_secret=${encodeURIComponent(SECRET)}`,
        error_uri: `https://auth.example.com/e?s=${encodeURIComponent(SECRET)}`
      }),
      op: "token",
      tag: "ProtocolError"
    },
    {
      name: "429 with date",
      script: TokenServer.reply(ACCESS, { status: 429, headers: { "retry-after": "Wed, 21 Oct 2015 07:30:00 GMT" } }),
      op: "token",
      tag: "RateLimited"
    },
    { name: "503", script: TokenServer.reply(SECRET, { status: 503 }), op: "token", tag: "ProtocolError" },
    {
      name: "HTML 502 quoting the request",
      script: TokenServer.text(`<pre>client_secret=${SECRET} refresh_token=${REFRESH}</pre>`, "text/html", { status: 502 }),
      op: "refresh",
      tag: "ProtocolError"
    },
    {
      name: "200 with an unknown token_type",
      script: TokenServer.token({ access_token: ACCESS, token_type: ACCESS }),
      op: "token",
      tag: "MalformedResponse"
    },
    {
      name: "200 with no token_type",
      script: TokenServer.json({ access_token: ACCESS, refresh_token: NEW_REFRESH }),
      op: "refresh",
      tag: "MalformedResponse"
    },
    {
      name: "200 with a non-numeric expires_in",
      script: TokenServer.token({ access_token: ACCESS, expires_in: ACCESS }),
      op: "token",
      tag: "MalformedResponse"
    },
    {
      name: "200 with an error member",
      script: TokenServer.json({ error: "invalid_grant", access_token: ACCESS }),
      op: "refresh",
      tag: "Unauthorized"
    },
    { name: "broken JSON", script: TokenServer.text(`{"access_token":"${ACCESS}"`, "application/json"), op: "token", tag: "MalformedResponse" },
    { name: "non-object JSON", script: TokenServer.text(`["${ACCESS}"]`, "application/json"), op: "token", tag: "MalformedResponse" },
    { name: "empty 200", script: TokenServer.reply(""), op: "token", tag: "MalformedResponse" },
    {
      name: "body over the limit",
      script: TokenServer.token({ access_token: ACCESS, padding: "x".repeat(4096) }),
      op: "token",
      tag: "MalformedResponse",
      options: { maxResponseBytes: 1024 }
    },
    {
      name: "redirect carrying the token",
      script: TokenServer.reply("", { status: 302, headers: { location: `https://evil.example.com/?t=${ACCESS}` } }),
      op: "token",
      tag: "MalformedResponse"
    },
    { name: "connection reset", script: TokenServer.destroy, op: "refresh", tag: "TransportError" },
    {
      name: "revocation refused, echoing the token",
      script: TokenServer.oauthError("invalid_request", { error_description: `token ${ACCESS} unknown` }),
      op: "revoke",
      tag: "ProtocolError"
    },
    { name: "revocation 503", script: TokenServer.reply("", { status: 503 }), op: "revoke", tag: "ProtocolError" },
    {
      name: "introspection without active",
      script: TokenServer.json({ token: ACCESS }),
      op: "introspect",
      tag: "MalformedResponse"
    },
    {
      name: "revocation unsupported",
      script: TokenServer.reply(""),
      op: "revoke",
      tag: "Unsupported",
      options: { revocationUrl: undefined }
    }
  ]

  const runOp = (client: OAuth2Client.Service, op: Op): Effect.Effect<unknown, OAuth2Error.OAuth2Error> => {
    switch (op) {
      case "token":
        return client.requestToken(cc(["read"]))
      case "refresh":
        return client.requestToken(Grant.refreshToken({ refreshToken: Redacted.make(REFRESH), grantedScopes: ["read"] }))
      case "code":
        return client.requestToken(Grant.authorizationCode({
          code: Redacted.make(CODE),
          codeVerifier: Redacted.make(VERIFIER)
        }))
      case "revoke":
        return client.revoke(Redacted.make(ACCESS), "access_token")
      case "introspect":
        return client.introspect(Redacted.make(ACCESS))
    }
  }

  it.effect.each(scenarios)("$name: no secret in the error or the logs", ({ op, options, script, tag }) =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("Wed, 21 Oct 2015 07:28:00 GMT"))
      const { client } = yield* start(script, options ?? {})
      const { exit, lines } = yield* captureLogs(runOp(client, op))
      const error = expectTag(failureOf(exit), tag)
      assert.isTrue(OAuth2Error.isOAuth2Error(error))
      for (const [where, text] of Object.entries(views(error))) assertClean(where, text)
      for (const line of lines) assertClean("a log line", line)
      if (op === "token" || op === "refresh" || op === "code") {
        assert.isAbove(lines.length, 0, "a failed token request is logged")
      }
    }).pipe(fetchClient, Effect.scoped))

  it.effect("connection refused and timeout: no secret in the error or the logs", () =>
    Effect.gen(function*() {
      const url = yield* TokenServer.closedPortUrl
      const endpoint = yield* Endpoint.make({ provider: "test", tokenUrl: url })
      const refused = yield* OAuth2Client.make({ endpoint, credentials: Endpoint.credentials(CLIENT_ID, SECRET) })
      const first = yield* captureLogs(runOp(refused, "refresh"))
      const { client, server } = yield* start(TokenServer.hang, { requestTimeout: "1 second" })
      const fiber = yield* Effect.fork(captureLogs(runOp(client, "code")))
      yield* server.awaitRequests(1)
      yield* TestClock.adjust("1 second")
      const second = yield* Fiber.join(fiber)
      for (const { exit, lines } of [first, second]) {
        const error = expectTag(failureOf(exit), "TransportError")
        for (const [where, text] of Object.entries(views(error))) assertClean(where, text)
        for (const line of lines) assertClean("a log line", line)
      }
    }).pipe(fetchClient, Effect.scoped))

  it.effect("a successful request logs no secret either", () =>
    Effect.gen(function*() {
      const { client } = yield* start(TokenServer.token({ access_token: ACCESS, refresh_token: NEW_REFRESH }))
      const { exit, lines } = yield* captureLogs(runOp(client, "refresh"))
      assert.isTrue(Exit.isSuccess(exit))
      assert.isAbove(lines.length, 0)
      for (const line of lines) assertClean("a log line", line)
    }).pipe(fetchClient, Effect.scoped))

  it.effect("an AccessToken shows no secret in toString, JSON or inspect", () =>
    Effect.gen(function*() {
      const token = yield* tokenFrom(TokenServer.token({ access_token: ACCESS, refresh_token: NEW_REFRESH }))
      for (const shown of [String(token), `${token}`, JSON.stringify(token), inspect(token, { depth: 10 })]) {
        assertClean("the token", shown)
        assert.include(shown, "<redacted>")
      }
      // The store encoding is the one place the secrets are in clear, on purpose.
      const encoded = AccessToken.encode(token)
      assert.strictEqual(encoded.value, ACCESS)
      assert.strictEqual(encoded.refreshToken, NEW_REFRESH)
      const decoded = yield* AccessToken.decodeUnknown(encoded)
      assert.isTrue(AccessToken.sameValue(decoded, token))
    }))
})

describe("OAuth2Client: token-endpoint variants (JSON body, the secret alone, a provider's own error shape)", () => {
  const tastytradeLike: StartOptions = {
    authMethod: "client_secret_post",
    bodyFormat: "json",
    sendClientId: false,
    headers: { "user-agent": "effect-oauth2/0.2.0" },
    errorBody: Endpoint.errorMembers({ error: "error_code" })
  }

  it.scoped("bodyFormat json: a JSON object of strings, with the headers; sendClientId false leaves client_id out", () =>
    Effect.gen(function*() {
      const { client, server } = yield* start(TokenServer.token(), tastytradeLike)
      yield* client.requestToken(Grant.refreshToken({ refreshToken: Redacted.make(REFRESH), scopes: ["read", "trade"] }))
      const request = yield* server.last
      assert.strictEqual(request.headers["content-type"], "application/json")
      assert.strictEqual(request.headers["user-agent"], "effect-oauth2/0.2.0")
      assert.strictEqual(request.headers.accept, "application/json")
      assert.deepStrictEqual(JSON.parse(request.body), {
        grant_type: "refresh_token",
        refresh_token: REFRESH,
        scope: "read trade",
        client_secret: SECRET
      })
    }).pipe(fetchClient))

  it.scoped("the defaults: a form body, and client_secret_post sends client_id", () =>
    Effect.gen(function*() {
      const { client, server } = yield* start(TokenServer.token(), { authMethod: "client_secret_post" })
      yield* client.requestToken(cc())
      const request = yield* server.last
      assert.strictEqual(request.headers["content-type"], "application/x-www-form-urlencoded")
      assert.strictEqual(request.form.client_id, CLIENT_ID)
    }).pipe(fetchClient))

  it.effect("error_code read as error: invalid_grant and invalid_client are Unauthorized, with the description", () =>
    Effect.gen(function*() {
      const grant = Grant.refreshToken({ refreshToken: Redacted.make(REFRESH) })
      const refused = expectTag(
        yield* failureFrom(
          TokenServer.json({ error_code: "invalid_grant", error_description: "Invalid JWT" }, { status: 400 }),
          tastytradeLike,
          grant
        ),
        "Unauthorized"
      )
      assert.strictEqual(refused.reason, "invalid_grant")
      assert.strictEqual(refused.description, "Invalid JWT")
      assert.isFalse(refused.retryable)
      const badClient = expectTag(
        yield* failureFrom(
          TokenServer.json({ error_code: "invalid_client", error_description: `no ${SECRET}` }, { status: 401 }),
          tastytradeLike,
          grant
        ),
        "Unauthorized"
      )
      assert.strictEqual(badClient.reason, "invalid_client")
      for (const secret of SECRETS) assert.notInclude(JSON.stringify(badClient), secret)
      // A 5xx stays a retryable server failure whatever its code says.
      const server = expectTag(
        yield* failureFrom(TokenServer.json({ error_code: "invalid_grant" }, { status: 503 }), tastytradeLike, grant),
        "ProtocolError"
      )
      assert.isTrue(server.retryable)
      // Without the option, the same body carries no RFC 6749 code: a ProtocolError, not a refused grant.
      const unread = yield* failureFrom(
        TokenServer.json({ error_code: "invalid_grant", error_description: "Invalid JWT" }, { status: 400 }),
        { authMethod: "client_secret_post" },
        grant
      )
      assert.strictEqual(unread._tag, "ProtocolError")
    }))

  it.effect("a 200 with error_code is an error too", () =>
    Effect.gen(function*() {
      const error = yield* failureFrom(TokenServer.json({ error_code: "invalid_scope" }), tastytradeLike)
      assert.strictEqual(error._tag, "InvalidScope")
    }))

  it.effect("errorBody takes any shape: a JSON text nested in error_description (Schwab-like)", () =>
    Effect.gen(function*() {
      const nested: Endpoint.ErrorBody = (body) => {
        if (typeof body.error_description !== "string") return body
        try {
          const inner: unknown = JSON.parse(body.error_description)
          return typeof inner === "object" && inner !== null ? { ...body, ...inner } : body
        } catch {
          return body
        }
      }
      const error = expectTag(
        yield* failureFrom(
          TokenServer.json({
            error: "unauthorized",
            error_description: JSON.stringify({ error: "invalid_grant", error_description: "Token expired" })
          }, { status: 400 }),
          { errorBody: nested }
        ),
        "Unauthorized"
      )
      assert.strictEqual(error.reason, "invalid_grant")
      assert.strictEqual(error.description, "Token expired")
    }))

  it("errorMembers reads a member under the RFC's name only where the RFC's is absent", () => {
    const read = Endpoint.errorMembers({ error: "error_code", error_description: "message" })
    assert.deepStrictEqual(read({ error_code: "invalid_grant", message: "gone" }), {
      error_code: "invalid_grant",
      message: "gone",
      error: "invalid_grant",
      error_description: "gone"
    })
    const rfc = { error: "invalid_client", error_code: "other" }
    assert.strictEqual(read(rfc), rfc)
  })
})
