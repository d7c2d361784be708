/**
 * The work an authorised request adds, counted rather than timed (so that a loaded machine does not blur it): fibers
 * started and scheduler tasks run per request, over the in-memory transport of `fake.ts` (one `setImmediate` per
 * answer, a 2-byte body with a Content-Length), for the bare client with a fixed header and for `withAccessToken`;
 * and, beside them, the least CPU per request of many short segments (the least is the figure least inflated by
 * other processes). `tsx bench/src/profile/work.ts [requests] [segments] [segmentMs] [concurrency]`.
 */
import * as Effect from "effect/Effect"
import * as Scheduler from "effect/Scheduler"
import * as Supervisor from "effect/Supervisor"
import { segment } from "../ours.js"
import { variants } from "./inMemory.js"

const requests = Number(process.argv[2] ?? 2000)
const segments = Number(process.argv[3] ?? 30)
const segmentMs = Number(process.argv[4] ?? 60)
const concurrency = Number(process.argv[5] ?? 50)


/** Fibers started and scheduler tasks run by `n` sequential calls. */
const count = (effect: Effect.Effect<number, unknown>, n: number) =>
  Effect.gen(function*() {
    let tasks = 0
    const base = Scheduler.defaultScheduler
    const counting = Scheduler.make((task, priority) => {
      tasks++
      base.scheduleTask(task, priority)
    }, (fiber) => base.shouldYield(fiber))
    let started = 0
    const supervisor = new (class extends Supervisor.AbstractSupervisor<void> {
      value = Effect.void
      override onStart() {
        started++
      }
    })()
    yield* Effect.supervised(Effect.withScheduler(Effect.repeatN(effect, n - 1), counting), supervisor)
    return { tasks: tasks / n, fibers: started / n }
  })

await Effect.runPromise(Effect.gen(function*() {
  const lines: Array<string> = []
  for (const [name, effect] of Object.entries(variants)) {
    yield* count(effect, 100)
    const { fibers, tasks } = yield* count(effect, requests)
    lines.push(`${name.padEnd(6)} fibers/req ${fibers.toFixed(2)}  scheduler tasks/req ${tasks.toFixed(2)}`)
  }
  const cpu = new Map<string, Array<number>>(Object.keys(variants).map((n) => [n, []]))
  for (let r = 0; r < segments; r++) {
    for (const name of r % 2 ? ["auth", "bare"] : ["bare", "auth"]) {
      cpu.get(name)!.push((yield* segment(variants[name]!, segmentMs, concurrency)).cpuUsPerRequest)
    }
  }
  const least = (xs: Array<number>) => Math.min(...xs)
  const bare = least(cpu.get("bare")!)
  for (const line of lines) console.log(line)
  for (const [name, xs] of cpu) {
    console.log(`${name.padEnd(6)} least CPU ${least(xs).toFixed(1)} µs/req  bare/this ${(bare / least(xs)).toFixed(3)}`)
  }
}))
