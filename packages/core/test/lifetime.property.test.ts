/**
 * The property of issue 14 ("Done when"): one `AccessTokens`, driven over ten minutes of `TestClock` against a
 * generated token endpoint (token answers whose lifetimes are 0, sub-second, negative, ordinary, huge or missing;
 * 4xx/5xx failures; 429 with Retry-After; unusable 200s; each after a delay), and callers asking at generated times:
 *
 * (i)   the token endpoint gets at most a small bounded number of requests per minute beyond what the tokens'
 *       lifetimes require;
 * (ii)  `get` never hands out an expired token, by our clock or by a whole-second server's (`exp = floor(now) + ttl`);
 * (iii) no secret (client secret, access tokens, refresh tokens) shows in any rendering of any error or token
 *       (`String`, `util.inspect`, `JSON.stringify`, `message`), nor in any log line;
 * (iv)  no hang: every `get` completes, with a token or a typed error, within its timeout.
 *
 * The endpoint is an in-memory `OAuth2Client` whose answers go through the library's own decoding and error mapping
 * (`decodeTokenResponse`, the wire module's `parseBody` / `toError`), so that everything is driven by `TestClock`
 * alone; the real-server tests live in AccessTokens.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as fc from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as util from "node:util"
import type * as AccessToken from "../src/AccessToken.js"
import * as AccessTokens from "../src/AccessTokens.js"
import * as Endpoint from "../src/Endpoint.js"
import type * as Grant from "../src/Grant.js"
import * as wire from "../src/internal/wire.js"
import * as OAuth2Client from "../src/OAuth2Client.js"
import * as OAuth2Error from "../src/OAuth2Error.js"
import { assertNoSecrets, captureLogs } from "../src/testing/providerTesting.js"

const CLIENT_SECRET = "prop-client-secret-do-not-show"
const MINUTE = 60_000
const RUN_FOR = 10 * MINUTE
/** The longest an answer takes. */
const MAX_DELAY = 5_000
/** A `get` joins at most one acquisition, which is at most two requests (a refused refresh, then a new grant). */
const GET_TIMEOUT = 2 * MAX_DELAY + 1_000

// -----------------------------------------------------------------------------
// the generated token endpoint
// -----------------------------------------------------------------------------

/** `expires_in` as sent: seconds (possibly fractional, zero, negative or huge), or absent. */
type Lifetime = number | undefined

type Answer =
  | { readonly _tag: "Token"; readonly expiresIn: Lifetime; readonly refresh: boolean; readonly delay: number }
  | { readonly _tag: "Failure"; readonly status: number; readonly code: string | undefined; readonly delay: number }
  | { readonly _tag: "RateLimited"; readonly retryAfter: number; readonly delay: number }
  | { readonly _tag: "Unusable"; readonly body: string; readonly contentType: string; readonly delay: number }

const delay = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: MAX_DELAY }))

const lifetime: fc.Arbitrary<Lifetime> = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 1, max: 999 }).map((ms) => ms / 1000), // sub-second
  fc.integer({ min: -3600, max: -1 }), // not allowed by RFC 6749: expired, or refused as malformed
  fc.integer({ min: 1, max: 5 }), // shorter than most refresh skews
  fc.integer({ min: 6, max: 7200 }),
  fc.constant(1e12), // huge: clamped to the endpoint's maximum
  fc.constant(undefined) // missing: the endpoint's default
)

const answer: fc.Arbitrary<Answer> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ _tag: fc.constant("Token" as const), expiresIn: lifetime, refresh: fc.boolean(), delay }) },
  {
    weight: 2,
    arbitrary: fc.record({
      _tag: fc.constant("Failure" as const),
      status: fc.constantFrom(400, 401, 500, 502, 503),
      code: fc.constantFrom(undefined, "invalid_grant", "invalid_client", "server_error", "temporarily_unavailable"),
      delay
    })
  },
  {
    weight: 1,
    arbitrary: fc.record({ _tag: fc.constant("RateLimited" as const), retryAfter: fc.integer({ min: 0, max: 120 }), delay })
  },
  {
    weight: 1,
    arbitrary: fc.record({
      _tag: fc.constant("Unusable" as const),
      body: fc.constantFrom("<html><body>Bad gateway</body></html>", "{\"access_token\":", "", "[]", "{}"),
      contentType: fc.constantFrom("text/html", "application/json"),
      delay
    })
  }
)

