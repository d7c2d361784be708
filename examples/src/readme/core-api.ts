import { AccessTokens, OAuth2HttpClient, OAuth2Provider } from "@effect-oauth2/core"
import { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer } from "effect"

// Any OAuth 2.0 server is a provider definition: plain data, URLs as templates over its hosts.
export const myBroker: OAuth2Provider.Definition = {
  name: "my-broker",
  title: "My Broker",
  envPrefix: "MY_BROKER",
  environments: { production: { auth: "https://auth.example.com", api: "https://api.example.com" } },
  defaultEnvironment: "production",
  acquire: "client_credentials",
  scopes: { kind: "open", known: ["read", "trade"], default: ["read"], delimiter: " " },
  authorizationServer: { tokenUrl: "{auth}/oauth2/token", authMethod: "client_secret_basic", defaultLifetime: "1 hour" },
  revocation: { url: "{auth}/oauth2/revoke" },
  introspection: { unsupported: "My Broker has no introspection endpoint." },
  login: { unsupported: "My Broker uses the client-credentials grant." },
  apis: { api: "{api}/v1" }
}

// A cached, self-refreshing token from MY_BROKER_CLIENT_ID and MY_BROKER_CLIENT_SECRET (the whole table:
// OAuth2Provider.variables(myBroker)); OAuth2Provider.layer(myBroker, { clientId, clientSecret }) takes them in code.
export const TokensLive = OAuth2Provider.layerConfig(myBroker).pipe(Layer.provide(NodeHttpClient.layerUndici))

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
