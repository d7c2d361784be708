import { FigureMarkets, Trader } from "@effect-oauth2/figure-markets"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer } from "effect"

const FigureMarketsLive = FigureMarkets.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici))

const program = Effect.gen(function*() {
  const me = yield* Trader.whoAmI          // POST {trade}/api/v1/get_who_am_i: the credential self-test
  const accounts = yield* Trader.listAccounts
  yield* Effect.log(`${me.user}: ${accounts.length} account(s)`)
})

Effect.runPromise(program.pipe(Effect.provide(FigureMarketsLive)))
