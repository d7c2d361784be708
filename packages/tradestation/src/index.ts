/**
 * @effect-oauth2/tradestation: TradeStation API tokens from an Auth0 login, refreshed (and rotated where the key
 * rotates them), and authorised clients, for Effect programs.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Brokerage from "./Brokerage.js"
/** @since 0.1.0 */
export * as TradeStation from "./TradeStation.js"
