/**
 * @effect-oauth2/tastytrade: tastytrade API tokens from a personal grant, and authorised clients, for Effect programs.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Customer from "./Customer.js"
/** @since 0.1.0 */
export * as Tastytrade from "./Tastytrade.js"
