/**
 * Openmarkets access tokens (client credentials) and an authorised API client.
 *
 * One token per process per lifetime: core's `AccessTokens` caches the token for its `expires_in` (3600 seconds),
 * shares one request among concurrent callers, and asks for a new one shortly before expiry (Openmarkets issues no
 * refresh tokens, so "refresh" is a new client-credentials request). The token endpoint is rate-limited: a 429 is
 * honoured (`Retry-After`). A scope outside the client's plan fails with `InvalidScope` naming the scopes asked for.
 *
 * The layer provides core's generic `AccessTokens` and this package's own {@link Tokens} and {@link HttpClient}, so
 * that a program can use Openmarkets next to another provider through the package tags.
 *
 * @since 0.1.0
 */
import type * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import type * as OAuth2HttpClient from "@effect-oauth2/core/OAuth2HttpClient"
import * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import { originOf } from "@effect-oauth2/core/ProviderConfig"
import type * as Config from "effect/Config"
import * as Context from "effect/Context"

// -----------------------------------------------------------------------------
// definition
// -----------------------------------------------------------------------------

/**
 * Openmarkets as a provider definition: an IdentityServer-style `{identity}/connect/token` with client credentials,
 * `client_secret_basic` in the raw encoding of Openmarkets' sample, space-separated scopes (none by default: the
 * client's whole plan), 3600-second tokens, no refresh token, no revocation. The API host has no documented default:
 * give `hosts.api` (`OPENMARKETS_API_URL`), or the API client refuses every request and sends the token nowhere.
 *
 * @since 0.2.0
 * @category definition
 */
export const definition: OAuth2Provider.Definition = {
  name: "openmarkets",
  title: "Openmarkets",
  envPrefix: "OPENMARKETS",
  environments: {
    stage: { identity: "https://stage-identity.openmarkets.com.au" },
    production: { identity: "https://identity.openmarkets.com.au" }
  },
  defaultEnvironment: "stage",
  acquire: "client_credentials",
  scopes: { kind: "open", known: ["market-data-api", "news-api", "oms-api"], default: [], delimiter: " " },
  authorizationServer: {
    tokenUrl: "{identity}/connect/token",
    authMethod: "client_secret_basic",
    basicEncoding: "raw",
    defaultLifetime: "3600 seconds"
  },
  revocation: {
    unsupported: "Openmarkets documents no revocation endpoint: tokens expire on their own after an hour; to cut " +
      "off a leaked secret, ask Openmarkets to rotate it."
  },
  introspection: {
    unsupported: "Openmarkets documents no introspection endpoint (RFC 7662) for clients. To check that credentials " +
      "and tokens work, run `effect-oauth2 whoami openmarkets`."
  },
  login: {
    unsupported: "openmarkets uses the client-credentials grant: there is nothing to log in to. " +
      "`effect-oauth2 token openmarkets` gets a token directly."
  },
  apis: { api: "{api}" },
  hooks: {
    rejectedTokenHint: ({ apis, endpoint, environment }) =>
      `Openmarkets refused a freshly issued token too. A token works only with the API of the environment that ` +
      `issued it: this client gets its tokens from ${environment} (${originOf(endpoint.tokenUrl)}) and calls ` +
      `${apis.api === undefined ? "no API" : originOf(apis.api)}; check the environment, the token URL and the API URL, and that the plan covers this API.`
  }
}

/**
 * An Openmarkets environment: `"stage"` (the test environment) or `"production"`.
 *
 * @since 0.1.0
 * @category models
 */
export type Environment = "stage" | "production"

/**
 * An Openmarkets scope: `market-data-api`, `news-api`, `oms-api`, or any other string.
 *
 * @since 0.1.0
 * @category models
 */
export type Scope = "market-data-api" | "news-api" | "oms-api" | (string & {})

/**
 * The production token endpoint an older Openmarkets page gives. Not the default: pass it as `tokenUrl` if your
 * credentials were issued for it.
 *
 * @since 0.1.0
 * @category constants
 */
