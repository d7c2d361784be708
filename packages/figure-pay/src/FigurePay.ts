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
import * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as Endpoint from "@effect-oauth2/core/Endpoint"
import * as OAuth2Client from "@effect-oauth2/core/OAuth2Client"
import * as OAuth2Error from "@effect-oauth2/core/OAuth2Error"
import * as OAuth2HttpClient from "@effect-oauth2/core/OAuth2HttpClient"
import type * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import * as PlatformHttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Banking from "./Banking.js"
import * as urls from "@effect-oauth2/core/ProviderConfig"

/**
 * The provider name used in logs, spans, metrics, errors and token-store keys.
 *
 * @since 0.1.0
 * @category constants
 */
export const provider = "figure-pay"

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
 * A Figure Pay environment: `"sandbox"` (test) or `"production"`. Client credentials are per environment: test
 * credentials fail against production with 401.
 *
 * @since 0.1.0
 * @category models
 */
export type Environment = "sandbox" | "production"

/**
 * The API host of each environment (the token endpoint is `{api}/oauth2/token`).
 *
 * - sandbox: `https://api.test.figurepay.com`, from Figure Pay's newer docs;
 * - production: `https://api.figurepay.com`, inferred from the documented production host: override `apiUrl` if
 *   Figure Pay gives you another.
 *
 * @since 0.1.0
 * @category constants
 */
export const environments: { readonly [E in Environment]: { readonly api: string } } = {
  sandbox: { api: "https://api.test.figurepay.com" },
  production: { api: "https://api.figurepay.com" }
}

/**
 * The sandbox host in Figure Pay's older authentication page, `https://api.pay.test.figure.com`: pass it as `apiUrl`
 * if your onboarding names that host.
 *
 * @since 0.1.0
 * @category constants
 */
export const legacySandboxUrl = "https://api.pay.test.figure.com"

/**
 * The environment used when none is given: `"sandbox"`, so that nothing reaches production by accident.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultEnvironment: Environment = "sandbox"

/**
 * The lifetime of a token whose response has no `expires_in` (Figure Pay's example has none): 1 hour, as documented.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultLifetime: Duration.Duration = Duration.hours(1)

/**
 * The header that selects an API version, `YYYY-MM-DD`.
 *
 * @since 0.1.0
 * @category constants
 */
export const apiVersionHeader = "X-FigurePay-Api-Version"

/**
 * Whether a string is a valid API version: a real calendar date written `YYYY-MM-DD`.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isApiVersion = (value: string): boolean => {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value)
  if (match === null) return false
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  const date = new Date(Date.UTC(year, month - 1, day))
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
}

/**
 * An `HttpClient` that puts the Figure Pay access token on every request (and replays once after a 401).
 *
 * @since 0.1.0
 * @category models
 */
export type AuthorizedHttpClient = PlatformHttpClient.HttpClient.With<
  HttpClientError.HttpClientError | OAuth2Error.OAuth2Error
>

/**
 * The options of {@link layer} and {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends OAuth2HttpClient.ApiBounds {
  /** The client id Figure Pay gave you for this environment. Required. */
  readonly clientId: string
  /** The client secret; a plain string is wrapped in `Redacted` at once. Required. */
  readonly clientSecret: Redacted.Redacted<string> | string
  /** Which environment's host to use. Default: `"sandbox"`. */
  readonly environment?: Environment | undefined
  /** The API host, e.g. {@link legacySandboxUrl}, a proxy or the emulator. Default: the environment's. */
  readonly apiUrl?: string | undefined
  /** The token endpoint. Default: `{apiUrl}/oauth2/token`. */
  readonly tokenUrl?: string | undefined
  /** The API version to send as `X-FigurePay-Api-Version` (`YYYY-MM-DD`). Default: none (the account's default version). */
  readonly apiVersion?: string | undefined
  /** How long a token request may take. Default: 30 seconds. */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** How long before expiry the background refresh starts. Default: 60 seconds (core's default). */
  readonly refreshSkew?: Duration.DurationInput | undefined
  /** The back-off of background refresh retries. Default: core's (exponential from 1 s, jittered, capped at 5 min). */
  readonly retrySchedule?: Schedule.Schedule<unknown, OAuth2Error.OAuth2Error> | undefined
  /** Start acquiring a token in the background as soon as the layer is built. Default: `false`. */
  readonly prefetch?: boolean | undefined
}

/**
 * The options after defaults and validation.
 *
 * @since 0.1.0
 * @category models
 */
export interface Resolved {
  readonly environment: Environment
  /** The API host, without a trailing slash: the base of {@link HttpClient}. */
  readonly apiUrl: string
  /** The API version header value, when one is set. */
  readonly apiVersion: string | undefined
  /** The only origin the access token is ever sent to: the API host's. */
  readonly allowedOrigins: ReadonlyArray<string>
  /** The token-endpoint description handed to core. */
  readonly endpoint: Endpoint.Endpoint
  /** The client id and secret (`Redacted`), as handed to core. */
  readonly credentials: Endpoint.Credentials
}

