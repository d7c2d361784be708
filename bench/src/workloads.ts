/**
 * The workloads: what each measures, with which parameters (quick and full), which contenders run it, which metrics
 * it reports and which target ours must reach; and their implementation for the peers (Promise code). Our library's
 * implementation, in Effect, lives in `ours.ts`.
 */
import { setTimeout as sleep } from "node:timers/promises"
import { type Control } from "./control.js"
import { bareFetch, type Peer, type PeerInstance, peers } from "./peers.js"
import { type Counters, defaultSettings, SECRET } from "./server.js"
import { activeResources, cpuMicros, heapAfterGc, percentile } from "./stats.js"

/** Heap in use: after a full GC in full runs; as it is in quick runs (whose figures mean nothing, and GCs cost). */
export const heapReader = (profile: Profile): () => number =>
  profile === "full" ? heapAfterGc : () => process.memoryUsage().heapUsed

export type Profile = "quick" | "full"

/** The numbers in issue 17's targets. */
export const TARGETS = {
  /** Herd wall time ÷ the floor's (`Effect.all` of n `Deferred.await`), at most. */
  herdFloorRatio: 1.2,
  /** Cold start ÷ the Effect reference (`HttpClient` POST over `layerUndici`), at most. */
  coldStartRatio: 1.1,
  /** Authorised ÷ bare, for requests/s and for client CPU per request, at least. */
  overheadRatio: 0.97,
  /** Cached gets/s ÷ the best peer's, at least. */
  cachedGetPeerRatio: 1.5
} as const

/** One round's figures, by metric key. */
export type Round = Record<string, number>

export interface HerdParams {
  readonly n: number
  readonly latencyMs: number
}
export interface CachedGetParams {
  readonly n: number
  readonly warmup: number
}
export interface OverheadParams {
  readonly concurrency: number
  readonly segmentMs: number
  /** Segments per side and round, run in the order {@link overheadOrder} gives. */
  readonly segments: number
  readonly warmupMs: number
}

/** One segment's figures. */
export interface SegmentResult {
  readonly rps: number
  readonly cpuUsPerRequest: number
  readonly failures: number
}

/**
 * The order of a round's segments, `true` for authorised: ABBA BAAB... (bare first in even rounds), so that a drift
 * in the machine's speed during the round weighs on both sides alike.
 */
export const overheadOrder = (segments: number, round: number): ReadonlyArray<boolean> => {
  const order: Array<boolean> = []
  for (let i = 0; i < 2 * segments; i++) {
    // Thue–Morse: the parity of the number of 1 bits of i.
    let bits = 0
    for (let n = i; n > 0; n >>= 1) bits += n & 1
    order.push((bits % 2 === 1) === (round % 2 === 0))
  }
  return order
}

/** A round's figures from its segments (equal lengths), in the order {@link overheadOrder} gave. */
export const overheadRound = (order: ReadonlyArray<boolean>, results: ReadonlyArray<SegmentResult>): Round => {
  const side = (auth: boolean) => {
    const mine = results.filter((_, i) => order[i] === auth)
    const mean = (f: (r: SegmentResult) => number) => mine.reduce((sum, r) => sum + f(r), 0) / mine.length
    return {
      rps: mean((r) => r.rps),
      cpuUsPerRequest: mean((r) => r.cpuUsPerRequest),
      failures: mine.reduce((sum, r) => sum + r.failures, 0)
    }
  }
  const a = side(true)
  const b = side(false)
  return {
    ratio: a.rps / b.rps,
    cpuRatio: b.cpuUsPerRequest / a.cpuUsPerRequest,
    authRps: a.rps,
    bareRps: b.rps,
    authCpuUs: a.cpuUsPerRequest,
    bareCpuUs: b.cpuUsPerRequest,
    failures: a.failures + b.failures
  }
}
export interface BoundaryParams {
  readonly lifetimeSec: number
  readonly workers: number
  readonly durationMs: number
  /** Each worker's pause between two calls (a bot's pacing). */
  readonly pauseMs: number
  readonly latencyMs: number
}
export interface MissingExpiryParams {
  readonly lifetimeSec: number
  readonly calls: number
  readonly intervalMs: number
  readonly latencyMs: number
}
export interface LongRunParams {
  readonly gets: number
  readonly cycles: number
  readonly warmupCycles: number
  /** The token lifetime the server announces (ours: simulated time; peers: never reached, refresh is forced). */
  readonly lifetimeSec: number
}
export interface ColdStartParams {
  readonly latencyMs: number
}
export interface BotParams {
  /** The token lifetime the server gives, in seconds. */
  readonly lifetimeSec: number
  readonly workers: number
  /** Concurrent calls per worker. */
  readonly concurrency: number
  /** How long the bot makes authorised calls. */
  readonly durationMs: number
  /** How long the same load runs with the bare client: half before the authorised phase, half after it. */
  readonly bareMs: number
  /** Each side's load before the measured phases (not counted). */
  readonly warmupMs: number
  readonly latencyMs: number
}

