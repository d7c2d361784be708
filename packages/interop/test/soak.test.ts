/**
 * Fault soak: a long simulated run against the emulator's Figure Markets endpoints, driven by core directly
 * (client_secret_post, TRADER_READ TRADER_TRADE), under `TestClock`.
 *
 * 48 token lifetimes of 5 minutes with faults at seeded random points (5xx bursts, gateway HTML pages, connection
 * resets, 429 storms with Retry-After, latency spikes on the token endpoint and the API, early revocations, and a few
 * outages longer than a lifetime), then 3 fault-free lifetimes. A bot calls `get_who_am_i` through `withAccessToken`
 * every simulated minute.
 *
 * How time moves: the emulator and the client share the test's `TestClock`. The driver moves the clock one sleeper at
 * a time (`TestClock.sleeps`), and before each move waits until the system is quiet: every HTTP request in flight has
 * completed, except those the emulator is holding in a `latency` fault (which have reached it, so its sleep is on the
 * clock). A tracking `fetch` counts requests in flight and signals completions; nothing waits on a timer.
 *
 * What it checks:
 * 1. the bot sees a failure only when no valid token could have existed: the token endpoint was unavailable at the
 *    call, and either the token in hand had been revoked, or the endpoint offered no window long enough for one retry
 *    during that token's refresh window;
 * 2. token-endpoint requests per lifetime stay within a stated bound (and at most 2, plus one per revocation, in
 *    lifetimes without endpoint faults);
 * 3. after the faults stop, every call succeeds and the request rate is back to normal, without a restart.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import { AccessTokens, Endpoint, OAuth2Client, OAuth2Error, OAuth2HttpClient } from "@effect-oauth2/core"
import { Clients, Emulator, type Faults } from "@effect-oauth2/emulator"

// -----------------------------------------------------------------------------
// the plan
// -----------------------------------------------------------------------------

const SEED = 0x5eed_2026
const MINUTE = 60_000
const LIFETIME_MINUTES = 5
const LIFETIME = LIFETIME_MINUTES * MINUTE
const FAULT_LIFETIMES = 48
const RECOVERY_LIFETIMES = 3
const FAULT_MINUTES = FAULT_LIFETIMES * LIFETIME_MINUTES
const TOTAL_MINUTES = (FAULT_LIFETIMES + RECOVERY_LIFETIMES) * LIFETIME_MINUTES
/** The background refresh starts this long before expiry. */
const REFRESH_SKEW = 90_000
/** The longest pause between two background retries (the schedule's cap). */
const RETRY_CAP = 30_000
const REQUEST_TIMEOUT = 20_000
/** The bot calls the API at this offset in every minute (faults change on the minute). */
const BOT_OFFSET = 30_000
const SCOPES = ["TRADER_READ", "TRADER_TRADE"]

/**
 * The stated bound on token requests per lifetime under faults: background attempts (the first, five doublings from
 * 1 s, then one per capped pause, the jitter making a capped pause as short as 0.8 × 30 s) plus one foreground attempt
 * per bot call.
 */
const BOUND_PER_LIFETIME = 1 + 5 + Math.ceil(LIFETIME / (0.8 * RETRY_CAP)) + LIFETIME_MINUTES
/** In a lifetime with no endpoint fault: a refresh every 3.5 minutes (at most 2 in 5 minutes), plus one per revocation. */
const BOUND_FAULT_FREE = Math.ceil(LIFETIME / (LIFETIME - REFRESH_SKEW))

type TokenFault =
  | { readonly _tag: "None" }
  | { readonly _tag: "Status"; readonly status: 500 | 502 | 503 }
  | { readonly _tag: "GatewayPage" }
  | { readonly _tag: "Reset" }
  | { readonly _tag: "RateLimit"; readonly retryAfter: number }

interface Minute {
  tokenFault: TokenFault
  /** A long outage (longer than a lifetime), for the figures. */
  long: boolean
  tokenLatency: number
  tradeLatency: number
  revoke: boolean
}

/** mulberry32: a small seeded PRNG, so that the plan is the same on every run. */
const prng = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Plan {
  readonly minutes: ReadonlyArray<Minute>
  readonly counts: Record<string, number>
}

