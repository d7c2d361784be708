import { OAuth2Client } from "@effect-oauth2/core"
import { Config, Effect, Layer } from "effect"

// private_key_jwt: each token, revocation and introspection request carries a fresh assertion signed with the key
// (iss = sub = client id, aud = the issuer, exp = 60 s, a unique jti). The key is read once and checked: a PEM that
// is not PKCS#8, a public key, or a key of another type than the algorithm is an InvalidConfiguration right here.
export const ClientLive = Layer.unwrapEffect(
  Effect.map(Config.redacted("MY_PRIVATE_KEY"), (privateKey) =>
    OAuth2Client.layer({
      endpoint: {
        provider: "my-broker",
        issuer: "https://auth.example.com",
        tokenUrl: "https://auth.example.com/oauth2/token",
        authMethod: "private_key_jwt"
      },
      credentials: {
        clientId: "my-client",
        privateKey, // PKCS#8 PEM or JWK (JSON text)
        assertion: { keyId: "2026-01", algorithm: "PS256" }
      }
    }))
)
