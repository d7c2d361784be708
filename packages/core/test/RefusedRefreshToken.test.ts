/**
 * A refresh token the server refused (`invalid_grant`) is dead: `Died` (refused) is told once, every later `get` or
 * `refresh` fails with `LoginRequired` without a request (whoever saw the refusal: a `get`, the background refresh, a
 * replay after a 401), until a new login stores a token with another refresh token, which is taken up without a
 * request. Passing failures (5xx, 429, a dropped connection) are not refusals: they keep being retried. And a stored
 * refresh token born inside a lead time (Saxo's hour-long ones) is not warned about at it when the service starts.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as fc from "effect/FastCheck"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as AccessToken from "../src/AccessToken.js"
import type * as AccessTokens from "../src/AccessTokens.js"
import * as FileTokenStore from "../src/FileTokenStore.js"
import type * as RefreshTokenLifetime from "../src/RefreshTokenLifetime.js"
import * as TokenStore from "../src/TokenStore.js"
import { accessTokensOver, eventsOf } from "./utils/accessTokensOver.js"
import * as TokenServer from "./utils/tokenServer.js"

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const key = { provider: "test", environment: "default", clientId: "client-id", scopes: [] }
const valueOf = (token: AccessToken.AccessToken) => Redacted.value(token.value)

const tokenAt = (options: {
  readonly value: string
  readonly issuedAt: number
  readonly lifetime: number
  readonly refreshToken: string
  readonly refreshTokenIssuedAt?: number
  readonly refreshTokenExpiresAt?: number
}) =>
  new AccessToken.AccessToken({
    value: Redacted.make(options.value),
    type: "Bearer",
    issuedAt: options.issuedAt,
    expiresAt: options.issuedAt + options.lifetime,
    scopes: [],
    refreshToken: Redacted.make(options.refreshToken),
    ...(options.refreshTokenIssuedAt === undefined ? {} : { refreshTokenIssuedAt: options.refreshTokenIssuedAt }),
    ...(options.refreshTokenExpiresAt === undefined ? {} : { refreshTokenExpiresAt: options.refreshTokenExpiresAt }),
    extra: {}
  })

/** A token server, a memory store, and an `AccessTokens` (stored mode) over them, in the test's scope. */
const setup = (script: TokenServer.Script, store?: TokenStore.Service, options: Partial<AccessTokens.Options> = {}) =>
  Effect.gen(function*() {
    const built = yield* accessTokensOver(script, { acquire: "stored", ...options }, store)
    return { ...built, events: yield* eventsOf(built.tokens) }
  })

const show = (event: RefreshTokenLifetime.Event): string =>
  event._tag === "Warning"
    ? `Warning ${Duration.format(event.leadTime)} before ${event.diesAt}`
    : event._tag === "Died"
    ? `Died ${event.reason}`
    : `Scheduled ${event.diesAt}`

const drain = (events: Queue.Queue<RefreshTokenLifetime.Event>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10; i++) yield* Effect.yieldNow()
    return Chunk.toReadonlyArray(yield* Queue.takeAll(events)).map(show)
  })

const adjustTo = (instant: number) =>
  Effect.flatMap(TestClock.currentTimeMillis, (now) => TestClock.adjust(Duration.millis(Math.max(0, instant - now))))

/** The refresh tokens the server was sent, in order. */
const sent = (server: TokenServer.TokenServer) =>
  Effect.map(server.requests, (requests) => requests.map((request) => request.form.refresh_token))

const refusal = TokenServer.oauthError("invalid_grant", { error_description: "refresh token revoked" })

/** What a caller may do after the refusal, for the property. */
type Step =
  | { readonly _tag: "get" }
  | { readonly _tag: "refresh" }
  | { readonly _tag: "invalidate" }
  | { readonly _tag: "advance"; readonly millis: number }

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constant<Step>({ _tag: "get" }),
  fc.constant<Step>({ _tag: "refresh" }),
  fc.constant<Step>({ _tag: "invalidate" }),
  fc.integer({ min: 1, max: 3 * HOUR }).map((millis): Step => ({ _tag: "advance", millis }))
)