interface Scenario {
  /** The answers to the requests, in order; the last one repeats. */
  readonly answers: ReadonlyArray<Answer>
  /** When callers ask (milliseconds from the start), sorted. */
  readonly gets: ReadonlyArray<number>
  /** Whether the caller invalidates the token it got, at each get (as after a 401 from the API). */
  readonly invalidates: ReadonlyArray<boolean>
}

const scenario: fc.Arbitrary<Scenario> = fc.record({
  answers: fc.array(answer, { minLength: 1, maxLength: 8 }),
  gets: fc.tuple(
    // callers spread over the ten minutes, some of them at the same instant
    fc.array(fc.integer({ min: 0, max: RUN_FOR - 1 }), { maxLength: 40 }).chain((times) =>
      fc.array(fc.integer({ min: 1, max: 3 }), { minLength: times.length, maxLength: times.length }).map((copies) =>
        times.flatMap((t, i) => Array.from({ length: copies[i]! }, () => t))
      )
    ),
    // a busy caller: every 100 ms to 2 s for a while
    fc.record({
      from: fc.integer({ min: 0, max: RUN_FOR - 1 }),
      every: fc.integer({ min: 100, max: 2_000 }),
      count: fc.integer({ min: 0, max: 40 })
    }).map(({ count, every, from }) =>
      Array.from({ length: count }, (_, i) => from + i * every).filter((t) => t < RUN_FOR)
    )
  ).map(([spread, busy]) => [...spread, ...busy].sort((a, b) => a - b)),
  invalidates: fc.array(fc.boolean(), { maxLength: 200 }).map((xs) => xs.map((x, i) => x && i % 5 === 0))
})

/** What the endpoint did: every request, and the whole-second `exp` of every token it issued. */
interface EndpointLog {
  readonly requests: Array<number>
  readonly serverExp: Map<string, number>
  readonly secrets: Array<string>
}

const scriptedClient = (
  endpoint: Endpoint.Endpoint,
  answers: ReadonlyArray<Answer>,
  log: EndpointLog
): OAuth2Client.Service => ({
  endpoint,
  clientId: "prop-client",
  requestToken: (grant: Grant.Grant) =>
    Effect.gen(function*() {
      const sentAt = yield* Clock.currentTimeMillis
      const index = log.requests.length
      log.requests.push(sentAt)
      const current = answers[Math.min(index, answers.length - 1)]!
      const refreshToken = grant._tag === "RefreshToken" ? Redacted.value(grant.refreshToken) : undefined
      const ctx: wire.Context = {
        provider: endpoint.provider,
        source: "token-endpoint",
        requestedScopes: [],
        secrets: [CLIENT_SECRET, ...(refreshToken === undefined ? [] : [refreshToken])]
      }
      yield* Effect.sleep(Duration.millis(current.delay))
      const now = yield* Clock.currentTimeMillis
      const fail = (status: number, text: string, contentType: string, headers: Record<string, string> = {}) => {
        const parsed = wire.parseBody(text, contentType)
        return Effect.fail(wire.toError({ status, contentType, headers, ...parsed }, ctx, now))
      }
      switch (current._tag) {
        case "Token": {
          const value = `prop-access-secret-${index}`
          log.secrets.push(value)
          const body: Record<string, unknown> = { access_token: value, token_type: "Bearer" }
          if (current.expiresIn !== undefined) body.expires_in = current.expiresIn
          if (current.refresh) {
            body.refresh_token = `prop-refresh-secret-${index}`
            log.secrets.push(body.refresh_token as string)
          }
          // A whole-second server: exp = floor(now in seconds) + ttl, counted when it received the request.
          const ttl = current.expiresIn === undefined
            ? Duration.toMillis(endpoint.defaultLifetime)
            : Math.min(Math.max(current.expiresIn, -1e9) * 1000, Duration.toMillis(endpoint.maxLifetime))
          log.serverExp.set(value, Math.floor(sentAt / 1000) * 1000 + ttl)
          return yield* OAuth2Client.decodeTokenResponse({
            endpoint,
            grant,
            body,
            status: 200,
            contentType: "application/json",
            issuedAt: sentAt
          })
        }
        case "Failure": {
          // A server that echoes what it was sent: the scrubbing must catch it.
          const body = JSON.stringify({
            ...(current.code === undefined ? {} : { error: current.code }),
            error_description: `rejected client secret ${CLIENT_SECRET} and refresh token ${refreshToken ?? "-"}`
          })
          return yield* fail(current.status, body, "application/json")
        }
        case "RateLimited":
          return yield* fail(429, "{\"error\":\"slow_down\"}", "application/json", {
            "retry-after": String(current.retryAfter)
          })
        case "Unusable":
          return yield* fail(200, current.body, current.contentType)
      }
    }),
  revoke: () => Effect.void,
  introspect: () => Effect.die("not used")
})

