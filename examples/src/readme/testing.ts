import { AccessTokens, OAuth2Error } from "@effect-oauth2/core"
import { Effect, Redacted } from "effect"

// The bot's own logic depends only on AccessTokens...
export const bot = Effect.gen(function*() {
  const tokens = yield* AccessTokens.AccessTokens
  const token = yield* tokens.get
  return Redacted.value(token.value).length
})

// ...so a test swaps in a scripted token, no HTTP at all: the first acquisition fails, the second succeeds.
export const test = bot.pipe(
  Effect.retry({ times: 1 }),
  Effect.provide(
    AccessTokens.layerTest({
      script: [new OAuth2Error.TransportError({ source: "token-endpoint", reason: "Timeout", request: "POST /token", description: "no answer" }), "scripted-token"]
    })
  )
)
