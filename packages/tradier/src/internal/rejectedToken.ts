/**
 * Tradier's policy for a token the API rejects.
 *
 * Core's `invalidate` drops the access token and keeps its refresh token for the next acquisition. A Tradier token
 * with no refresh token cannot be renewed without a person logging in, so dropping it only turns the API's 401 into
 * `Expired`: this wrapper keeps such a token instead, so that the replay meets the same 401 and the caller gets
 * `Unauthorized` with Tradier's advice (wrong environment, revoked access).
 *
 * @internal
 */
import type * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as Effect from "effect/Effect"

/** @internal */
export const keepUnrenewable = (tokens: AccessTokens.Service): AccessTokens.Service => ({
  ...tokens,
  invalidate: (token) => (token.refreshToken === undefined ? Effect.void : tokens.invalidate(token))
})
