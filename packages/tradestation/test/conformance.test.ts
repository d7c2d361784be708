import { conformance } from "@effect-oauth2/core/conformance"
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { Brokerage, TradeStation } from "../src/index.js"
import { expired, start } from "./utils.js"

/**
 * TradeStation's stored tokens against the emulator: the harness logs in once (the demo key, non-rotating), so the
 * layer starts from a stored token with a refresh token that renews it (`clientCredentials: true`: invalidate and
 * refresh can always get a new one). The wrong-secret case is the refresh of an expired stored token with a wrong
 * secret, which Auth0 refuses with 401 `invalid_client`. Revocation revokes every refresh token of the key, so it ends
 * the login (`revocationEndsLogin`). The definition's own check (openid required) is tested in TradeStation.test.ts:
 * this package's settings add openid to any scopes, so the layer never meets it.
 */
conformance({
  name: "TradeStation (stored tokens, non-rotating key)",
  definition: TradeStation.definition,
  build: (settings) =>
    Layer.build(
      TradeStation.layer(settings).pipe(Layer.provide(TokenStore.layerMemory), Layer.provide(NodeHttpClient.layerUndici))
    ),
  harness: Effect.gen(function*() {
    const s = yield* start()
    const token = yield* s.login("demo")
    const ctx = yield* s.build("demo")
    return {
      tokens: Context.get(ctx, TradeStation.Tokens),
      tokenRequests: Effect.map(s.emulator.countersFor("tradestation.token"), (c) => c.requests),
      protectedCall: Effect.asVoid(Context.get(ctx, Brokerage.Brokerage).accounts),
      withWrongSecret: Effect.gen(function*() {
        const other = yield* TokenStore.makeMemory
        yield* other.set(yield* TradeStation.storeKey(s.options("demo")), expired(token, yield* Clock.currentTimeMillis))
        return Context.get(yield* s.build("demo", { clientSecret: "wrong-ts-secret" }, other), TradeStation.Tokens)
      }).pipe(Effect.orDie),
      supportsRevocation: true,
      revocationEndsLogin: true,
      clientCredentials: true,
      secrets: [s.keys.demo.clientSecret, "wrong-ts-secret", Redacted.value(token.refreshToken!)]
    }
  }).pipe(Effect.orDie)
})