const invalid = (description: string) =>
  new OAuth2Error.InvalidConfiguration({ provider, source: "configuration", description })

/**
 * Applies the defaults and validates the options: every URL https (or http on loopback), the API version a
 * `YYYY-MM-DD` date.
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolve = (options: Options): Effect.Effect<Resolved, OAuth2Error.InvalidConfiguration> =>
  Effect.gen(function*() {
    const environment = options.environment ?? defaultEnvironment
    const hosts = environments[environment]
    if (hosts === undefined) {
      return yield* invalid(`environment must be one of ${Object.keys(environments).join(", ")}.`)
    }
    if (options.clientId.trim() === "") return yield* invalid("clientId is empty.")
    const credentials = Endpoint.credentials(options.clientId, options.clientSecret)
    if (credentials.clientSecret === undefined || Redacted.value(credentials.clientSecret) === "") {
      return yield* invalid("clientSecret is empty.")
    }
    if (options.apiVersion !== undefined && !isApiVersion(options.apiVersion)) {
      return yield* invalid(`apiVersion must be a date written YYYY-MM-DD, e.g. 2024-01-15 (${apiVersionHeader}).`)
    }
    const apiUrl = yield* urls.baseUrl(provider, "apiUrl", options.apiUrl ?? hosts.api)
    const endpoint = yield* Endpoint.make({
      provider,
      environment,
      tokenUrl: options.tokenUrl ?? `${apiUrl}/oauth2/token`,
      authMethod: "client_secret_post",
      defaultLifetime,
      defaultTokenType: "Bearer",
      acceptedTokenTypes: ["Bearer"],
      requestTimeout: options.requestTimeout
    })
    return {
      environment,
      apiUrl,
      apiVersion: options.apiVersion,
      allowedOrigins: [urls.originOf(apiUrl)],
      endpoint,
      credentials
    }
  })

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
  AuthorizedHttpClient
>() {}

/**
 * Everything {@link make} builds.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly config: Resolved
  readonly tokens: AccessTokens.Service
  readonly httpClient: AuthorizedHttpClient
  readonly banking: Banking.Service
}

const unsupportedRevocation = new OAuth2Error.Unsupported({
  provider,
  source: "configuration",
  operation: "revocation",
  hint:
    "Figure Pay documents no revocation endpoint: contact Figure Pay support to deactivate a leaked token or credentials. Tokens expire on their own within an hour."
})

/** Header values as they may appear in a log line: printable, bounded. */
const printable = (value: string | undefined): string | undefined =>
  value === undefined ? undefined : value.replace(/[^\x20-\x7E]/g, "?").slice(0, 200)

