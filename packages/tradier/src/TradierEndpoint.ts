/**
 * Tradier's hosts, environments and scopes, and its authorization server as core's `Endpoint` describes it.
 *
 * Every OAuth endpoint lives on the API host: `GET {api}/v1/oauth/authorize` (comma-separated scopes, `state`),
 * `POST {api}/v1/oauth/accesstoken` (Basic auth, RFC 6749 form encoding) and, for approved partners,
 * `POST {api}/v1/oauth/refreshtoken`. The token response has no `token_type` (Bearer is assumed) and lives
 * `expires_in: 86399` seconds.
 *
 * @since 0.1.0
 */
import * as Endpoint from "@effect-oauth2/core/Endpoint"
import type { InvalidConfiguration } from "@effect-oauth2/core/OAuth2Error"
import * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"

/**
 * The name the Tradier packages give the provider in logs, spans, errors and token-store keys.
 *
 * @since 0.1.0
 * @category constants
 */
export const provider = "tradier"

/**
 * A Tradier environment: `"sandbox"` (paper trading, https://sandbox.tradier.com) or `"production"`
 * (https://api.tradier.com). Tokens and API tokens are valid only in the environment that issued them.
 *
 * @since 0.1.0
 * @category models
 */
export type Environment = "sandbox" | "production"

/**
 * Every environment, test one first.
 *
 * @since 0.1.0
 * @category constants
 */
export const environments: readonly ["sandbox", "production"] = ["sandbox", "production"]

/**
 * A Tradier OAuth scope. The documented ones are `read` (account data), `write` (account data, not trades),
 * `market` (market data), `trade` (orders) and `stream` (streaming sessions); any other string is passed through.
 *
 * @since 0.1.0
 * @category models
 */
export type Scope = "read" | "write" | "market" | "trade" | "stream" | (string & {})

/**
 * The documented scopes.
 *
 * @since 0.1.0
 * @category constants
 */
export const scopes: ReadonlyArray<Scope> = ["read", "write", "market", "trade", "stream"]

/**
 * The scopes asked for when none are given: `read` only (ask for the least you need, RFC 9700).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultScopes: ReadonlyArray<Scope> = ["read"]

/**
 * The hosts of one environment.
 *
 * @since 0.1.0
 * @category models
 */
export interface Hosts {
  /** The REST API host, which also serves the OAuth endpoints. */
  readonly api: string
  /**
   * The streaming host (`/v1/markets/events`, `/v1/accounts/events`). Streams are opened with a session id obtained
   * from the API host, so the access token is never sent here by this package.
   */
  readonly stream: string
}

/**
 * The documented hosts per environment.
 *
 * @since 0.1.0
 * @category constants
 */
export const hosts: { readonly [E in Environment]: Hosts } = {
  sandbox: { api: "https://sandbox.tradier.com", stream: "https://stream.tradier.com" },
  production: { api: "https://api.tradier.com", stream: "https://stream.tradier.com" }
}

/**
 * Tradier's documented token lifetime: 86399 seconds. Used when a response has no `expires_in`.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultLifetime: Duration.Duration = Duration.seconds(86399)

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
  /**
   * The API host, without a trailing path (the OAuth endpoints are `{apiUrl}/v1/oauth/...`). Default: the
   * environment's host (`https://sandbox.tradier.com` or `https://api.tradier.com`). Point it at an emulator with
   * {@link fromEmulatorUrls}.
   */
  readonly apiUrl?: string | undefined
  /** How long a request to the OAuth endpoints may take. Default: 30 seconds. */
  readonly requestTimeout?: Duration.DurationInput | undefined
}

/**
 * The API URL the options designate, without a trailing slash.
 *
 * @since 0.1.0
 * @category getters
 */
export const apiUrl = (options: Options): string =>
  (options.apiUrl ?? options.hosts?.api ?? (hosts as Readonly<Record<string, Hosts>>)[options.environment ?? "sandbox"]?.api ?? "")
    .replace(/\/+$/, "")

/**
 * Core's endpoint options for Tradier: Basic client authentication with the RFC 6749 form encoding, comma-separated
 * scopes in the authorize URL (space-separated in token responses), the refresh endpoint, a missing `token_type` read
 * as Bearer and a missing `expires_in` as 86399 seconds.
 *
 * @since 0.1.0
 * @category constructors
 */
export const options = (options: Options = {}): Endpoint.Options => {
  const api = apiUrl(options)
  return {
    provider,
    environment: options.environment ?? "sandbox",
    tokenUrl: `${api}/v1/oauth/accesstoken`,
    refreshUrl: `${api}/v1/oauth/refreshtoken`,
    authorizeUrl: `${api}/v1/oauth/authorize`,
    authMethod: "client_secret_basic",
    basicEncoding: "form",
    scopeDelimiter: " ",
    authorizeScopeDelimiter: ",",
    defaultLifetime,
    defaultTokenType: "Bearer",
    requestTimeout: options.requestTimeout
  }
}

/**
 * Tradier's authorization server as a validated core `Endpoint` (HTTPS, or HTTP on loopback only).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (opts: Options = {}): Effect.Effect<Endpoint.Endpoint, InvalidConfiguration> =>
  Endpoint.make(options(opts))

/**
 * Turns the URL object of `@effect-oauth2/emulator` (`emulator.urls`) into the options that point this package at
 * it, e.g. `Tradier.layer({ ...TradierEndpoint.fromEmulatorUrls(emulator.urls), clientId, clientSecret })`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromEmulatorUrls = (urls: { readonly tradier: { readonly api: string } }): { readonly apiUrl: string } => ({
  apiUrl: urls.tradier.api
})
