import { Banking, FigurePay } from "@effect-oauth2/figure-pay"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer } from "effect"

const FigurePayLive = FigurePay.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici))

const program = Effect.gen(function*() {
  const profiles = yield* Banking.listProfiles          // GET {api}/profiles: the credential self-test
  const client = yield* FigurePay.HttpClient            // any other call, authorised and versioned
  const response = yield* client.get("/profiles")
  yield* Effect.log(`${profiles.length} profile(s), HTTP ${response.status}`)
})

Effect.runPromise(program.pipe(Effect.scoped, Effect.provide(FigurePayLive)))
