import { AccessTokens } from "@effect-oauth2/core"
import { RedisTokenStore } from "@effect-oauth2/redis"
import { Layer, Redacted } from "effect"

// REDIS_URL (default redis://127.0.0.1:6379), EFFECT_OAUTH2_STORE_KEY (32 bytes, base64 or hex:
// `openssl rand -base64 32`) or EFFECT_OAUTH2_STORE_PASSPHRASE, EFFECT_OAUTH2_REDIS_PREFIX (default effect-oauth2:)
export const Tokens = AccessTokens.layer({ scopes: ["TRADER_READ"] }).pipe(
  Layer.provide(RedisTokenStore.layerConfig())
  // ...and the provider's OAuth2Client layer
)

// Or with values:
export const StoreLive = RedisTokenStore.layer({
  url: Redacted.make("redis://:password@redis.internal:6379/0"), // or `client: new Redis(...)`, yours to close
  key: Redacted.make(process.env.TOKEN_KEY!),                    // or TokenCipher.passphrase(...)
  prefix: "effect-oauth2:",   // default
  lockTtl: "30 seconds",      // default: takeover delay after a holder crashes
  waitTimeout: "10 seconds",  // default: how long a process waits for another's token
  pollInterval: "100 millis", // default
  commandTimeout: "2 seconds" // default: a slower Redis counts as unreachable
})
