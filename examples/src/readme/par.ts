import { AuthorizationCode, OAuth2Client } from "@effect-oauth2/core"
import { NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import { Config, Console, Effect, Layer } from "effect"
import { createServer } from "node:http"

// A pushed authorization request (RFC 9126): the state, the PKCE challenge, the scopes and the redirect URI go to the
// server's PAR endpoint (from discovery) in a POST authenticated as at the token endpoint; the browser gets only
// client_id and a one-time request_uri. The callback is then checked and the code exchanged as in any login.
export const login = Effect.gen(function*() {
  const credentials = { clientId: "my-app", clientSecret: yield* Config.redacted("MY_CLIENT_SECRET") }
  return yield* AuthorizationCode.login({
    scopes: ["openid", "accounts"],
    pkce: true,
    par: { credentials },
    onAuthorizeUrl: (url) => Console.log(`Open ${url} in your browser`)
  }).pipe(Effect.provide(OAuth2Client.layerDiscovery({ issuer: "https://auth.example.com", credentials, pkce: true })))
}).pipe(
  Effect.provide(
    Layer.merge(NodeHttpClient.layerUndici, NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: 0 }))
  )
)
