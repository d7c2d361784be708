/**
 * Token requests per token lifetime for N bot processes with the same credentials, with and without the shared Redis
 * store. For the `pnpm bench` harness to call:
 *
 * ```ts
 * import { measureProcesses } from "@effect-oauth2/redis/../bench/processes.js" // or a relative path
 * const shared = await measureProcesses({ processes: 8, withStore: true })    // tokenRequests: 1
 * const alone = await measureProcesses({ processes: 8, withStore: false })    // tokenRequests: 8
 * ```
 *
 * Each run starts an emulator in this process and, with the store, its own redis-server (which must be installed:
 * `apt-get install redis-server`), then N child processes (test/utils/child.ts) that each hold `lifetimes` successive
 * tokens: the first from a cold start, the next ones from their background refresh. With `lifetimes > 1` the tokens
 * live `tokenLifetime` (default 3 s) so that the refreshes happen during the run.
 *
 * Also runnable on its own: `node --import tsx --conditions=source packages/redis/bench/processes.ts [processes] [lifetimes]`.
 */
import { Emulator } from "@effect-oauth2/emulator"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { pathToFileURL } from "node:url"
import { type ChildConfig, childCommand, isDone, isToken, spawnChild } from "../test/utils/processes.js"
import * as RedisServer from "../test/utils/redisServer.js"
import { testKey, tokenUrlOf } from "../test/utils/setup.js"

export interface MeasureOptions {
  /** How many bot processes. */
  readonly processes: number
  /** Whether they share the Redis store (else each keeps its token in memory). */
  readonly withStore: boolean
  /** How many token lifetimes each process lives through. Default: 1 (a cold start). */
  readonly lifetimes?: number | undefined
  /** The token lifetime when `lifetimes > 1`. Default: 3 seconds (with 1 lifetime: the provider's 24 h). */
  readonly tokenLifetime?: Duration.DurationInput | undefined
}

export interface Measurement {
  readonly processes: number
  readonly withStore: boolean
  readonly lifetimes: number
  /** Token requests the emulator received. */
  readonly tokenRequests: number
  /** `tokenRequests / lifetimes`: the figure to compare (1 with the store, `processes` without). */
  readonly tokenRequestsPerLifetime: number
  /** Distinct tokens the processes ended up holding over the run. */
  readonly distinctTokens: number
  /** Whether every token a process reported was valid when it got it. */
  readonly allValid: boolean
  /** From the first process started to the last one done. */
  readonly elapsedMs: number
}

export const measure = (options: MeasureOptions): Effect.Effect<Measurement> =>
  Effect.gen(function*() {
    const lifetimes = Math.max(1, Math.floor(options.lifetimes ?? 1))
    const emulator = yield* Effect.orDie(Emulator.make(
      lifetimes > 1 ? { tokenLifetimes: { figureMarkets: options.tokenLifetime ?? Duration.seconds(3) } } : {}
    ))
    const redis = options.withStore ? yield* RedisServer.make : undefined
    const lifetimeMs = Duration.toMillis(Duration.decode(options.tokenLifetime ?? Duration.seconds(3)))
    const config: ChildConfig = {
      tokenUrl: tokenUrlOf(emulator),
      redisUrl: redis?.url,
      key: Redacted.value(testKey),
      prefix: "bench:",
      lockTtlMs: 10_000,
      waitTimeoutMs: 20_000,
      pollIntervalMs: 50,
      lifetimes,
      deadlineMs: 60_000 + lifetimes * lifetimeMs
    }
    const command = yield* childCommand
    const started = Date.now()
    const children = yield* Effect.forEach(Array.from({ length: options.processes }), () => spawnChild(config, command))
    const timeout = Duration.millis(config.deadlineMs + 5_000)
    yield* Effect.forEach(children, (child) => child.waitFor(isDone, timeout), { concurrency: "unbounded" })
    const elapsedMs = Date.now() - started
    const tokens = children.flatMap((child) => child.events.filter(isToken))
    const tokenRequests = (yield* emulator.countersFor("figure-markets.token")).requests
    return {
      processes: options.processes,
      withStore: options.withStore,
      lifetimes,
      tokenRequests,
      tokenRequestsPerLifetime: tokenRequests / lifetimes,
      distinctTokens: new Set(tokens.map((token) => token.fingerprint)).size,
      allValid: tokens.every((token) => token.valid),
      elapsedMs
    }
  }).pipe(Effect.scoped)

/** {@link measure} as a Promise, for the benchmark harness. */
export const measureProcesses = (options: MeasureOptions): Promise<Measurement> => Effect.runPromise(measure(options))

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const processes = Number(process.argv[2] ?? 8)
  const lifetimes = Number(process.argv[3] ?? 1)
  for (const withStore of [false, true]) {
    const result = await measureProcesses({ processes, withStore, lifetimes })
    console.log(JSON.stringify(result))
  }
}
