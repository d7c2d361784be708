import * as AccessToken from "@effect-oauth2/core/AccessToken"
import { conformance } from "@effect-oauth2/core/conformance"
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { Saxo, Users } from "../src/index.js"
import { loginInto } from "./utils/login.js"

const demo = Clients.saxoDemo

/**
 * Saxo in its stored mode with the confidential demo app: the harness logs in once through `Saxo.login`, so the layer
 * starts from a stored pair. Saxo issues no token by client credentials (`clientCredentials: false`) and has no
 * revocation endpoint. The wrong-secret case is the refresh of the login's pair, stored expired, with a wrong secret:
 * the emulator refuses it with 401 `invalid_client`.
 */
conformance({
  name: "Saxo (stored tokens, rotating refresh)",
  definition: Saxo.definition,
  build: (settings) =>
    Layer.build(Saxo.layer(settings).pipe(Layer.provide(TokenStore.layerMemory), Layer.provide(NodeHttpClient.layerUndici))),
  harness: Effect.gen(function*() {
    const emulator = yield* Emulator.make()
    const client = yield* Layer.build(NodeHttpClient.layerUndici)
    const store = yield* TokenStore.makeMemory
    const token = yield* loginInto(emulator, { clientId: demo.clientId, clientSecret: demo.clientSecret }, store).pipe(
      Effect.provide(client)
    )
    const build = (clientSecret: string, store: TokenStore.Service) =>
      Layer.build(
        Saxo.layer({ clientId: demo.clientId, clientSecret, hosts: emulator.brokerUrls.saxo }).pipe(
          Layer.provide(Layer.succeed(TokenStore.TokenStore, store)),
          Layer.provide(Layer.succeedContext(client))
        )
      )
    const ctx = yield* build(demo.clientSecret, store)
    return {
      tokens: Context.get(ctx, Saxo.Tokens),
      // The login's exchange counts as the first token request: the layer starts from the pair it stored.
      tokenRequests: Effect.map(emulator.countersFor("saxo.token"), (c) => c.requests),
      protectedCall: Effect.asVoid(Context.get(ctx, Users.Users).me),
      withWrongSecret: Effect.gen(function*() {
        const other = yield* TokenStore.makeMemory
        const expired = new AccessToken.AccessToken({ ...token, expiresAt: token.issuedAt })
        yield* other.set(Saxo.storeKey({ clientId: demo.clientId }), expired)
        return Context.get(yield* build("wrong-app-secret", other), Saxo.Tokens)
      }).pipe(Effect.orDie),
      supportsRevocation: false,
      clientCredentials: false,
      secrets: [demo.clientSecret, "wrong-app-secret", Redacted.value(token.refreshToken!)]
    }
  }).pipe(Effect.orDie)
})