describe("AccessTokens: a refresh token the server refused is dead", () => {
  it.scoped("a get sees the refusal: later gets and time send nothing; one Died; a new login brings it back", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.makeMemory
      yield* store.set(key, tokenAt({ value: "at-1", issuedAt: 0, lifetime: HOUR, refreshToken: "rt-dead" }))
      const { events, server, tokens } = yield* setup(refusal, store)
      assert.strictEqual(valueOf(yield* tokens.get), "at-1")
      // Past the background refresh and the expiry: the refresh is refused (one request, by whoever ran first).
      yield* adjustTo(HOUR + MINUTE)
      const first = yield* Effect.flip(tokens.get)
      const count = yield* server.count
      assert.isAtLeast(count, 1)
      assert.deepStrictEqual(yield* sent(server), Array(count).fill("rt-dead"))
      // Whatever the first call saw, from now on it is LoginRequired, with no request.
      for (let i = 0; i < 20; i++) {
        const error = yield* Effect.flip(i % 3 === 0 ? tokens.refresh : tokens.get)
        assert.strictEqual(error._tag, "LoginRequired", `call ${i} (after ${first._tag})`)
        if (error._tag === "LoginRequired") assert.isDefined(error.refusedAt)
        yield* TestClock.adjust(Duration.millis(17 * MINUTE))
      }
      assert.strictEqual(yield* server.count, count, "no request after the refusal")
      assert.deepStrictEqual(yield* drain(events), ["Died refused"])

      // A login (another process) stores a new pair: taken as it is, without a request.
      const now = yield* TestClock.currentTimeMillis
      yield* store.set(key, tokenAt({ value: "at-2", issuedAt: now, lifetime: HOUR, refreshToken: "rt-new" }))
      assert.strictEqual(valueOf(yield* tokens.get), "at-2")
      assert.strictEqual(yield* server.count, count)
      // And it is renewed with its own refresh token when due.
      yield* server.setScript(TokenServer.token({ access_token: "at-3", refresh_token: "rt-3", expires_in: 3600 }))
      yield* adjustTo(now + HOUR - MINUTE)
      yield* server.awaitRequests(count + 1)
      assert.strictEqual((yield* sent(server))[count], "rt-new")
      yield* adjustTo(now + HOUR)
      assert.strictEqual(valueOf(yield* tokens.get), "at-3")
      const after = yield* drain(events)
      assert.notInclude(after.join(" "), "Died")
    }))

  it.scoped("the background refresh sees the refusal: the valid token is served, then LoginRequired, no request", () =>
    Effect.gen(function*() {
      const { events, server, tokens } = yield* setup(refusal)
      yield* tokens.set(tokenAt({ value: "at-1", issuedAt: 0, lifetime: HOUR, refreshToken: "rt-dead" }))
      // The background refresh, a minute before the expiry, is refused.
      yield* adjustTo(HOUR - MINUTE)
      yield* server.awaitRequests(1)
      const died = yield* Queue.take(events)
      assert.strictEqual(show(died), "Died refused")
      // The first get may be told the refusal; the access token is still valid until it expires.
      yield* Effect.either(tokens.get)
      for (let i = 0; i < 5; i++) yield* Effect.either(tokens.get)
      yield* adjustTo(HOUR + MINUTE)
      for (let i = 0; i < 10; i++) {
        assert.strictEqual((yield* Effect.flip(tokens.get))._tag, "LoginRequired")
        yield* TestClock.adjust("10 minutes")
      }
      assert.strictEqual(yield* server.count, 1)
      assert.deepStrictEqual(yield* drain(events), [])
    }))

  it.scoped("a replay after a 401 (invalidate, then get) sees the refusal: no request afterwards", () =>
    Effect.gen(function*() {
      const { events, server, tokens } = yield* setup(refusal)
      yield* tokens.set(tokenAt({ value: "at-1", issuedAt: 0, lifetime: HOUR, refreshToken: "rt-dead" }))
      const token = yield* tokens.get
      // The API said 401: the token is dropped, the replay asks for a new one, and the refresh is refused.
      yield* tokens.invalidate(token)
      assert.strictEqual((yield* Effect.flip(tokens.get))._tag, "LoginRequired")
      assert.strictEqual(yield* server.count, 1)
      for (let i = 0; i < 10; i++) {
        assert.strictEqual((yield* Effect.flip(tokens.get))._tag, "LoginRequired")
        assert.strictEqual((yield* Effect.flip(tokens.refresh))._tag, "LoginRequired")
        yield* TestClock.adjust("7 minutes")
      }
      assert.strictEqual(yield* server.count, 1)
      assert.deepStrictEqual(yield* drain(events), ["Died refused"])
      // This process logs in again (`set`): served, and the dead state is over.
      yield* tokens.set(tokenAt({ value: "at-2", issuedAt: 70 * MINUTE, lifetime: HOUR, refreshToken: "rt-new" }))
      assert.strictEqual(valueOf(yield* tokens.get), "at-2")
    }))

  it.scoped("a stored token with the same dead refresh token is not taken as a new login", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.makeMemory
      yield* store.set(key, tokenAt({ value: "at-1", issuedAt: 0, lifetime: HOUR, refreshToken: "rt-dead" }))
      const { server, tokens } = yield* setup(refusal, store)
      yield* tokens.get
      yield* adjustTo(HOUR + MINUTE)
      yield* Effect.flip(tokens.get)
      const count = yield* server.count
      // Another process wrote an expired token with the same (dead) refresh token.
      yield* store.set(key, tokenAt({ value: "at-other", issuedAt: 0, lifetime: HOUR, refreshToken: "rt-dead" }))
      for (let i = 0; i < 5; i++) assert.strictEqual((yield* Effect.flip(tokens.get))._tag, "LoginRequired")
      assert.strictEqual(yield* server.count, count)
    }))

  it.scoped("passing failures (503, 429, a dropped connection) are not refusals: retried, no Died", () =>
    Effect.gen(function*() {
      const { events, server, tokens } = yield* setup([
        TokenServer.json({ error: "unavailable" }, { status: 503 }),
        TokenServer.json({ error: "slow_down" }, { status: 429, headers: { "retry-after": "5" } }),
        TokenServer.destroy,
        TokenServer.json({ error: "unavailable" }, { status: 503 }),
        TokenServer.token({ access_token: "at-2", refresh_token: "rt-2", expires_in: 3600 })
      ])
      yield* tokens.set(tokenAt({ value: "at-1", issuedAt: 0, lifetime: HOUR, refreshToken: "rt-1" }))
      yield* adjustTo(HOUR + MINUTE)
      let token: AccessToken.AccessToken | undefined
      for (let i = 0; i < 40 && token === undefined; i++) {
        const result = yield* Effect.either(tokens.get)
        if (result._tag === "Right") token = result.right
        else assert.notStrictEqual(result.left._tag, "LoginRequired")
        yield* TestClock.adjust("1 minute")
      }
      assert.isDefined(token)
      assert.strictEqual(valueOf(token!), "at-2")
      assert.strictEqual(yield* server.count, 5)
      assert.deepStrictEqual((yield* sent(server)).slice(0, 4), ["rt-1", "rt-1", "rt-1", "rt-1"])
      assert.notInclude((yield* drain(events)).join(" "), "Died")
    }))

  it.scoped("property: after the refusal, any sequence of gets, refreshes, invalidations and time sends nothing", () =>
    Effect.gen(function*() {
      const runs = fc.sample(fc.array(step, { minLength: 1, maxLength: 25 }), { numRuns: 15, seed: 26 })
      for (const steps of runs) {
        yield* Effect.scoped(Effect.gen(function*() {
          const start = yield* TestClock.currentTimeMillis
          const { events, server, tokens } = yield* setup(refusal)
          yield* tokens.set(tokenAt({ value: "at-1", issuedAt: start, lifetime: HOUR, refreshToken: "rt-dead" }))
          // The refusal: through an invalidation (as after a 401) and a get.
          yield* tokens.invalidate(yield* tokens.get)
          assert.strictEqual((yield* Effect.flip(tokens.get))._tag, "LoginRequired")
          assert.strictEqual(yield* server.count, 1)
          for (const s of steps) {
            if (s._tag === "advance") yield* TestClock.adjust(Duration.millis(s.millis))
            else if (s._tag === "invalidate") {
              const current = yield* tokens.current
              if (Option.isSome(current)) yield* tokens.invalidate(current.value)
            } else {
              const error = yield* Effect.flip(s._tag === "get" ? tokens.get : tokens.refresh)
              assert.strictEqual(error._tag, "LoginRequired", JSON.stringify(steps))
            }
          }
          assert.strictEqual(yield* server.count, 1, JSON.stringify(steps))
          assert.deepStrictEqual(yield* drain(events), ["Died refused"], JSON.stringify(steps))
        }))
      }
    }))
})

