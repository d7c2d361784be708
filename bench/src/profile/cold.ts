/**
 * Cold start in phases, in this (fresh) process, against a server started by `server.ts`: `ours` builds the HTTP
 * layer, then `OAuth2Client`, then `AccessTokens`, then gets the first token; `floor` is the harness's Effect
 * reference (one POST over `layerUndici`). Prints one JSON line. `tsx bench/src/profile/cold.ts ours|floor`.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as Endpoint from "@effect-oauth2/core/Endpoint"
import * as OAuth2Client from "@effect-oauth2/core/OAuth2Client"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { control as makeControl } from "../control.js"
import { SECRET } from "../server.js"

const which = process.argv[2] ?? "ours"
const base = process.env.BENCH_SERVER ?? "http://127.0.0.1:47123"
const control = makeControl(base, `cold-${which}`)
await control.configure({ latencyMs: 20 })

const marks: Record<string, number> = {}
/** The same instants on the monotonic clock in µs (what a `--cpu-prof` profile's sample times count in). */
const ticks: Record<string, number> = {}
const start = performance.now()
const mark = (name: string) => Effect.sync(() => {
  marks[name] = Math.round((performance.now() - start) * 10) / 10
  ticks[name] = Number(process.hrtime.bigint() / 1000n)
})
const program = which === "floor"
  ? Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    yield* mark("http")
    const response = yield* client.execute(
      HttpClientRequest.post(control.tokenUrl).pipe(
        HttpClientRequest.bodyUrlParams({ grant_type: "client_credentials", client_id: control.clientId, client_secret: SECRET })
      )
    )
    yield* response.json
    yield* mark("token")
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici), Effect.orDie)
  : Effect.scoped(Effect.gen(function*() {
    const http = yield* Layer.build(NodeHttpClient.layerUndici)
    yield* mark("http")
    const client = yield* Layer.build(
      OAuth2Client.layer({
        endpoint: { provider: "bench", tokenUrl: control.tokenUrl, authMethod: "client_secret_post" },
        credentials: Endpoint.credentials(control.clientId, SECRET)
      }).pipe(Layer.orDie, Layer.provide(Layer.succeedContext(http)))
    )
    yield* mark("client")
    const context = yield* Layer.build(AccessTokens.layer().pipe(Layer.provide(Layer.succeedContext(client))))
    yield* mark("tokens")
    yield* Context.get(context, AccessTokens.AccessTokens).get
    yield* mark("token")
  })).pipe(Effect.orDie)

await Effect.runPromise(program.pipe(Logger.withMinimumLogLevel(LogLevel.None)))
console.log(JSON.stringify({ which, ...marks }))
if (process.env.COLD_TICKS !== undefined) console.log(JSON.stringify(ticks))
