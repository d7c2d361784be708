/**
 * The exit codes of the `effect-oauth2` command: one per class of failure, so that a script can tell "fix the
 * credentials" from "try again later" without reading the message.
 *
 * | code | meaning |
 * |---|---|
 * | 0 | success |
 * | 1 | unexpected failure (a bug: please report it) |
 * | 2 | usage or configuration: bad flags, missing credentials, `InvalidConfiguration`, a bad environment variable or config file, an unusable token store |
 * | 3 | `Unauthorized`: the credentials or the grant were refused |
 * | 4 | `InvalidScope`: a scope the client may not have |
 * | 5 | `Expired` or `LoginRequired`: no valid token and none to be had (the refresh token is dead): log in again |
 * | 6 | `RateLimited`: wait and try again |
 * | 7 | `TransportError`: network failure or timeout |
 * | 8 | `MalformedResponse` or `ProtocolError`: the provider answered something unusable |
 * | 9 | `Unsupported`: the provider lacks the operation |
 * | 10 | `AuthorizationFailed`: the login was refused, its state did not match, or it timed out |
 *
 * @since 0.1.0
 */
import * as ConfigError from "effect/ConfigError"
import * as Predicate from "effect/Predicate"

/**
 * The codes by name.
 *
 * @since 0.1.0
 * @category constants
 */
export const ExitCode = {
  Ok: 0,
  Unexpected: 1,
  Usage: 2,
  Unauthorized: 3,
  InvalidScope: 4,
  Expired: 5,
  RateLimited: 6,
  Transport: 7,
  ProviderMisbehaved: 8,
  Unsupported: 9,
  AuthorizationFailed: 10
} as const

/**
 * @since 0.1.0
 * @category models
 */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/**
 * The code for each error `_tag`: core's error family, `@effect/cli`'s and `effect`'s configuration errors, and the
 * command's own usage errors.
 *
 * @since 0.1.0
 * @category constants
 */
export const byTag: Readonly<Record<string, ExitCode>> = {
  // usage and configuration
  ConfigError: ExitCode.Usage,
  UsageError: ExitCode.Usage,
  InvalidConfiguration: ExitCode.Usage,
  TokenStoreError: ExitCode.Usage,
  ServeError: ExitCode.Usage,
  // @effect/cli's ValidationError variants
  CommandMismatch: ExitCode.Usage,
  CorrectedFlag: ExitCode.Usage,
  HelpRequested: ExitCode.Ok,
  InvalidArgument: ExitCode.Usage,
  InvalidValue: ExitCode.Usage,
  MissingValue: ExitCode.Usage,
  MissingFlag: ExitCode.Usage,
  MultipleValuesDetected: ExitCode.Usage,
  MissingSubcommand: ExitCode.Usage,
  NoBuiltInMatch: ExitCode.Usage,
  UnclusteredFlag: ExitCode.Usage,
  // core's error family
  Unauthorized: ExitCode.Unauthorized,
  InvalidScope: ExitCode.InvalidScope,
  Expired: ExitCode.Expired,
  LoginRequired: ExitCode.Expired,
  RateLimited: ExitCode.RateLimited,
  TransportError: ExitCode.Transport,
  MalformedResponse: ExitCode.ProviderMisbehaved,
  ProtocolError: ExitCode.ProviderMisbehaved,
  Unsupported: ExitCode.Unsupported,
  AuthorizationFailed: ExitCode.AuthorizationFailed
}

/**
 * The exit code for a failure: by its `_tag`, 2 for an `effect` `ConfigError`, 1 for anything unknown.
 *
 * @since 0.1.0
 * @category conversions
 */
export const fromError = (error: unknown): ExitCode => {
  if (ConfigError.isConfigError(error)) return ExitCode.Usage
  if (Predicate.hasProperty(error, "_tag") && typeof error._tag === "string") {
    return byTag[error._tag] ?? ExitCode.Unexpected
  }
  return ExitCode.Unexpected
}

/**
 * The table as printed at the end of every `--help`.
 *
 * @since 0.1.0
 * @category documentation
 */
export const documentation: ReadonlyArray<readonly [code: ExitCode, meaning: string]> = [
  [ExitCode.Ok, "success"],
  [ExitCode.Unexpected, "unexpected failure (a bug: please report it)"],
  [ExitCode.Usage, "usage or configuration: bad flags, missing credentials, invalid configuration, token store unusable"],
  [ExitCode.Unauthorized, "Unauthorized: the credentials or the grant were refused"],
  [ExitCode.InvalidScope, "InvalidScope: a scope the client may not have"],
  [ExitCode.Expired, "Expired / LoginRequired: no valid token and none to be had (log in again)"],
  [ExitCode.RateLimited, "RateLimited: wait and try again"],
  [ExitCode.Transport, "TransportError: network failure or timeout"],
  [ExitCode.ProviderMisbehaved, "MalformedResponse / ProtocolError: the provider answered something unusable"],
  [ExitCode.Unsupported, "Unsupported: the provider lacks the operation"],
  [ExitCode.AuthorizationFailed, "AuthorizationFailed: login refused, state mismatch or timeout"]
]
