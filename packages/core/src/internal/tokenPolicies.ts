/**
 * The named token policies of `AccessTokens.Options` that sit around the state machine rather than in it:
 * `dropRefreshTokens` and `keepUnrenewableOnInvalidate`. Kept apart from `accessTokens.ts` on purpose: they wrap the
 * store the service reads and the service it returns, and touch nothing of the get/acquire path.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as AccessToken from "../AccessToken.js"
import type { Options, Service } from "../AccessTokens.js"
import * as TokenStore from "../TokenStore.js"

/** The token without its refresh token (and the refresh token's expiry). @internal */
export const withoutRefreshToken = (token: AccessToken.AccessToken): AccessToken.AccessToken =>
  token.refreshToken === undefined ? token : new AccessToken.AccessToken({
    value: token.value,
    type: token.type,
    issuedAt: token.issuedAt,
    expiresAt: token.expiresAt,
    scopes: token.scopes,
    extra: token.extra
  })

/** Applies the policies of `options` around `make` (the state machine's constructor). @internal */
export const apply = <E, R>(
  options: Options,
  make: Effect.Effect<Service, E, R>
): Effect.Effect<Service, E, R> => {
  const drop = options.dropRefreshTokens === true
  const keep = options.keepUnrenewableOnInvalidate === true
  if (!drop && !keep) return make
  return Effect.gen(function*() {
    const store = Option.getOrUndefined(yield* Effect.serviceOption(TokenStore.TokenStore))
    const built = store === undefined || !drop ? yield* make : yield* Effect.provideService(
      make,
      TokenStore.TokenStore,
      { ...store, get: (key) => Effect.map(store.get(key), Option.map(withoutRefreshToken)) }
    )
    const service: Service = {
      ...built,
      set: drop ? (token) => built.set(withoutRefreshToken(token)) : built.set,
      invalidate: keep
        ? (token) => (token.refreshToken === undefined ? Effect.void : built.invalidate(token))
        : built.invalidate
    }
    return service
  })
}
