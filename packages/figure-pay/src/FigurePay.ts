/**
 * Figure Pay Banking API: its definition, tags and layers, and its `X-FigurePay-Api-Version` (the versioned client
 * warns on `Deprecation`/`Sunset` and fails a 410). The package README has the sample, the variables and the behaviour.
 *
 * @since 0.1.0
 */
import type * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as OAuth2Error from "@effect-oauth2/core/OAuth2Error"
import type * as OAuth2HttpClient from "@effect-oauth2/core/OAuth2HttpClient"
import * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Banking from "./Banking.js"
import * as internal from "./internal/apiVersion.js"

/**
 * Figure Pay as a provider definition; the API version and its observer are this package's own ({@link make}).
 *
 * @since 0.2.0
 * @category definition
 */
export const definition: OAuth2Provider.Definition = {
  name: "figure-pay",
  title: "Figure Pay",
  envPrefix: "FIGURE_PAY",
  environments: {
    sandbox: { api: "https://api.test.figurepay.com" },
    production: { api: "https://api.figurepay.com" }
  },
  defaultEnvironment: "sandbox",
  acquire: "client_credentials",
  scopes: { kind: "none", known: [], default: [], delimiter: " " },
  authorizationServer: {
    tokenUrl: "{api}/oauth2/token",
    authMethod: "client_secret_post",
    defaultLifetime: "1 hour",
    defaultTokenType: "Bearer",
    acceptedTokenTypes: ["Bearer"]
  },
  revocation: {
    unsupported: "Figure Pay documents no revocation endpoint: contact Figure Pay support to deactivate a leaked " +
      "token or credentials. Tokens expire on their own within an hour."
  },
  introspection: {
    unsupported: "Figure Pay documents no introspection endpoint (RFC 7662) for clients. To check that credentials " +
      "and tokens work, run `effect-oauth2 whoami figure-pay`."
  },
  login: {
    unsupported: "figure-pay uses the client-credentials grant: there is nothing to log in to. " +
      "`effect-oauth2 token figure-pay` gets a token directly."
  },
  apis: { api: "{api}" },
  variables: [{
    name: "FIGURE_PAY_API_VERSION",
    meaning: "`X-FigurePay-Api-Version`, a date written `YYYY-MM-DD`",
    default: "none (the account's default version)"
  }]
}

/**
 * The provider name used in logs, spans, metrics, errors and token-store keys.
 *
 * @since 0.1.0
 * @category constants
 */
export const provider = "figure-pay"

/**
 * A Figure Pay environment: `"sandbox"` (test) or `"production"` (credentials are per environment).
 *
 * @since 0.1.0
 * @category models
 */
export type Environment = "sandbox" | "production"

/**
 * The sandbox host in Figure Pay's older authentication page: pass it as `hosts.api` if your onboarding names it.
 *
 * @since 0.1.0
 * @category constants
 */
export const legacySandboxUrl = "https://api.pay.test.figure.com"

/**
 * What {@link layer} and {@link make} take: core's provider settings, and the API version.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends OAuth2Provider.Settings {
  /** The API version to send as `X-FigurePay-Api-Version` (`YYYY-MM-DD`). Default: none (the account's default version). */
  readonly apiVersion?: string | undefined
}

/**
 * Figure Pay's access tokens: core's `AccessTokens` service under this package's tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class Tokens extends Context.Tag("@effect-oauth2/figure-pay/Tokens")<Tokens, AccessTokens.Service>() {}

/**
 * The authorised, versioned client of the Banking API, based at the API host: `client.get("/profiles")`.
 *
 * @since 0.1.0
 * @category tags
 */
export class HttpClient extends Context.Tag("@effect-oauth2/figure-pay/HttpClient")<
  HttpClient,
  OAuth2HttpClient.Authorized
>() {}

/**
 * What {@link layer} provides.
 *
 * @since 0.2.0
 * @category models
 */
export type Services = AccessTokens.AccessTokens | Tokens | HttpClient | Banking.Banking

/**
 * Validates the options ({@link resolve}) and builds the tokens and the versioned client (`OAuth2Provider.make`).
 * Scoped.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: OAuth2Provider.Layers<Services, Options>["make"] = (options) =>
  Effect.flatMap(resolve(options), ({ apiVersion }) =>
    OAuth2Provider.make(definition, {
      ...options,
      transformClient: (client) => (options.transformClient ?? ((c) => c))(internal.versioned(apiVersion)(client))
    }))

/**
 * The documented environment variables (`OAuth2Provider.variables(definition)`, the README's table).
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = Config.zipWith(
  OAuth2Provider.config(definition),
  internal.apiVersionConfig("FIGURE_PAY_API_VERSION"),
  (settings, apiVersion): Options => ({ ...settings, apiVersion })
)

const figurePay = OAuth2Provider.layers(definition, ({ apis, tokens }) =>
  Context.make(Tokens, tokens).pipe(
    Context.add(HttpClient, apis.api!),
    Context.add(Banking.Banking, Banking.fromHttpClient(apis.api!))
  ), { config, make })

/**
 * Provides {@link Services} over the plain `HttpClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: OAuth2Provider.Layers<Services, Options>["layer"] = figurePay.layer

/**
 * {@link layer}, its options from {@link config} or the `Config` given: the treasury's account beside the main one
 * is `layerConfig(Config.nested(FigurePay.config, "TREASURY"))`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: OAuth2Provider.Layers<Services, Options>["layerConfig"] = figurePay.layerConfig

// -----------------------------------------------------------------------------
// API version: this package's own (internal/apiVersion.ts), counted apart from the wiring
// -----------------------------------------------------------------------------

/**
 * The header that selects an API version, `YYYY-MM-DD`.
 *
 * @since 0.1.0
 * @category constants
 */
export const apiVersionHeader: string = internal.apiVersionHeader

/**
 * Whether a string is a valid API version: a real calendar date written `YYYY-MM-DD`.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isApiVersion: (value: string) => boolean = internal.isApiVersion

/**
 * The options after defaults and validation.
 *
 * @since 0.1.0
 * @category models
 */
export interface Resolved extends OAuth2Provider.Resolved {
  /** The API version header value, when one is set. */
  readonly apiVersion: string | undefined
}

/**
 * Validates the options: core's `OAuth2Provider.resolve`, and the API version a `YYYY-MM-DD` date.
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolve = (options: Options): Effect.Effect<Resolved, OAuth2Error.InvalidConfiguration> =>
  options.apiVersion !== undefined && !isApiVersion(options.apiVersion)
    ? Effect.fail(
      new OAuth2Error.InvalidConfiguration({
        provider,
        source: "configuration",
        description: `apiVersion must be a date written YYYY-MM-DD, e.g. 2024-01-15 (${apiVersionHeader}).`
      })
    )
    : Effect.map(OAuth2Provider.resolve(definition, options), (resolved) => ({
      ...resolved,
      apiVersion: options.apiVersion
    }))
