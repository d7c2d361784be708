/**
 * @effect-oauth2/figure-pay: Figure Pay Banking API tokens and an authorised client for Effect programs.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as FigurePay from "./FigurePay.js"
/** @since 0.1.0 */
export * as Banking from "./Banking.js"
