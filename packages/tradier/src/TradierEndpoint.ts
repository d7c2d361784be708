/**
 * Tradier's hosts, environments and scopes, and its authorization server as core's `Endpoint` describes it: each one
 * now read from `Tradier.definition`, the one source of these facts.
 *
 * @since 0.1.0
 */
import * as Endpoint from "@effect-oauth2/core/Endpoint"
import type { InvalidConfiguration } from "@effect-oauth2/core/OAuth2Error"
import * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import { definition } from "./Tradier.js"

/**
 * The provider name: `"tradier"`.
 *
 * @since 0.1.0
 * @category constants
 */
export const provider = "tradier"

/**
 * A Tradier environment: `"sandbox"` (paper trading) or `"production"`. Tokens are valid only where issued.
 *
 * @since 0.1.0
 * @category models
 */
export type Environment = "sandbox" | "production"

/**
 * Every environment, test one first.
 *
 * @deprecated Read `Object.keys(Tradier.definition.environments)`.
 * @since 0.1.0
 * @category constants
 */
export const environments: readonly ["sandbox", "production"] = ["sandbox", "production"]

/**
 * A Tradier OAuth scope: `read`, `write`, `market`, `trade`, `stream`, or any other string.
 *
 * @since 0.1.0
 * @category models
 */
export type Scope = "read" | "write" | "market" | "trade" | "stream" | (string & {})

/**
 * The documented scopes.
 *
 * @deprecated Read `Tradier.definition.scopes.known`.
 * @since 0.1.0
 * @category constants
 */
export const scopes: ReadonlyArray<Scope> = definition.scopes.known

/**
 * The scopes asked for when none are given: `read` only.
 *
 * @deprecated Read `Tradier.definition.scopes.default`.
 * @since 0.1.0
 * @category constants
 */
export const defaultScopes: ReadonlyArray<Scope> = definition.scopes.default

/**
 * The hosts of one environment.
 *
 * @since 0.1.0
 * @category models
 */
export interface Hosts {
  /** The REST API host, which also serves the OAuth endpoints. */
  readonly api: string
  /** The streaming host (opened with a session id from the API host: the access token is never sent there). */
  readonly stream: string
}

/**
 * The documented hosts per environment.
 *
 * @deprecated Read `Tradier.definition.environments`.
 * @since 0.1.0
 * @category constants
 */
export const hosts: { readonly [E in Environment]: Hosts } = {
  sandbox: { api: definition.environments.sandbox!.api!, stream: "https://stream.tradier.com" },
  production: { api: definition.environments.production!.api!, stream: "https://stream.tradier.com" }
}

/**
 * Tradier's documented token lifetime: 86399 seconds.
 *
 * @deprecated Read `Tradier.definition.authorizationServer.defaultLifetime`.
 * @since 0.1.0
 * @category constants
 */
export const defaultLifetime: Duration.Duration = Duration.decode(definition.authorizationServer.defaultLifetime)

/**
 * What identifies the authorization server to use.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The environment. Default: `"sandbox"`. */
  readonly environment?: Environment | (string & {}) | undefined
  /** Host overrides, `{ api }` (as `Tradier.Options` takes them). Default: none. */
  readonly hosts?: Readonly<Record<string, string | undefined>> | undefined
  /** The API host. Default: the environment's. */
  readonly apiUrl?: string | undefined
  /** How long a request to the OAuth endpoints may take. Default: 30 seconds. */
  readonly requestTimeout?: Duration.DurationInput | undefined
}

/**
 * The API URL the options designate, without a trailing slash.
 *
 * @deprecated Read `OAuth2Provider.resolveHosts(Tradier.definition, options)`'s `hosts.api`.
 * @since 0.1.0
 * @category getters
 */
export const apiUrl = (options: Options): string =>
  (options.apiUrl ?? options.hosts?.api ??
    definition.environments[options.environment ?? definition.defaultEnvironment]?.api ?? "").replace(/\/+$/, "")

/**
 * Core's endpoint options for Tradier, filled from the definition's templates.
 *
 * @deprecated Use `OAuth2Provider.resolve(Tradier.definition, settings)`'s `endpoint`.
 * @since 0.1.0
 * @category constructors
 */
export const options = (options: Options = {}): Endpoint.Options => {
  const fill = (template: string) => OAuth2Provider.fillTemplate(template, { api: apiUrl(options) })!
  const server = definition.authorizationServer
  return {
    provider,
    environment: options.environment ?? definition.defaultEnvironment,
    tokenUrl: fill(server.tokenUrl),
    refreshUrl: fill(server.refreshUrl!),
    authorizeUrl: "url" in definition.login ? fill(definition.login.url) : undefined,
    authMethod: server.authMethod,
    basicEncoding: server.basicEncoding,
    scopeDelimiter: definition.scopes.delimiter,
    authorizeScopeDelimiter: definition.scopes.authorizeDelimiter,
    defaultLifetime: server.defaultLifetime,
    defaultTokenType: server.defaultTokenType,
    requestTimeout: options.requestTimeout
  }
}

/**
 * Tradier's authorization server as a validated core `Endpoint` (HTTPS, or HTTP on loopback only).
 *
 * @deprecated Use `OAuth2Provider.resolve(Tradier.definition, settings)`'s `endpoint`.
 * @since 0.1.0
 * @category constructors
 */
export const make = (opts: Options = {}): Effect.Effect<Endpoint.Endpoint, InvalidConfiguration> =>
  Endpoint.make(options(opts))

