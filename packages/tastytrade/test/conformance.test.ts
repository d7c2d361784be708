import { conformance } from "@effect-oauth2/core/conformance"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Customer, Tastytrade } from "../src/index.js"

const demo = Clients.tastytradeDemo
const grant = demo.grants[0].refreshToken

conformance({
  definition: Tastytrade.definition,
  build: (settings) => Layer.build(Tastytrade.layer(settings).pipe(Layer.provide(NodeHttpClient.layerUndici))),
  harness: Effect.gen(function*() {
    const emulator = yield* Effect.orDie(Emulator.make())
    const build = (clientSecret: string) =>
      Layer.build(
        Tastytrade.layer({
          clientId: demo.clientId,
          clientSecret,
          refreshToken: grant,
          hosts: emulator.brokerUrls.tastytrade
        }).pipe(Layer.provide(NodeHttpClient.layerUndici))
      ).pipe(Effect.orDie)
    const context = yield* build(demo.clientSecret)
    return {
      tokens: Context.get(context, Tastytrade.Tokens),
      tokenRequests: Effect.map(emulator.countersFor("tastytrade.token"), (c) => c.requests),
      protectedCall: Effect.asVoid(Context.get(context, Customer.Customer).me),
      withWrongSecret: Effect.map(build("not-the-secret"), Context.get(Tastytrade.Tokens)),
      supportsRevocation: false,
      // Every token comes from the personal grant, so invalidate and refresh can always get a new one.
      clientCredentials: true,
      secrets: [demo.clientSecret, grant]
    }
  })
})
