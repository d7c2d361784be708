/**
 * Where tokens live beyond one `AccessTokens` cache: the in-memory default, an encrypted file, Redis. A store is
 * keyed by provider, environment, client id and scopes, so one store can serve many clients.
 *
 * `AccessTokens` reads the store on a cold start (a token another process or an earlier run acquired is reused),
 * writes every token it acquires, and deletes tokens it invalidates or revokes. A store that fails is logged and
 * bypassed: it never turns into an outage.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type { AccessToken } from "./AccessToken.js"
import type { TokenStoreError } from "./OAuth2Error.js"

/**
 * What identifies a token in a store.
 *
 * @since 0.1.0
 * @category models
 */
export interface Key {
  readonly provider: string
  readonly environment: string
  readonly clientId: string
  readonly scopes: ReadonlyArray<string>
}

/**
 * The key as one string: `provider/environment/clientId/scopes`, each part URI-encoded and the scopes sorted, so
 * that the same client and scopes always meet under the same key.
 *
 * @since 0.1.0
 * @category keys
 */
export const keyToString = (key: Key): string =>
  [key.provider, key.environment, key.clientId, [...key.scopes].sort().join(" ")].map(encodeURIComponent).join("/")

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Reads the token stored under a key. */
  readonly get: (key: Key) => Effect.Effect<Option.Option<AccessToken>, TokenStoreError>
  /** Stores a token under a key, replacing any other. */
  readonly set: (key: Key, token: AccessToken) => Effect.Effect<void, TokenStoreError>
  /** Deletes the token under a key. */
  readonly delete: (key: Key) => Effect.Effect<void, TokenStoreError>
  /**
   * Runs a token acquisition for a key, coordinated with every other user of the store. A store shared by many
   * processes takes a lock here, so that one process asks the token endpoint while the others wait for the token
   * it stores (a store must re-read itself under the lock and return a stored token that is not `stale`, if one
   * appeared). A process-local store just runs `acquire`.
   *
   * `stale` is the token the caller wants replaced, if any. Store failures must not fail the acquisition: a store
   * that cannot coordinate runs `acquire` itself.
   */
  readonly coordinate: <E>(
    key: Key,
    stale: AccessToken | undefined,
    acquire: Effect.Effect<AccessToken, E>
  ) => Effect.Effect<AccessToken, E>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class TokenStore extends Context.Tag("@effect-oauth2/core/TokenStore")<TokenStore, Service>() {}

/**
 * A store in this process's memory: what `AccessTokens` uses when no store is provided. Tokens are gone when the
 * process ends.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<Service> = Effect.map(
  Ref.make(new Map<string, AccessToken>()),
  (ref) =>
    TokenStore.of({
      get: (key) => Ref.get(ref).pipe(Effect.map((map) => Option.fromNullable(map.get(keyToString(key))))),
      set: (key, token) =>
        Ref.update(ref, (map) => {
          const next = new Map(map)
          next.set(keyToString(key), token)
          return next
        }),
      delete: (key) =>
        Ref.update(ref, (map) => {
          const next = new Map(map)
          next.delete(keyToString(key))
          return next
        }),
      coordinate: (_key, _stale, acquire) => acquire
    })
)

/**
 * The in-memory store as a layer. Share one such layer between several `AccessTokens` to share tokens in-process.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<TokenStore> = Layer.effect(TokenStore, makeMemory)
