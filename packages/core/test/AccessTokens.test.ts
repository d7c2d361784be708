import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Exit from "effect/Exit"
import * as fc from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as AccessToken from "../src/AccessToken.js"
import * as AccessTokens from "../src/AccessTokens.js"
import * as Endpoint from "../src/Endpoint.js"
import * as FileTokenStore from "../src/FileTokenStore.js"
import * as Grant from "../src/Grant.js"
import * as OAuth2Client from "../src/OAuth2Client.js"
import * as Metrics from "../src/Metrics.js"
import * as OAuth2Error from "../src/OAuth2Error.js"
import * as TokenStore from "../src/TokenStore.js"
import * as TokenServer from "./utils/tokenServer.js"

const SECRET = "client-secret-never-logged"

/** A token response whose access token is `tok-<n>` for the n-th request. */
const numbered = (fields: Record<string, unknown> = {}): TokenServer.Handler => (request) =>
  TokenServer.token({ access_token: `tok-${request.index}`, ...fields })

/** The cache-miss counter of one provider. */
const misses = (provider: string) =>
  Metric.taggedWithLabels(Metrics.cacheMissesTotal, [MetricLabel.make("provider", provider)])

const valueOf = (token: AccessToken.AccessToken) => Redacted.value(token.value)

/** A token server, and an `AccessTokens` over it, living in the test's scope. */
const setup = (
  script: TokenServer.Script,
  options: AccessTokens.Options = {},
  endpoint: Partial<Endpoint.Options> = {},
  /** The scope the service lives in, when not the test's (the server and client stay in the test's). */
  tokensScope?: Scope.Scope
) =>
  Effect.gen(function*() {
    const server = yield* TokenServer.make(script)
    const http = yield* Layer.build(NodeHttpClient.layerUndici)
    const client = yield* Endpoint.make({
      provider: "test",
      tokenUrl: server.url("/token"),
      revocationUrl: server.url("/revoke"),
      authMethod: "client_secret_post",
      ...endpoint
    }).pipe(
      Effect.flatMap((endpoint) =>
        OAuth2Client.make({ endpoint, credentials: Endpoint.credentials("client-id", SECRET) })
      ),
      Effect.provide(http),
      Effect.orDie
    )
    const tokens = yield* AccessTokens.make(options).pipe(
      Effect.provideService(OAuth2Client.OAuth2Client, client),
      (effect) => tokensScope === undefined ? effect : Scope.extend(effect, tokensScope)
    )
    return { server, tokens }
  })

/** Gates: the n-th token request is answered only once `open(n)` was called (request 0 is open from the start). */
const gated = Effect.gen(function*() {
  const gates = new Map<number, Deferred.Deferred<void>>()
  const gate = (n: number) => {
    let d = gates.get(n)
    if (d === undefined) {
      d = Deferred.unsafeMake<void>(undefined as never)
      gates.set(n, d)
    }
    return d
  }
  yield* Deferred.succeed(gate(0), undefined)
  const handler: TokenServer.Handler = (request) =>
    Deferred.await(gate(request.index)).pipe(
      Effect.as(TokenServer.token({ access_token: `tok-${request.index}` }))
    )
  return { handler, open: (n: number) => Deferred.succeed(gate(n), undefined) }
})

/** Runs `get` and reports whether it answered without waiting for any I/O. */
const getWithoutWaiting = (tokens: AccessTokens.Service) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(tokens.get)
    yield* Effect.yieldNow()
    const exit = yield* Fiber.poll(fiber)
    if (Option.isNone(exit)) {
      yield* Fiber.interrupt(fiber)
      return Option.none<AccessToken.AccessToken>()
    }
    return Option.some(yield* exit.value)
  })

