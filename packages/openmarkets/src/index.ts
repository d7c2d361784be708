/**
 * @effect-oauth2/openmarkets: Openmarkets client-credentials tokens for Effect programs, and an authorised API client.
 *
 * @since 0.1.0
 */

/**
 * The definition, the layers (options, config), the `Tokens` / `HttpClient` tags and the self-test.
 *
 * @since 0.1.0
 */
export * as Openmarkets from "./Openmarkets.js"

