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
import * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as Endpoint from "@effect-oauth2/core/Endpoint"
import * as OAuth2Client from "@effect-oauth2/core/OAuth2Client"
import type * as OAuth2HttpClient from "@effect-oauth2/core/OAuth2HttpClient"
import type * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import type { InvalidConfiguration, OAuth2Error } from "@effect-oauth2/core/OAuth2Error"
import * as PlatformHttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import * as internalHttp from "./internal/httpClient.js"
import * as OpenmarketsEndpoint from "./OpenmarketsEndpoint.js"

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
      `${originOf(apis.api!)}; check the environment, the token URL and the API URL, and that the plan covers this API.`
  }
}

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
 * An `HttpClient` for the Openmarkets API: relative URLs are resolved against the configured `apiUrl` (e.g.
 * `"/v1/market-data/quotes?symbols=BHP"`), every request carries the access token, and the token is sent to that
 * origin only (a request elsewhere fails with `InvalidConfiguration`). A 401 is replayed once with a new token; a
 * second 401 fails with `Unauthorized` (`rejected-token`) naming the environment. Without an `apiUrl`, every request
 * fails with `InvalidConfiguration`.
 *
 * @since 0.1.0
 * @category tags
 */
export class HttpClient extends Context.Tag("@effect-oauth2/openmarkets/HttpClient")<
  HttpClient,
  PlatformHttpClient.HttpClient.With<HttpClientError.HttpClientError | OAuth2Error>
>() {}

/**
 * What the layers of this module provide.
 *
 * @since 0.1.0
 * @category models
 */
export type Services = AccessTokens.AccessTokens | Tokens | HttpClient

// -----------------------------------------------------------------------------
// options
// -----------------------------------------------------------------------------

/**
 * The options of {@link layer}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends OpenmarketsEndpoint.Options, OAuth2HttpClient.ApiBounds {
  /** The client id. Required. */
  readonly clientId: string
  /** The client secret. Required. Prefer `Redacted` (e.g. from `Config.redacted`). */
  readonly clientSecret: Redacted.Redacted<string> | string
  /**
   * The scopes to ask for, sent space-separated. Default: none (the `scope` parameter is left out, and Openmarkets
   * grants the client's whole plan). Ask for what you use: a scope outside the plan fails with `InvalidScope`.
   */
  readonly scopes?: ReadonlyArray<OpenmarketsEndpoint.Scope> | undefined
  /**
   * The base URL of the Openmarkets API that {@link HttpClient} calls. Openmarkets' authentication page does not name
   * an API host, so there is no default: no token is ever sent to a guessed host. Default: none ({@link HttpClient}
   * then refuses every request; {@link Tokens} works regardless).
   */
  readonly apiUrl?: string | undefined
  /** How long before expiry a new token is requested (clamped to half its lifetime). Default: 60 seconds. */
  readonly refreshSkew?: Duration.DurationInput | undefined
  /**
   * The back-off between attempts after a transient failure; a `Retry-After` lengthens a delay. Default: core's
   * (exponential from 1 second, jittered, capped at 5 minutes).
   */
  readonly retrySchedule?: Schedule.Schedule<unknown, OAuth2Error> | undefined
  /** Request the first token as soon as the layer is built, in the background. Default: `false`. */
  readonly prefetch?: boolean | undefined
}

// -----------------------------------------------------------------------------
// layers
// -----------------------------------------------------------------------------

const originOf = (url: string) => new URL(url).origin