// -----------------------------------------------------------------------------
// the bound on requests
// -----------------------------------------------------------------------------

/**
 * What the lifetimes require per minute: a token living L seconds is renewed at most every max(L/2, 1) seconds
 * (the refresh skew is clamped to half the lifetime; the renewal floor is 1 s). Shorter tokens require nothing more
 * than the floor.
 */
const requiredPerMinute = (endpoint: Endpoint.Endpoint, answers: ReadonlyArray<Answer>): number => {
  let shortest = Infinity
  for (const a of answers) {
    if (a._tag !== "Token") continue
    const seconds = a.expiresIn === undefined
      ? Duration.toSeconds(endpoint.defaultLifetime)
      : Math.min(a.expiresIn, Duration.toSeconds(endpoint.maxLifetime))
    if (seconds >= 1) shortest = Math.min(shortest, seconds)
  }
  return shortest === Infinity ? 0 : Math.ceil(60 / Math.max(1, shortest / 2))
}

/**
 * Beyond what the lifetimes require, a minute may hold: the back-off series of failed calls (the first retried at
 * once, then 1, 2, 4, 8, 16, 32 s: 8), that of the background refresh (1, 2, 4, 8, 16, 32 s, jittered: 7), that of
 * tokens shorter than the floor (1, 2, 4, 8, 16, 32 s: 7), a renewal for each invalidated token, and one more for each
 * change of answer (each answer in the script can restart a series once).
 */
const slack = (answers: ReadonlyArray<Answer>, invalidations: number) => 8 + 7 + 7 + invalidations + 2 * answers.length

// -----------------------------------------------------------------------------
// the property
// -----------------------------------------------------------------------------

const render = (value: unknown): string =>
  [
    String(value),
    util.inspect(value, { depth: 10 }),
    JSON.stringify(value),
    value instanceof Error ? value.message : ""
  ].join("\n")