export const legacyProductionTokenUrl = "https://auth.openmarkets.com.au/connect/token"

// -----------------------------------------------------------------------------
// tags
// -----------------------------------------------------------------------------

/**
 * Openmarkets' access tokens: the same service as core's `AccessTokens`, under an Openmarkets-specific tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class Tokens extends Context.Tag("@effect-oauth2/openmarkets/Tokens")<Tokens, AccessTokens.Service>() {}

/**
 * An `HttpClient` for the Openmarkets API: relative URLs are resolved against `hosts.api` (e.g.
 * `"/v1/market-data/quotes?symbols=BHP"`), every request carries the access token, and the token is sent to that
 * origin only (a request elsewhere fails with `InvalidConfiguration`). A 401 is replayed once with a new token; a
 * second 401 fails with `Unauthorized` (`rejected-token`) naming the environment. Without `hosts.api`, every request
 * fails with `InvalidConfiguration`.
 *
 * @since 0.1.0
 * @category tags
 */
export class HttpClient extends Context.Tag("@effect-oauth2/openmarkets/HttpClient")<
  HttpClient,
  OAuth2HttpClient.Authorized
>() {}

// -----------------------------------------------------------------------------
// layers
// -----------------------------------------------------------------------------

/**
 * What {@link layer} takes: core's provider settings. `hosts` takes `identity` (the token server) and `api` (the API
 * your plan covers; no default: no token is ever sent to a guessed host). Ask for the scopes you use (default: none,
 * the client's whole plan): a scope outside the plan fails with `InvalidScope`. `basicEncoding: "form"` switches to
 * RFC 6749's Basic encoding.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends OAuth2Provider.Settings {}

/**
 * What the layers of this module provide.
 *
 * @since 0.1.0
 * @category models
 */
export type Services = AccessTokens.AccessTokens | Tokens | HttpClient

const openmarkets = OAuth2Provider.layers(definition, ({ apis, tokens }) =>
  Context.make(Tokens, tokens).pipe(Context.add(HttpClient, apis.api!)))

/**
 * Tokens by client credentials at Openmarkets' token endpoint, and the authorised {@link HttpClient}. A `TokenStore`
 * in the layer's context (e.g. `Layer.provide(TokenStore.layerMemory)` or a shared store) is used when there is one.
 * Requires the plain `HttpClient` (the token endpoint is never called through an authorised client).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: OAuth2Provider.Layers<Services, Options>["layer"] = openmarkets.layer

/**
 * `OPENMARKETS_CLIENT_ID`, `OPENMARKETS_CLIENT_SECRET`, `OPENMARKETS_ENV` (`stage` or `production`, default `stage`),
 * `OPENMARKETS_SCOPES` (space-separated; default: none, the whole plan), `OPENMARKETS_IDENTITY_URL`,
 * `OPENMARKETS_API_URL` (no default), `OPENMARKETS_TOKEN_URL`: the documented environment variables
 * (`OAuth2Provider.variables(Openmarkets.definition)`), a missing or bad one a `ConfigError` naming it.
 *
 * @since 0.2.0
 * @category config
 */
export const config: Config.Config<Options> = openmarkets.config

/**
 * {@link layer} with its options read from a `Config` ({@link config} unless given). A second fund's account:
 * `layerConfig(Config.nested(Openmarkets.config, "FUND_B"))`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: OAuth2Provider.Layers<Services, Options>["layerConfig"] = openmarkets.layerConfig

/**
 * The credential self-test (`effect-oauth2 whoami openmarkets`): a token grant, since Openmarkets documents no
 * identity endpoint.
 *
 * @since 0.2.0
 * @category self-test
 */
export const selfTest: OAuth2Provider.SelfTest = OAuth2Provider.tokenGrant(
  definition.name,
  "Openmarkets documents no identity endpoint, so the token grant is the self-test."
)
