/**
 * `@effect-oauth2/emulator`: a loopback server that behaves like the token, revocation and API endpoints of Figure
 * Markets, Figure Pay, Tradier and Openmarkets, with fault injection.
 *
 * @since 0.1.0
 */

/**
 * The running emulator: `make`, `layer`, `start`, its URLs and its controls.
 *
 * @since 0.1.0
 */
export * as Emulator from "./Emulator.js"

/**
 * Fault injection and counters, per endpoint.
 *
 * @since 0.1.0
 */
export * as Faults from "./Faults.js"

/**
 * Registered clients and the built-in demo clients.
 *
 * @since 0.1.0
 */
export * as Clients from "./Clients.js"
