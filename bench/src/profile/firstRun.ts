/**
 * The cold start taken apart: how much of ours' first token is the first run of its code, and how much is the work
 * itself. Each of `processes` fresh processes (against a server started by `server.ts`) first runs the Effect
 * reference's POST (one `HttpClient` POST over a new `layerUndici`, no library), so that what both share (Effect's
 * run loop, the platform's client, undici and its parser) has run once; then, three times, builds ours (the bench's
 * layers, a new `layerUndici` each time) and gets its first token, timing the build and the get apart; and then the
 * reference's POST twice more. Medians over the processes, one line of JSON.
 * `tsx --conditions=source bench/src/profile/firstRun.ts [processes]`.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { spawnSync } from "node:child_process"
import { control as makeControl } from "../control.js"
import { layer, tokenPost } from "../ours.js"
import { median } from "../stats.js"

const base = process.env.BENCH_SERVER ?? "http://127.0.0.1:47123"

interface Figures {
  /** The reference's POST: first (cold), then twice more. */
  readonly reference: ReadonlyArray<number>
  /** Ours' build, then first get, three times each. */
  readonly build: ReadonlyArray<number>
  readonly get: ReadonlyArray<number>
}

const child = async (): Promise<Figures> => {
  const control = makeControl(base, `first-run-${process.pid}`)
  await control.configure({ latencyMs: 20 })
  const run = <A, E>(effect: Effect.Effect<A, E>) =>
    Effect.runPromise(effect.pipe(Logger.withMinimumLogLevel(LogLevel.None)))
  const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.suspend(() => {
      const start = performance.now()
      return Effect.map(effect, (a) => [a, performance.now() - start] as const)
    })
  const reference = Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(tokenPost(control))
    yield* response.json
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici), Effect.orDie, timed, Effect.map(([, ms]) => ms))
  const ours = Effect.scoped(Effect.gen(function*() {
    const [context, build] = yield* timed(Layer.build(layer(control)))
    const [, get] = yield* timed(Effect.orDie(Context.get(context, AccessTokens.AccessTokens).get))
    return { build, get }
  }))
  const first = await run(reference)
  const runs = [await run(ours), await run(ours), await run(ours)]
  return {
    reference: [first, await run(reference), await run(reference)],
    build: runs.map((r) => r.build),
    get: runs.map((r) => r.get)
  }
}

if (process.argv[2] === "child") {
  console.log(JSON.stringify(await child()))
} else {
  const processes = Number(process.argv[2] ?? 9)
  const all: Array<Figures> = []
  for (let i = 0; i < processes; i++) {
    const out = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, "child"], {
      encoding: "utf8",
      env: process.env
    })
    if (out.status !== 0) throw new Error(`child failed: ${out.stderr}`)
    all.push(JSON.parse(out.stdout.trim().split("\n").pop()!) as Figures)
  }
  const col = (pick: (f: Figures) => number) => Math.round(median(all.map(pick)) * 10) / 10
  console.log(JSON.stringify({
    processes,
    reference: { first: col((f) => f.reference[0]!), second: col((f) => f.reference[1]!), third: col((f) => f.reference[2]!) },
    build: { first: col((f) => f.build[0]!), second: col((f) => f.build[1]!), third: col((f) => f.build[2]!) },
    get: { first: col((f) => f.get[0]!), second: col((f) => f.get[1]!), third: col((f) => f.get[2]!) }
  }))
}
