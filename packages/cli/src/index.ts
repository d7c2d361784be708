/**
 * @effect-oauth2/cli: the `effect-oauth2` command.
 *
 * @since 0.1.0
 */

/**
 * The command tree and `run(args)`.
 *
 * @since 0.1.0
 */
export * as Cli from "./Cli.js"

/**
 * The exit codes, by error class.
 *
 * @since 0.1.0
 */
export * as ExitCode from "./ExitCode.js"