describe("AccessTokens: a refused refresh token and a shared token file", () => {
  it.scopedLive("another process's login, stored in the shared file, is found under the lock: served without a request", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "eo2-refused-" })
      const file = `${dir}/tokens.json`
      const encryptionKey = Redacted.make(Encoding.encodeBase64(Uint8Array.from({ length: 32 }, (_, i) => i + 26)))
      const mine = yield* Effect.orDie(FileTokenStore.make({ path: file, key: encryptionKey }))
      const other = yield* Effect.orDie(FileTokenStore.make({ path: file, key: encryptionKey }))
      const now = Date.now()
      yield* Effect.orDie(
        mine.set(key, tokenAt({ value: "at-1", issuedAt: now - 2 * HOUR, lifetime: HOUR, refreshToken: "rt-dead" }))
      )
      const { events, server, tokens } = yield* setup(refusal, mine)
      assert.strictEqual((yield* Effect.flip(tokens.get))._tag, "LoginRequired")
      assert.strictEqual(yield* server.count, 1)
      for (let i = 0; i < 5; i++) {
        assert.strictEqual((yield* Effect.flip(tokens.get))._tag, "LoginRequired")
        assert.strictEqual((yield* Effect.flip(tokens.refresh))._tag, "LoginRequired")
      }
      assert.strictEqual(yield* server.count, 1)
      // Another process logs in and writes the file.
      yield* Effect.orDie(
        other.set(key, tokenAt({ value: "at-2", issuedAt: Date.now(), lifetime: HOUR, refreshToken: "rt-new" }))
      )
      assert.strictEqual(valueOf(yield* tokens.get), "at-2")
      assert.strictEqual(yield* server.count, 1)
      assert.deepStrictEqual(yield* drain(events), ["Died refused"])
    }).pipe(Effect.provide(NodeContext.layer)))
})

