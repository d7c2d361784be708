/**
 * Openmarkets client-credentials tokens: its definition, tags and layers. The package README has the sample, the
 * variables and the behaviour.
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
 * Openmarkets as a provider definition. The API host has no documented default: give `hosts.api`
 * (`OPENMARKETS_API_URL`), or the API client refuses every request and sends the token nowhere.
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
 * Openmarkets' access tokens: core's `AccessTokens` service under this package's tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class Tokens extends Context.Tag("@effect-oauth2/openmarkets/Tokens")<Tokens, AccessTokens.Service>() {}

/**
 * The authorised `HttpClient` for the Openmarkets API, based at `hosts.api`: `client.get("/v1/market-data/quotes")`.
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
 * What {@link layer} takes: core's provider settings (`hosts`: `identity` and `api`).
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
 * Provides {@link Services} over the plain `HttpClient` (and a `TokenStore` in the context, when there is one).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: OAuth2Provider.Layers<Services, Options>["layer"] = openmarkets.layer

/**
 * The documented environment variables (`OAuth2Provider.variables(definition)`, the README's table).
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
