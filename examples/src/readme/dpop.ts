import { AccessTokens, Dpop, OAuth2Client, OAuth2HttpClient } from "@effect-oauth2/core"
import { NodeHttpClient } from "@effect/platform-node"
import { Config, Effect, Layer } from "effect"

// One DPoP key for the token client and the API client (ES256, generated at start; give `privateKey` to keep it).
// Token requests carry a proof and get a DPoP-bound token; a server's use_dpop_nonce is answered once with its nonce.
const DpopLive = Dpop.layer()

export const TokensLive = AccessTokens.layer({ scopes: ["accounts"] }).pipe(
  Layer.provide(
    Layer.unwrapEffect(
      Effect.map(Config.redacted("MY_CLIENT_SECRET"), (clientSecret) =>
        OAuth2Client.layer({
          endpoint: { provider: "my-bank", tokenUrl: "https://auth.example.com/oauth2/token" },
          credentials: { clientId: "my-client", clientSecret }
        }))
    )
  ),
  Layer.provideMerge(DpopLive),
  Layer.provideMerge(NodeHttpClient.layerUndici)
)

// Every call sends `Authorization: DPoP <token>` and a fresh proof (htm, htu, iat, jti, ath) signed with that key.
export const accounts = Effect.gen(function*() {
  const api = yield* OAuth2HttpClient.make()
  const response = yield* api.get("https://api.example.com/v1/accounts")
  return yield* response.json
}).pipe(Effect.scoped, Effect.provide(TokensLive))
