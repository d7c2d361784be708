/**
 * Core's `OAuth2Provider.login` over Tradier's definition: the login every provider with a `login` endpoint gets
 * from its definition alone (PKCE and parameters from the definition, the refresh token's death stamped, stored where
 * `OAuth2Provider.make` reads it).
 */
import * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import * as Clients from "@effect-oauth2/emulator/Clients"
import * as Emulator from "@effect-oauth2/emulator/Emulator"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Tradier } from "../src/index.js"
import { browser, CallbackServer, type Visit } from "./utils.js"

const partner = Clients.tradierPartnerDemo

describe("OAuth2Provider.login", () => {
  it.scoped("logs in with the definition's parameters, stamps the rule's death, stores where make reads", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ tradierAuthorization: "auto-approve" })
      const store = yield* TokenStore.makeMemory
      const visits: Array<Visit> = []
      const definition: OAuth2Provider.Definition = {
        ...Tradier.definition,
        login: { ...(Tradier.definition.login as OAuth2Provider.LoginEndpoint), pkce: true, params: { audience: "x" } },
        refreshTokenLifetime: { duration: "7 days", from: "login" }
      }
      const settings: OAuth2Provider.Settings = { clientId: partner.clientId, clientSecret: partner.clientSecret, hosts: { api: emulator.hosts.tradier.api } }
      const token = yield* OAuth2Provider.login(definition, settings, { onAuthorizeUrl: browser(visits) }).pipe(
        Effect.provide(CallbackServer),
        Effect.provideService(TokenStore.TokenStore, store)
      )
      const authorize = new URL(visits[0]!.authorizeUrl)
      assert.strictEqual(authorize.searchParams.get("audience"), "x")
      assert.strictEqual(authorize.searchParams.get("code_challenge_method"), "S256")
      assert.isDefined(token.refreshToken)
      assert.strictEqual(token.refreshTokenExpiresAt, token.authorizedAt! + 7 * 86_400_000)

      const ctx = yield* Layer.build(
        OAuth2Provider.layer(definition, settings).pipe(
          Layer.provide(Layer.succeed(TokenStore.TokenStore, store)),
          Layer.provide(NodeHttpClient.layerUndici)
        )
      )
      const read = yield* Context.get(ctx, AccessTokens.AccessTokens).get
      assert.strictEqual(read.refreshTokenExpiresAt, token.refreshTokenExpiresAt)
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.effect("a definition without a login says why, before anything is sent", () =>
    Effect.gen(function*() {
      const definition: OAuth2Provider.Definition = { ...Tradier.definition, login: { unsupported: "no login here." } }
      const error = yield* OAuth2Provider.login(definition, { clientId: "id", clientSecret: "secret" }, {
        onAuthorizeUrl: () => Effect.die("no URL may be shown")
      }).pipe(
        Effect.provide(CallbackServer),
        Effect.provide(TokenStore.layerMemory),
        Effect.provide(NodeHttpClient.layerUndici),
        Effect.flip
      )
      assert.strictEqual(error._tag, "InvalidConfiguration")
      assert.include(error.message, "no login here.")
    }))
})
