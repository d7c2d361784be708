import { AccessTokens, FileTokenStore, OAuth2Client, type RefreshTokenLifetime } from "@effect-oauth2/core"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { Config, Effect, Layer, Stream } from "effect"

// Where the operator hears about it: send it to your pager or chat here.
const page = (event: RefreshTokenLifetime.Event) => Effect.logError(`PAGE: ${event.message}`)

// A broker whose refresh token dies 7 days after the login, whatever the refreshes (Schwab's rule). A login puts the
// tokens in the token file; the bot renews them, and hears of the login it needs days before it stops.
export const TokensLive = AccessTokens.layer({
  acquire: "stored",
  refreshTokenLifetime: { duration: "7 days", from: "login" },
  refreshTokenWarnings: ["48 hours", "12 hours", "1 hour"], // the default
  onRefreshTokenEvent: (event) => (event._tag === "Scheduled" ? Effect.void : page(event))
}).pipe(
  Layer.provide(
    Layer.unwrapEffect(
      Effect.map(Config.redacted("MY_CLIENT_SECRET"), (clientSecret) =>
        OAuth2Client.layer({
          endpoint: {
            provider: "my-broker",
            tokenUrl: "https://auth.example.com/oauth2/token",
            authorizeUrl: "https://auth.example.com/oauth2/authorize"
          },
          credentials: { clientId: "my-client", clientSecret }
        }))
    )
  ),
  Layer.provide(FileTokenStore.layerConfig()), // EFFECT_OAUTH2_STORE_KEY, EFFECT_OAUTH2_STORE_PATH
  Layer.provide([NodeHttpClient.layerUndici, NodeContext.layer])
)

// Or as a Stream (a dashboard, a health check): the latest event first, then each new one as it happens.
export const watch = Effect.gen(function*() {
  const tokens = yield* AccessTokens.AccessTokens
  yield* tokens.refreshTokenEvents.pipe(
    Stream.runForEach((event) =>
      event._tag === "Died"
        ? Effect.logError(event.message) // from now on, get fails with LoginRequired once the access token expires
        : Effect.logInfo(event.message)
    )
  )
})
