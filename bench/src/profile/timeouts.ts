/**
 * CPU per operation of ways to bound an asynchronous effect by a deadline (50 concurrent loops, each op resolved on
 * `setImmediate`), with the FiberRefs a request through `withAccessToken` carries set around it.
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Headers from "@effect/platform/Headers"
import * as Duration from "effect/Duration"
import * as Exit from "effect/Exit"
import { exitWithin } from "../../../packages/core/src/internal/deadline.js"

const op = Effect.async<number>((resume) => {
  const h = setImmediate(() => resume(Effect.succeed(1)))
  return Effect.sync(() => clearImmediate(h))
})
const d = Duration.seconds(30)
const withRefs = <A, E>(e: Effect.Effect<A, E>) =>
  e.pipe(
    Effect.locally(HttpClient.currentTracerDisabledWhen, () => false),
    Effect.locally(FiberRef.currentTracerEnabled, true),
    Effect.locallyWith(Headers.currentRedactedNames, (n) => [...n, "x"])
  )
/** One fork: the operation runs in a child fiber; the caller waits for it or for the clock, whichever is first. */
const oneFork = <A, E, E2>(self: Effect.Effect<A, E>, duration: Duration.Duration, onTimeout: () => E2): Effect.Effect<A, E | E2> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(Effect.fork(restore(self)), (child) =>
      restore(Effect.raceFirst(Fiber.join(child), Effect.flatMap(Effect.sleep(duration), () => Effect.fail(onTimeout())))).pipe(
        Effect.onExit(() => Fiber.interrupt(child))
      )))

const variants: Record<string, Effect.Effect<unknown, unknown>> = {
  plain: op,
  refs: withRefs(op),
  timeoutFail: Effect.timeoutFail(op, { duration: d, onTimeout: () => "t" }),
  refsTimeoutFail: withRefs(Effect.timeoutFail(op, { duration: d, onTimeout: () => "t" })),
  refs2TimeoutFail: Effect.timeoutFail(withRefs(Effect.timeoutFail(op, { duration: d, onTimeout: () => "t" })), { duration: d, onTimeout: () => "t" }),
  refsTimeoutOuter: Effect.timeoutFail(withRefs(op), { duration: d, onTimeout: () => "t" }),
  interruptibleFork: Effect.flatMap(Effect.fork(op), Fiber.join),
  oneFork: oneFork(op, d, () => "t"),
  exitWithin: Effect.flatten(exitWithin(op, d, () => "t")),
  exit: Effect.exit(op).pipe(Effect.flatMap((e) => Exit.isSuccess(e) ? Effect.succeed(e.value) : Effect.failCause(e.cause)))
}

const segment = (e: Effect.Effect<unknown, unknown>, ms: number) =>
  Effect.suspend(() => {
    let n = 0
    const cpu = process.cpuUsage()
    const deadline = performance.now() + ms
    const loop = Effect.gen(function*() {
      while (performance.now() < deadline) {
        yield* Effect.either(e)
        n++
      }
    })
    return Effect.map(Effect.forEach(Array.from({ length: 50 }), () => loop, { concurrency: "unbounded", discard: true }), () => {
      const u = process.cpuUsage(cpu)
      return (u.user + u.system) / n
    })
  })

const names = Object.keys(variants)
const results = new Map<string, Array<number>>(names.map((n) => [n, []]))
await Effect.runPromise(Effect.gen(function*() {
  for (const n of names) yield* segment(variants[n]!, 200)
  for (let r = 0; r < 5; r++) for (const n of r % 2 ? [...names].reverse() : names) results.get(n)!.push(yield* segment(variants[n]!, 300))
}))
for (const [n, xs] of results) console.log(n.padEnd(18), ([...xs].sort((a, b) => a - b)[2]! * 1000).toFixed(0).padStart(6), "ns/op")
