/**
 * @effect-oauth2/openmarkets: Openmarkets client-credentials tokens for Effect programs, and an authorised API client.
 *
 * @since 0.1.0
 */

/**
 * Layers (options, config) and the `Tokens` / `HttpClient` tags.
 *
 * @since 0.1.0
 */
export * as Openmarkets from "./Openmarkets.js"

/**
 * Environments, scopes, token URLs, and Openmarkets' token endpoint as core's `Endpoint`.
 *
 * @since 0.1.0
 */
export * as OpenmarketsEndpoint from "./OpenmarketsEndpoint.js"
