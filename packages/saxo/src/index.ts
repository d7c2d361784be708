/**
 * @effect-oauth2/saxo: Saxo Bank OpenAPI tokens (authorization-code login, rotating refresh tokens) and authorised
 * clients, for Effect programs.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Saxo from "./Saxo.js"
/** @since 0.1.0 */
export * as Users from "./Users.js"
