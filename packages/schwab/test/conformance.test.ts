import * as AccessToken from "@effect-oauth2/core/AccessToken"
import { conformance } from "@effect-oauth2/core/conformance"
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import { Emulator } from "@effect-oauth2/emulator"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { Accounts, Schwab } from "../src/index.js"
import { demo, pasteFromBrowser } from "./utils.js"

/**
 * Schwab in its stored mode: the harness logs in once by pasting the redirect URL (the emulator redirects at once),
 * so the layer starts from a stored token with a refresh token. Schwab issues no token by client credentials
 * (`clientCredentials: false`) and has no revocation (`supportsRevocation: false`). The wrong-secret case is the
 * refresh of an expired stored token with a wrong App Secret: in this mode no other request carries the secret.
 */
conformance({
  name: "Schwab (stored tokens)",
  definition: Schwab.definition,
  build: (settings) =>
    Layer.build(
      Schwab.layer(settings).pipe(Layer.provide(TokenStore.layerMemory), Layer.provide(NodeHttpClient.layerUndici))
    ),
  harness: Effect.gen(function*() {
    const emulator = yield* Emulator.make()
    const hosts = emulator.hosts.schwab
    const client = yield* Layer.build(NodeHttpClient.layerUndici)
    const store = yield* TokenStore.makeMemory
    const options = { clientId: demo.clientId, clientSecret: demo.clientSecret, hosts, callbackUrl: demo.callbackUrl }
    const token = yield* Schwab.loginByPaste(options, yield* pasteFromBrowser()).pipe(Effect.provideService(TokenStore.TokenStore, store), Effect.provide(client))
    const build = (clientSecret: string, store: TokenStore.Service) =>
      Layer.build(
        Schwab.layer({ ...options, clientSecret }).pipe(
          Layer.provide(Layer.succeed(TokenStore.TokenStore, store)),
          Layer.provide(Layer.succeedContext(client))
        )
      )
    const ctx = yield* build(demo.clientSecret, store)
    const key = yield* Schwab.storeKey(options)
    return {
      tokens: Context.get(ctx, Schwab.Tokens),
      tokenRequests: Effect.map(emulator.countersFor("schwab.token"), (c) => c.requests),
      protectedCall: Effect.asVoid(Context.get(ctx, Accounts.Accounts).accountNumbers),
      withWrongSecret: Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const expired = new AccessToken.AccessToken({ ...token, issuedAt: now - 2000, expiresAt: now - 1000 })
        const other = yield* TokenStore.makeMemory
        yield* other.set(key, expired)
        return Context.get(yield* build("wrong-app-secret", other), Schwab.Tokens)
      }).pipe(Effect.orDie),
      supportsRevocation: false,
      clientCredentials: false,
      secrets: [demo.clientSecret, "wrong-app-secret", Redacted.value(token.refreshToken!)]
    }
  }).pipe(Effect.orDie)
})
