import { TokenStore } from "@effect-oauth2/core"
import { Tradier } from "@effect-oauth2/tradier"
import { NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import { Console, Effect, Layer, Redacted } from "effect"
import * as http from "node:http"

const app = { clientId: "your-client-id", clientSecret: Redacted.make("your-secret"), scopes: ["read", "market"] }

// login and layer share one TokenStore (a persistent one lets you log in from another process)
const TradierLive = Tradier.layer(app).pipe(
  Layer.provideMerge(TokenStore.layerMemory),
  Layer.provideMerge(NodeHttpClient.layerUndici)
)

const program = Effect.gen(function*() {
  yield* Tradier.login({ ...app, onAuthorizeUrl: (url) => Console.log(`Open ${url}`) }).pipe(
    // the port of the callback URL registered with the application (any port while redirect_uri is sent)
    Effect.provide(NodeHttpServer.layer(() => http.createServer(), { host: "127.0.0.1", port: 8765 }))
  )
  const client = yield* Tradier.HttpClient
  const profile = yield* client.get("/v1/user/profile").pipe(Effect.flatMap((r) => r.json), Effect.scoped)
  yield* Console.log(profile)
})

Effect.runPromise(program.pipe(Effect.provide(TradierLive)))
