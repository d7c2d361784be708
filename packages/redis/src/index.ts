/**
 * `@effect-oauth2/redis`: a `TokenStore` on Redis, shared by many processes, with tokens encrypted and one token
 * request per lifetime for the whole fleet.
 *
 * @since 0.1.0
 */

/**
 * The Redis token store: `make`, `layer`, `layerConfig`.
 *
 * @since 0.1.0
 */
export * as RedisTokenStore from "./RedisTokenStore.js"