export interface ParamsById {
  readonly herd1k: HerdParams
  readonly herd10k: HerdParams
  readonly cachedGet: CachedGetParams
  readonly overhead: OverheadParams
  readonly boundary: BoundaryParams
  readonly missingExpiry: MissingExpiryParams
  readonly longRun: LongRunParams
  readonly coldStart: ColdStartParams
  readonly bot: BotParams
}
export type WorkloadId = keyof ParamsById

/** Everything a round needs: the server, a client id of its own, and the workload's parameters. */
export interface RoundContext<P> {
  readonly control: Control
  readonly params: P
  readonly profile: Profile
  /** 0 for a warm-up round. */
  readonly round: number
  /** Whether the round runs in a process started for its job (so "since the process started" means something). */
  readonly freshProcess: boolean
}

export interface MetricSpec {
  readonly key: string
  readonly label: string
  /** Which way is better; `"none"` for counts that describe rather than rank. */
  readonly better: "lower" | "higher" | "none"
  readonly digits?: number
}

/** Contenders: ours, variants of ours, references, and the peers (by package name). */
export const OURS = "ours"
export const oursName = "effect-oauth2"

export interface Workload<Id extends WorkloadId = WorkloadId> {
  readonly id: Id
  readonly title: string
  /** What is measured, how, and what a figure means (markdown). */
  readonly method: string
  readonly params: { readonly quick: ParamsById[Id]; readonly full: ParamsById[Id] }
  readonly rounds: { readonly quick: number; readonly full: number }
  /** A discarded first round in each process (JIT, connection pools), reported separately. */
  readonly warmupRound: boolean
  /** Where rounds run in full mode: all in one process per contender, or one process per round. */
  readonly isolation: "process-per-contender" | "process-per-round"
  readonly contenders: ReadonlyArray<string>
  readonly metrics: ReadonlyArray<MetricSpec>
  /** The metric the ratio column compares (peer ÷ ours), if a ratio means something here. */
  readonly ratioOf?: string
  /**
   * The contender that is the floor of ours on this workload (what any code on the same stack cannot beat), measured
   * in the same run: it runs whenever ours does, and the tables show each of ours' rows ÷ it.
   */
  readonly floor?: string
  /** The target ours must reach, in words. */
  readonly target: string
  /** Whether `--quick` runs it. */
  readonly inQuick: boolean
  /** Whether `--quick` runs its contenders at once (time-bound workloads that use little CPU). */
  readonly quickConcurrent?: boolean
  peerRound?(peer: Peer, ctx: RoundContext<ParamsById[Id]>): Promise<Round>
}

// -- helpers -------------------------------------------------------------------------------------------------------------

const createPeer = (peer: Peer, control: Control): PeerInstance =>
  peer.create({ base: control.base, tokenUrl: control.tokenUrl, clientId: control.clientId })

const resource401 = (c: { resourceRequests: number; resourceOk: number }) => c.resourceRequests - c.resourceOk

/** Runs `call` from `concurrency` loops until `ms` have passed; counts 200s, other answers and client CPU. */
export const segment = async (
  call: () => Promise<number>,
  ms: number,
  concurrency: number
): Promise<{ rps: number; cpuUsPerRequest: number; failures: number }> => {
  let ok = 0
  let failures = 0
  const cpu = process.cpuUsage()
  const start = performance.now()
  const deadline = start + ms
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadline) {
      try {
        if ((await call()) === 200) ok++
        else failures++
      } catch {
        failures++
      }
    }
  }))
  const elapsed = performance.now() - start
  return { rps: (ok / elapsed) * 1000, cpuUsPerRequest: cpuMicros(cpu) / Math.max(1, ok), failures }
}

/**
 * The upper bound on token requests over a run of ours with its default skew: the first, then one per
 * (lifetime − skew) of run time.
 */
export const boundaryBound = (params: Pick<BoundaryParams, "lifetimeSec" | "durationMs">): number => {
  const lifetimeMs = params.lifetimeSec * 1000
  const skewMs = Math.min(60_000, lifetimeMs / 2)
  return 1 + Math.ceil(params.durationMs / (lifetimeMs - skewMs))
}

/** Whether a get "waited on a token request": it took at least half the token endpoint's latency. */
export const waitedThreshold = (latencyMs: number): number => Math.max(1, latencyMs / 2)

/** The figures of a boundary run, from per-get latencies and server counters. */
export const boundaryRound = (input: {
  readonly latencies: ReadonlyArray<number>
  readonly latencyMs: number
  readonly requests: number
  readonly app401: number
  readonly errors: number
  readonly tokenRequests: number
  readonly expiredTokenSent: number
  readonly server401: number
}): Round => ({
  p50: percentile(input.latencies, 50),
  p99: percentile(input.latencies, 99),
  max: percentile(input.latencies, 100),
  waited: input.latencies.filter((l) => l >= waitedThreshold(input.latencyMs)).length,
  gets: input.latencies.length,
  requests: input.requests,
  expiredTokenSent: input.expiredTokenSent,
  server401: input.server401,
  app401: input.app401,
  errors: input.errors,
  tokenRequests: input.tokenRequests
})

