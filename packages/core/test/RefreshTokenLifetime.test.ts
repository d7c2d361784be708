/**
 * The refresh token's lifetime (`refresh_token_expires_in`): decoded into `AccessToken.refreshTokenExpiresAt`, kept
 * by the token stores and across refreshes that bring no new refresh token, and once it has passed, no request with
 * the dead refresh token: `get` fails with `LoginRequired` (or, with client credentials, gets a new token that way).
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as fc from "effect/FastCheck"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import * as AccessToken from "../src/AccessToken.js"
import type * as AccessTokens from "../src/AccessTokens.js"
import * as Endpoint from "../src/Endpoint.js"
import * as FileTokenStore from "../src/FileTokenStore.js"
import * as Grant from "../src/Grant.js"
import * as OAuth2Client from "../src/OAuth2Client.js"
import * as OAuth2Error from "../src/OAuth2Error.js"
import { accessTokensOver } from "./utils/accessTokensOver.js"
import * as TokenServer from "./utils/tokenServer.js"

/** A request sent in the middle of a second: lifetimes count from the start of that second. */
const SENT_AT = 1_700_000_000_500
const endpoint = Effect.runSync(Endpoint.make({ provider: "test", tokenUrl: "https://auth.example.com/token" }))
const decode = (body: Record<string, unknown>, grant: Grant.Grant = Grant.clientCredentials([])) =>
  OAuth2Client.decodeTokenResponse({
    endpoint,
    grant,
    body: { access_token: "at", token_type: "Bearer", expires_in: 1200, ...body },
    status: 200,
    contentType: "application/json",
    issuedAt: SENT_AT
  })

const iso = (millis: number) => new Date(millis).toISOString()
const valueOf = (token: AccessToken.AccessToken) => Redacted.value(token.value)
const key = { provider: "test", environment: "default", clientId: "client-id", scopes: [] }

describe("decoding refresh_token_expires_in", () => {
  it.prop(
    "a number or a numeric string of seconds: refreshTokenExpiresAt counts from the start of the second sent",
    { seconds: fc.integer({ min: 0, max: 10 ** 9 }), asString: fc.boolean() },
    ({ asString, seconds }) => {
      const token = Effect.runSync(
        decode({ refresh_token: "rt", refresh_token_expires_in: asString ? String(seconds) : seconds })
      )
      assert.strictEqual(token.refreshTokenExpiresAt, AccessToken.AccessToken.expiryOf(SENT_AT, seconds * 1000))
      assert.strictEqual(token.refreshTokenExpiresAt, 1_700_000_000_000 + seconds * 1000)
    }
  )

  it.prop(
    "a negative lifetime (number or string) is a MalformedResponse naming the member",
    { seconds: fc.integer({ min: 1, max: 10 ** 9 }), asString: fc.boolean() },
    ({ asString, seconds }) => {
      const error = Effect.runSync(
        Effect.flip(decode({ refresh_token: "rt", refresh_token_expires_in: asString ? `-${seconds}` : -seconds }))
      )
      assert.strictEqual(error._tag, "MalformedResponse")
      assert.include(error.message, "refresh_token_expires_in is negative")
    }
  )

  it.effect("a value that is not a number of seconds is a MalformedResponse; absent leaves the instant unknown", () =>
    Effect.gen(function*() {
      for (const bad of ["soon", "12abc", true, { s: 1 }, [60], Number.NaN, Number.POSITIVE_INFINITY]) {
        const error = yield* Effect.flip(decode({ refresh_token: "rt", refresh_token_expires_in: bad }))
        assert.strictEqual(error._tag, "MalformedResponse")
        assert.include(error.message, "refresh_token_expires_in is neither a number nor a numeric string")
      }
      const absent = yield* decode({ refresh_token: "rt" })
      assert.isUndefined(absent.refreshTokenExpiresAt)
      assert.isFalse(absent.isRefreshTokenExpiredAt(Number.MAX_SAFE_INTEGER))
      // On a refresh that brings no new refresh token, the server's lifetime is the kept refresh token's.
      const refreshed = yield* decode(
        { refresh_token_expires_in: 60 },
        Grant.refreshToken({ refreshToken: Redacted.make("old-rt"), grantedScopes: [] })
      )
      assert.strictEqual(Redacted.value(refreshed.refreshToken!), "old-rt")
      assert.strictEqual(refreshed.refreshTokenExpiresAt, 1_700_000_060_000)
      assert.isFalse(refreshed.isRefreshTokenExpiredAt(1_700_000_059_999))
      assert.isTrue(refreshed.isRefreshTokenExpiredAt(1_700_000_060_000))
      assert.isFalse(refreshed.canRefreshAt(1_700_000_060_000))
    }))
})

