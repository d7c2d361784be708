import { AccessTokens, OAuth2Client, OAuth2HttpClient } from "@effect-oauth2/core"
import { MtlsHttpClient } from "@effect-oauth2/node"
import { Config, Effect, Layer } from "effect"

// The client certificate and its key (PEM), checked when the layer is built: readable, the key the certificate's,
// valid now, usable for client authentication. Every connection presents it; the key never reaches a log or error.
export const MtlsLive = MtlsHttpClient.layerConfig({
  certificate: Config.string("TLS_CERT"), // the certificate, then any intermediate CA certificates
  privateKey: Config.redacted("TLS_KEY"),
  ca: Config.string("TLS_CA").pipe(Config.withDefault(undefined)) // the CA of a private PKI, if any
})

// tls_client_auth: only client_id in the body, the certificate authenticates. discovery.mtls: the token, revocation
// and introspection requests go to the server's mtls_endpoint_aliases.
export const TokensLive = AccessTokens.layer({ scopes: ["accounts"] }).pipe(
  Layer.provideMerge(
    OAuth2Client.layerDiscovery({
      issuer: "https://auth.bank.example",
      credentials: { clientId: "my-client" },
      method: "tls_client_auth", // or "self_signed_tls_client_auth"
      discovery: { mtls: true }
    })
  ),
  // The same transport for the token endpoint and the API: a certificate-bound token (cnf.x5t#S256) is accepted
  // only over a connection that presents the certificate it is bound to.
  Layer.provideMerge(MtlsLive)
)

export const accounts = Effect.gen(function*() {
  const api = yield* OAuth2HttpClient.make()
  const response = yield* api.get("https://api.bank.example/accounts")
  return yield* response.json
}).pipe(Effect.provide(TokensLive))