/** One phase of the bot's load: the latency of every call (ms), and how the calls ended. */
export interface LoadResult {
  readonly latencies: ReadonlyArray<number>
  /** Calls answered 200. */
  readonly ok: number
  /** Calls answered anything else, or that failed. */
  readonly failed: number
  /** Of the failed calls, those the caller saw as a 401. */
  readonly app401: number
  /** The phase's length, in ms. */
  readonly ms: number
}

/**
 * `workers` × `concurrency` loops call `call` until `ms` have passed; every call's latency is kept. A call that
 * answers 401 or throws counts as failed (a 401 also as `app401`).
 */
export const load = async (
  call: () => Promise<number>,
  shape: Pick<BotParams, "workers" | "concurrency">,
  ms: number
): Promise<LoadResult> => {
  const latencies: Array<number> = []
  let ok = 0
  let failed = 0
  let app401 = 0
  const start = performance.now()
  const deadline = start + ms
  const loop = async () => {
    while (performance.now() < deadline) {
      const t = performance.now()
      try {
        const status = await call()
        latencies.push(performance.now() - t)
        if (status === 200) ok++
        else {
          failed++
          if (status === 401) app401++
        }
      } catch {
        latencies.push(performance.now() - t)
        failed++
      }
    }
  }
  const worker = () => Promise.all(Array.from({ length: shape.concurrency }, loop))
  await Promise.all(Array.from({ length: shape.workers }, worker))
  return { latencies, ok, failed, app401, ms: performance.now() - start }
}

/** The figures of a bot run: its authorised phase, its bare phases, and the server's counters over the authorised phase. */
export const botRound = (input: {
  readonly auth: LoadResult
  readonly bare: ReadonlyArray<LoadResult>
  readonly tokenRequests: number
  readonly server401: number
  readonly expiredTokenSent: number
}): Round => {
  const bareLatencies = input.bare.flatMap((b) => b.latencies)
  const bareOk = input.bare.reduce((sum, b) => sum + b.ok, 0)
  const bareMs = input.bare.reduce((sum, b) => sum + b.ms, 0)
  const authP50 = percentile(input.auth.latencies, 50)
  const authP99 = percentile(input.auth.latencies, 99)
  const bareP50 = percentile(bareLatencies, 50)
  const bareP99 = percentile(bareLatencies, 99)
  return {
    addedP50: authP50 - bareP50,
    addedP99: authP99 - bareP99,
    authP50,
    authP99,
    bareP50,
    bareP99,
    tokenRequests: input.tokenRequests,
    server401: input.server401,
    expiredTokenSent: input.expiredTokenSent,
    calls: input.auth.ok + input.auth.failed,
    failed: input.auth.failed,
    app401: input.auth.app401,
    bareFailed: input.bare.reduce((sum, b) => sum + b.failed, 0),
    authRps: (input.auth.ok / input.auth.ms) * 1000,
    bareRps: bareMs > 0 ? (bareOk / bareMs) * 1000 : Number.NaN
  }
}

/**
 * A bot round's phases, the same for every library: a warm-up of each side (not counted), the first half of the bare
 * load, the authorised load between two readings of the server's counters, the second half of the bare load. The
 * bare halves on both sides of the authorised phase let a drift of the machine's speed weigh on both sides alike.
 */
export const botPhases = async (
  params: BotParams,
  control: Pick<Control, "counters">,
  sides: {
    readonly auth: (ms: number) => Promise<LoadResult>
    readonly bare: (ms: number) => Promise<LoadResult>
  }
): Promise<Round> => {
  if (params.warmupMs > 0) {
    await sides.bare(params.warmupMs / 2)
    await sides.auth(params.warmupMs / 2)
  }
  const bare1 = await sides.bare(params.bareMs / 2)
  const before = await control.counters()
  const auth = await sides.auth(params.durationMs)
  const after = await control.counters()
  const bare2 = await sides.bare(params.bareMs / 2)
  return botRound({ auth, bare: [bare1, bare2], ...botAccount(before, after) })
}

/** The server's counters over a phase, as a bot round reports them. */
export const botAccount = (before: Counters, after: Counters) => ({
  tokenRequests: after.tokenRequests - before.tokenRequests,
  server401: resource401(after) - resource401(before),
  expiredTokenSent: after.expiredTokenSent - before.expiredTokenSent
})

// -- the workloads -----------------------------------------------------------------------------------------------------

const peerNames = peers.map((p) => p.name)

