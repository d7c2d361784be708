/**
 * The realistic bot's authorised (or bare) load for a while, against a server started by `server.ts`, with a timeline
 * of latencies and outcomes per 100 ms. For `node --cpu-prof`: `tsx bench/src/profile/bot.ts auth 10000`.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { control as makeControl } from "../control.js"
import { build, status } from "../ours.js"

const side = process.argv[2] ?? "auth"
const ms = Number(process.argv[3] ?? 10_000)
const workers = Number(process.argv[4] ?? 8)
const concurrency = Number(process.argv[5] ?? 50)
const lifetimeSec = Number(process.argv[6] ?? 1)
const base = process.env.BENCH_SERVER ?? "http://127.0.0.1:47123"
const control = makeControl(base, `profile-${process.pid}`)

const program = Effect.scoped(Effect.gen(function*() {
  yield* Effect.promise(() => control.configure({ latencyMs: 20, lifetimeSec }))
  const staticToken = yield* Effect.promise(() => control.staticToken())
  const { authorised, http, tokens } = yield* build(control)
  yield* Effect.orDie(tokens.get)
  const bare = http.pipe(HttpClient.mapRequest(HttpClientRequest.setHeader("authorization", `Bearer ${staticToken}`)))
  const call = status(side === "auth" ? authorised : bare, control.resourceUrl)
  const before = yield* Effect.promise(() => control.counters())
  const start = performance.now()
  const deadline = start + ms
  const buckets = new Map<number, { n: number; sum: number; bad: number }>()
  const latencies: Array<number> = []
  const outcomes = new Map<string, number>()
  const loop = Effect.gen(function*() {
    while (performance.now() < deadline) {
      const t = performance.now()
      const result = yield* Effect.either(call)
      const now = performance.now()
      latencies.push(now - t)
      const key = Math.floor((Date.now()) / 100) % 10
      const b = buckets.get(key) ?? { n: 0, sum: 0, bad: 0 }
      b.n++
      b.sum += now - t
      if (!(result._tag === "Right" && result.right === 200)) {
        b.bad++
        const what = result._tag === "Right" ? `status ${result.right}` : String((result.left as { _tag?: unknown })._tag)
        outcomes.set(what, (outcomes.get(what) ?? 0) + 1)
      }
      buckets.set(key, b)
    }
  })
  const cpu = process.cpuUsage()
  yield* Effect.forEach(Array.from({ length: workers * concurrency }), () => loop, { concurrency: "unbounded", discard: true })
  const used = process.cpuUsage(cpu)
  const after = yield* Effect.promise(() => control.counters())
  latencies.sort((a, b) => a - b)
  const elapsed = performance.now() - start
  console.log(JSON.stringify({
    side,
    calls: latencies.length,
    rps: Math.round(latencies.length / elapsed * 1000),
    cpuUsPerCall: Math.round((used.user + used.system) / latencies.length),
    p50: latencies[Math.floor(latencies.length / 2)]?.toFixed(1),
    p99: latencies[Math.floor(latencies.length * 0.99)]?.toFixed(1),
    tokenRequests: after.tokenRequests - before.tokenRequests,
    expiredSent: after.expiredTokenSent - before.expiredTokenSent,
    failures: Object.fromEntries(outcomes)
  }))
  // By the tenth of a second within the wall-clock second (the 1 s tokens' boundaries are at whole seconds).
  for (const [key, b] of [...buckets].sort(([a], [b]) => a - b)) {
    console.log(`  .${key}s: ${b.n} calls, mean ${(b.sum / b.n).toFixed(1)} ms, not 200: ${b.bad}`)
  }
}))

await Effect.runPromise(program.pipe(Logger.withMinimumLogLevel(LogLevel.None)))
