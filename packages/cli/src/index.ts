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

/**
 * A provider as the command sees it: its definition, and what the command cannot read from it (the `whoami` call,
 * a static-token mode, a login).
 *
 * @since 0.2.0
 */
export * as CliProvider from "./CliProvider.js"