const herd = (id: "herd1k" | "herd10k", n: number, quickN: number): Workload<typeof id> => ({
  id,
  title: `Herd: ${n.toLocaleString("en-US")} concurrent first calls on a cold client`,
  method: `A client that has no token yet; ${n.toLocaleString("en-US")} callers ask for a token at once. ` +
    "Wall time from the first call to the last answer, and token requests the server received. Token latency 20 ms. " +
    "Ours as a user writes it: `Effect.all(Array.from({ length: n }, () => tokens.get), { concurrency: \"unbounded\" })`; " +
    "two other ways to start n fibers are shown beside it, and the same `Effect.all` over n fibers that only await " +
    "one `Deferred` completed after the token latency (the floor of any Effect code that starts n fibers), and the same " +
    "fibers awaiting a `Deferred` completed by one `HttpClient` POST to the token endpoint over a new `layerUndici`, " +
    "started before them (the floor of any Effect code that starts n fibers and fetches one token on a new " +
    "connection). Peers: `Promise.all` of n `getToken()` calls. " +
    "Each process first runs one discarded round (its time is the *first round* column), then the measured rounds, " +
    "each on a new client.",
  params: { quick: { n: quickN, latencyMs: 20 }, full: { n, latencyMs: 20 } },
  rounds: { quick: 1, full: 3 },
  warmupRound: true,
  inQuick: id === "herd1k",
  isolation: "process-per-contender",
  contenders: [OURS, "ours:forEach", "ours:fork", "floor:herd", "floor:herdRequest", ...peerNames],
  metrics: [
    { key: "ms", label: "wall ms", better: "lower", digits: 1 },
    { key: "tokenRequests", label: "token requests", better: "lower" },
    { key: "failures", label: "failed calls", better: "lower" }
  ],
  ratioOf: "ms",
  floor: "floor:herd",
  target: `at most ${TARGETS.herdFloorRatio}× the floor (\`Effect.all\` of n \`Deferred.await\`, same run), exactly 1 token request`,
  peerRound: async (peer, { control, params }) => {
    await control.configure({ latencyMs: params.latencyMs })
    const client = createPeer(peer, control)
    const start = performance.now()
    const settled = await Promise.allSettled(Array.from({ length: params.n }, () => client.getToken()))
    const ms = performance.now() - start
    client.close()
    const counters = await control.counters()
    return {
      ms,
      tokenRequests: counters.tokenRequests,
      failures: settled.filter((s) => s.status === "rejected").length
    }
  }
})

const cachedGet: Workload<"cachedGet"> = {
  id: "cachedGet",
  title: "Cached get: a valid token, on every request",
  method: "After one token is cached (valid for an hour), the time of n gets in a row, as operations per second. " +
    "Ours inside an Effect program, as users call it: `for (…) yield* tokens.get` in one `Effect.gen`. " +
    "Peers: `for (…) await getToken()`. References: the same loop over `yield* Effect.succeed(token)` (the floor of " +
    "any Effect code), and `runtime.runPromise(tokens.get)` per call, for Promise code that calls into Effect. " +
    "A warm-up of the same loop precedes each measurement.",
  params: { quick: { n: 20_000, warmup: 5_000 }, full: { n: 2_000_000, warmup: 500_000 } },
  rounds: { quick: 1, full: 5 },
  warmupRound: false,
  inQuick: true,
  isolation: "process-per-contender",
  contenders: [OURS, "floor:succeed", "ours:runPromise", ...peerNames],
  metrics: [
    { key: "opsPerSec", label: "gets/s", better: "higher" },
    { key: "nsPerGet", label: "ns/get", better: "lower", digits: 1 }
  ],
  ratioOf: "opsPerSec",
  floor: "floor:succeed",
  target: `at least ${TARGETS.cachedGetPeerRatio}× the best peer's gets/s`,
  peerRound: async (peer, { control, params }) => {
    await control.configure({ latencyMs: 0 })
    const client = createPeer(peer, control)
    await client.getToken()
    for (let i = 0; i < params.warmup; i++) await client.getToken()
    const start = performance.now()
    for (let i = 0; i < params.n; i++) await client.getToken()
    const ms = performance.now() - start
    client.close()
    return { opsPerSec: (params.n / ms) * 1000, nsPerGet: (ms * 1e6) / params.n }
  }
}