describe("AccessTokens", () => {
  it.scoped("10,000 concurrent gets on a cold cache make exactly one token request", () =>
    Effect.gen(function*() {
      const { server, tokens } = yield* setup(numbered())
      const results = yield* Effect.all(Array.from({ length: 10_000 }, () => tokens.get), { concurrency: "unbounded" })
      assert.strictEqual(yield* server.count, 1)
      assert.isTrue(results.every((t) => valueOf(t) === "tok-0"))
      // and the next get is served from the cache, with no I/O
      const again = yield* getWithoutWaiting(tokens)
      assert.strictEqual(valueOf(Option.getOrThrow(again)), "tok-0")
      assert.strictEqual(yield* server.count, 1)
    }))

  it.scoped("callers arriving during an acquisition join it, count as misses, and a failed one is not joined after", () =>
    Effect.gen(function*() {
      const release = yield* Deferred.make<void>()
      const { server, tokens } = yield* setup((request) =>
        request.index === 0
          ? Effect.as(Deferred.await(release), TokenServer.reply("", { status: 500 }))
          : numbered()(request)
      )
      const missesBefore = yield* Metric.value(misses("test"))
      const first = yield* Effect.fork(tokens.get)
      yield* server.awaitRequests(1)
      const joiners = yield* Effect.fork(
        Effect.all(Array.from({ length: 100 }, () => Effect.flip(tokens.get)), { concurrency: "unbounded" })
      )
      yield* Effect.yieldNow()
      yield* Deferred.succeed(release, undefined)
      const errors = [yield* Effect.flip(Fiber.join(first)), ...(yield* Fiber.join(joiners))]
      assert.isTrue(errors.every((error) => error._tag === "ProtocolError"))
      assert.strictEqual(yield* server.count, 1)
      // The failed acquisition has ended: the next get starts a new one instead of joining it.
      const token = yield* tokens.get
      assert.strictEqual(valueOf(token), "tok-1")
      assert.strictEqual(yield* server.count, 2)
      const missesAfter = yield* Metric.value(misses("test"))
      assert.strictEqual(missesAfter.count - missesBefore.count, 102)
    }))

  it.scoped("the token request carries the grant, scopes and client credentials", () =>
    Effect.gen(function*() {
      const { server, tokens } = yield* setup(numbered(), { scopes: ["TRADER_READ", "TRADER_TRADE"] })
      const token = yield* tokens.get
      const request = yield* server.last
      assert.strictEqual(request.form.grant_type, "client_credentials")
      assert.strictEqual(request.form.scope, "TRADER_READ TRADER_TRADE")
      assert.strictEqual(request.form.client_id, "client-id")
      assert.strictEqual(request.form.client_secret, SECRET)
      assert.deepStrictEqual(token.scopes, ["TRADER_READ", "TRADER_TRADE"])
    }))

  it.scoped("24 simulated hours with 1-hour tokens: 24 or 25 token requests, no caller waits, no expired token", () =>
    Effect.gen(function*() {
      const { handler, open } = yield* gated
      const { server, tokens } = yield* setup(handler)
      let token = yield* tokens.get
      let acquired = 1
      for (let minute = 1; minute <= 24 * 60; minute++) {
        yield* TestClock.adjust(Duration.minutes(1))
        const now = yield* TestClock.currentTimeMillis
        if (now >= token.expiresAt - 60_000) {
          // The background refresh is due: its request reaches the server and is held there.
          yield* server.awaitRequests(acquired + 1)
          // Meanwhile every caller is served the still-valid token at once.
          const during = yield* getWithoutWaiting(tokens)
          assert.isTrue(Option.isSome(during), `a caller waited at minute ${minute}`)
          assert.strictEqual(valueOf(Option.getOrThrow(during)), valueOf(token))
          yield* open(acquired)
          // `refresh` joins the acquisition under way (no extra request): it yields the renewed token.
          token = yield* tokens.refresh
          assert.strictEqual(valueOf(token), `tok-${acquired}`)
          acquired++
          assert.strictEqual(yield* server.count, acquired)
        }
        const got = yield* getWithoutWaiting(tokens)
        assert.isTrue(Option.isSome(got), `a caller waited at minute ${minute}`)
        assert.isTrue(Option.getOrThrow(got).expiresAt > now, `an expired token was handed out at minute ${minute}`)
      }
      const requests = yield* server.count
      assert.isTrue(requests === 24 || requests === 25, `${requests} token requests`)
    }))

  it.scoped("the refresh skew is clamped to half the lifetime of short-lived tokens", () =>
    Effect.gen(function*() {
      const { handler, open } = yield* gated
      const { server, tokens } = yield* setup(handler, { refreshSkew: "60 seconds" }, {})
      yield* server.setScript((request) =>
        request.index === 0 ? TokenServer.token({ access_token: "tok-0", expires_in: 10 }) : handler(request)
      )
      yield* tokens.get
      yield* TestClock.adjust("4 seconds")
      assert.strictEqual(yield* server.count, 1)
      yield* TestClock.adjust("1 second")
      yield* server.awaitRequests(2)
      yield* open(1)
      const renewed = yield* tokens.refresh
      assert.strictEqual(valueOf(renewed), "tok-1")
      assert.strictEqual(yield* server.count, 2)
    }))

  it.scoped("endpoint down during refresh: the valid token is served, then Expired, then recovery", () =>
    Effect.gen(function*() {
      const { server, tokens } = yield* setup(numbered())
      const first = yield* tokens.get
      yield* server.setScript(TokenServer.reply("<html>502 Bad Gateway</html>", {
        status: 502,
        headers: { "content-type": "text/html" }
      }))
      // Into the refresh window: the refresh fails and is retried, and callers keep the valid token.
      yield* TestClock.adjust(Duration.minutes(59))
      yield* server.awaitRequests(2)
      for (let i = 0; i < 5; i++) {
        yield* TestClock.adjust(Duration.seconds(10))
        const got = yield* getWithoutWaiting(tokens)
        assert.strictEqual(valueOf(Option.getOrThrow(got)), valueOf(first))
      }
      // Past expiry: no valid token can be had.
      yield* TestClock.adjust(Duration.minutes(2))
      const error = yield* Effect.flip(tokens.get)
      assert.strictEqual(error._tag, "Expired")
      assert.isTrue(error.retryable)
      assert.strictEqual((error as OAuth2Error.Expired).expiredAt, first.expiresAt)
      assert.include(error.message, "502")
      // The endpoint comes back: the next get succeeds.
      yield* server.setScript(numbered())
      const back = yield* tokens.get
      assert.notStrictEqual(valueOf(back), valueOf(first))
      assert.isTrue(back.expiresAt > (yield* TestClock.currentTimeMillis))
    }))

  it.scoped("background retries are bounded by the schedule and honour Retry-After", () =>
    Effect.gen(function*() {
      const { handler, open } = yield* gated
      const { server, tokens } = yield* setup((request) =>
        request.index === 1
          ? TokenServer.json({ error: "rate" }, { status: 429, headers: { "retry-after": "30" } })
          : handler(request), { retrySchedule: Schedule.spaced("1 second") })
      yield* tokens.get
      yield* TestClock.adjust(Duration.minutes(59))
      yield* server.awaitRequests(2)
      // The schedule says 1 s, the server said 30 s: nothing is sent for 30 s.
      for (let i = 0; i < 29; i++) yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* server.count, 2)
      yield* TestClock.adjust("1 second")
      yield* server.awaitRequests(3)
      yield* open(2)
      const renewed = yield* tokens.refresh
      assert.strictEqual(valueOf(renewed), "tok-2")
      assert.strictEqual(yield* server.count, 3)
    }))

  it.scoped("a rate-limited acquisition fails fast until Retry-After has passed", () =>
    Effect.gen(function*() {
      const { server, tokens } = yield* setup([
        TokenServer.json({ error: "slow down" }, { status: 429, headers: { "retry-after": "20" } }),
        numbered()
      ])
      const first = yield* Effect.flip(tokens.get)
      assert.strictEqual(first._tag, "RateLimited")
      assert.strictEqual((first as OAuth2Error.RateLimited).retryAfterMillis, 20_000)
      yield* TestClock.adjust("5 seconds")
      const second = yield* Effect.flip(tokens.get)
      assert.strictEqual(second._tag, "RateLimited")
      assert.strictEqual((second as OAuth2Error.RateLimited).retryAfterMillis, 15_000)
      assert.strictEqual(yield* server.count, 1, "no request before Retry-After")
      yield* TestClock.adjust("15 seconds")
      const token = yield* tokens.get
      assert.strictEqual(valueOf(token), "tok-1")
      assert.strictEqual(yield* server.count, 2)
    }))

  it.scoped("a failed acquisition is not cached", () =>
    Effect.gen(function*() {
      const { server, tokens } = yield* setup([TokenServer.reply("", { status: 500 }), numbered()])
      const error = yield* Effect.flip(tokens.get)
      assert.strictEqual(error._tag, "ProtocolError")
      assert.isTrue(error.retryable)
      const token = yield* tokens.get
      assert.strictEqual(valueOf(token), "tok-1")
      assert.strictEqual(yield* server.count, 2)
    }))

  it.scoped("a permanent refresh failure stops the retries and surfaces on the next get", () =>
    Effect.gen(function*() {
      const { handler, open } = yield* gated
      const { server, tokens } = yield* setup((request) =>
        request.index === 1
          ? Effect.as(open(0), TokenServer.oauthError("invalid_client", {}, { status: 401 }))
          : handler(request)
      )
      const first = yield* tokens.get
      yield* TestClock.adjust(Duration.minutes(59))
      yield* server.awaitRequests(2)
      // The failure reaches the next caller (the background fiber records it as the request fails).
      let surfaced: OAuth2Error.OAuth2Error | undefined
      for (let i = 0; i < 200 && surfaced === undefined; i++) {
        const exit = yield* Effect.exit(tokens.get)
        if (Exit.isFailure(exit)) surfaced = Option.getOrUndefined(Exit.causeOption(exit).pipe(Option.flatMap((c) => c._tag === "Fail" ? Option.some(c.error) : Option.none())))
        else yield* Effect.yieldNow()
      }
      assert.strictEqual(surfaced?._tag, "Unauthorized")
      // It is not retried (50 s later, still within the token's life)...
      for (let i = 0; i < 5; i++) yield* TestClock.adjust("10 seconds")
      assert.strictEqual(yield* server.count, 2, "a permanent failure is not retried")
      // ...and once surfaced, callers get the still-valid token again until it expires.
      const again = yield* tokens.get
      assert.strictEqual(valueOf(again), valueOf(first))
    }))

  it.scoped("a permanent failure on a cold start is the typed error, with no retry", () =>
    Effect.gen(function*() {
      const { server, tokens } = yield* setup(TokenServer.oauthError("invalid_scope"), { scopes: ["TRADER_ADMIN"] })
      const error = yield* Effect.flip(tokens.get)
      assert.strictEqual(error._tag, "InvalidScope")
      assert.deepStrictEqual((error as OAuth2Error.InvalidScope).requestedScopes, ["TRADER_ADMIN"])
      yield* TestClock.adjust(Duration.minutes(10))
      assert.strictEqual(yield* server.count, 1)
    }))

  it.scoped("invalidate drops only the token it names; a newer token is kept", () =>
    Effect.gen(function*() {
      const { server, tokens } = yield* setup(numbered())
      const stale = yield* tokens.get
      yield* tokens.invalidate(stale)
      const fresh = yield* tokens.get
      assert.strictEqual(valueOf(fresh), "tok-1")
      // A late invalidation of the stale token (e.g. a slow 401) must not drop the new one.
      yield* tokens.invalidate(stale)
      const still = yield* tokens.get
      assert.strictEqual(valueOf(still), "tok-1")
      assert.strictEqual(yield* server.count, 2)
    }))

  it.scoped("a caller interrupted mid-acquisition leaves the others their token", () =>
    Effect.gen(function*() {
      const { handler, open } = yield* gated
      const { server, tokens } = yield* setup(handler)
      const first = yield* tokens.get
      yield* tokens.invalidate(first)
      const a = yield* Effect.fork(tokens.get)
      const b = yield* Effect.fork(tokens.get)
      yield* server.awaitRequests(2)
      yield* Fiber.interrupt(a)
      yield* open(1)
      const token = yield* Fiber.join(b)
      assert.strictEqual(valueOf(token), "tok-1")
      assert.strictEqual(yield* server.count, 2)
    }))

  it.effect("closing the scope revokes the token when revokeOnClose is set, and stops the refresh", () =>
    Effect.gen(function*() {
      const { server, tokens } = yield* setup((request) =>
        request.path === "/revoke" ? TokenServer.reply("", { status: 200 }) : numbered()(request)
      , { revokeOnClose: true })
      yield* tokens.get
      return server
    }).pipe(
      Effect.scoped,
      Effect.flatMap((server) =>
        Effect.gen(function*() {
          const requests = yield* server.requests
          const revoke = requests.find((r) => r.path === "/revoke")
          assert.isDefined(revoke)
          assert.strictEqual(revoke!.form.token, "tok-0")
          assert.strictEqual(revoke!.form.token_type_hint, "access_token")
        })
      ),
      Effect.scoped
    ))

  it.scoped("revoke revokes the refresh token and the access token, then drops them", () =>
    Effect.gen(function*() {
      const { server, tokens } = yield* setup((request) =>
        request.path === "/revoke" ? TokenServer.reply("", { status: 200 }) : numbered({ refresh_token: "rt" })(request)
      )
      yield* tokens.get
      yield* tokens.revoke
      const revokes = (yield* server.requests).filter((r) => r.path === "/revoke")
      assert.deepStrictEqual(revokes.map((r) => [r.form.token, r.form.token_type_hint]), [
        ["rt", "refresh_token"],
        ["tok-0", "access_token"]
      ])
      assert.isTrue(Option.isNone(yield* tokens.current))
    }))

  it.scoped("revoke without a revocation endpoint fails with Unsupported and keeps the token", () =>
    Effect.gen(function*() {
      const { tokens } = yield* setup(numbered(), {}, { revocationUrl: undefined })
      yield* tokens.get
      const error = yield* Effect.flip(tokens.revoke)
      assert.strictEqual(error._tag, "Unsupported")
      assert.isTrue(Option.isSome(yield* tokens.current))
    }))

  it.scoped("a refresh token is used when the token expires, and kept when the response brings none", () =>
    Effect.gen(function*() {
      const { server, tokens } = yield* setup([
        TokenServer.token({ access_token: "tok-0", refresh_token: "refresh-0", scope: "read trade" }),
        TokenServer.token({ access_token: "tok-1" })
      ])
      yield* tokens.get
      yield* TestClock.adjust(Duration.minutes(59))
      yield* server.awaitRequests(2)
      const renewed = yield* tokens.refresh.pipe(Effect.orElse(() => tokens.get))
      const request = (yield* server.requests)[1]!
      assert.strictEqual(request.form.grant_type, "refresh_token")
      assert.strictEqual(request.form.refresh_token, "refresh-0")
      assert.isUndefined(request.form.scope, "a refresh never asks for more scope")
      assert.strictEqual(valueOf(renewed), "tok-1")
      assert.strictEqual(Redacted.value(renewed.refreshToken!), "refresh-0")
      assert.deepStrictEqual(renewed.scopes, ["read", "trade"])
    }))

  it.scoped("stored mode: no token means log in; an expired token with no refresh token is Expired", () =>
    Effect.gen(function*() {
      const { server, tokens } = yield* setup(numbered(), { acquire: "stored" })
      const none = yield* Effect.flip(tokens.get)
      assert.strictEqual(none._tag, "Expired")
      assert.include(none.message, "log in")
      const now = yield* TestClock.currentTimeMillis
      yield* tokens.set(
        new AccessToken.AccessToken({
          value: Redacted.make("from-login"),
          type: "Bearer",
          issuedAt: now,
          expiresAt: now + 3_600_000,
          scopes: ["read"],
          extra: {}
        })
      )
      assert.strictEqual(valueOf(yield* tokens.get), "from-login")
      yield* TestClock.adjust(Duration.hours(1))
      const expired = yield* Effect.flip(tokens.get)
      assert.strictEqual(expired._tag, "Expired")
      assert.include(expired.message, "log in again")
      assert.strictEqual(yield* server.count, 0, "stored mode never asks for client credentials")
    }))

  it.scoped("stored mode: a token with nothing to renew it is served until it expires, not cut short", () =>
    Effect.gen(function*() {
      const { server, tokens } = yield* setup(numbered(), { acquire: "stored" })
      const now = yield* TestClock.currentTimeMillis
      yield* tokens.set(
        new AccessToken.AccessToken({
          value: Redacted.make("from-login"),
          type: "Bearer",
          issuedAt: now,
          expiresAt: now + 3_600_000,
          scopes: [],
          extra: {}
        })
      )
      // Well inside the refresh window (skew 60 s): still served.
      yield* TestClock.adjust(Duration.minutes(59))
      yield* TestClock.adjust(Duration.seconds(30))
      assert.strictEqual(valueOf(yield* tokens.get), "from-login")
      yield* TestClock.adjust(Duration.seconds(31))
      const error = yield* Effect.flip(tokens.get)
      assert.strictEqual(error._tag, "Expired")
      assert.strictEqual(yield* server.count, 0)
    }))

  it.scoped("invalidate keeps the refresh token: the next acquisition refreshes with it", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.makeMemory
      const { server, tokens } = yield* setup(numbered({ refresh_token: "rt-1" }), { acquire: "stored" }).pipe(
        Effect.provideService(TokenStore.TokenStore, store)
      )
      const now = yield* TestClock.currentTimeMillis
      const login = new AccessToken.AccessToken({
        value: Redacted.make("from-login"),
        type: "Bearer",
        issuedAt: now,
        expiresAt: now + 3_600_000,
        scopes: ["read"],
        refreshToken: Redacted.make("rt-0"),
        extra: {}
      })
      yield* tokens.set(login)
      // The API rejected it (a 401): the access token goes, the refresh token stays.
      yield* tokens.invalidate(login)
      const renewed = yield* tokens.get
      assert.strictEqual(valueOf(renewed), "tok-0")
      const request = yield* server.last
      assert.strictEqual(request.form.grant_type, "refresh_token")
      assert.strictEqual(request.form.refresh_token, "rt-0")
      const stored = yield* store.get({ provider: "test", environment: "default", clientId: "client-id", scopes: [] })
      assert.strictEqual(valueOf(Option.getOrThrow(stored)), "tok-0")
    }))

  it.scoped("stored mode: a refused refresh token is LoginRequired, saying to log in again", () =>
    Effect.gen(function*() {
      const { server, tokens } = yield* setup(TokenServer.oauthError("invalid_grant"), { acquire: "stored" })
      const now = yield* TestClock.currentTimeMillis
      yield* tokens.set(
        new AccessToken.AccessToken({
          value: Redacted.make("from-login"),
          type: "Bearer",
          issuedAt: now,
          expiresAt: now + 1000,
          scopes: [],
          refreshToken: Redacted.make("dead-refresh"),
          extra: {}
        })
      )
      yield* TestClock.adjust("2 seconds")
      const error = yield* Effect.flip(tokens.get)
      assert.strictEqual(error._tag, "LoginRequired")
      assert.isFalse(error.retryable)
      assert.include(error.message, "refused the refresh token")
      assert.include(error.message, "log in again")
      assert.isAtLeast(yield* server.count, 1)
    }))

  it.scoped("a token store: a valid stored token is reused with no request; acquired tokens are written", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.makeMemory
      const server = yield* TokenServer.make(numbered())
      const http = yield* Layer.build(NodeHttpClient.layerUndici)
      const build = Endpoint.make({ provider: "test", tokenUrl: server.url("/token"), authMethod: "client_secret_post" }).pipe(
        Effect.flatMap((endpoint) => OAuth2Client.make({ endpoint, credentials: Endpoint.credentials("client-id", SECRET) })),
        Effect.flatMap((client) =>
          AccessTokens.make({ scopes: ["a"] }).pipe(Effect.provideService(OAuth2Client.OAuth2Client, client))
        ),
        Effect.provideService(TokenStore.TokenStore, store),
        Effect.provide(http),
        Effect.orDie
      )
      const one = yield* build
      const first = yield* one.get
      const stored = yield* store.get({ provider: "test", environment: "default", clientId: "client-id", scopes: ["a"] })
      assert.strictEqual(valueOf(Option.getOrThrow(stored)), valueOf(first))
      // A second service (another bot in the process, or a restart with a persistent store) reuses it.
      const two = yield* build
      assert.strictEqual(valueOf(yield* two.get), valueOf(first))
      assert.strictEqual(yield* server.count, 1)
      // Invalidation removes it from the store too.
      yield* two.invalidate(first)
      assert.isTrue(Option.isNone(yield* store.get({ provider: "test", environment: "default", clientId: "client-id", scopes: ["a"] })))
    }))

  it.scoped("no secret appears in any log line or error of the failure paths", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const capture = Logger.make(({ annotations, message }) => {
        lines.push(JSON.stringify({ message, annotations: [...annotations] }))
      })
      const errors: Array<unknown> = []
      yield* Effect.gen(function*() {
        const { server, tokens } = yield* setup(numbered({ refresh_token: "refresh-secret-0" }))
        const token = yield* tokens.get
        for (const script of [
          TokenServer.oauthError("invalid_client", { error_description: "bad" }, { status: 401 }),
          TokenServer.json({ error: "x" }, { status: 429, headers: { "retry-after": "1" } }),
          TokenServer.reply("<html>tok-0 refresh-secret-0</html>", { status: 502 }),
          TokenServer.destroy
        ]) {
          yield* server.setScript(script)
          yield* TestClock.adjust("2 seconds")
          errors.push(yield* Effect.flip(tokens.refresh))
        }
        yield* tokens.invalidate(token)
        errors.push(yield* Effect.flip(tokens.get))
      }).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
        Logger.withMinimumLogLevel(LogLevel.All)
      )
      assert.isAbove(lines.length, 3)
      const everything = [
        ...lines,
        ...errors.flatMap((e) => [String(e), JSON.stringify(e), (e as Error).message])
      ].join("\n")
      for (const secret of [SECRET, "tok-0", "refresh-secret-0"]) {
        assert.notInclude(everything, secret)
      }
    }))
})