describe("refreshTokenExpiresAt in the token stores", () => {
  const login = (now: number, refreshTokenExpiresAt?: number) =>
    new AccessToken.AccessToken({
      value: Redacted.make("from-login"),
      type: "Bearer",
      issuedAt: now,
      expiresAt: now + 3_600_000,
      scopes: [],
      refreshToken: Redacted.make("rt-0"),
      ...(refreshTokenExpiresAt === undefined ? {} : { refreshTokenExpiresAt }),
      extra: {}
    })

  it.scoped("survives the FileTokenStore (encrypted) and the schema; a token stored without it still decodes", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "eo2-rt-lifetime-" })
      const keyBytes = Redacted.make(Encoding.encodeBase64(Uint8Array.from({ length: 32 }, (_, i) => i + 7)))
      const store = yield* Effect.orDie(FileTokenStore.make({ path: `${dir}/tokens.json`, key: keyBytes }))
      const token = login(Date.now(), Date.now() + 86_400_000)
      yield* store.set(key, token)
      // A second store over the same file: what it reads comes from disk, not from a cache.
      const reread = yield* Effect.orDie(FileTokenStore.make({ path: `${dir}/tokens.json`, key: keyBytes }))
      const got = Option.getOrThrow(yield* reread.get(key))
      assert.strictEqual(got.refreshTokenExpiresAt, token.refreshTokenExpiresAt)
      assert.deepStrictEqual(AccessToken.encode(got), AccessToken.encode(token))
      // The schema every store uses (file, Redis, custom ones through encode/decodeUnknown).
      const encoded = AccessToken.encode(token)
      assert.strictEqual(encoded.refreshTokenExpiresAt, token.refreshTokenExpiresAt)
      const back = yield* AccessToken.decodeUnknown(JSON.parse(JSON.stringify(encoded)))
      assert.strictEqual(back.refreshTokenExpiresAt, token.refreshTokenExpiresAt)
      // A token written before the field existed decodes, with the instant unknown.
      const { refreshTokenExpiresAt: _, ...old } = encoded
      const legacy = yield* AccessToken.decodeUnknown(JSON.parse(JSON.stringify(old)))
      assert.isUndefined(legacy.refreshTokenExpiresAt)
      assert.strictEqual(Redacted.value(legacy.refreshToken!), "rt-0")
      const wrong = yield* Effect.flip(AccessToken.decodeUnknown({ ...old, refreshTokenExpiresAt: "tomorrow" }))
      assert.strictEqual(wrong._tag, "ParseError")
    }).pipe(Effect.provide(NodeContext.layer)))
})

/** A token server, and an `AccessTokens` over it (with a memory store), living in the test's scope. */
const setup = (script: TokenServer.Script, options: AccessTokens.Options) => accessTokensOver(script, options)

const numbered = (fields: Record<string, unknown> = {}): TokenServer.Handler => (request) =>
  TokenServer.token({ access_token: `tok-${request.index}`, ...fields })

const loginAt = (now: number, lifetime: Duration.DurationInput, refreshLife: Duration.DurationInput) =>
  new AccessToken.AccessToken({
    value: Redacted.make("from-login"),
    type: "Bearer",
    issuedAt: now,
    expiresAt: now + Duration.toMillis(Duration.decode(lifetime)),
    scopes: [],
    refreshToken: Redacted.make("rt-login"),
    refreshTokenExpiresAt: now + Duration.toMillis(Duration.decode(refreshLife)),
    extra: {}
  })