const makePlan = (seed: number): Plan => {
  const random = prng(seed)
  const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1))
  const minutes: Array<Minute> = Array.from({ length: TOTAL_MINUTES }, () => ({
    tokenFault: { _tag: "None" },
    long: false,
    tokenLatency: 0,
    tradeLatency: 0,
    revoke: false
  }))
  const counts: Record<string, number> = {
    "5xx bursts": 0,
    "gateway pages": 0,
    "reset bursts": 0,
    "429 storms": 0,
    "long outages": 0,
    "latency spikes": 0,
    "early revocations": 0
  }
  const fill = (from: number, length: number, f: (m: Minute) => void) => {
    for (let m = from; m < Math.min(from + length, FAULT_MINUTES); m++) f(minutes[m]!)
  }
  // The first five minutes are quiet: the first token is acquired normally.
  for (let m = 5; m < FAULT_MINUTES; m++) {
    const here = minutes[m]!
    if (here.tokenFault._tag === "None") {
      const roll = random()
      if (roll < 0.03) {
        const status = ([500, 502, 503] as const)[between(0, 2)]!
        fill(m, between(1, 4), (x) => void (x.tokenFault = { _tag: "Status", status }))
        counts["5xx bursts"]!++
      } else if (roll < 0.045) {
        fill(m, between(1, 3), (x) => void (x.tokenFault = { _tag: "GatewayPage" }))
        counts["gateway pages"]!++
      } else if (roll < 0.06) {
        fill(m, between(1, 2), (x) => void (x.tokenFault = { _tag: "Reset" }))
        counts["reset bursts"]!++
      } else if (roll < 0.075) {
        const retryAfter = between(30, 120)
        fill(m, between(1, 3), (x) => void (x.tokenFault = { _tag: "RateLimit", retryAfter }))
        counts["429 storms"]!++
      } else if (roll < 0.081) {
        fill(m, between(6, 8), (x) => {
          x.tokenFault = { _tag: "Status", status: 503 }
          x.long = true
        })
        counts["long outages"]!++
      }
    }
    if (here.tokenLatency === 0 && here.tradeLatency === 0 && random() < 0.045) {
      const token = random() < 0.7 ? between(1, 15) * 1000 : 0
      const trade = random() < 0.7 ? between(1, 15) * 1000 : 0
      fill(m, between(1, 3), (x) => {
        x.tokenLatency = token
        x.tradeLatency = trade
      })
      counts["latency spikes"]!++
    }
    if (random() < 0.03) {
      here.revoke = true
      counts["early revocations"]!++
    }
  }
  return { minutes, counts }
}

const toFaults = (minute: Minute): { readonly token: Faults.Faults; readonly trade: Faults.Faults } => {
  const many = 1_000_000
  const fault = minute.tokenFault
  const token: Faults.Faults = {
    ...(minute.tokenLatency > 0 ? { latency: minute.tokenLatency } : {}),
    ...(fault._tag === "Status" ? { failNext: { count: many, status: fault.status } } : {}),
    ...(fault._tag === "GatewayPage" ? { malformed: { count: many, kind: "html", status: 502 } } : {}),
    ...(fault._tag === "Reset" ? { reset: { count: many } } : {}),
    ...(fault._tag === "RateLimit" ? { rateLimit: { count: many, retryAfter: fault.retryAfter } } : {})
  }
  return { token, trade: minute.tradeLatency > 0 ? { latency: minute.tradeLatency } : {} }
}

/** When the token endpoint could issue no token: faulted minutes, a 429 storm extended by its Retry-After. */
const downIntervals = (plan: Plan): ReadonlyArray<readonly [number, number]> => {
  const raw: Array<[number, number]> = []
  plan.minutes.forEach((minute, m) => {
    const fault = minute.tokenFault
    if (fault._tag === "None") return
    const end = (m + 1) * MINUTE + (fault._tag === "RateLimit" ? fault.retryAfter * 1000 : 0)
    raw.push([m * MINUTE, end])
  })
  raw.sort((a, b) => a[0] - b[0])
  const merged: Array<[number, number]> = []
  for (const [start, end] of raw) {
    const last = merged[merged.length - 1]
    if (last !== undefined && start <= last[1]) last[1] = Math.max(last[1], end)
    else merged.push([start, end])
  }
  return merged
}

// -----------------------------------------------------------------------------
// the I/O tracker
// -----------------------------------------------------------------------------

type EndpointName = "figure-markets.token" | "figure-markets.trade"

interface InFlight {
  readonly endpoint: EndpointName
  /** Set when the emulator holds the request in a latency fault until this instant. */
  readonly heldUntil: number | undefined
}

