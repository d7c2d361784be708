/**
 * The cold start counted rather than timed: the Effect operations the run loop evaluates (a `Supervisor` with op
 * supervision on) and the fibers started, per phase, for ours (build the HTTP layer, then `OAuth2Client`, then
 * `AccessTokens`, then the first get) and for the Effect reference (one `HttpClient` POST over `layerUndici`),
 * against a server started by `server.ts`. Counts do not depend on the machine's load. `TOP=20` also lists each
 * phase's most frequent operations. `tsx --conditions=source bench/src/profile/coldOps.ts ours|reference`.
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
const base = process.env.BENCH_SERVER ?? "http://127.0.0.1:47123"
const control = makeControl(base, `cold-ops-${which}`)
await control.configure({ latencyMs: 20 })

let phase = "setup"
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
const enter = (name: string) =>
  Effect.sync(() => {
    phase = name
  })

const program = which === "reference"
  ? Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    yield* enter("post")
    const response = yield* client.execute(tokenPost(control))
    yield* response.json
    yield* enter("close")
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici), Effect.orDie)
  : Effect.scoped(Effect.gen(function*() {
    yield* enter("http layer")
    const http = yield* Layer.build(NodeHttpClient.layerUndici)
    yield* enter("OAuth2Client layer")
    const client = yield* Layer.build(
      OAuth2Client.layer({
        endpoint: { provider: "bench", tokenUrl: control.tokenUrl, authMethod: "client_secret_post" },
        credentials: Endpoint.credentials(control.clientId, SECRET)
      }).pipe(Layer.orDie, Layer.provide(Layer.succeedContext(http)))
    )
    yield* enter("AccessTokens layer")
    const context = yield* Layer.build(AccessTokens.layer().pipe(Layer.provide(Layer.succeedContext(client))))
    yield* enter("first get")
    yield* Context.get(context, AccessTokens.AccessTokens).get
    yield* enter("close")
  })).pipe(Effect.orDie)

await Effect.runPromise(
  program.pipe(
    Logger.withMinimumLogLevel(LogLevel.None),
    Effect.supervised(new Counter()),
    Effect.withRuntimeFlagsPatch(RuntimeFlagsPatch.enable(RuntimeFlags.OpSupervision))
  )
)
console.log(JSON.stringify({ which, ops, fibers }))
for (const [name, kinds] of Object.entries(byOp)) {
  console.log(`-- ${name}`)
  for (const [kind, count] of [...kinds].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP))) {
    console.log(`${String(count).padStart(6)} ${kind}`)
  }
}