/**
 * Tokens by client credentials at Openmarkets' token endpoint, and the authorised {@link HttpClient}. A `TokenStore`
 * in the layer's context (e.g. `Layer.provide(TokenStore.layerMemory)` or a shared store) is used when there is one.
 *
 * Requires the plain `HttpClient` (the token endpoint is never called through an authorised client).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Services, InvalidConfiguration, PlatformHttpClient.HttpClient> =>
  Layer.scopedContext(Effect.gen(function*() {
    const environment = options.environment ?? "stage"
    const endpoint = yield* OpenmarketsEndpoint.make(options)
    const client = yield* OAuth2Client.make({
      endpoint,
      credentials: Endpoint.credentials(options.clientId, options.clientSecret)
    })
    const apiUrl = options.apiUrl === undefined
      ? undefined
      : (yield* Endpoint.validateUrl(OpenmarketsEndpoint.provider, "apiUrl", options.apiUrl)).replace(/\/+$/, "")
    const tokens = yield* AccessTokens.make({
      scopes: options.scopes,
      acquire: "client_credentials",
      refreshSkew: options.refreshSkew,
      retrySchedule: options.retrySchedule,
      prefetch: options.prefetch
    }).pipe(Effect.provideService(OAuth2Client.OAuth2Client, client))
    const http = apiUrl === undefined ? internalHttp.unconfigured : internalHttp.make({
      client: yield* PlatformHttpClient.HttpClient,
      tokens,
      baseUrl: apiUrl,
      bounds: options,
      rejected: `Openmarkets refused a freshly issued token too. A token works only with the API of the environment ` +
        `that issued it: this client gets its tokens from ${environment} (${originOf(endpoint.tokenUrl)}) and calls ` +
        `${originOf(apiUrl)}; check the environment, the token URL and the API URL, and that the plan covers this API.`
    })
    return Context.make(AccessTokens.AccessTokens, tokens).pipe(Context.add(Tokens, tokens), Context.add(HttpClient, http))
  }))

/**
 * `OPENMARKETS_ENV`: `stage` (default) or `production`; any other value is a `ConfigError` naming the variable and
 * the allowed values.
 *
 * @since 0.1.0
 * @category config
 */
export const environmentConfig: Config.Config<OpenmarketsEndpoint.Environment> = Config.literal(
  ...OpenmarketsEndpoint.environments
)("OPENMARKETS_ENV").pipe(Config.withDefault<OpenmarketsEndpoint.Environment>("stage"))

/**
 * `OPENMARKETS_SCOPES`: space-separated scopes, e.g. `market-data-api news-api`. Default: none (the whole plan).
 *
 * @since 0.1.0
 * @category config
 */
export const scopesConfig: Config.Config<ReadonlyArray<OpenmarketsEndpoint.Scope> | undefined> = Config.option(
  Config.string("OPENMARKETS_SCOPES")
).pipe(
  Config.map(Option.match({
    onNone: () => undefined,
    onSome: (text) => {
      const scopes = text.split(/\s+/).filter((scope) => scope !== "")
      return scopes.length === 0 ? undefined : scopes
    }
  }))
)

/**
 * The options of {@link layerConfig} given in code; the rest comes from the environment.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConfigOptions
  extends Omit<Options, "clientId" | "clientSecret" | "environment" | "scopes" | "tokenUrl" | "apiUrl">
{}

/**
 * {@link layer}, configured from the environment:
 *
 * | variable | meaning |
 * |---|---|
 * | `OPENMARKETS_CLIENT_ID` | the client id (required) |
 * | `OPENMARKETS_CLIENT_SECRET` | the client secret (required; read with `Config.redacted`) |
 * | `OPENMARKETS_ENV` | `stage` (default) or `production` |
 * | `OPENMARKETS_SCOPES` | space-separated scopes; default: none (the whole plan) |
 * | `OPENMARKETS_TOKEN_URL` | the token endpoint; default: the environment's |
 * | `OPENMARKETS_API_URL` | the API base URL for {@link HttpClient}; no default |
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: ConfigOptions = {}
): Layer.Layer<Services, ConfigError.ConfigError | InvalidConfiguration, PlatformHttpClient.HttpClient> =>
  Layer.unwrapEffect(
    Effect.map(
      Config.all({
        clientId: Config.nonEmptyString("OPENMARKETS_CLIENT_ID"),
        clientSecret: Config.redacted(Config.nonEmptyString("OPENMARKETS_CLIENT_SECRET")),
        environment: environmentConfig,
        scopes: scopesConfig,
        tokenUrl: Config.option(Config.nonEmptyString("OPENMARKETS_TOKEN_URL")).pipe(Config.map(Option.getOrUndefined)),
        apiUrl: Config.option(Config.nonEmptyString("OPENMARKETS_API_URL")).pipe(Config.map(Option.getOrUndefined))
      }),
      (config) => layer({ ...options, ...config })
    )
  )
