import { FileTokenStore } from "@effect-oauth2/core"
import { Brokerage, TradeStation } from "@effect-oauth2/tradestation"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"

// After `effect-oauth2 login tradestation`: the login is in the command's encrypted token file.
// TRADESTATION_CLIENT_ID, TRADESTATION_CLIENT_SECRET, TRADESTATION_ENV (sim | live), TRADESTATION_ROTATION
const TradeStationLive = TradeStation.layerConfig().pipe(
  Layer.provide(FileTokenStore.layerConfig()), // EFFECT_OAUTH2_STORE_PATH, EFFECT_OAUTH2_STORE_KEY
  Layer.provide(Layer.merge(NodeHttpClient.layerUndici, NodeContext.layer))
)

const program = Effect.gen(function*() {
  const accounts = yield* Brokerage.accounts // GET /brokerage/accounts: the login works
  yield* Console.log(accounts.map((a) => a.AccountID))
  const client = yield* TradeStation.HttpClient // any other call, based at {api}/v3
  const balances = yield* client.get(`/brokerage/accounts/${accounts[0]!.AccountID}/balances`).pipe(
    Effect.flatMap((response) => response.json),
    Effect.scoped
  )
  yield* Console.log(balances)
})

Effect.runPromise(program.pipe(Effect.provide(TradeStationLive)))
