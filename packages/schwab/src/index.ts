/**
 * @effect-oauth2/schwab: Charles Schwab Trader API tokens (the 7-day refresh-token death as an event, HTTPS loopback
 * and paste-the-URL logins) and authorised clients, for Effect programs.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Accounts from "./Accounts.js"
/** @since 0.1.0 */
export * as Schwab from "./Schwab.js"
