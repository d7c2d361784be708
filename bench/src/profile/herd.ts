/**
 * The herd (n cold callers) for ours and for its floor, alternating in one process, against a server started by
 * `server.ts`: medians of wall time and of the process's CPU time over the herd (CPU is steadier than wall time on a
 * loaded machine). `tsx bench/src/profile/herd.ts [n] [rounds]`.
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { control as makeControl } from "../control.js"
import { build } from "../ours.js"
import { cpuMicros } from "../stats.js"

const n = Number(process.argv[2] ?? 1000)
const rounds = Number(process.argv[3] ?? 10)
const base = process.env.BENCH_SERVER ?? "http://127.0.0.1:47123"
const control = makeControl(base, `herd-${process.pid}`)
await control.configure({ latencyMs: 20 })

const timed = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.suspend(() => {
    const cpu = process.cpuUsage()
    const start = performance.now()
    return Effect.map(effect, () => ({ ms: performance.now() - start, cpuMs: cpuMicros(cpu) / 1000 }))
  })
const ours = Effect.scoped(Effect.gen(function*() {
  const { tokens } = yield* build(control)
  return yield* timed(Effect.all(Array.from({ length: n }, () => tokens.get), { concurrency: "unbounded" }))
}))
const floor = Effect.gen(function*() {
  const deferred = yield* Deferred.make<number>()
  return yield* timed(Effect.zipRight(
    Effect.fork(Effect.delay(Deferred.succeed(deferred, 1), Duration.millis(20))),
    Effect.all(Array.from({ length: n }, () => Deferred.await(deferred)), { concurrency: "unbounded" })
  ))
})
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e.pipe(Logger.withMinimumLogLevel(LogLevel.None)))
await run(ours)
await run(floor)
const rows = { ours: [] as Array<{ ms: number; cpuMs: number }>, floor: [] as Array<{ ms: number; cpuMs: number }> }
for (let r = 0; r < rounds; r++) {
  rows.ours.push(await run(ours))
  rows.floor.push(await run(floor))
}
const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const o = { ms: median(rows.ours.map((x) => x.ms)), cpu: median(rows.ours.map((x) => x.cpuMs)) }
const f = { ms: median(rows.floor.map((x) => x.ms)), cpu: median(rows.floor.map((x) => x.cpuMs)) }
console.log(`n ${n}: wall ours ${o.ms.toFixed(1)} / floor ${f.ms.toFixed(1)} ms = ${(o.ms / f.ms).toFixed(2)}; ` +
  `CPU ours ${o.cpu.toFixed(1)} / floor ${f.cpu.toFixed(1)} ms = ${(o.cpu / f.cpu).toFixed(2)}`)