interface TokenRequest {
  readonly at: number
  readonly outcome: string
}

const makeTracker = () => {
  const state = {
    /** The simulated time requests are sent at (the driver sets it before every clock move). */
    now: 0,
    latency: { "figure-markets.token": 0, "figure-markets.trade": 0 } as Record<EndpointName, number>,
    sent: { "figure-markets.token": 0, "figure-markets.trade": 0 } as Record<EndpointName, number>,
    inflight: new Map<number, InFlight>(),
    waiters: [] as Array<() => void>,
    tokenRequests: [] as Array<TokenRequest>,
    next: 0
  }
  const wake = () => {
    const waiters = state.waiters
    state.waiters = []
    for (const w of waiters) w()
  }
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input)
    const endpoint: EndpointName = url.includes("/auth/oauth2/token") ? "figure-markets.token" : "figure-markets.trade"
    const id = state.next++
    const latency = state.latency[endpoint]
    state.inflight.set(id, { endpoint, heldUntil: latency > 0 ? state.now + latency : undefined })
    state.sent[endpoint]++
    let outcome = "network"
    try {
      const response = await globalThis.fetch(input, init)
      // Read the whole body here, so that no I/O is left once the request counts as complete.
      const body = [101, 204, 205, 304].includes(response.status) ? null : await response.arrayBuffer()
      outcome = String(response.status)
      return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers })
    } catch (error) {
      outcome = (error as { name?: string }).name === "AbortError" ? "timeout" : "reset"
      throw error
    } finally {
      if (endpoint === "figure-markets.token") state.tokenRequests.push({ at: state.now, outcome })
      state.inflight.delete(id)
      wake()
    }
  }
  const completion = Effect.async<void>((resume) => {
    state.waiters.push(() => resume(Effect.void))
  })
  return { state, fetch, completion }
}

/** One turn of the event loop: lets I/O callbacks and ready fibers run. Not a timer. */
const turn = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

// -----------------------------------------------------------------------------
// the test
// -----------------------------------------------------------------------------

interface BotCall {
  readonly at: number
  readonly ok: boolean
  readonly error: string | undefined
}