const overhead: Workload<"overhead"> = {
  id: "overhead",
  title: "Authorised request overhead, concurrency 50",
  method: "Requests per second to the protected resource from 50 concurrent loops, through the library's " +
    "authorised client, against the same HTTP client with a fixed `Authorization` header (a never-expiring token), " +
    "in alternating segments in the same process. Ours: `OAuth2HttpClient.withAccessToken(client, tokens)` over " +
    "`NodeHttpClient.layerUndici`, against that undici client with `setHeader`. Peers: their authorised call, against " +
    "`fetch` with the header. *ratio* = authorised ÷ bare requests per second (1 = free); *CPU ratio* = bare ÷ " +
    "authorised client CPU per request, which the server's speed does not cap. Each process first runs one " +
    "discarded round (after its warm-up segments, the first measured segment was consistently slow for every " +
    "library). Each round runs 4 segments of 375 ms per side, in the order ABBA BAAB (bare first in even rounds), " +
    "so that the machine's drift during a round weighs on both sides alike. The reference *bare request bounded by " +
    "Effect.timeout* runs the same rounds with, in place of ours, the bare request and its body under `Effect.timeout` " +
    "(30 s, our default `requestTimeout`): the floor of any Effect client that bounds its requests.",
  params: {
    quick: { concurrency: 10, segmentMs: 50, segments: 1, warmupMs: 20 },
    full: { concurrency: 50, segmentMs: 375, segments: 4, warmupMs: 500 }
  },
  rounds: { quick: 1, full: 4 },
  warmupRound: true,
  inQuick: true,
  isolation: "process-per-contender",
  contenders: [OURS, "floor:bounded", ...peerNames],
  metrics: [
    { key: "ratio", label: "ratio (auth/bare)", better: "higher", digits: 3 },
    { key: "cpuRatio", label: "CPU ratio", better: "higher", digits: 3 },
    { key: "authRps", label: "auth req/s", better: "higher" },
    { key: "bareRps", label: "bare req/s", better: "higher" },
    { key: "authCpuUs", label: "auth CPU µs/req", better: "lower", digits: 1 },
    { key: "bareCpuUs", label: "bare CPU µs/req", better: "lower", digits: 1 },
    { key: "failures", label: "non-200", better: "lower" }
  ],
  ratioOf: "ratio",
  target: `authorised ÷ bare at least ${TARGETS.overheadRatio}, for requests/s and for client CPU per request (the bare client in the same process)`,
  peerRound: async (peer, { control, params, round }) => {
    const staticToken = await control.staticToken()
    const client = createPeer(peer, control)
    await client.getToken()
    const url = control.resourceUrl
    const auth = () => client.request(url)
    const bare = () => bareFetch(url, staticToken)
    await segment(bare, params.warmupMs, params.concurrency)
    await segment(auth, params.warmupMs, params.concurrency)
    const order = overheadOrder(params.segments, round)
    const results: Array<SegmentResult> = []
    for (const isAuth of order) results.push(await segment(isAuth ? auth : bare, params.segmentMs, params.concurrency))
    client.close()
    return overheadRound(order, results)
  }
}

const boundary: Workload<"boundary"> = {
  id: "boundary",
  title: "Refresh boundary: many callers across a token's expiry",
  method: "Tokens live `lifetime` seconds (token latency 20 ms). After one warm-up get, `workers` loops run for " +
    "`duration`: time a get, then make the authorised request the library's way, then pause. Get latency p50/p99/max; " +
    "*waited* = gets that took at least half the token latency (they waited on a token request); *expired sent* = " +
    "requests that reached the server with an expired token; *401 at server*; *401 to app* = 401s the caller saw (after " +
    "the library's own replay, if any); token requests during the run. Ours with its defaults (skew 60 s, clamped to " +
    "half the lifetime).",
  params: {
    quick: { lifetimeSec: 1, workers: 10, durationMs: 700, pauseMs: 10, latencyMs: 20 },
    full: { lifetimeSec: 2, workers: 50, durationMs: 6500, pauseMs: 10, latencyMs: 20 }
  },
  rounds: { quick: 1, full: 3 },
  warmupRound: false,
  inQuick: true,
  quickConcurrent: true,
  isolation: "process-per-contender",
  contenders: [OURS, ...peerNames],
  metrics: [
    { key: "p50", label: "get p50 ms", better: "lower", digits: 3 },
    { key: "p99", label: "get p99 ms", better: "lower", digits: 3 },
    { key: "max", label: "get max ms", better: "lower", digits: 1 },
    { key: "waited", label: "waited", better: "lower" },
    { key: "expiredTokenSent", label: "expired sent", better: "lower" },
    { key: "server401", label: "401 at server", better: "lower" },
    { key: "app401", label: "401 to app", better: "lower" },
    { key: "errors", label: "errors", better: "lower" },
    { key: "tokenRequests", label: "token requests", better: "lower" },
    { key: "requests", label: "requests", better: "none" }
  ],
  target: "no caller waits, no expired token sent, no 401 at the server, at most one token request per (lifetime − skew)",
  peerRound: async (peer, { control, params }) => {
    await control.configure({ latencyMs: params.latencyMs, lifetimeSec: params.lifetimeSec })
    const client = createPeer(peer, control)
    await client.getToken()
    const before = await control.counters()
    const latencies: Array<number> = []
    let requests = 0
    let app401 = 0
    let errors = 0
    const deadline = performance.now() + params.durationMs
    await Promise.all(Array.from({ length: params.workers }, async () => {
      while (performance.now() < deadline) {
        try {
          const start = performance.now()
          await client.getToken()
          latencies.push(performance.now() - start)
          requests++
          const status = await client.request(control.resourceUrl)
          if (status === 401) app401++
          else if (status !== 200) errors++
        } catch {
          errors++
        }
        await sleep(params.pauseMs)
      }
    }))
    const after = await control.counters()
    client.close()
    return boundaryRound({
      latencies,
      latencyMs: params.latencyMs,
      requests,
      app401,
      errors,
      tokenRequests: after.tokenRequests - before.tokenRequests,
      expiredTokenSent: after.expiredTokenSent - before.expiredTokenSent,
      server401: resource401(after) - resource401(before)
    })
  }
}

