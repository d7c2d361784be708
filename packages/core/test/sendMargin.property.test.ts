/**
 * The accounting of short token lifetimes (issue 17, the realistic bot on 1 s tokens), as a class of inputs under
 * `TestClock`: tokens living L seconds (whole or fractional, 1 to 5 s; and 0 or under a second), answered after a
 * generated latency, by a server that counts its `exp` either from the start of the second it received the request
 * (`exp = floor(now) + ttl`, oidc-provider and most JWT issuers) or from its answer; a busy caller asking at a
 * generated pace from a generated offset within the second.
 *
 * (i)   a token living a second or more is never handed out within its last margin (a tenth of its life) by the
 *       server's count: a request that leaves with it has that margin to reach the server;
 * (ii)  no token is ever handed out expired by the server's count, whatever its lifetime;
 * (iii) the token endpoint is not flooded: tokens of a second or more are renewed at most about once per half
 *       lifetime (at least a second apart), and tokens of 0 s or under a second at a floor that doubles;
 * (iv)  every get ends, with a token or a typed error, within a bound of the lifetime and the latency.
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
import type * as AccessToken from "../src/AccessToken.js"
import * as AccessTokens from "../src/AccessTokens.js"
import * as Endpoint from "../src/Endpoint.js"
import type * as Grant from "../src/Grant.js"
import * as OAuth2Client from "../src/OAuth2Client.js"
import * as OAuth2Error from "../src/OAuth2Error.js"

const RUN_FOR = 6_000

type ServerKind = "whole-second" | "from-answer"

interface Scenario {
  /** `expires_in`, in milliseconds (sent as seconds). */
  readonly lifetimeMs: number
  /** How long the token endpoint takes to answer. */
  readonly latencyMs: number
  readonly server: ServerKind
  /** Where in the second the run starts. */
  readonly offsetMs: number
  /** The busy caller's pace. */
  readonly everyMs: number
}

/** A tenth of the life of a token of a second or more, at most a second. */
const marginOf = (lifetimeMs: number) => Math.min(1000, lifetimeMs / 10)

const longLived: fc.Arbitrary<{ lifetimeMs: number; latencyMs: number }> = fc.oneof(
  fc.integer({ min: 1, max: 5 }).map((s) => s * 1000),
  fc.integer({ min: 1000, max: 3000 })
).chain((lifetimeMs) =>
  // An answer that arrives with the token's margin left when asked for at the start of a second.
  fc.integer({ min: 0, max: Math.min(900, Math.ceil(lifetimeMs - marginOf(lifetimeMs)) - 1) }).map((latencyMs) => ({
    lifetimeMs,
    latencyMs
  }))
)

const shortLived: fc.Arbitrary<{ lifetimeMs: number; latencyMs: number }> = fc.record({
  lifetimeMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 999 })),
  latencyMs: fc.integer({ min: 0, max: 900 })
})

const scenario: fc.Arbitrary<Scenario> = fc.record({
  timing: fc.oneof({ weight: 3, arbitrary: longLived }, { weight: 1, arbitrary: shortLived }),
  server: fc.constantFrom<ServerKind>("whole-second", "from-answer"),
  offsetMs: fc.integer({ min: 0, max: 999 }),
  everyMs: fc.integer({ min: 40, max: 300 })
}).map(({ timing, ...rest }) => ({ ...timing, ...rest }))

interface Log {
  readonly requests: Array<number>
  /** The server's expiry of each token it issued. */
  readonly serverExp: Map<string, number>
}

const scriptedClient = (endpoint: Endpoint.Endpoint, s: Scenario, log: Log): OAuth2Client.Service => ({
  endpoint,
  clientId: "margin-client",
  requestToken: (grant: Grant.Grant) =>
    Effect.gen(function*() {
      const sentAt = yield* Clock.currentTimeMillis
      const index = log.requests.length
      log.requests.push(sentAt)
      yield* Effect.sleep(Duration.millis(s.latencyMs))
      const answeredAt = yield* Clock.currentTimeMillis
      const value = `margin-token-${index}`
      log.serverExp.set(
        value,
        s.server === "whole-second" ? Math.floor(sentAt / 1000) * 1000 + s.lifetimeMs : answeredAt + s.lifetimeMs
      )
      return yield* OAuth2Client.decodeTokenResponse({
        endpoint,
        grant,
        body: { access_token: value, token_type: "Bearer", expires_in: s.lifetimeMs / 1000 },
        status: 200,
        contentType: "application/json",
        issuedAt: sentAt
      })
    }),
  revoke: () => Effect.void,
  introspect: () => Effect.die("not used")
})