describe("fault soak on the emulator", () => {
  it.scoped(
    `${FAULT_LIFETIMES} token lifetimes with seeded faults, then ${RECOVERY_LIFETIMES} quiet ones: failures only when no token could exist, bounded requests, recovery`,
    () => {
      const tracker = makeTracker()
      const io = tracker.state
      return Effect.gen(function*() {
        const started = performance.now()
        const plan = makePlan(SEED)
        const down = downIntervals(plan)

        const emulator = yield* Emulator.make({ tokenLifetime: Duration.millis(LIFETIME) }).pipe(Effect.orDie)
        const main = emulator.urls.figureMarkets.main
        const endpoint = yield* Endpoint.make({
          provider: "figure-markets",
          environment: "emulator",
          tokenUrl: `${main}/auth/oauth2/token`,
          revocationUrl: `${main}/auth/oauth2/revoke`,
          authMethod: "client_secret_post",
          requestTimeout: Duration.millis(REQUEST_TIMEOUT)
        })
        const client = yield* OAuth2Client.make({
          endpoint,
          credentials: Endpoint.credentials(Clients.figureMarketsDemo.clientId, Clients.figureMarketsDemo.clientSecret)
        })
        const tokens = yield* AccessTokens.make({
          scopes: SCOPES,
          refreshSkew: Duration.millis(REFRESH_SKEW),
          retrySchedule: Schedule.exponential("1 second", 2).pipe(
            Schedule.jittered,
            Schedule.modifyDelay((_, delay) => Duration.min(delay, Duration.millis(RETRY_CAP)))
          )
        }).pipe(Effect.provideService(OAuth2Client.OAuth2Client, client))
        const api = OAuth2HttpClient.withAccessToken(yield* HttpClient.HttpClient, tokens)
        const whoAmI = api.post(`${emulator.urls.figureMarkets.trade}/api/v1/get_who_am_i`).pipe(
          Effect.flatMap((response) =>
            response.status === 200 ? Effect.void : Effect.fail(`the API answered ${response.status}`)
          ),
          Effect.scoped
        )

        // -- the driver --------------------------------------------------------------------------------------------
        /** Waits until every request in flight has completed, except those the emulator holds in a latency fault. */
        const settle = Effect.gen(function*() {
          let quiet = 0
          for (let round = 0; round < 200_000; round++) {
            yield* turn
            const pending = [...io.inflight.values()]
            if (pending.some((p) => p.heldUntil === undefined || p.heldUntil <= io.now)) {
              quiet = 0
              yield* tracker.completion
              continue
            }
            // Held requests must have reached the emulator, so that its latency sleep is on the clock.
            const arrived = (yield* emulator.countersFor("figure-markets.token")).requests >= io.sent["figure-markets.token"] &&
              (yield* emulator.countersFor("figure-markets.trade")).requests >= io.sent["figure-markets.trade"]
            if (!arrived) {
              quiet = 0
              continue
            }
            if (++quiet >= 3) return
          }
          return yield* Effect.dieMessage("the simulation did not settle")
        })

        /** Moves the clock to `target`, one sleeper at a time, settling before every move. */
        let steps = 0
        const advanceTo = (target: number) =>
          Effect.gen(function*() {
            for (let i = 0; i < 100_000; i++) {
              yield* settle
              const now = yield* Clock.currentTimeMillis
              if (now >= target) return
              const sleeps = Chunk.toReadonlyArray(yield* TestClock.sleeps()).filter((s) => s > now)
              const next = Math.min(target, ...sleeps)
              io.now = next
              steps++
              yield* TestClock.setTime(next)
            }
            return yield* Effect.dieMessage("the clock did not reach its target")
          })

        // -- the bot -------------------------------------------------------------------------------------------------
        const calls: Array<BotCall> = []
        const bot = Effect.gen(function*() {
          yield* Effect.sleep(Duration.millis(BOT_OFFSET))
          for (let m = 0; m < TOTAL_MINUTES; m++) {
            const at = yield* Clock.currentTimeMillis
            const exit = yield* Effect.exit(whoAmI)
            calls.push({
              at,
              ok: Exit.isSuccess(exit),
              error: Exit.isSuccess(exit)
                ? undefined
                : exit.cause._tag === "Fail"
                ? OAuth2Error.isOAuth2Error(exit.cause.error) ? exit.cause.error._tag : String(exit.cause.error)
                : exit.cause._tag
            })
            const next = (m + 1) * MINUTE + BOT_OFFSET
            yield* Effect.sleep(Duration.millis(Math.max(0, next - (yield* Clock.currentTimeMillis))))
          }
        })
        const botFiber = yield* Effect.fork(bot)

        // -- the run -------------------------------------------------------------------------------------------------
        const revocations: Array<number> = []
        let applied = JSON.stringify(toFaults({ tokenFault: { _tag: "None" }, long: false, tokenLatency: 0, tradeLatency: 0, revoke: false }))
        // The clock stops on a minute only when the plan changes something there.
        for (let m = 0; m < TOTAL_MINUTES; m++) {
          const minute = plan.minutes[m]!
          const faults = toFaults(minute)
          const changed = JSON.stringify(faults) !== applied
          if (!changed && !minute.revoke) continue
          yield* advanceTo(m * MINUTE)
          if (changed) {
            yield* emulator.setFaults("figure-markets.token", faults.token)
            yield* emulator.setFaults("figure-markets.trade", faults.trade)
            io.latency["figure-markets.token"] = faults.token.latency ?? 0
            io.latency["figure-markets.trade"] = faults.trade.latency ?? 0
            applied = JSON.stringify(faults)
          }
          if (minute.revoke) {
            yield* emulator.revokeAllTokens
            revocations.push(m * MINUTE)
          }
        }
        yield* advanceTo(TOTAL_MINUTES * MINUTE + BOT_OFFSET)
        yield* Fiber.join(botFiber)

        // -- the verdict -----------------------------------------------------------------------------------------------
        const issued = (yield* emulator.tokens).filter((t) => t.provider === "figure-markets" && t.kind === "access")
        const isDown = (t: number) => down.some(([a, b]) => t >= a && t < b)
        /** Whether the endpoint was up for a stretch long enough for one retry inside [from, to). */
        const upWindow = (from: number, to: number) => {
          let cursor = from
          for (const [a, b] of down) {
            if (b <= cursor) continue
            if (a >= to) break
            if (Math.min(a, to) - cursor >= RETRY_CAP + 2000) return true
            cursor = Math.max(cursor, b)
          }
          return to - cursor >= RETRY_CAP + 2000
        }
        const judged = calls.filter((c) => !c.ok).map((call) => {
          const latest = issued.filter((t) => t.issuedAt <= call.at).at(-1)
          const revoked = latest !== undefined && revocations.some((r) => r >= latest.issuedAt && r <= call.at)
          const refreshWindowUp = latest !== undefined && upWindow(latest.expiresAt! - REFRESH_SKEW, latest.expiresAt! - 1000)
          const justified = isDown(call.at) && (latest === undefined || revoked || !refreshWindowUp)
          const why = !isDown(call.at)
            ? "the endpoint was up at the call"
            : revoked
            ? "endpoint down, token revoked"
            : refreshWindowUp
            ? "endpoint down, but it was up during the refresh window"
            : "endpoint down through the refresh window and at the call"
          return { ...call, justified, why }
        })

        const perLifetime = Array.from({ length: FAULT_LIFETIMES + RECOVERY_LIFETIMES }, (_, k) => {
          const from = k * LIFETIME
          const to = from + LIFETIME
          const requests = io.tokenRequests.filter((r) => r.at >= from && r.at < to)
          const faultFree = !down.some(([a, b]) => a < to && b > from - LIFETIME) &&
            !plan.minutes.slice(Math.max(0, k - 1) * LIFETIME_MINUTES, (k + 1) * LIFETIME_MINUTES).some((m) =>
              m.tokenLatency > 0
            )
          const revoked = revocations.filter((r) => r >= from && r < to).length
          return {
            k,
            requests: requests.length,
            failed: requests.filter((r) => r.outcome !== "200").length,
            faultFree,
            revoked,
            failures: judged.filter((c) => c.at >= from && c.at < to).length
          }
        })

        let longestRun = 0
        let run = 0
        for (const r of io.tokenRequests) {
          run = r.outcome === "200" ? 0 : run + 1
          longestRun = Math.max(longestRun, run)
        }
        const counters = yield* emulator.countersFor("figure-markets.token")
        const outcomes: Record<string, number> = {}
        for (const r of io.tokenRequests) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1
        const faultPhase = perLifetime.slice(0, FAULT_LIFETIMES)
        const recovery = perLifetime.slice(FAULT_LIFETIMES)
        const recoveryCalls = calls.filter((c) => c.at >= FAULT_MINUTES * MINUTE)
        const downMinutes = down.reduce((sum, [a, b]) => sum + (b - a), 0) / MINUTE
        const faultFreeMax = Math.max(...faultPhase.filter((l) => l.faultFree).map((l) => l.requests - l.revoked))
        const lines = [
          `Fault soak, seed 0x${SEED.toString(16)}: ${FAULT_LIFETIMES} lifetimes of ${LIFETIME_MINUTES} min with faults + ${RECOVERY_LIFETIMES} quiet; refresh skew ${REFRESH_SKEW / MINUTE} min, retry cap ${RETRY_CAP / 1000} s, request timeout ${REQUEST_TIMEOUT / 1000} s`,
          `faults: ${Object.entries(plan.counts).map(([k, v]) => `${k} ${v}`).join(", ")}; token endpoint unavailable ${downMinutes.toFixed(1)} of ${FAULT_MINUTES} min`,
          `bot calls: ${calls.length}, ok ${calls.filter((c) => c.ok).length}, failed ${judged.length} (justified ${judged.filter((c) => c.justified).length}, unjustified ${judged.filter((c) => !c.justified).length})`,
          `token requests: ${io.tokenRequests.length} (emulator counted ${counters.requests}); outcomes ${JSON.stringify(outcomes)}; tokens issued ${issued.length}`,
          `retries: ${io.tokenRequests.filter((r) => r.outcome !== "200").length} failed token requests, longest run of failures ${longestRun}`,
          `per lifetime (faults): mean ${(faultPhase.reduce((s, l) => s + l.requests, 0) / FAULT_LIFETIMES).toFixed(2)}, max ${Math.max(...faultPhase.map((l) => l.requests))} (bound ${BOUND_PER_LIFETIME}); fault-free lifetimes: ${faultPhase.filter((l) => l.faultFree).length}, max ${faultFreeMax} besides revocations (bound ${BOUND_FAULT_FREE})`,
          `recovery: ${recoveryCalls.filter((c) => c.ok).length}/${recoveryCalls.length} calls ok, token requests per lifetime ${recovery.map((l) => l.requests).join(", ")}`,
          `clock moves ${steps}, real time ${((performance.now() - started) / 1000).toFixed(1)} s`,
          "lifetime | token requests (failed) | bot failures | revocations",
          ...perLifetime.filter((l) => l.requests > BOUND_FAULT_FREE || l.failures > 0 || l.revoked > 0).map((l) =>
            `  #${String(l.k).padStart(2)}    | ${String(l.requests).padStart(3)} (${String(l.failed).padStart(3)})          | ${l.failures}            | ${l.revoked}`
          ),
          "bot failures:",
          ...judged.map((c) =>
            `  t=${(c.at / MINUTE).toFixed(1)} min ${c.error}: ${c.justified ? "justified" : "UNJUSTIFIED"} (${c.why})`
          )
        ]
        console.log(lines.join("\n"))

        // 1. failures only when no valid token could have existed
        assert.deepStrictEqual(judged.filter((c) => !c.justified), [])
        // 2. bounded requests
        assert.strictEqual(io.tokenRequests.length, counters.requests)
        for (const l of faultPhase) assert.isAtMost(l.requests, BOUND_PER_LIFETIME, `lifetime #${l.k}`)
        for (const l of perLifetime.filter((l) => l.faultFree)) {
          assert.isAtMost(l.requests, BOUND_FAULT_FREE + l.revoked, `fault-free lifetime #${l.k}`)
        }
        assert.isFalse(io.tokenRequests.some((r) => r.outcome === "timeout"), "no request timed out")
        // 3. recovery without a restart
        assert.isTrue(recoveryCalls.length >= RECOVERY_LIFETIMES * LIFETIME_MINUTES - 1)
        assert.isTrue(recoveryCalls.every((c) => c.ok))
        for (const l of recovery.slice(1)) assert.isAtMost(l.requests, BOUND_FAULT_FREE)
        assert.isTrue(calls.length === TOTAL_MINUTES)
      }).pipe(
        Effect.withRandom(Random.make(SEED)),
        Effect.provide(FetchHttpClient.layer),
        Effect.provideService(FetchHttpClient.Fetch, tracker.fetch),
        Logger.withMinimumLogLevel(LogLevel.None)
      )
    },
    60_000
  )

  it.scoped(
    "a finite retrySchedule: a background refresh that ran out of retries on a 503 does not fail get while the cached token is valid",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ tokenLifetime: "10 minutes" }).pipe(Effect.orDie)
        const main = emulator.urls.figureMarkets.main
        const endpoint = yield* Endpoint.make({
          provider: "figure-markets",
          tokenUrl: `${main}/auth/oauth2/token`,
          authMethod: "client_secret_post"
        })
        const client = yield* OAuth2Client.make({
          endpoint,
          credentials: Endpoint.credentials(Clients.figureMarketsDemo.clientId, Clients.figureMarketsDemo.clientSecret)
        })
        const tokens = yield* AccessTokens.make({
          scopes: SCOPES,
          refreshSkew: "3 minutes",
          retrySchedule: Schedule.spaced("10 seconds").pipe(Schedule.intersect(Schedule.recurs(1)))
        }).pipe(Effect.provideService(OAuth2Client.OAuth2Client, client))
        /** Waits (a bounded number of event-loop turns, no timer) until the token endpoint has answered `n` 503s. */
        const answered503 = (n: number) =>
          Effect.gen(function*() {
            for (let i = 0; i < 100_000; i++) {
              if (((yield* emulator.countersFor("figure-markets.token")).failures["503"] ?? 0) >= n) {
                for (let j = 0; j < 5; j++) yield* turn
                return
              }
              yield* turn
            }
            return yield* Effect.dieMessage(`the token endpoint never answered ${n} 503s`)
          })

        const first = yield* tokens.get
        yield* emulator.setFaults("figure-markets.token", { failNext: { count: 2, status: 503 } })
        yield* TestClock.adjust("7 minutes") // the refresh point: 503
        yield* answered503(1)
        yield* TestClock.adjust("10 seconds") // the one retry: 503, and the schedule is done
        yield* answered503(2)
        yield* TestClock.adjust("50 seconds") // 8 minutes: the first token is valid for 2 more

        const exit = yield* Effect.exit(tokens.get)
        assert.isTrue(
          Exit.isSuccess(exit),
          `get failed although the cached token is valid until minute 10: ${Exit.isFailure(exit) ? exit.cause.toString() : ""}`
        )
        assert.strictEqual(Exit.isSuccess(exit) ? exit.value : undefined, first)
      }).pipe(Effect.provide(FetchHttpClient.layer), Logger.withMinimumLogLevel(LogLevel.None))
  )
})
