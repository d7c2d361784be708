import { AccessTokens, OAuth2Client, OAuth2HttpClient } from "@effect-oauth2/core"
import { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Config, Effect, Layer } from "effect"

// Any OAuth 2.0 server: describe the endpoint, give the credentials, get a cached, self-refreshing token.
export const TokensLive = AccessTokens.layer({ scopes: ["read"], revokeOnClose: true }).pipe(
  Layer.provide(
    Layer.unwrapEffect(
      Effect.map(Config.redacted("MY_CLIENT_SECRET"), (clientSecret) =>
        OAuth2Client.layer({
          endpoint: {
            provider: "my-broker",
            tokenUrl: "https://auth.example.com/oauth2/token",
            revocationUrl: "https://auth.example.com/oauth2/revoke",
            authMethod: "client_secret_basic"
          },
          credentials: { clientId: "my-client", clientSecret }
        }))
    )
  ),
  Layer.provide(NodeHttpClient.layerUndici)
)

export const program = Effect.gen(function*() {
  const tokens = yield* AccessTokens.AccessTokens
  const token = yield* tokens.get // no I/O while the cached token is valid
  yield* Effect.log(`token expires at ${new Date(token.expiresAt).toISOString()}`)

  // An HttpClient that adds "Authorization: Bearer …" and replays once after a 401 with a new token.
  const api = OAuth2HttpClient.withAccessToken(yield* HttpClient.HttpClient, tokens, {
    allowedOrigins: ["https://api.example.com"]
  })
  const response = yield* api.get("https://api.example.com/v1/accounts")
  return response.status
}).pipe(
  // Branch on what went wrong: a wrong scope is not a network blip.
  Effect.catchTags({
    InvalidScope: (e) => Effect.logError(`fix the scopes: ${e.message}`).pipe(Effect.as(0)),
    Unauthorized: (e) => Effect.logError(`fix the credentials: ${e.message}`).pipe(Effect.as(0)),
    RateLimited: (e) => Effect.logWarning(`back off for ${e.retryAfterMillis ?? 1000} ms`).pipe(Effect.as(0))
  })
)
