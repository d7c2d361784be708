/**
 * Client CPU per authorised request, by variant, in alternating segments in one process (concurrency 50), against a
 * server started by `server.ts`. The variants are named by the pieces they leave out, read per request from
 * `H14_X` by an instrumented build (not committed); "bare" is the plain client with a fixed header.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { control as makeControl } from "../control.js"
import { build, segment, status } from "../ours.js"

const variants = (process.argv[2] ?? "bare,full").split(",")
const rounds = Number(process.argv[3] ?? 6)
const segmentMs = Number(process.argv[4] ?? 400)
const concurrency = Number(process.argv[5] ?? 50)
const base = process.env.BENCH_SERVER ?? "http://127.0.0.1:47123"
const control = makeControl(base, `pieces-${process.pid}`)

const program = Effect.scoped(Effect.gen(function*() {
  const staticToken = yield* Effect.promise(() => control.staticToken())
  const { authorised, http, tokens } = yield* build(control)
  yield* Effect.orDie(tokens.get)
  const bareClient = http.pipe(HttpClient.mapRequest(HttpClientRequest.setHeader("authorization", `Bearer ${staticToken}`)))
  const bare = status(bareClient, control.resourceUrl)
  const auth = status(authorised, control.resourceUrl)
  const results = new Map<string, Array<number>>(variants.map((v) => [v, []]))
  const run = (v: string) => {
    process.env.H14_X = v === "full" ? "" : v
    return segment(v === "bare" ? bare : auth, segmentMs, concurrency)
  }
  for (const v of variants) yield* run(v)
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? variants : [...variants].reverse()
    for (const v of order) results.get(v)!.push((yield* run(v)).cpuUsPerRequest)
  }
  const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const bareMedian = results.has("bare") ? median(results.get("bare")!) : undefined
  for (const [v, xs] of results) {
    const m = median(xs)
    console.log(`${v.padEnd(8)} ${m.toFixed(0).padStart(5)} µs/req${bareMedian === undefined ? "" : `  bare/this ${(bareMedian / m).toFixed(3)}`}  (${xs.map((x) => x.toFixed(0)).join(" ")})`)
  }
}))

await Effect.runPromise(program.pipe(Logger.withMinimumLogLevel(LogLevel.None)))