const missingExpiry: Workload<"missingExpiry"> = {
  id: "missingExpiry",
  title: "Missing `expires_in`",
  method: "The token endpoint leaves `expires_in` out, and its tokens die after `lifetime` seconds all the same. " +
    "One caller makes `calls` authorised requests the library's way, one every `interval`, over about " +
    "2.5 lifetimes. *failed* = calls whose answer was not 200 (or threw). Ours is given the provider's documented " +
    "default lifetime (`Endpoint.defaultLifetime` = the server's lifetime), as a provider package does.",
  params: {
    quick: { lifetimeSec: 1, calls: 7, intervalMs: 100, latencyMs: 20 },
    full: { lifetimeSec: 2, calls: 50, intervalMs: 100, latencyMs: 20 }
  },
  rounds: { quick: 1, full: 3 },
  warmupRound: false,
  inQuick: true,
  quickConcurrent: true,
  isolation: "process-per-contender",
  contenders: [OURS, ...peerNames],
  metrics: [
    { key: "failed", label: "failed calls", better: "lower" },
    { key: "calls", label: "calls", better: "none" },
    { key: "server401", label: "401 at server", better: "lower" },
    { key: "tokenRequests", label: "token requests", better: "none" }
  ],
  target: "0 failures, through the provider's default lifetime",
  peerRound: async (peer, { control, params }) => {
    await control.configure({ latencyMs: params.latencyMs, lifetimeSec: params.lifetimeSec, omitExpiresIn: true })
    const client = createPeer(peer, control)
    let failed = 0
    const start = performance.now()
    for (let i = 0; i < params.calls; i++) {
      const wait = start + i * params.intervalMs - performance.now()
      if (wait > 0) await sleep(wait)
      try {
        if ((await client.request(control.resourceUrl)) !== 200) failed++
      } catch {
        failed++
      }
    }
    client.close()
    const counters = await control.counters()
    return {
      failed,
      calls: params.calls,
      server401: resource401(counters),
      tokenRequests: counters.tokenRequests
    }
  }
}

const longRun: Workload<"longRun"> = {
  id: "longRun",
  title: "Long run: gets and refresh cycles",
  method: "`gets` gets spread over `cycles` token replacements (token latency 0). Ours on a simulated `Clock` " +
    "(`simClock.ts`, given with `Effect.withClock`): each cycle advances it to the refresh point, so the real " +
    "background refresh runs (one real token request) while the gets are served. (`TestClock` works too but polls " +
    "with `setTimeout(0)` until fibers settle on every adjustment, several ms per cycle.) Peers cannot be put on a simulated clock (their expiry reads `Date.now()`), so each cycle forces " +
    "the replacement through the library's own call (`refreshToken()` for @badgateway, a new grant for the others). " +
    "A first client lifetime (warm-up cycles only) loads and warms what a process sets up once; then the measured " +
    "client. Heap figures after a full GC: *growth* from the end of its warm-up cycles to the end of the run (client " +
    "alive); *retained* from before it was built to after its scope closed (or it was dropped). *fibers left*: " +
    "fibers started under the client still alive after its scope closed; *timers left*: sleepers still registered " +
    "on the simulated clock (ours only); *handles left*: libuv handles (sockets, timers) beyond those before the " +
    "client was built, once it is closed. One process per round.",
  params: {
    quick: { gets: 10_000, cycles: 100, warmupCycles: 10, lifetimeSec: 3600 },
    full: { gets: 1_000_000, cycles: 10_000, warmupCycles: 500, lifetimeSec: 3600 }
  },
  rounds: { quick: 1, full: 1 },
  warmupRound: false,
  inQuick: true,
  isolation: "process-per-round",
  contenders: [OURS, ...peerNames],
  metrics: [
    { key: "heapGrowthMB", label: "heap growth MB", better: "lower", digits: 2 },
    { key: "heapRetainedMB", label: "retained MB", better: "lower", digits: 2 },
    { key: "fibersLeft", label: "fibers left", better: "lower" },
    { key: "timersLeft", label: "timers left", better: "lower" },
    { key: "handlesLeft", label: "handles left", better: "lower" },
    { key: "tokenRequests", label: "token requests", better: "none" },
    { key: "seconds", label: "run s", better: "lower", digits: 1 }
  ],
  target: "heap growth under 5 MB, no fiber left",
  peerRound: async (peer, { control, params, profile }) => {
    await control.configure({ latencyMs: 0, lifetimeSec: params.lifetimeSec })
    const heapAfterGc = heapReader(profile)
    const perCycle = Math.max(1, Math.floor(params.gets / params.cycles))
    const lifetime = async (cycles: number) => {
      const client = createPeer(peer, control)
      const cycle = async () => {
        for (let g = 0; g < perCycle; g++) await client.getToken()
        await client.forceRefresh()
      }
      await client.getToken()
      for (let i = 0; i < params.warmupCycles; i++) await cycle()
      const heapA = heapAfterGc()
      const start = performance.now()
      for (let i = 0; i < cycles; i++) await cycle()
      const seconds = (performance.now() - start) / 1000
      const heapB = heapAfterGc()
      client.close()
      return { heapA, heapB, seconds }
    }
    // A first client lifetime loads and warms everything a client uses once per process.
    await lifetime(0)
    await sleep(profile === "quick" ? 0 : 50)
    const resources = activeResources()
    const heap0 = heapAfterGc()
    const before = await control.counters()
    const { heapA, heapB, seconds } = await lifetime(params.cycles)
    await sleep(profile === "quick" ? 0 : 50)
    const heapC = heapAfterGc()
    const after = await control.counters()
    return {
      heapGrowthMB: (heapB - heapA) / 2 ** 20,
      heapRetainedMB: (heapC - heap0) / 2 ** 20,
      fibersLeft: Number.NaN,
      timersLeft: Number.NaN,
      handlesLeft: Math.max(0, activeResources() - resources),
      tokenRequests: after.tokenRequests - before.tokenRequests,
      seconds
    }
  }
}

