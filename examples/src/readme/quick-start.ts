import { Emulator } from "@effect-oauth2/emulator"
import { FigureMarkets, Trader } from "@effect-oauth2/figure-markets"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer } from "effect"

// Tokens and an authorised trading client for Figure Markets, pointed at the emulator's demo client.
export const program = Effect.gen(function*() {
  const emulator = yield* Emulator.make()
  const FigureMarketsLive = FigureMarkets.layer({
    clientId: "fm-demo-client",
    clientSecret: "fm-demo-secret",
    hosts: emulator.hosts["figure-markets"]
  }).pipe(Layer.provide(NodeHttpClient.layerUndici))

  const me = yield* Trader.whoAmI.pipe(Effect.provide(FigureMarketsLive))
  yield* Effect.log(`signed in as ${me.user}`)
}).pipe(Effect.scoped)
