/**
 * Figure Pay Banking API: the environments, the token endpoint (client_secret_post, no scope, a response that may
 * carry only `access_token`), the `X-FigurePay-Api-Version` header, and the layers that give a program its tokens and
 * its authorised HTTP client.
 *
 * One layer provides core's generic `AccessTokens` and this package's own tags (`Tokens`, `HttpClient`,
 * `Banking.Banking`), so that a program can use Figure Pay next to another provider.
 *
 * ```ts
 * import { Banking, FigurePay } from "@effect-oauth2/figure-pay"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const profiles = yield* Banking.listProfiles
 *   yield* Effect.log(`${profiles.length} profile(s)`)
 * })
 *
 * program.pipe(
 *   Effect.provide(FigurePay.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici))),
 *   Effect.runPromise
 * )
 * ```
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
 * Figure Pay as a provider definition: one API host per environment (the token endpoint is `{api}/oauth2/token`),
 * `client_secret_post`, no scope, a response that may carry only `access_token` (Bearer, one hour), no revocation.
 * The `X-FigurePay-Api-Version` header and the Deprecation/Sunset/410 observer are this package's own (see
 * {@link make}).
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
 * A Figure Pay environment: `"sandbox"` (test) or `"production"`. Client credentials are per environment: test
 * credentials fail against production with 401. The production host is inferred from the documented one: give
 * `hosts.api` if Figure Pay names another.
 *
 * @since 0.1.0
 * @category models
 */
export type Environment = "sandbox" | "production"

/**
 * The sandbox host in Figure Pay's older authentication page, `https://api.pay.test.figure.com`: pass it as
 * `hosts.api` if your onboarding names that host.
 *
 * @since 0.1.0
 * @category constants
 */
export const legacySandboxUrl = "https://api.pay.test.figure.com"

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
 * What {@link layer} and {@link make} take: core's provider settings (`hosts.api`, the API host, e.g.
 * {@link legacySandboxUrl}), and the API version.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends OAuth2Provider.Settings {
  /** The API version to send as `X-FigurePay-Api-Version` (`YYYY-MM-DD`). Default: none (the account's default version). */
  readonly apiVersion?: string | undefined
}

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
 * Applies the defaults and validates the options: core's validation (`OAuth2Provider.resolve`), and the API version a
 * `YYYY-MM-DD` date.
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

/**
 * The Figure Pay access tokens: core's `AccessTokens` service under this package's own tag, so that it stays
 * reachable when another provider's layer also provides `AccessTokens`. `revoke` fails with `Unsupported`: Figure Pay
 * documents no revocation endpoint.
 *
 * @since 0.1.0
 * @category tags
 */
export class Tokens extends Context.Tag("@effect-oauth2/figure-pay/Tokens")<Tokens, AccessTokens.Service>() {}

/**
 * The authorised client of the Banking API, based at the API host: `client.get("/profiles")`. It sends
 * `X-FigurePay-Api-Version` when `apiVersion` is set, logs a warning whenever an answer carries `Deprecation` or
 * `Sunset`, and fails a 410 (a removed API version) with a `ProtocolError`.
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
 * Validates the options ({@link resolve}) and builds the tokens and the authorised Banking client (versioned and
 * observed) over the plain `HttpClient` from the context (see `OAuth2Provider.make`). Scoped: the background refresh
 * lives as long as the scope.
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
 * The documented environment variables (`OAuth2Provider.variables(FigurePay.definition)`): `FIGURE_PAY_CLIENT_ID`,
 * `FIGURE_PAY_CLIENT_SECRET`, `FIGURE_PAY_ENV` (`sandbox` or `production`, default `sandbox`), `FIGURE_PAY_API_URL`,
 * `FIGURE_PAY_TOKEN_URL`, and `FIGURE_PAY_API_VERSION` (`YYYY-MM-DD`). A missing or bad value is a `ConfigError`
 * naming the variable.
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
 * Provides core's `AccessTokens` and this package's `Tokens`, `HttpClient` and `Banking.Banking`, over the plain
 * `HttpClient`.
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
