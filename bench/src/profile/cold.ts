/**
 * Cold start in phases, in this (fresh) process, against a server started by `server.ts`: `ours` builds the HTTP
 * layer, then `OAuth2Client`, then `AccessTokens`, then gets the first token; `floor` is the harness's Effect
 * reference (one POST over `layerUndici`). Prints one JSON line: when each phase ended (ms from the start).
 * `tsx --conditions=source bench/src/profile/cold.ts ours|floor`.
 *
 * `COUNT=1`: counted rather than timed (counts do not depend on the machine's load): the Effect operations the run loop
 * evaluated in each phase (a `Supervisor`, with op supervision on) and the fibers started; `TOP=20` also lists each
 * phase's most frequent operations.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as Endpoint from "@effect-oauth2/core/Endpoint"
import * as OAuth2Client from "@effect-oauth2/core/OAuth2Client"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as RuntimeFlags from "effect/RuntimeFlags"
import * as RuntimeFlagsPatch from "effect/RuntimeFlagsPatch"
import * as Supervisor from "effect/Supervisor"
import { control as makeControl } from "../control.js"
import { tokenPost } from "../ours.js"
import { SECRET } from "../server.js"

const which = process.argv[2] ?? "ours"
const count = process.env.COUNT !== undefined
const base = process.env.BENCH_SERVER ?? "http://127.0.0.1:47123"
const control = makeControl(base, `cold-${which}`)
await control.configure({ latencyMs: 20 })

const marks: Record<string, number> = {}
/** The same instants on the monotonic clock in µs (what a `--cpu-prof` profile's sample times count in). */
const ticks: Record<string, number> = {}
const start = performance.now()
/** The phase under way, for the counts: named by the mark that ends it. */
let phase = "http"
const mark = (name: string, next: string) =>
  Effect.sync(() => {
    marks[name] = Math.round((performance.now() - start) * 10) / 10
    ticks[name] = Number(process.hrtime.bigint() / 1000n)
    phase = next
  })

const ops: Record<string, number> = {}
const fibers: Record<string, number> = {}
const byOp: Record<string, Map<string, number>> = {}
/** An operation's kind, and the first characters of its continuation's code (what tells two `flatMap`s apart). */
const describe = (effect: unknown): string => {
  const op = effect as { _op?: string; effect_instruction_i0?: unknown; effect_instruction_i1?: unknown }
  const fn = op.effect_instruction_i1 ?? op.effect_instruction_i0
  return `${op._op ?? "?"}${typeof fn === "function" ? ` ${fn.toString().replace(/\s+/g, " ").slice(0, 90)}` : ""}`
}
class Counter extends Supervisor.AbstractSupervisor<void> {
  override get value() {
    return Effect.void
  }
  override onStart() {
    fibers[phase] = (fibers[phase] ?? 0) + 1
  }
  override onEffect(_fiber: unknown, effect: unknown) {
    ops[phase] = (ops[phase] ?? 0) + 1
    if (process.env.TOP === undefined) return
    const kinds = (byOp[phase] ??= new Map())
    const key = describe(effect)
    kinds.set(key, (kinds.get(key) ?? 0) + 1)
  }
}

const program = which === "floor"
  ? Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    yield* mark("http", "token")
    const response = yield* client.execute(tokenPost(control))
    yield* response.json
    yield* mark("token", "close")
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici), Effect.orDie)
  : Effect.scoped(Effect.gen(function*() {
    const http = yield* Layer.build(NodeHttpClient.layerUndici)
    yield* mark("http", "client")
    const client = yield* Layer.build(
      OAuth2Client.layer({
        endpoint: { provider: "bench", tokenUrl: control.tokenUrl, authMethod: "client_secret_post" },
        credentials: Endpoint.credentials(control.clientId, SECRET)
      }).pipe(Layer.orDie, Layer.provide(Layer.succeedContext(http)))
    )
    yield* mark("client", "tokens")
    const context = yield* Layer.build(AccessTokens.layer().pipe(Layer.provide(Layer.succeedContext(client))))
    yield* mark("tokens", "token")
    yield* Context.get(context, AccessTokens.AccessTokens).get
    yield* mark("token", "close")
  })).pipe(Effect.orDie)

await Effect.runPromise(
  count
    ? program.pipe(
      Logger.withMinimumLogLevel(LogLevel.None),
      Effect.supervised(new Counter()),
      Effect.withRuntimeFlagsPatch(RuntimeFlagsPatch.enable(RuntimeFlags.OpSupervision))
    )
    : program.pipe(Logger.withMinimumLogLevel(LogLevel.None))
)
console.log(JSON.stringify(count ? { which, ops, fibers } : { which, ...marks }))
if (process.env.COLD_TICKS !== undefined) console.log(JSON.stringify(ticks))
for (const [name, kinds] of Object.entries(byOp)) {
  console.log(`-- ${name}`)
  for (const [kind, n] of [...kinds].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP))) {
    console.log(`${String(n).padStart(6)} ${kind}`)
  }
}
