import { Customer, Tastytrade } from "@effect-oauth2/tastytrade"
import { NodeHttpClient } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"

// TASTYTRADE_CLIENT_ID, TASTYTRADE_CLIENT_SECRET, TASTYTRADE_REFRESH_TOKEN (the personal grant), TASTYTRADE_ENV
const TastytradeLive = Tastytrade.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici))

const program = Effect.gen(function*() {
  const me = yield* Customer.me // GET /customers/me: the grant works
  yield* Console.log(`tastytrade customer ${me.id}`)
  const client = yield* Tastytrade.HttpClient // any other call: token, User-Agent and base URL applied
  const accounts = yield* client.get("/customers/me/accounts").pipe(
    Effect.flatMap((response) => response.json),
    Effect.scoped
  )
  yield* Console.log(accounts)
})

Effect.runPromise(program.pipe(Effect.provide(TastytradeLive)))