const coldStart: Workload<"coldStart"> = {
  id: "coldStart",
  title: "Cold start: from nothing to the first token",
  method: "A fresh process per round, modules already imported: the time from building the client to holding the " +
    "first token (token latency 20 ms, so about 20 ms of every figure is the server). Ours: build " +
    "`AccessTokens.layer` over `OAuth2Client.layer` over `NodeHttpClient.layerUndici` (or `FetchHttpClient.layer`), " +
    "then `tokens.get`. " +
    "*ms since process start*: the same moment, counted from the start of the process (Node, the tsx loader, " +
    "the imports, the job's message): what a user of the library waits for when a process starts, shown as a " +
    "figure only (tsx is not in a user's process). " +
    "*fetch*: one `fetch` POST and `response.json()`; the Effect reference: the same POST through `HttpClient` over " +
    "`layerUndici`, with no library (the floor of any Effect client on that transport). Peers: construct, then `getToken()`. Each process imports " +
    "only the library it measures, and nothing in it uses the network before the clock starts (so no HTTP stack is " +
    "warm: Node's `fetch` loads its undici on first use, ~50 ms of every `fetch`-based figure).",
  params: { quick: { latencyMs: 20 }, full: { latencyMs: 20 } },
  rounds: { quick: 1, full: 9 },
  warmupRound: false,
  inQuick: true,
  isolation: "process-per-round",
  contenders: [OURS, "ours:fetch", "floor:effectHttp", "fetch", ...peerNames],
  metrics: [
    { key: "ms", label: "ms to first token", better: "lower", digits: 1 },
    { key: "processMs", label: "ms since process start", better: "lower", digits: 0 }
  ],
  ratioOf: "ms",
  floor: "floor:effectHttp",
  target: `at most ${TARGETS.coldStartRatio}× the Effect reference (\`HttpClient\` POST over \`layerUndici\`, no library), medians of fresh processes`,
  peerRound: async (peer, { control, freshProcess, params }) => {
    coldStartSettings(params)
    const start = performance.now()
    const client = createPeer(peer, control)
    await client.getToken()
    const end = performance.now()
    client.close()
    return { ms: end - start, processMs: sinceProcessStart(end, freshProcess) }
  }
}

