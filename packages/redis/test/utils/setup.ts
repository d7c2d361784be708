/**
 * Shared by the tests, the child process and the benchmark: an `AccessTokens` for the Figure Markets demo client at
 * an emulator, over a given token store (or none).
 */
import * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as Endpoint from "@effect-oauth2/core/Endpoint"
import * as OAuth2Client from "@effect-oauth2/core/OAuth2Client"
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import * as Clients from "@effect-oauth2/emulator/Clients"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"

/** A fixed test key (32 bytes, base64). */
export const testKey = Redacted.make(Encoding.encodeBase64(Uint8Array.from({ length: 32 }, (_, i) => (i * 13 + 5) & 255)))

/** The store key of the demo client's tokens. */
export const storeKey: TokenStore.Key = {
  provider: "figure-markets",
  environment: "emulator",
  clientId: Clients.figureMarketsDemo.clientId,
  scopes: Clients.figureMarketsDemo.scopes
}

/** `urls.figureMarkets.main` + the token path. */
export const tokenUrlOf = (emulator: { readonly urls: { readonly figureMarkets: { readonly main: string } } }) =>
  `${emulator.urls.figureMarkets.main}/auth/oauth2/token`

/** An `AccessTokens` for the demo client, over `store` when given. */
export const makeTokens = (
  tokenUrl: string,
  store: TokenStore.Service | undefined,
  options: AccessTokens.Options = {}
): Effect.Effect<AccessTokens.Service, never, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const endpoint = yield* Endpoint.make({
      provider: storeKey.provider,
      environment: storeKey.environment,
      tokenUrl,
      authMethod: "client_secret_post"
    })
    const client = yield* OAuth2Client.make({
      endpoint,
      credentials: Endpoint.credentials(Clients.figureMarketsDemo.clientId, Clients.figureMarketsDemo.clientSecret)
    })
    const make = AccessTokens.make({ scopes: Clients.figureMarketsDemo.scopes, ...options }).pipe(
      Effect.provideService(OAuth2Client.OAuth2Client, client)
    )
    return yield* (store === undefined ? make : Effect.provideService(make, TokenStore.TokenStore, store))
  }).pipe(Effect.orDie)
