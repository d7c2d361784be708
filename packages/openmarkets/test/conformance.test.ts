import { conformance } from "@effect-oauth2/core/conformance"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Openmarkets } from "../src/index.js"

const demo = Clients.openmarketsDemo

conformance({
  definition: Openmarkets.definition,
  build: (settings) => Layer.build(Openmarkets.layer(settings).pipe(Layer.provide(NodeHttpClient.layerUndici))),
  harness: Effect.gen(function*() {
    const emulator = yield* Emulator.make()
    const client = yield* Layer.build(NodeHttpClient.layerUndici)
    const build = (clientSecret: string) =>
      Layer.build(
        Openmarkets.layer({
          hosts: emulator.hosts.openmarkets,
          clientId: demo.clientId,
          clientSecret,
          scopes: ["market-data-api"]
        }).pipe(Layer.provide(Layer.succeedContext(client)))
      )
    const ctx = yield* build(demo.clientSecret)
    const http = HttpClient.filterStatusOk(Context.get(ctx, Openmarkets.HttpClient))
    return {
      tokens: Context.get(ctx, Openmarkets.Tokens),
      tokenRequests: Effect.map(emulator.countersFor("openmarkets.token"), (c) => c.requests),
      protectedCall: http.get("/v1/market-data/quotes?symbols=BHP").pipe(
        Effect.flatMap((response) => response.json),
        Effect.asVoid,
        Effect.scoped
      ),
      withWrongSecret: Effect.map(build("om+wrong/secret="), Context.get(Openmarkets.Tokens)).pipe(Effect.orDie),
      supportsRevocation: false,
      clientCredentials: true,
      secrets: [demo.clientSecret, "om+wrong/secret="]
    }
  }).pipe(Effect.orDie)
})