describe("AccessTokens.makeTest", () => {
  it.effect("serves a scripted token with no HTTP, follows the clock, and counts acquisitions", () =>
    Effect.gen(function*() {
      const denied = new OAuth2Error.Unauthorized({ source: "token-endpoint", reason: "invalid_client" })
      const tokens = yield* AccessTokens.makeTest({ script: ["one", denied, "two"], lifetime: "10 minutes" })
      assert.strictEqual(valueOf(yield* tokens.get), "one")
      assert.strictEqual(valueOf(yield* tokens.get), "one")
      yield* TestClock.adjust("10 minutes")
      const error = yield* Effect.flip(tokens.get)
      assert.strictEqual(error._tag, "Unauthorized")
      assert.strictEqual(valueOf(yield* tokens.get), "two")
      assert.strictEqual(yield* tokens.acquisitions, 3)
      const exit = yield* Effect.exit(tokens.get)
      assert.isTrue(Exit.isSuccess(exit))
    }))
})

describe("AccessTokens.get as a value", () => {
  it.scoped("behaves as an ordinary effect on the hot and cold paths: yield*, map, all, destructured, runSync", () =>
    Effect.gen(function*() {
      const { server, tokens } = yield* setup(numbered())
      const { get } = tokens
      // cold: through every combinator
      const [a, b] = yield* Effect.all([get, Effect.map(get, valueOf)], { concurrency: 2 })
      assert.strictEqual(valueOf(a), "tok-0")
      assert.strictEqual(b, "tok-0")
      // hot: the same value, through every combinator, with no I/O
      assert.strictEqual(valueOf(yield* get), "tok-0")
      assert.strictEqual(yield* Effect.flatMap(get, (t) => Effect.succeed(valueOf(t))), "tok-0")
      assert.strictEqual(Effect.runSync(Effect.map(get, valueOf)), "tok-0")
      assert.strictEqual(yield* server.count, 1)
      // a destructured `get` follows the cache: after invalidation it acquires again
      yield* tokens.invalidate(a)
      assert.strictEqual(valueOf(yield* get), "tok-1")
      // and after expiry it does not serve the expired token
      yield* TestClock.adjust(Duration.hours(2))
      const now = yield* TestClock.currentTimeMillis
      const later = yield* get
      assert.isTrue(later.expiresAt > now)
    }))
})