const bot: Workload<"bot"> = {
  id: "bot",
  title: "Realistic bot: 8 workers × 50 concurrent authorised calls, 1 s tokens",
  method: "A bot's day, compressed: tokens live `lifetime` (1 s, token latency 20 ms), and `workers` workers each keep " +
    "`concurrency` authorised calls in flight for `duration`, all through one client (as a bot's workers share its " +
    "token cache; ours: each worker a fiber of its own). The same load runs with the bare client (a fixed " +
    "`Authorization` header with a never-expiring token, as in the overhead row), half of `bare` before the " +
    "authorised phase and half after it, so that a drift of the machine weighs on both sides alike; a warm-up of each " +
    "side comes first. *token requests*, *401 at server* and *expired sent* are the server's counts over the " +
    "authorised phase; *failed* = authorised calls not answered 200 as the caller saw them (after the library's own " +
    "replay, if any); *added p50/p99* = the authorised calls' latency percentile minus the bare calls' (ms).",
  params: {
    quick: { lifetimeSec: 1, workers: 2, concurrency: 5, durationMs: 1_500, bareMs: 500, warmupMs: 0, latencyMs: 20 },
    full: { lifetimeSec: 1, workers: 8, concurrency: 50, durationMs: 30_000, bareMs: 10_000, warmupMs: 1_000, latencyMs: 20 }
  },
  rounds: { quick: 1, full: 1 },
  warmupRound: false,
  inQuick: true,
  quickConcurrent: true,
  isolation: "process-per-contender",
  contenders: [OURS, ...peerNames],
  metrics: [
    { key: "tokenRequests", label: "token requests", better: "lower" },
    { key: "server401", label: "401 at server", better: "lower" },
    { key: "expiredTokenSent", label: "expired sent", better: "lower" },
    { key: "failed", label: "failed", better: "lower" },
    { key: "calls", label: "calls", better: "none" },
    { key: "addedP50", label: "added p50 ms", better: "lower", digits: 2 },
    { key: "addedP99", label: "added p99 ms", better: "lower", digits: 2 },
    { key: "authP50", label: "auth p50 ms", better: "lower", digits: 2 },
    { key: "authP99", label: "auth p99 ms", better: "lower", digits: 2 },
    { key: "bareP50", label: "bare p50 ms", better: "lower", digits: 2 },
    { key: "bareP99", label: "bare p99 ms", better: "lower", digits: 2 },
    { key: "authRps", label: "auth req/s", better: "higher" },
    { key: "bareRps", label: "bare req/s", better: "higher" },
    { key: "bareFailed", label: "bare non-200", better: "lower" }
  ],
  target: "no 401 at the server, no failed call, at most one token request per (lifetime − skew); added p50/p99 " +
    "latency versus bare reported",
  peerRound: async (peer, { control, params }) => {
    await control.configure({ latencyMs: params.latencyMs, lifetimeSec: params.lifetimeSec })
    const staticToken = await control.staticToken()
    const client = createPeer(peer, control)
    await client.getToken()
    const url = control.resourceUrl
    try {
      return await botPhases(params, control, {
        auth: (ms) => load(() => client.request(url), params, ms),
        bare: (ms) => load(() => bareFetch(url, staticToken), params, ms)
      })
    } finally {
      client.close()
    }
  }
}

/**
 * The cold start runs on the server's default settings, so that nothing in the measured process touches the network
 * (and warms an HTTP stack) before the clock starts.
 */
export const coldStartSettings = (params: ColdStartParams): void => {
  if (params.latencyMs !== defaultSettings.latencyMs) {
    throw new Error(`the cold start uses the server's default latency (${defaultSettings.latencyMs} ms)`)
  }
}

/**
 * `performance.now()` counts from the start of the process: the figure for a round in a process of its own; `NaN`
 * (not shown) in a shared process.
 */
export const sinceProcessStart = (now: number, freshProcess: boolean): number => (freshProcess ? now : Number.NaN)

/** The bare `fetch` POST of the cold-start workload. */
export const fetchColdStart = async ({ control, freshProcess, params }: RoundContext<ColdStartParams>): Promise<Round> => {
  coldStartSettings(params)
  const start = performance.now()
  const response = await fetch(control.tokenUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: control.clientId, client_secret: SECRET })
  })
  const body = (await response.json()) as { access_token?: string }
  const end = performance.now()
  if (typeof body.access_token !== "string") throw new Error("fetch cold start: no access_token")
  return { ms: end - start, processMs: sinceProcessStart(end, freshProcess) }
}

/** Every workload, in report order. */
export const workloads: ReadonlyArray<Workload> = [
  herd("herd1k", 1_000, 50),
  herd("herd10k", 10_000, 50),
  cachedGet,
  overhead,
  boundary,
  missingExpiry,
  longRun,
  coldStart,
  bot
] as ReadonlyArray<Workload>

export const workloadById = (id: string): Workload | undefined => workloads.find((w) => w.id === id)

/** Display names of the contenders that are not peers. */
export const contenderNames: Record<string, string> = {
  [OURS]: oursName,
  "ours:forEach": `${oursName} (Effect.forEach, discard)`,
  "ours:fork": `${oursName} (fork each, join all)`,
  "ours:runPromise": `${oursName} (runPromise per get)`,
  "ours:fetch": `${oursName} over FetchHttpClient`,
  "floor:effectHttp": "reference: Effect HttpClient POST over layerUndici (no library)",
  "floor:succeed": "reference: yield* Effect.succeed(token)",
  "floor:bounded": "reference: the bare request bounded by Effect.timeout (no library)",
  "floor:herd": "reference: Effect.all of n Deferred.await (no library)",
  "floor:herdRequest": "reference: the same, the Deferred completed by one HttpClient POST on a new connection (no library)",
  fetch: "reference: bare fetch POST"
}

export const isOurs = (contender: string): boolean =>
  contender === OURS || contender.startsWith("ours:") || contender.startsWith("floor:")
