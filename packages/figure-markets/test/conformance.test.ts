import { conformance } from "@effect-oauth2/core/conformance"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { FigureMarkets, Trader } from "../src/index.js"

const demo = Clients.figureMarketsDemo

conformance({
  definition: FigureMarkets.definition,
  build: (settings) => Layer.build(FigureMarkets.layer(settings).pipe(Layer.provide(NodeHttpClient.layerUndici))),
  checks: [
    {
      title: "the trading host as the token host",
      settings: { tokenUrl: "https://trade.figuremarkets.dev/auth/oauth2/token" },
      includes: "main host"
    },
    {
      title: "the trading host as the main host",
      settings: { hosts: { main: "https://trade.figuremarkets.com" } },
      includes: "trading host"
    }
  ],
  harness: Effect.gen(function*() {
    const emulator = yield* Effect.orDie(Emulator.make())
    const build = (clientSecret: string) =>
      Layer.build(
        FigureMarkets.layer({
          clientId: demo.clientId,
          clientSecret,
          hosts: emulator.hosts["figure-markets"]
        }).pipe(Layer.provide(NodeHttpClient.layerUndici))
      ).pipe(Effect.orDie)
    const context = yield* build(demo.clientSecret)
    return {
      tokens: Context.get(context, FigureMarkets.Tokens),
      tokenRequests: Effect.map(emulator.countersFor("figure-markets.token"), (c) => c.requests),
      protectedCall: Effect.asVoid(Context.get(context, Trader.Trader).whoAmI),
      withWrongSecret: Effect.map(build("not-the-secret"), Context.get(FigureMarkets.Tokens)),
      supportsRevocation: true,
      clientCredentials: true,
      secrets: [demo.clientSecret]
    }
  })
})
