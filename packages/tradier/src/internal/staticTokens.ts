/**
 * `AccessTokens` for a static Tradier API token: no OAuth, nothing to acquire, refresh or revoke.
 *
 * @internal
 */
import { AccessToken } from "@effect-oauth2/core/AccessToken"
import type * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import { Unsupported } from "@effect-oauth2/core/OAuth2Error"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"

/** A static token never expires: the largest instant a `Date` can show. @internal */
export const NEVER = 8_640_000_000_000_000

/** @internal */
export const make = (options: {
  readonly provider: string
  readonly token: Redacted.Redacted<string>
  readonly scopes: ReadonlyArray<string>
  readonly settingsHint: string
}): Effect.Effect<AccessTokens.Service> =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const ref = yield* Ref.make(
      new AccessToken({
        value: options.token,
        type: "Bearer",
        issuedAt: now,
        expiresAt: NEVER,
        scopes: options.scopes,
        extra: { static: true }
      })
    )
    const cannot = (operation: string) =>
      Effect.fail(new Unsupported({ provider: options.provider, source: "configuration", operation, hint: options.settingsHint }))
    return {
      provider: options.provider,
      get: Ref.get(ref),
      refresh: cannot("getting another static API token"),
      // Nothing to drop it for: there is no other token to get. A 401 fails the call instead (see httpClient.ts).
      invalidate: () => Effect.void,
      revoke: cannot("revoking a static API token"),
      current: Effect.map(Ref.get(ref), Option.some),
      set: (token) => Ref.set(ref, token),
      // A static token has no refresh token to die.
      refreshTokenEvents: Stream.empty
    }
  })
