/**
 * @effect-oauth2/figure-markets: Figure Markets Trader API tokens and authorised clients for Effect programs.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as FigureMarkets from "./FigureMarkets.js"
/** @since 0.1.0 */
export * as Trader from "./Trader.js"
