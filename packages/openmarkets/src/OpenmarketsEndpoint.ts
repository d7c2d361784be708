/**
 * Openmarkets' environments, scopes and token endpoint, as core's `Endpoint` describes them: each one now read from
 * `Openmarkets.definition`, the one source of these facts.
 *
 * @since 0.1.0
 */
import type * as ClientAuth from "@effect-oauth2/core/ClientAuth"
import * as Endpoint from "@effect-oauth2/core/Endpoint"
import type { InvalidConfiguration } from "@effect-oauth2/core/OAuth2Error"
import * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import { definition } from "./Openmarkets.js"

/**
 * The provider name: `"openmarkets"`.
 *
 * @since 0.1.0
 * @category constants
 */
export const provider = "openmarkets"

/**
 * An Openmarkets environment: `"stage"` (the test environment) or `"production"`.
 *
 * @since 0.1.0
 * @category models
 */
export type Environment = "stage" | "production"

/**
 * Every environment, test one first.
 *
 * @deprecated Read `Object.keys(Openmarkets.definition.environments)`.
 * @since 0.1.0
 * @category constants
 */
export const environments: readonly ["stage", "production"] = ["stage", "production"]

/**
 * An Openmarkets scope: `market-data-api`, `news-api`, `oms-api`, or any other string.
 *
 * @since 0.1.0
 * @category models
 */
export type Scope = "market-data-api" | "news-api" | "oms-api" | (string & {})

/**
 * The scopes Openmarkets documents.
 *
 * @deprecated Read `Openmarkets.definition.scopes.known`.
 * @since 0.1.0
 * @category constants
 */
export const scopes: ReadonlyArray<Scope> = definition.scopes.known

const tokenUrlOf = (environment: string): string | undefined => {
  const hosts = definition.environments[environment]
  return hosts === undefined ? undefined : OAuth2Provider.fillTemplate(definition.authorizationServer.tokenUrl, hosts)
}

/**
 * The documented token endpoints per environment.
 *
 * @deprecated Read `Openmarkets.definition`.
 * @since 0.1.0
 * @category constants
 */
export const tokenUrls: { readonly [E in Environment]: string } = {
  stage: tokenUrlOf("stage")!,
  production: tokenUrlOf("production")!
}

/**
 * The production token endpoint an older Openmarkets page gives. Not the default: pass it as `tokenUrl` if your
 * credentials were issued for it.
 *
 * @since 0.1.0
 * @category constants
 */
export const legacyProductionTokenUrl = "https://auth.openmarkets.com.au/connect/token"

/**
 * Openmarkets' documented token lifetime: 3600 seconds.
 *
 * @deprecated Read `Openmarkets.definition.authorizationServer.defaultLifetime`.
 * @since 0.1.0
 * @category constants
 */
export const defaultLifetime: Duration.Duration = Duration.decode(definition.authorizationServer.defaultLifetime)

/**
 * What identifies the token endpoint and how to authenticate to it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The environment. Default: `"stage"`. */
  readonly environment?: Environment | (string & {}) | undefined
  /** The token endpoint. Default: the environment's; see {@link legacyProductionTokenUrl}. */
  readonly tokenUrl?: string | undefined
  /** How the Basic header encodes the client id and secret. Default: `"raw"` (Openmarkets' sample). */
  readonly basicEncoding?: ClientAuth.BasicEncoding | undefined
  /** How long a token request may take. Default: 30 seconds. */
  readonly requestTimeout?: Duration.DurationInput | undefined
}

/**
 * The token endpoint the options designate.
 *
 * @deprecated Use `OAuth2Provider.resolve(Openmarkets.definition, settings)`'s `endpoint.tokenUrl`.
 * @since 0.1.0
 * @category getters
 */
export const tokenUrl = (options: Options): string =>
  options.tokenUrl ?? tokenUrlOf(options.environment ?? definition.defaultEnvironment) ?? ""

/**
 * Core's endpoint options for Openmarkets, from the definition.
 *
 * @deprecated Use `OAuth2Provider.resolve(Openmarkets.definition, settings)`'s `endpoint`.
 * @since 0.1.0
 * @category constructors
 */
export const options = (options: Options = {}): Endpoint.Options => ({
  provider,
  environment: options.environment ?? definition.defaultEnvironment,
  tokenUrl: tokenUrl(options),
  authMethod: definition.authorizationServer.authMethod,
  basicEncoding: options.basicEncoding ?? definition.authorizationServer.basicEncoding,
  scopeDelimiter: definition.scopes.delimiter,
  defaultLifetime: definition.authorizationServer.defaultLifetime,
  requestTimeout: options.requestTimeout
})

/**
 * Openmarkets' token endpoint as a validated core `Endpoint` (HTTPS, or HTTP on loopback only).
 *
 * @deprecated Use `OAuth2Provider.resolve(Openmarkets.definition, settings)`'s `endpoint`.
 * @since 0.1.0
 * @category constructors
 */
export const make = (opts: Options = {}): Effect.Effect<Endpoint.Endpoint, InvalidConfiguration> =>
  Endpoint.make(options(opts))

