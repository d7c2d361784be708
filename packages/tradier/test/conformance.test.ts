import * as AccessToken from "@effect-oauth2/core/AccessToken"
import { conformance } from "@effect-oauth2/core/conformance"
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { Tradier } from "../src/index.js"
import { browser, CallbackServer } from "./utils.js"

const partner = Clients.tradierPartnerDemo

/**
 * Tradier in its stored (OAuth) mode with a partner application: the harness logs in once (auto-approve), so the
 * layer starts from a stored token with a refresh token. Tradier issues no token by client credentials
 * (`clientCredentials: false`) and has no revocation endpoint (`supportsRevocation: false`). The wrong-secret case is
 * the refresh of an expired stored token with a wrong client secret, which the refresh endpoint refuses with 401
 * `invalid_client`: in this mode no other request carries the secret.
 */
conformance({
  name: "Tradier (stored tokens, partner refresh)",
  definition: Tradier.definition,
  build: (settings) =>
    Layer.build(
      Tradier.layer(settings).pipe(Layer.provide(TokenStore.layerMemory), Layer.provide(NodeHttpClient.layerUndici))
    ),
  harness: Effect.gen(function*() {
    const emulator = yield* Emulator.make({ tradierAuthorization: "auto-approve" })
    const urls = { hosts: { api: emulator.hosts.tradier.api } }
    const client = yield* Layer.build(NodeHttpClient.layerUndici)
    const store = yield* TokenStore.makeMemory
    const token = yield* Tradier.login({ ...urls, clientId: partner.clientId, clientSecret: partner.clientSecret, onAuthorizeUrl: browser([]) }).pipe(
      Effect.provide(CallbackServer),
      Effect.provideService(TokenStore.TokenStore, store),
      Effect.provide(client)
    )
    const build = (clientSecret: string, store: TokenStore.Service) =>
      Layer.build(
        Tradier.layer({ ...urls, clientId: partner.clientId, clientSecret }).pipe(
          Layer.provide(Layer.succeed(TokenStore.TokenStore, store)),
          Layer.provide(Layer.succeedContext(client))
        )
      )
    const ctx = yield* build(partner.clientSecret, store)
    const http = HttpClient.filterStatusOk(Context.get(ctx, Tradier.HttpClient))
    const count = (endpoint: "tradier.token" | "tradier.refresh") =>
      Effect.map(emulator.countersFor(endpoint), (c) => c.requests)
    return {
      tokens: Context.get(ctx, Tradier.Tokens),
      tokenRequests: Effect.zipWith(count("tradier.token"), count("tradier.refresh"), (a, b) => a + b),
      protectedCall: http.get("/v1/user/profile").pipe(Effect.flatMap((r) => r.json), Effect.asVoid, Effect.scoped),
      withWrongSecret: Effect.gen(function*() {
        // the same login, expired: the first get refreshes it, with the wrong secret
        const now = yield* Clock.currentTimeMillis
        const expired = new AccessToken.AccessToken({ ...token, issuedAt: now - 2000, expiresAt: now - 1000 })
        const other = yield* TokenStore.makeMemory
        yield* other.set(Tradier.storeKey({ clientId: partner.clientId }), expired)
        return Context.get(yield* build("wrong-partner-secret", other), Tradier.Tokens)
      }).pipe(Effect.orDie),
      supportsRevocation: false,
      clientCredentials: false,
      secrets: [partner.clientSecret, "wrong-partner-secret", Redacted.value(token.refreshToken!)]
    }
  }).pipe(Effect.orDie)
})