describe("AccessTokens: lifetimes, the refresh loop and hangs (issue 14)", () => {
  const getExit = (tokens: AccessTokens.Service) =>
    Effect.flatMap(Effect.exit(tokens.get), (exit) => Effect.map(TestClock.currentTimeMillis, (now) => ({ exit, now })))

  it.scoped("expires_in 0: no expired token is handed out, and renewals back off from 1 s instead of looping", () =>
    Effect.gen(function*() {
      const { server, tokens } = yield* setup(
        TokenServer.token({ access_token: "t", token_type: "Bearer", expires_in: 0 })
      )
      const first = yield* Effect.flip(tokens.get)
      assert.strictEqual(first._tag, "Expired")
      assert.include(first.message, "never handed out once expired")
      assert.isAtMost((first as OAuth2Error.Expired).expiredAt!, yield* TestClock.currentTimeMillis)
      assert.strictEqual(yield* server.count, 1)
      // Two minutes of a caller asking every 500 ms: every get fails (no token is ever valid), and the token endpoint
      // is asked at 0, 1, 3, 7, 15, 31 and 63 s: a floor of 1 s doubling while the answers stay that short.
      for (let i = 0; i < 240; i++) {
        yield* TestClock.adjust("500 millis")
        const { exit } = yield* getExit(tokens)
        assert.isTrue(Exit.isFailure(exit), `a token was handed out at step ${i}`)
      }
      yield* server.awaitRequests(7)
      assert.isAtMost(yield* server.count, 8)
    }))

  it.scoped("a token of a second that expires on its way (sent late in a second, answered after it) is asked for again at once", () =>
    Effect.gen(function*() {
      const first = yield* Deferred.make<void>()
      const answer = (index: number) => TokenServer.token({ access_token: `tok-${index}`, token_type: "Bearer", expires_in: 1 })
      const { server, tokens } = yield* setup((request) =>
        request.index === 0 ? Effect.as(Deferred.await(first), answer(0)) : Effect.succeed(answer(request.index))
      )
      // Sent at 0.9 s: its life counts from 0 s, so it expires at 1 s; it arrives at 1.1 s.
      yield* TestClock.adjust("900 millis")
      const fiber = yield* Effect.fork(tokens.get)
      yield* server.awaitRequests(1)
      yield* TestClock.adjust("200 millis")
      yield* Deferred.succeed(first, undefined)
      const token = yield* Fiber.join(fiber)
      assert.strictEqual(valueOf(token), "tok-1")
      assert.isAbove(token.expiresAt, yield* TestClock.currentTimeMillis)
      assert.strictEqual(yield* server.count, 2)
    }))

  it.scoped("an unusable 200 during a background refresh is retried while the cached token is valid", () =>
    Effect.gen(function*() {
      const bodies: ReadonlyArray<TokenServer.Action> = [
        TokenServer.text("<html><body>Service temporarily unavailable</body></html>", "text/html"),
        TokenServer.text("{\"access_token\": \"tok-", "application/json"),
        TokenServer.reply("", { status: 200 }),
        TokenServer.json([1, 2, 3]),
        TokenServer.json({ token_type: "Bearer", expires_in: 3600 })
      ]
      for (const body of bodies) {
        yield* Effect.scoped(Effect.gen(function*() {
          const { handler, open } = yield* gated
          const { server, tokens } = yield* setup((request) => request.index === 1 ? body : handler(request))
          const first = yield* tokens.get
          yield* TestClock.adjust(Duration.minutes(59))
          yield* server.awaitRequests(2)
          // The failure is not surfaced: every caller keeps getting the valid token.
          for (let i = 0; i < 200; i++) {
            const { exit } = yield* getExit(tokens)
            assert.isTrue(Exit.isSuccess(exit), `get failed while the cached token is valid: ${String(exit)}`)
            assert.strictEqual(valueOf((exit as Exit.Success<AccessToken.AccessToken, never>).value), valueOf(first))
            yield* Effect.yieldNow()
          }
          // And it is retried with back-off, like a server fault.
          yield* TestClock.adjust("2 seconds")
          yield* server.awaitRequests(3)
          yield* open(2)
          const renewed = yield* tokens.refresh
          assert.strictEqual(valueOf(renewed), "tok-2")
        }))
      }
    }))

  it.scoped("a caller with no valid token sees an unusable 200 as MalformedResponse", () =>
    Effect.gen(function*() {
      const { tokens } = yield* setup(TokenServer.text("<html>login</html>", "text/html"))
      const error = yield* Effect.flip(tokens.get)
      assert.strictEqual(error._tag, "MalformedResponse")
    }))

  it.scoped("two failed calls in a row: later calls back off (1 s, doubling) instead of asking at every call", () =>
    Effect.gen(function*() {
      const { server, tokens } = yield* setup(TokenServer.reply("", { status: 500 }))
      // The first failure is tried again at once by the next call...
      assert.strictEqual((yield* Effect.flip(tokens.get))._tag, "ProtocolError")
      assert.strictEqual((yield* Effect.flip(tokens.get))._tag, "ProtocolError")
      assert.strictEqual(yield* server.count, 2)
      // ...then calls get the last failure, with no request, for 1 s, then 2 s, then 4 s.
      for (let i = 0; i < 50; i++) assert.strictEqual((yield* Effect.flip(tokens.get))._tag, "ProtocolError")
      assert.strictEqual(yield* server.count, 2)
      let expected = 2
      for (const wait of [1000, 2000, 4000]) {
        yield* TestClock.adjust(wait - 1)
        yield* Effect.flip(tokens.get)
        assert.strictEqual(yield* server.count, expected)
        yield* TestClock.adjust(1)
        yield* Effect.flip(tokens.get)
        expected++
        assert.strictEqual(yield* server.count, expected)
      }
      // A success ends the back-off.
      yield* server.setScript(numbered())
      yield* TestClock.adjust("8 seconds")
      assert.strictEqual(valueOf(yield* tokens.get), `tok-${expected}`)
    }))

  it.scoped("a defect in TokenStore.set never leaves get waiting: the token is served, the failure logged", () =>
    Effect.gen(function*() {
      const memory = yield* TokenStore.makeMemory
      const broken: TokenStore.Service = { ...memory, set: () => Effect.die(new RangeError("Maximum call stack size exceeded")) }
      const lines: Array<string> = []
      const { server, tokens } = yield* setup(numbered()).pipe(
        Effect.provideService(TokenStore.TokenStore, broken),
        Effect.provide(Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => void lines.push(String(message)))))
      )
      const token = yield* Effect.provide(
        tokens.get,
        Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => void lines.push(String(message))))
      )
      assert.strictEqual(valueOf(token), "tok-0")
      assert.strictEqual(valueOf(yield* tokens.get), "tok-0")
      assert.strictEqual(yield* server.count, 1)
      assert.isTrue(lines.some((line) => line.includes("token store write failed") && line.includes("RangeError")))
    }))

  it.scoped("a defect in TokenStore.coordinate after the request: the token is served", () =>
    Effect.gen(function*() {
      const memory = yield* TokenStore.makeMemory
      const broken: TokenStore.Service = {
        ...memory,
        coordinate: (_key, _stale, acquire) => Effect.flatMap(acquire, () => Effect.die(new Error("lock release died")))
      }
      const { server, tokens } = yield* setup(numbered()).pipe(Effect.provideService(TokenStore.TokenStore, broken))
      assert.strictEqual(valueOf(yield* tokens.get), "tok-0")
      assert.strictEqual(yield* server.count, 1)
    }))

  it.scoped("a token answer with a 100,000-deep unknown member and the file store: the token is served, not a hang", () =>
    Effect.gen(function*() {
      const deep = "{\"a\":".repeat(100_000) + "1" + "}".repeat(100_000)
      const body = `{"access_token":"tok-deep","token_type":"Bearer","expires_in":3600,"x":${deep}}`
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "eo2-deep-" })
      const store = yield* Effect.orDie(FileTokenStore.make({
        path: `${dir}/tokens.json`,
        key: Redacted.make(Encoding.encodeBase64(Uint8Array.from({ length: 32 }, (_, i) => i)))
      }))
      const lines: Array<string> = []
      const { tokens } = yield* setup(TokenServer.text(body, "application/json"), {}, {
        maxResponseBytes: 1_000_000
      }).pipe(Effect.provideService(TokenStore.TokenStore, store))
      const token = yield* tokens.get.pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => void lines.push(String(message)))))
      )
      assert.strictEqual(valueOf(token), "tok-deep")
      assert.isTrue(lines.some((line) => line.includes("token store write failed") && line.includes("nests too deeply")))
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("get and refresh after the scope closed fail at once with ServiceClosed, even with a valid cached token", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const { server, tokens } = yield* setup(numbered(), {}, {}, scope)
      assert.strictEqual(valueOf(yield* tokens.get), "tok-0")
      yield* Scope.close(scope, Exit.void)
      const error = yield* Effect.flip(tokens.get)
      assert.strictEqual(error._tag, "ServiceClosed")
      assert.include(error.message, "closed")
      assert.isFalse(error.retryable)
      assert.strictEqual((yield* Effect.flip(tokens.refresh))._tag, "ServiceClosed")
      // Also on a cold cache (a fresh service closed before any get).
      const scope2 = yield* Scope.make()
      const cold = (yield* setup(numbered(), {}, {}, scope2)).tokens
      yield* Scope.close(scope2, Exit.void)
      assert.strictEqual((yield* Effect.flip(cold.get))._tag, "ServiceClosed")
      assert.strictEqual(yield* server.count, 1)
    }))

  it.scoped("a get waiting on an acquisition when the scope closes fails with ServiceClosed", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const { server, tokens } = yield* setup(TokenServer.hang, {}, {}, scope)
      const waiting = yield* Effect.fork(tokens.get)
      yield* server.awaitRequests(1)
      yield* Scope.close(scope, Exit.void)
      const error = yield* Effect.flip(Fiber.join(waiting))
      assert.strictEqual(error._tag, "ServiceClosed")
    }))

  it.effect.prop(
    "a token's life counts from the start of the second the request was sent (never past a whole-second server's exp)",
    [fc.integer({ min: 0, max: 999 }), fc.integer({ min: 1, max: 86_399 })],
    ([offset, ttl]) =>
      Effect.gen(function*() {
        const endpoint = yield* Effect.orDie(Endpoint.make({ provider: "test", tokenUrl: "https://as.example/token" }))
        const second = 1_750_000_000_000
        const token = yield* OAuth2Client.decodeTokenResponse({
          endpoint,
          grant: Grant.clientCredentials([]),
          body: { access_token: "t", token_type: "Bearer", expires_in: ttl },
          status: 200,
          contentType: "application/json",
          issuedAt: second + offset
        })
        // oidc-provider and most JWT issuers: exp = floor(now in seconds) + expires_in.
        assert.strictEqual(token.expiresAt, second + ttl * 1000)
        assert.strictEqual(token.issuedAt, second)
        assert.strictEqual(Duration.toMillis(token.lifetime), ttl * 1000)
      }),
    { fastCheck: { numRuns: 50 } }
  )

  it.scoped("3 s tokens from a whole-second server, refreshSkew 0: no get hands out a token the server has expired", () =>
    Effect.gen(function*() {
      const serverExp = new Map<string, number>()
      const { tokens } = yield* setup(
        (request) =>
          Effect.map(Clock.currentTimeMillis, (now) => {
            const value = `tok-${request.index}`
            serverExp.set(value, Math.floor(now / 1000) * 1000 + 3000)
            return TokenServer.token({ access_token: value, expires_in: 3 })
          }),
        { refreshSkew: 0 }
      )
      yield* TestClock.adjust("999 millis")
      for (let i = 0; i < 100; i++) {
        const token = yield* tokens.get
        const now = yield* TestClock.currentTimeMillis
        assert.isBelow(now, serverExp.get(valueOf(token))!, `a token the server had expired, at ${now} ms`)
        yield* TestClock.adjust("100 millis")
      }
    }))

  it.scoped("a refresh the server refuses before the token's expiry: LoginRequired says refused (and when), not 'expired at'", () =>
    Effect.gen(function*() {
      const { tokens } = yield* setup(TokenServer.oauthError("invalid_grant"), { acquire: "stored" })
      yield* TestClock.adjust("10 minutes")
      const now = yield* TestClock.currentTimeMillis
      const login = new AccessToken.AccessToken({
        value: Redacted.make("from-login"),
        type: "Bearer",
        issuedAt: now,
        expiresAt: now + 3_600_000,
        scopes: [],
        refreshToken: Redacted.make("revoked-refresh"),
        extra: {}
      })
      yield* tokens.set(login)
      // The API rejected the token (a 401): the refresh is refused as well (a revoked grant).
      yield* tokens.invalidate(login)
      const error = yield* Effect.flip(tokens.get)
      assert.strictEqual(error._tag, "LoginRequired")
      const required = error as OAuth2Error.LoginRequired
      assert.strictEqual(required.refusedAt, now)
      assert.notInclude(error.message, "expired at")
      assert.include(error.message, `refused the refresh token at ${new Date(now).toISOString()} (expired or revoked)`)
      assert.include(error.message, `valid until ${new Date(now + 3_600_000).toISOString()} but cannot be renewed`)
      assert.include(error.message, "log in again")
    }))

  it.scoped("a forced refresh of a valid token with nothing to renew it: Expired does not say 'expired at'", () =>
    Effect.gen(function*() {
      const { tokens } = yield* setup(numbered(), { acquire: "stored" })
      const now = yield* TestClock.currentTimeMillis
      const login = new AccessToken.AccessToken({
        value: Redacted.make("from-login"),
        type: "Bearer",
        issuedAt: now,
        expiresAt: now + 3_600_000,
        scopes: [],
        extra: {}
      })
      yield* tokens.set(login)
      const error = yield* Effect.flip(tokens.refresh)
      assert.strictEqual(error._tag, "Expired")
      assert.notInclude(error.message, "expired at")
      assert.include(error.message, `valid until ${new Date(now + 3_600_000).toISOString()}`)
      assert.include(error.message, "log in again")
      // The valid token itself is still served.
      assert.strictEqual(valueOf(yield* tokens.get), "from-login")
    }))
})
