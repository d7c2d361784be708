import { Openmarkets } from "@effect-oauth2/openmarkets"
import { NodeHttpClient } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"

const OpenmarketsLive = Openmarkets.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici))

const program = Effect.gen(function*() {
  const client = yield* Openmarkets.HttpClient
  const quotes = yield* client.get("/v1/market-data/quotes?symbols=BHP").pipe(
    Effect.flatMap((response) => response.json),
    Effect.scoped
  )
  yield* Console.log(quotes)
})

Effect.runPromise(program.pipe(Effect.provide(OpenmarketsLive)))