describe("AccessTokens: a stored refresh token born inside a lead time", () => {
  it.scoped("Saxo-like: stored by a login minutes ago, it lives an hour: Scheduled, no warning at once", () =>
    Effect.gen(function*() {
      yield* adjustTo(10 * HOUR)
      const now = 10 * HOUR
      const store = yield* TokenStore.makeMemory
      const bornAt = now - 5 * MINUTE
      yield* store.set(
        key,
        tokenAt({
          value: "at-login",
          issuedAt: bornAt,
          lifetime: 20 * MINUTE,
          refreshToken: "rt-login",
          refreshTokenIssuedAt: bornAt,
          refreshTokenExpiresAt: bornAt + HOUR
        })
      )
      const { events, tokens } = yield* setup(TokenServer.token(), store)
      assert.strictEqual(valueOf(yield* tokens.get), "at-login")
      assert.deepStrictEqual(yield* drain(events), [`Scheduled ${bornAt + HOUR}`])
    }))

  it.scoped("one born outside the 1 h lead (it lived 3 h) and found inside it is warned about once, at 1 h", () =>
    Effect.gen(function*() {
      yield* adjustTo(10 * HOUR)
      const now = 10 * HOUR
      const store = yield* TokenStore.makeMemory
      const bornAt = now - 2 * HOUR - 5 * MINUTE
      yield* store.set(
        key,
        tokenAt({
          value: "at-login",
          issuedAt: now - 5 * MINUTE,
          lifetime: 20 * MINUTE,
          refreshToken: "rt-login",
          refreshTokenIssuedAt: bornAt,
          refreshTokenExpiresAt: bornAt + 3 * HOUR
        })
      )
      const { events, tokens } = yield* setup(TokenServer.token(), store)
      yield* tokens.get
      const diesAt = bornAt + 3 * HOUR
      assert.deepStrictEqual(yield* drain(events), [`Scheduled ${diesAt}`, `Warning 1h before ${diesAt}`])
    }))
})
