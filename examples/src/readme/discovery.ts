import { AccessTokens, OAuth2Client } from "@effect-oauth2/core"
import { NodeHttpClient } from "@effect/platform-node"
import { Config, Effect, Layer } from "effect"

// Only the issuer: the endpoints come from its metadata, read once and checked (its issuer must be this one), and a
// configuration the server says it cannot serve (an auth method it does not list) fails here, before any token request.
export const TokensLive = AccessTokens.layer({ scopes: ["accounts"] }).pipe(
  Layer.provide(
    Layer.unwrapEffect(
      Effect.map(Config.redacted("MY_CLIENT_SECRET"), (clientSecret) =>
        OAuth2Client.layerDiscovery({
          issuer: "https://auth.example.com",
          credentials: { clientId: "my-client", clientSecret },
          endpoint: { provider: "my-bank" }
        }))
    )
  ),
  Layer.provide(NodeHttpClient.layerUndici)
)
