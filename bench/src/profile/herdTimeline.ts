/**
 * The herd's timeline: when the n callers have all started, when the token request's connection opens and its
 * headers are written (undici's diagnostics channels), when its answer ends, when the first caller wakes and when the
 * last does; for ours, for the floor with the token request (n fibers awaiting a `Deferred` completed by one
 * `HttpClient` POST on a new connection, started before them) and for the floor (the `Deferred` completed by a 20 ms
 * timer), alternating in one process, against a server started by `server.ts`. Prints one line per round (ms from the
 * start of the herd), the first two rounds discarded. `tsx --conditions=source bench/src/profile/herdTimeline.ts [n] [rounds]`.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import diagnostics from "node:diagnostics_channel"
import { control as makeControl } from "../control.js"
import { build, tokenPost } from "../ours.js"

const n = Number(process.argv[2] ?? 1000)
const rounds = Number(process.argv[3] ?? 6)
const base = process.env.BENCH_SERVER ?? "http://127.0.0.1:47123"
const control = makeControl(base, `herd-timeline-${process.pid}`)
await control.configure({ latencyMs: 20 })

let t0 = 0
let marks: Array<string> = []
const mark = (name: string) => marks.push(`${(performance.now() - t0).toFixed(1)} ${name}`)
const channels = {
  "undici:client:beforeConnect": "connecting",
  "undici:client:connected": "connected",
  "undici:client:sendHeaders": "request written",
  "undici:request:trailers": "answer ended"
}
for (const [channel, name] of Object.entries(channels)) diagnostics.subscribe(channel, () => mark(name))

/** n callers of `get`, marking when the last has started, and when the first and the last have their answer. */
const herd = <A, E>(get: Effect.Effect<A, E>) =>
  Effect.suspend(() => {
    let started = 0
    let woken = 0
    const caller = Effect.zipRight(
      Effect.sync(() => {
        if (++started === n) mark("all started")
      }),
      Effect.tap(get, () =>
        Effect.sync(() => {
          if (++woken === 1) mark("first woken")
          if (woken === n) mark("last woken")
        }))
    )
    return Effect.all(Array.from({ length: n }, () => caller), { concurrency: "unbounded", discard: true })
  })
const begin = Effect.sync(() => {
  marks = []
  t0 = performance.now()
})

const ours = Effect.scoped(Effect.gen(function*() {
  const { tokens } = yield* build(control)
  yield* begin
  yield* herd(tokens.get)
}))
const withRequest = Effect.scoped(Effect.gen(function*() {
  const client = Context.get(yield* Layer.build(NodeHttpClient.layerUndici), HttpClient.HttpClient)
  const deferred = yield* Deferred.make<number>()
  const post = client.execute(tokenPost(control)).pipe(Effect.flatMap((r) => r.json), Effect.scoped, Effect.orDie)
  yield* begin
  yield* Effect.fork(Effect.flatMap(post, () => Deferred.succeed(deferred, 1)))
  yield* herd(Deferred.await(deferred))
}))
const floor = Effect.gen(function*() {
  const deferred = yield* Deferred.make<number>()
  yield* begin
  yield* Effect.fork(
    Effect.delay(Effect.zipRight(Effect.sync(() => mark("timer fired")), Deferred.succeed(deferred, 1)), Duration.millis(20))
  )
  yield* herd(Deferred.await(deferred))
})

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect.pipe(Logger.withMinimumLogLevel(LogLevel.None)))
for (let r = 0; r < rounds + 2; r++) {
  for (const [name, program] of [["ours", ours], ["floor with the request", withRequest], ["floor", floor]] as const) {
    await run(program as Effect.Effect<void>)
    if (r >= 2) console.log(`${name.padEnd(22)} ${marks.join(" | ")}`)
  }
}
