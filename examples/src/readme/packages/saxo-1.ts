import { FileTokenStore } from "@effect-oauth2/core"
import { Saxo, Users } from "@effect-oauth2/saxo"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"

// First, once: `effect-oauth2 login saxo` (SAXO_CLIENT_ID, SAXO_CLIENT_SECRET unless a PKCE app, SAXO_ENV), which
// stores the tokens in the encrypted token file (EFFECT_OAUTH2_STORE_KEY). The bot reads and renews them there.
const SaxoLive = Saxo.layerConfig().pipe(
  Layer.provide(FileTokenStore.layerConfig()),
  Layer.provide(Layer.merge(NodeHttpClient.layerUndici, NodeContext.layer))
)

const program = Effect.gen(function*() {
  const me = yield* Users.me // GET /port/v1/users/me: the login works
  yield* Console.log(`Saxo user ${me.UserId ?? me.UserKey}, client ${me.ClientKey}`)
  const client = yield* Saxo.HttpClient // any other call: token and base URL applied
  const accounts = yield* client.get(`/port/v1/accounts?ClientKey=${encodeURIComponent(me.ClientKey)}`).pipe(
    Effect.flatMap((response) => response.json),
    Effect.scoped
  )
  yield* Console.log(accounts)
})

Effect.runPromise(program.pipe(Effect.provide(SaxoLive)))
