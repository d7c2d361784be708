import * as FileTokenStore from "@effect-oauth2/core/FileTokenStore"
import { Accounts, Schwab } from "@effect-oauth2/schwab"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { Config, Console, Effect, Layer } from "effect"

// SCHWAB_CLIENT_ID (App Key), SCHWAB_CLIENT_SECRET (App Secret), and the file `effect-oauth2 login schwab` stored
// the tokens in (EFFECT_OAUTH2_STORE_PATH, EFFECT_OAUTH2_STORE_KEY)
const settings = Schwab.config.pipe(
  Config.map((options): Schwab.Options => ({
    ...options,
    // 48 h, 12 h and 1 h before the refresh token dies (7 days after the login), and when it has: page someone
    onRefreshTokenEvent: (event) => Console.log(`schwab: ${event._tag}, log in by ${new Date(event.diesAt).toISOString()}`)
  }))
)

const SchwabLive = Schwab.layerConfig(settings).pipe(
  Layer.provide(FileTokenStore.layerConfig()),
  Layer.provide(Layer.merge(NodeHttpClient.layerUndici, NodeContext.layer))
)

const program = Effect.gen(function*() {
  const accounts = yield* Accounts.accountNumbers // GET /trader/v1/accounts/accountNumbers: the login works
  yield* Console.log(accounts.map((a) => a.accountNumber))
  const client = yield* Schwab.HttpClient // any other call: token and base URL applied
  const positions = yield* client.get("/trader/v1/accounts?fields=positions").pipe(
    Effect.flatMap((response) => response.json),
    Effect.scoped
  )
  yield* Console.log(positions)
})

// After the 7 days: LoginRequired ("log in again"), never retried, no request sent with the dead token
Effect.runPromise(program.pipe(Effect.provide(SchwabLive)))