describe("AccessTokens once the refresh token is dead", () => {
  it.scoped("stored mode: get fails with LoginRequired (when it died, log in again), with no request sent", () =>
    Effect.gen(function*() {
      const { server, tokens } = yield* setup(numbered({ refresh_token: "rt-new" }), { acquire: "stored" })
      const now = yield* TestClock.currentTimeMillis
      // The refresh token dies before the access token is due for renewal.
      const login = loginAt(now, "1 hour", "30 minutes")
      yield* tokens.set(login)
      assert.strictEqual(valueOf(yield* tokens.get), "from-login")
      yield* TestClock.adjust("2 hours")
      const error = yield* Effect.flip(tokens.get)
      assert.strictEqual(error._tag, "LoginRequired")
      const required = error as OAuth2Error.LoginRequired
      assert.isFalse(error.retryable)
      assert.isFalse(OAuth2Error.isRetryable(error))
      assert.strictEqual(required.refreshTokenExpiredAt, login.refreshTokenExpiresAt)
      assert.include(error.message, `The refresh token expired at ${iso(login.refreshTokenExpiresAt!)}`)
      assert.include(error.message, `the access token expired at ${iso(login.expiresAt)}`)
      assert.include(error.message, "log in again")
      assert.notInclude(error.message, "rt-login")
      // A forced refresh does not send the dead refresh token either; nor does a second get.
      assert.strictEqual((yield* Effect.flip(tokens.refresh))._tag, "LoginRequired")
      assert.strictEqual((yield* Effect.flip(tokens.get))._tag, "LoginRequired")
      assert.strictEqual(yield* server.count, 0, "no token request with a dead refresh token")
    }))

  it.scoped("the background refresh renews while the refresh token lives, keeps its death, then sends nothing", () =>
    Effect.gen(function*() {
      // The server renews the access token but sends no new refresh token (the old one is kept) and no lifetime.
      const { server, store, tokens } = yield* setup(numbered(), { acquire: "stored" })
      const now = yield* TestClock.currentTimeMillis
      const login = loginAt(now, "1 hour", "90 minutes")
      yield* tokens.set(login)
      // The background refresh at 59 min, with the refresh token still alive.
      yield* TestClock.adjust("59 minutes")
      yield* TestClock.adjust("1 second")
      yield* server.awaitRequests(1)
      const request = yield* server.last
      assert.strictEqual(request.form.grant_type, "refresh_token")
      assert.strictEqual(request.form.refresh_token, "rt-login")
      // The login's token is no longer usable: get has the background refresh's result (or joins it).
      yield* TestClock.adjust("1 minute")
      const renewed = yield* tokens.get
      assert.strictEqual(valueOf(renewed), "tok-0")
      assert.strictEqual(yield* server.count, 1)
      assert.strictEqual(Redacted.value(renewed.refreshToken!), "rt-login")
      assert.strictEqual(renewed.refreshTokenExpiresAt, login.refreshTokenExpiresAt, "the old refresh token's death kept")
      assert.strictEqual(Option.getOrThrow(yield* store.get(key)).refreshTokenExpiresAt, login.refreshTokenExpiresAt)
      // The next renewal would fall after the refresh token's death: none is tried, in the background or by get.
      for (let i = 0; i < 6; i++) yield* TestClock.adjust("30 minutes")
      assert.strictEqual(yield* server.count, 1, "no request with the dead refresh token")
      const error = yield* Effect.flip(tokens.get)
      assert.strictEqual(error._tag, "LoginRequired")
      assert.strictEqual(yield* server.count, 1)
    }))

  it.scoped("stored mode: a login stored since (another process) is used instead of failing", () =>
    Effect.gen(function*() {
      const { server, store, tokens } = yield* setup(numbered({ refresh_token: "rt-new" }), { acquire: "stored" })
      const now = yield* TestClock.currentTimeMillis
      // The refresh token dies before the access token is due for renewal: no background refresh.
      yield* tokens.set(loginAt(now, "10 minutes", "5 minutes"))
      yield* TestClock.adjust("1 hour")
      assert.strictEqual(yield* server.count, 0)
      const later = yield* TestClock.currentTimeMillis
      // Another process logged in again: an expired access token but a live refresh token, in the shared store.
      yield* store.set(
        key,
        new AccessToken.AccessToken({
          ...loginAt(later - 600_000, "5 minutes", "1 day"),
          value: Redacted.make("other"),
          refreshToken: Redacted.make("rt-other")
        })
      )
      assert.strictEqual(valueOf(yield* tokens.get), "tok-0")
      const request = yield* server.last
      assert.strictEqual(request.form.refresh_token, "rt-other")
      assert.strictEqual(yield* server.count, 1)
    }))

  it.scoped("client_credentials mode: a dead refresh token means a new client-credentials token, no error", () =>
    Effect.gen(function*() {
      const { server, tokens } = yield* setup(numbered(), {})
      const now = yield* TestClock.currentTimeMillis
      const login = loginAt(now, "1 hour", "10 minutes")
      yield* tokens.set(login)
      // The refresh token is dead; the access token is rejected by an API (no background refresh is due yet).
      yield* TestClock.adjust("20 minutes")
      yield* tokens.invalidate(login)
      const token = yield* tokens.get
      assert.strictEqual(valueOf(token), "tok-0")
      assert.strictEqual(yield* server.count, 1)
      const request = yield* server.last
      assert.strictEqual(request.form.grant_type, "client_credentials")
      assert.isUndefined(request.form.refresh_token)
    }))
})

describe("LoginRequired", () => {
  it.effect("is in the error family's schema, never retryable, and says what happened and what to do", () =>
    Effect.gen(function*() {
      const error = new OAuth2Error.LoginRequired({
        provider: "saxo",
        source: "token-endpoint",
        refusedAt: 1_700_000_000_000,
        accessTokenExpiresAt: 1_700_000_600_000
      })
      assert.isTrue(OAuth2Error.isOAuth2Error(error))
      assert.isFalse(error.retryable)
      assert.strictEqual(
        error.message,
        `[saxo] The server refused the refresh token at ${iso(1_700_000_000_000)} (expired or revoked); the access ` +
          `token is valid until ${iso(1_700_000_600_000)} but cannot be renewed. No new token can be had without a ` +
          "login: log in again."
      )
      const encoded = Schema.encodeSync(OAuth2Error.OAuth2Error)(error)
      const decoded = Schema.decodeUnknownSync(OAuth2Error.OAuth2Error)(encoded)
      assert.strictEqual(decoded._tag, "LoginRequired")
      assert.strictEqual(decoded.message, error.message)
    }))
})
