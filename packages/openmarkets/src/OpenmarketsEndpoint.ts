/**
 * Openmarkets' environments, scopes and token endpoint, as core's `Endpoint` describes them.
 *
 * Openmarkets runs an IdentityServer-style `POST /connect/token` for the client-credentials grant, authenticated with
 * `client_secret_basic`. Their sample Basic header is the raw `base64(id:secret)`, not RFC 6749's form-encoded one,
 * so the raw encoding is the default here (an option, since it comes from a sample, not a specification). Scopes are
 * space-separated; tokens live `expires_in: 3600` seconds; there is no refresh token and no revocation endpoint.
 *
 * @since 0.1.0
 */
import type * as ClientAuth from "@effect-oauth2/core/ClientAuth"
import * as Endpoint from "@effect-oauth2/core/Endpoint"
import type { InvalidConfiguration } from "@effect-oauth2/core/OAuth2Error"
import * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"

/**
 * The name the Openmarkets packages give the provider in logs, spans, errors and token-store keys.
 *
 * @since 0.1.0
 * @category constants
 */
export const provider = "openmarkets"

/**
 * An Openmarkets environment: `"stage"` (the test environment) or `"production"`. Credentials and tokens are valid
 * only in their own environment.
 *
 * @since 0.1.0
 * @category models
 */
export type Environment = "stage" | "production"

/**
 * Every environment, test one first.
 *
 * @since 0.1.0
 * @category constants
 */
export const environments: readonly ["stage", "production"] = ["stage", "production"]

/**
 * An Openmarkets scope: `market-data-api`, `news-api`, `oms-api`, or any other string (each API's documentation names
 * the scope it needs). A scope outside the client's plan is refused with `invalid_scope`.
 *
 * @since 0.1.0
 * @category models
 */
export type Scope = "market-data-api" | "news-api" | "oms-api" | (string & {})

/**
 * The scopes Openmarkets documents.
 *
 * @since 0.1.0
 * @category constants
 */
export const scopes: ReadonlyArray<Scope> = ["market-data-api", "news-api", "oms-api"]

/**
 * The documented token endpoints per environment.
 *
 * @since 0.1.0
 * @category constants
 */
export const tokenUrls: { readonly [E in Environment]: string } = {
  stage: "https://stage-identity.openmarkets.com.au/connect/token",
  production: "https://identity.openmarkets.com.au/connect/token"
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
 * Openmarkets' documented token lifetime: 3600 seconds. Used when a response has no `expires_in`.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultLifetime: Duration.Duration = Duration.seconds(3600)

/**
 * What identifies the token endpoint and how to authenticate to it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The environment. Default: `"stage"`. */
  readonly environment?: Environment | (string & {}) | undefined
  /**
   * The token endpoint. Default: the environment's (`https://stage-identity.openmarkets.com.au/connect/token` or
   * `https://identity.openmarkets.com.au/connect/token`); see {@link legacyProductionTokenUrl}.
   */
  readonly tokenUrl?: string | undefined
  /**
   * How the Basic header encodes the client id and secret. Default: `"raw"` (`base64(id:secret)`, as Openmarkets'
   * sample does); `"form"` is RFC 6749's. They differ only for characters outside `[A-Za-z0-9._~-]`.
   */
  readonly basicEncoding?: ClientAuth.BasicEncoding | undefined
  /** How long a token request may take. Default: 30 seconds. */
  readonly requestTimeout?: Duration.DurationInput | undefined
}

/**
 * The token endpoint the options designate.
 *
 * @since 0.1.0
 * @category getters
 */
export const tokenUrl = (options: Options): string =>
  options.tokenUrl ?? (tokenUrls as Readonly<Record<string, string>>)[options.environment ?? "stage"] ?? ""

/**
 * Core's endpoint options for Openmarkets: `client_secret_basic` (raw by default), space-separated scopes, 3600-second
 * default lifetime, no refresh, no revocation.
 *
 * @since 0.1.0
 * @category constructors
 */
export const options = (options: Options = {}): Endpoint.Options => ({
  provider,
  environment: options.environment ?? "stage",
  tokenUrl: tokenUrl(options),
  authMethod: "client_secret_basic",
  basicEncoding: options.basicEncoding ?? "raw",
  scopeDelimiter: " ",
  defaultLifetime,
  requestTimeout: options.requestTimeout
})

/**
 * Openmarkets' token endpoint as a validated core `Endpoint` (HTTPS, or HTTP on loopback only).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (opts: Options = {}): Effect.Effect<Endpoint.Endpoint, InvalidConfiguration> =>
  Endpoint.make(options(opts))

/**
 * Turns the URL object of `@effect-oauth2/emulator` (`emulator.urls`) into the options that point this package at
 * it, e.g. `Openmarkets.layer({ ...OpenmarketsEndpoint.fromEmulatorUrls(emulator.urls), clientId, clientSecret })`.
 *
 * @deprecated Give `hosts` the emulator's hosts for `"openmarkets"`.
 * @since 0.1.0
 * @category constructors
 */
export const fromEmulatorUrls = (urls: {
  readonly openmarkets: { readonly identity: string; readonly api: string }
}): {
  readonly tokenUrl: string
  readonly hosts: { readonly identity: string; readonly api: string }
} => ({
  tokenUrl: `${urls.openmarkets.identity}/connect/token`,
  hosts: { identity: urls.openmarkets.identity, api: urls.openmarkets.api }
})
