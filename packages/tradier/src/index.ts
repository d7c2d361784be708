/**
 * @effect-oauth2/tradier: Tradier Brokerage tokens for Effect programs: authorization-code login on a loopback
 * callback, partner refresh, static API tokens, and an authorised API client.
 *
 * @since 0.1.0
 */

/**
 * Layers (OAuth, static token, from config), the login, and the `Tokens` / `HttpClient` tags.
 *
 * @since 0.1.0
 */
export * as Tradier from "./Tradier.js"

/**
 * Tradier's user API: the credential self-test (`GET /v1/user/profile`).
 *
 * @since 0.2.0
 */
export * as User from "./User.js"