/** The most requests any window of `RUN_FOR` may hold. */
const requestBound = (s: Scenario) =>
  s.lifetimeMs >= 1000
    // At most one renewal per max(1 s, half the lifetime), each at most twice (a token that arrives within its
    // margin is asked for once more), and the first acquisition.
    ? 2 * (Math.ceil(RUN_FOR / Math.max(1000, s.lifetimeMs / 2)) + 1)
    // The floor doubles from 1 s: 1, 2 s… within 6 s, and the first.
    : 6

/** The longest a get may take: the floor's wait (at most the margin), a request, a second one from the next second. */
const getBound = (s: Scenario) => 1000 + 2 * s.latencyMs + 1000

describe("AccessTokens: short lifetimes and the send margin (issue 17)", () => {
  it.effect.prop(
    "a busy caller on 0-5 s tokens: never a token within its margin by the server's count, no flood, no hang",
    [scenario],
    ([s]) =>
      Effect.gen(function*() {
        const endpoint = yield* Effect.orDie(Endpoint.make({ provider: "margin", tokenUrl: "https://as.example/token" }))
        const log: Log = { requests: [], serverExp: new Map() }
        const outcomes: Array<{
          readonly asked: number
          readonly exit: Exit.Exit<{ token: AccessToken.AccessToken; at: number }, OAuth2Error.OAuth2Error>
        }> = []
        yield* TestClock.adjust(Duration.millis(s.offsetMs))
        const start = yield* Clock.currentTimeMillis
        yield* Effect.scoped(Effect.gen(function*() {
          const tokens = yield* AccessTokens.make().pipe(
            Effect.provideService(OAuth2Client.OAuth2Client, scriptedClient(endpoint, s, log))
          )
          const fibers: Array<{
            asked: number
            fiber: Fiber.RuntimeFiber<{ token: AccessToken.AccessToken; at: number }, OAuth2Error.OAuth2Error>
          }> = []
          for (let t = 0; t < RUN_FOR; t += s.everyMs) {
            if (t > 0) yield* TestClock.adjust(Duration.millis(s.everyMs))
            const fiber = yield* Effect.fork(
              Effect.flatMap(tokens.get, (token) => Effect.map(Clock.currentTimeMillis, (at) => ({ token, at })))
            )
            fibers.push({ asked: start + t, fiber })
          }
          yield* TestClock.adjust(Duration.millis(getBound(s)))
          for (const { asked, fiber } of fibers) {
            const exit = yield* Fiber.poll(fiber)
            assert.isTrue(Option.isSome(exit), `the get asked at ${asked} ms never completed`)
            outcomes.push({ asked, exit: Option.getOrThrow(exit) })
          }
        }))

        let served = 0
        for (const { asked, exit } of outcomes) {
          if (Exit.isFailure(exit)) {
            // Only tokens shorter than the floor leave callers without a token (Expired, within the floor).
            assert.isTrue(
              exit.cause._tag === "Fail" && OAuth2Error.isOAuth2Error(exit.cause.error),
              `the get asked at ${asked} ms ended in ${exit.cause._tag}`
            )
            assert.isBelow(s.lifetimeMs, 1000, `a get failed on tokens of ${s.lifetimeMs} ms: ${String(exit.cause)}`)
            continue
          }
          served++
          const { at, token } = exit.value
          // (iv)
          assert.isAtMost(at - asked, getBound(s), `the get asked at ${asked} ms took ${at - asked} ms`)
          const serverExp = log.serverExp.get(Redacted.value(token.value))!
          assert.isDefined(serverExp)
          // (ii)
          assert.isBelow(at, serverExp, `a token the server had expired handed out at ${at} ms`)
          // (i)
          if (s.lifetimeMs >= 1000) {
            assert.isAtLeast(
              serverExp - at,
              marginOf(s.lifetimeMs),
              `a token handed out at ${at} ms, ${serverExp - at} ms before the server's expiry`
            )
          }
        }
        if (s.lifetimeMs >= 1000) assert.strictEqual(served, outcomes.length)

        // (iii)
        const requests = log.requests
        const bound = requestBound(s)
        for (let i = 0; i < requests.length; i++) {
          let inWindow = 0
          for (let j = i; j < requests.length && requests[j]! < requests[i]! + RUN_FOR; j++) inWindow++
          assert.isAtMost(inWindow, bound, `${inWindow} token requests in the ${RUN_FOR} ms from ${requests[i]} ms`)
        }
      }),
    // PROP_RUNS and PROP_SEED replay or widen a run locally.
    {
      timeout: 240_000,
      fastCheck: {
        numRuns: Number(process.env.PROP_RUNS ?? 30),
        ...(process.env.PROP_SEED === undefined ? {} : { seed: Number(process.env.PROP_SEED) })
      }
    }
  )
})