const pathOf = (url: string): string => {
  try {
    return new URL(url).pathname
  } catch {
    return url.replace(/[?#].*$/s, "")
  }
}

const observe = (apiVersion: string | undefined) =>
(
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<HttpClientResponse.HttpClientResponse, OAuth2Error.OAuth2Error> =>
  Effect.gen(function*() {
    const request = `${response.request.method} ${pathOf(response.request.url)}`
    const deprecation = printable(response.headers["deprecation"])
    const sunset = printable(response.headers["sunset"])
    if (deprecation !== undefined || sunset !== undefined) {
      const version = apiVersion === undefined ? "the account's default API version" : `API version ${apiVersion}`
      yield* Effect.logWarning(
        `Figure Pay announces the retirement of ${version} (${request}): Deprecation: ${deprecation ?? "(none)"}, Sunset: ${
          sunset ?? "(none)"
        }. Move ${apiVersionHeader} to a current version before the sunset.`
      ).pipe(
        Effect.annotateLogs({
          provider,
          apiVersion: apiVersion ?? "(default)",
          deprecation: deprecation ?? "",
          sunset: sunset ?? "",
          request
        })
      )
    }
    if (response.status === 410) {
      yield* Effect.ignore(response.arrayBuffer)
      return yield* new OAuth2Error.ProtocolError({
        provider,
        source: "resource-server",
        status: 410,
        errorDescription: `${request} answered 410 Gone: ${
          apiVersion === undefined
            ? "the account's default API version has been removed"
            : `API version ${apiVersion} (${apiVersionHeader}) has been removed`
        }; set apiVersion (FIGURE_PAY_API_VERSION) to a supported version`
      })
    }
    return response
  })

/**
 * Builds the token cache and the authorised client over the plain `HttpClient` from the context (which also serves
 * the token endpoint: never give it an authorised client). A `TokenStore` in the context is used when present.
 * Scoped: the background refresh lives as long as the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<Service, OAuth2Error.InvalidConfiguration, PlatformHttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const config = yield* resolve(options)
    const client = yield* OAuth2Client.make({ endpoint: config.endpoint, credentials: config.credentials })
    const core = yield* AccessTokens.make({
      scopes: [],
      refreshSkew: options.refreshSkew,
      retrySchedule: options.retrySchedule,
      prefetch: options.prefetch
    }).pipe(Effect.provideService(OAuth2Client.OAuth2Client, client))
    const tokens: AccessTokens.Service = { ...core, revoke: Effect.fail(unsupportedRevocation) }
    const plain = yield* PlatformHttpClient.HttpClient
    const { apiVersion } = config
    const versioned = apiVersion === undefined
      ? plain
      : PlatformHttpClient.mapRequest(plain, HttpClientRequest.setHeader(apiVersionHeader, apiVersion))
    // The base URL goes on outside the middleware, so that the origin check sees the full URL and a replay never
    // prepends it twice.
    const httpClient: AuthorizedHttpClient = OAuth2HttpClient.withAccessToken(versioned, tokens, {
      allowedOrigins: config.allowedOrigins,
      ...OAuth2HttpClient.boundsOptions(options)
    }).pipe(
      PlatformHttpClient.transformResponse(Effect.flatMap(observe(apiVersion))),
      PlatformHttpClient.mapRequest(HttpClientRequest.prependUrl(config.apiUrl))
    )
    return { config, tokens, httpClient, banking: Banking.fromHttpClient(httpClient) }
  })

/**
 * The services of a built {@link Service} as a `Context`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const toContext = (
  service: Service
): Context.Context<AccessTokens.AccessTokens | Tokens | HttpClient | Banking.Banking> =>
  Context.make(AccessTokens.AccessTokens, service.tokens).pipe(
    Context.add(Tokens, service.tokens),
    Context.add(HttpClient, service.httpClient),
    Context.add(Banking.Banking, service.banking)
  )

/**
 * Provides core's `AccessTokens` and this package's `Tokens`, `HttpClient` and `Banking.Banking`, over the plain
 * `HttpClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<
  AccessTokens.AccessTokens | Tokens | HttpClient | Banking.Banking,
  OAuth2Error.InvalidConfiguration,
  PlatformHttpClient.HttpClient
> => Layer.scopedContext(Effect.map(make(options), toContext))

/**
 * The options {@link config} reads from the environment.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConfigOptions {
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly environment: Environment
  readonly apiUrl: string | undefined
  readonly apiVersion: string | undefined
}

const apiVersionConfig = (name: string): Config.Config<string | undefined> =>
  Config.string(name).pipe(
    Config.mapOrFail((value) =>
      isApiVersion(value.trim())
        ? Either.right(value.trim())
        : Either.left(ConfigError.InvalidData([], `${name} must be a date written YYYY-MM-DD, e.g. 2024-01-15`))
    ),
    Config.option,
    Config.map(Option.getOrUndefined)
  )

/**
 * Reads the documented environment variables:
 *
 * | variable | meaning | default |
 * |---|---|---|
 * | `FIGURE_PAY_CLIENT_ID` | client id | required |
 * | `FIGURE_PAY_CLIENT_SECRET` | client secret (read with `Config.redacted`) | required |
 * | `FIGURE_PAY_ENV` | `sandbox` or `production` | `sandbox` |
 * | `FIGURE_PAY_API_URL` | API host override | the environment's |
 * | `FIGURE_PAY_API_VERSION` | `X-FigurePay-Api-Version`, `YYYY-MM-DD` | none |
 *
 * A missing or bad value is a `ConfigError` naming the variable (and, for an enumeration, the allowed values).
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<ConfigOptions> = Config.all({
  clientId: Config.nonEmptyString("FIGURE_PAY_CLIENT_ID"),
  clientSecret: Config.redacted(Config.nonEmptyString("FIGURE_PAY_CLIENT_SECRET")),
  environment: urls.oneOf("FIGURE_PAY_ENV", ["sandbox", "production"], defaultEnvironment),
  apiUrl: urls.optionalUrl("FIGURE_PAY_API_URL"),
  apiVersion: apiVersionConfig("FIGURE_PAY_API_VERSION")
})

/**
 * {@link layer} with the credentials, environment, host and API version read by {@link config}; `options` gives the
 * rest (token URL override, refresh policy...).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Omit<Options, keyof ConfigOptions> = {}
): Layer.Layer<
  AccessTokens.AccessTokens | Tokens | HttpClient | Banking.Banking,
  ConfigError.ConfigError | OAuth2Error.InvalidConfiguration,
  PlatformHttpClient.HttpClient
> => Layer.unwrapEffect(Effect.map(config, (fromEnv) => layer({ ...options, ...fromEnv })))

/**
 * The URL override that points everything at an `@effect-oauth2/emulator` instance (or anything laid out like it):
 * pass `emulator.urls` or `emulator.urls.figurePay`.
 *
 * ```ts
 * FigurePay.layer({ clientId, clientSecret, ...FigurePay.emulatorUrls(emulator.urls) })
 * ```
 *
 * @since 0.1.0
 * @category emulator
 */
export const emulatorUrls = (
  urls: { readonly api: string } | { readonly figurePay: { readonly api: string } }
): { readonly apiUrl: string } => ({ apiUrl: "figurePay" in urls ? urls.figurePay.api : urls.api })
