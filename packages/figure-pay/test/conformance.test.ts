import { conformance } from "@effect-oauth2/core/conformance"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Banking, FigurePay } from "../src/index.js"

const demo = Clients.figurePayDemo

conformance({
  definition: FigurePay.definition,
  build: (settings) => Layer.build(FigurePay.layer(settings).pipe(Layer.provide(NodeHttpClient.layerUndici))),
  harness: Effect.gen(function*() {
    const emulator = yield* Effect.orDie(Emulator.make())
    const build = (clientSecret: string) =>
      Layer.build(
        FigurePay.layer({
          clientId: demo.clientId,
          clientSecret,
          hosts: emulator.hosts["figure-pay"]
        }).pipe(Layer.provide(NodeHttpClient.layerUndici))
      ).pipe(Effect.orDie)
    const context = yield* build(demo.clientSecret)
    return {
      tokens: Context.get(context, FigurePay.Tokens),
      tokenRequests: Effect.map(emulator.countersFor("figure-pay.token"), (c) => c.requests),
      protectedCall: Effect.asVoid(Context.get(context, Banking.Banking).listProfiles),
      withWrongSecret: Effect.map(build("not-the-secret"), Context.get(FigurePay.Tokens)),
      supportsRevocation: false,
      clientCredentials: true,
      secrets: [demo.clientSecret]
    }
  })
})