describe("AccessTokens over generated token-endpoint behaviour (issue 14)", () => {
  it.effect.prop(
    "ten minutes of TestClock: bounded requests, never an expired token, no secret shown, no hang",
    [scenario],
    ([{ answers, gets, invalidates }]) =>
      Effect.gen(function*() {
        const endpoint = yield* Effect.orDie(
          Endpoint.make({ provider: "prop", tokenUrl: "https://as.example/token", maxLifetime: "1 day" })
        )
        const log: EndpointLog = { requests: [], serverExp: new Map(), secrets: [CLIENT_SECRET] }
        const lines: Array<string> = []
        const outcomes: Array<{ readonly asked: number; readonly exit: Exit.Exit<Option.Option<{ token: AccessToken.AccessToken; at: number }>, OAuth2Error.OAuth2Error> }> = []
        let invalidations = 0
        yield* Effect.scoped(Effect.gen(function*() {
          const tokens = yield* AccessTokens.make({ refreshSkew: "60 seconds" }).pipe(
            Effect.provideService(OAuth2Client.OAuth2Client, scriptedClient(endpoint, answers, log))
          )
          const fibers: Array<{ asked: number; fiber: Fiber.RuntimeFiber<Option.Option<{ token: AccessToken.AccessToken; at: number }>, OAuth2Error.OAuth2Error> }> = []
          let now = 0
          for (let i = 0; i < gets.length; i++) {
            const at = gets[i]!
            if (at > now) {
              yield* TestClock.adjust(Duration.millis(at - now))
              now = at
            }
            const invalidate = invalidates[i] === true
            if (invalidate) invalidations++
            const fiber = yield* Effect.fork(
              tokens.get.pipe(
                Effect.flatMap((token) => Effect.map(Clock.currentTimeMillis, (at) => ({ token, at }))),
                Effect.tap(({ token }) => invalidate ? tokens.invalidate(token) : Effect.void),
                Effect.map(Option.some)
              )
            )
            fibers.push({ asked: at, fiber })
          }
          yield* TestClock.adjust(Duration.millis(RUN_FOR - now))
          // Every get has had its whole timeout.
          yield* TestClock.adjust(Duration.millis(GET_TIMEOUT))
          for (const { asked, fiber } of fibers) {
            const exit = yield* Fiber.poll(fiber)
            assert.isTrue(Option.isSome(exit), `the get asked at ${asked} ms never completed`)
            outcomes.push({ asked, exit: Option.getOrThrow(exit) })
          }
        })).pipe(Effect.provide(captureLogs(lines)))

        // (iv) no hang, and only typed errors
        for (const { asked, exit } of outcomes) {
          if (Exit.isFailure(exit)) {
            const failure = exit.cause
            assert.isTrue(
              failure._tag === "Fail" && OAuth2Error.isOAuth2Error(failure.error),
              `the get asked at ${asked} ms ended in ${failure._tag}`
            )
          }
        }
        const errors: Array<unknown> = []
        const handedOut: Array<AccessToken.AccessToken> = []
        for (const { asked, exit } of outcomes) {
          if (Exit.isFailure(exit)) {
            if (exit.cause._tag === "Fail") errors.push(exit.cause.error)
            continue
          }
          const { at, token } = Option.getOrThrow(exit.value)
          // (iv) within its timeout
          assert.isAtMost(at - asked, GET_TIMEOUT, `the get asked at ${asked} ms took ${at - asked} ms`)
          handedOut.push(token)
          // (ii) never an expired token, by our clock or by the whole-second server's
          assert.isBelow(at, token.expiresAt, `an expired token handed out at ${at} ms`)
          const serverExp = log.serverExp.get(Redacted.value(token.value))
          assert.isDefined(serverExp)
          assert.isBelow(at, serverExp!, `a token the server had expired handed out at ${at} ms`)
        }

        // (i) requests per minute
        const bound = requiredPerMinute(endpoint, answers) + slack(answers, invalidations)
        const requests = log.requests
        for (let i = 0; i < requests.length; i++) {
          let inWindow = 0
          for (let j = i; j < requests.length && requests[j]! < requests[i]! + MINUTE; j++) inWindow++
          assert.isAtMost(inWindow, bound, `${inWindow} token requests in the minute from ${requests[i]} ms`)
        }

        // (iii) no secret in any rendering of any error or token, nor in any log line
        assertNoSecrets([...lines, ...errors.map(render), ...handedOut.map(render)].join("\n"), log.secrets)
      }),
    // PROP_RUNS and PROP_SEED replay or widen a run locally.
    { timeout: 240_000, fastCheck: { numRuns: Number(process.env.PROP_RUNS ?? 30), ...(process.env.PROP_SEED === undefined ? {} : { seed: Number(process.env.PROP_SEED) }) } }
  )
})
