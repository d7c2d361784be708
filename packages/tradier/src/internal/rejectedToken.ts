/**
 * Workarounds for two behaviours of core's `AccessTokens` in `"stored"` mode, kept here until core changes (see the
 * package README). Both wrap the service; neither changes what a healthy token does.
 *
 * @internal
 */
import * as AccessToken from "@effect-oauth2/core/AccessToken"
import type * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/**
 * Core's background refresh also runs for a token that has no refresh token: at `expiresAt - refreshSkew` it fails
 * ("log in again") and the next `get` reports that failure, although the token is still valid for up to
 * `refreshSkew`. Workaround: an `Expired` from `get` while the cached token has no refresh token and is still valid
 * is retried once (the reported failure is consumed by then, so the retry serves the token).
 *
 * @internal
 */
export const serveUntilExpiry = (tokens: AccessTokens.Service): AccessTokens.Service => ({
  ...tokens,
  get: Effect.catchIf(
    tokens.get,
    (error) => error._tag === "Expired",
    (error) =>
      Effect.flatMap(Effect.zip(tokens.current, Clock.currentTimeMillis), ([current, now]) =>
        Option.isSome(current) && current.value.refreshToken === undefined && now < current.value.expiresAt
          ? tokens.get
          : Effect.fail(error))
  )
})

/**
 * Core's `invalidate` drops the refresh token with the access token (and deletes the stored token), so in `"stored"`
 * mode one API 401 ends in `Expired` ("log in first") and loses a partner's refresh token. Workaround, for the
 * authorised client only: on a 401, a token with a refresh token is refreshed (once, if it is still the cached one);
 * a token without one is kept (no other can be had without a login), so the replay meets the same 401 and ends in
 * `Unauthorized` with Tradier's advice.
 *
 * @internal
 */
export const keepRefreshToken = (tokens: AccessTokens.Service): AccessTokens.Service => ({
  ...tokens,
  invalidate: (token) =>
    token.refreshToken === undefined
      ? Effect.void
      : Effect.flatMap(tokens.current, (current) =>
        Option.isSome(current) && AccessToken.sameValue(current.value, token)
          ? Effect.ignore(tokens.refresh)
          : Effect.void)
})
