/**
 * Tradier Brokerage tokens and an authorised API client, in three modes:
 *
 * 1. **Static API token** ({@link layerStaticToken}): the individual developer's token from Tradier's settings; no
 *    OAuth, it never expires, and a 401 means the token itself is wrong.
 * 2. **OAuth, stored tokens** ({@link layer}): tokens come from a {@link login} through core's `TokenStore`; an
 *    approved partner's token is renewed with its refresh token (`POST /v1/oauth/refreshtoken`) before it expires;
 *    any other token expires after 24 hours and `get` then fails with `Expired`, saying to log in again.
 * 3. **Login** ({@link login}): the authorization-code flow on a loopback callback (`127.0.0.1`): the user opens the
 *    authorize URL, Tradier redirects back with a code, which is exchanged with Basic auth and stored.
 *
 * Each layer provides core's generic `AccessTokens` and this package's own {@link Tokens} and {@link HttpClient}, so
 * that a program can use Tradier next to another provider through the package tags.
 *
 * @since 0.1.0
 */
import * as AccessToken from "@effect-oauth2/core/AccessToken"
import * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as AuthorizationCode from "@effect-oauth2/core/AuthorizationCode"
import * as Endpoint from "@effect-oauth2/core/Endpoint"
import * as OAuth2Client from "@effect-oauth2/core/OAuth2Client"
import type * as OAuth2HttpClient from "@effect-oauth2/core/OAuth2HttpClient"
import type * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import type { InvalidConfiguration, OAuth2Error } from "@effect-oauth2/core/OAuth2Error"
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import * as PlatformHttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpServer from "@effect/platform/HttpServer"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import * as internalHttp from "./internal/httpClient.js"
import * as internalStatic from "./internal/staticTokens.js"
import * as rejectedToken from "./internal/rejectedToken.js"
import * as TradierEndpoint from "./TradierEndpoint.js"

// -----------------------------------------------------------------------------
// definition
// -----------------------------------------------------------------------------

/**
 * Tradier as a provider definition: every OAuth endpoint on the API host (`/v1/oauth/authorize` with comma-separated
 * scopes, `/v1/oauth/accesstoken` with RFC 6749 Basic auth, `/v1/oauth/refreshtoken` for approved partners), tokens
 * from a login (`acquire: "stored"`), no `token_type` (Bearer) and 86399-second lifetimes, no revocation. Its own:
 * `Accept: application/json` on API calls (Tradier answers XML otherwise), a rejected token kept when nothing but a
 * login can renew it, and what a 401 after a fresh token means (the wrong environment, or ended access).
 *
 * @since 0.2.0
 * @category definition
 */
export const definition: OAuth2Provider.Definition = {
  name: "tradier",
  title: "Tradier",
  envPrefix: "TRADIER",
  environments: {
    sandbox: { api: "https://sandbox.tradier.com" },
    production: { api: "https://api.tradier.com" }
  },
  defaultEnvironment: "sandbox",
  acquire: "stored",
  scopes: {
    kind: "open",
    known: ["read", "write", "market", "trade", "stream"],
    default: ["read"],
    delimiter: " ",
    authorizeDelimiter: ","
  },
  authorizationServer: {
    tokenUrl: "{api}/v1/oauth/accesstoken",
    refreshUrl: "{api}/v1/oauth/refreshtoken",
    authMethod: "client_secret_basic",
    basicEncoding: "form",
    defaultLifetime: "86399 seconds",
    defaultTokenType: "Bearer"
  },
  revocation: {
    unsupported: "Tradier documents no revocation endpoint: to end an application's access, remove it in your " +
      "Tradier account settings; a static API token is regenerated there too."
  },
  introspection: {
    unsupported: "Tradier documents no introspection endpoint (RFC 7662) for clients. To check that credentials and " +
      "tokens work, run `effect-oauth2 whoami tradier`."
  },
  login: { url: "{api}/v1/oauth/authorize" },
  apis: { api: "{api}" },
  variables: [{
    name: "TRADIER_ACCESS_TOKEN",
    meaning: "a static API token from Tradier's settings: when set, the static-token mode is used (no OAuth)",
    default: "none (OAuth mode)"
  }],
  hooks: {
    transformClient: (client) => PlatformHttpClient.mapRequest(client, internalHttp.acceptJson),
    keepUnrenewableOnInvalidate: true,
    rejectedTokenHint: ({ environment, hosts }) =>
      `Tradier refused the token even after a replay. A token works only in the environment that issued it: this ` +
      `client calls ${environment} (${originOf(hosts.api!)}), and a sandbox token sent to production (or the ` +
      `reverse) answers 401. If the environment is right, the access was revoked or has ended: log in again.`
  }
}

// -----------------------------------------------------------------------------
// tags
// -----------------------------------------------------------------------------

/**
 * Tradier's access tokens: the same service as core's `AccessTokens`, under a Tradier-specific tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class Tokens extends Context.Tag("@effect-oauth2/tradier/Tokens")<Tokens, AccessTokens.Service>() {}

/**
 * An `HttpClient` for Tradier's API: relative URLs are resolved against the API host (e.g. `"/v1/user/profile"`),
 * every request carries the access token and `Accept: application/json` (unless it names another type: Tradier
 * answers XML otherwise), and the token is sent to the API origin only (a request elsewhere fails with
 * `InvalidConfiguration`). A 401 that a new token cannot cure fails with `Unauthorized` (`rejected-token`) saying
 * what to check.
 *
 * @since 0.1.0
 * @category tags
 */
export class HttpClient extends Context.Tag("@effect-oauth2/tradier/HttpClient")<
  HttpClient,
  PlatformHttpClient.HttpClient.With<HttpClientError.HttpClientError | OAuth2Error>
>() {}

/**
 * What every layer of this module provides.
 *
 * @since 0.1.0
 * @category models
 */
export type Services = AccessTokens.AccessTokens | Tokens | HttpClient

// -----------------------------------------------------------------------------
// options
// -----------------------------------------------------------------------------

/**
 * The application's identity and environment, shared by {@link layer} and {@link login}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientOptions extends TradierEndpoint.Options, OAuth2HttpClient.ApiBounds {
  /** The application's client id (its API key in Tradier's developer settings). Required. */
  readonly clientId: string
  /** The application's client secret. Required. Prefer `Redacted` (e.g. from `Config.redacted`). */
  readonly clientSecret: Redacted.Redacted<string> | string
  /**
   * The scopes asked for at login, sent comma-separated. They are also part of the token-store key, so
   * {@link login} and {@link layer} must be given the same ones. Default: `["read"]`.
   */
  readonly scopes?: ReadonlyArray<TradierEndpoint.Scope> | undefined
  /**
   * Whether to renew an expiring token with its refresh token (Tradier gives refresh tokens to approved partners
   * only). `false` drops refresh tokens: each token then lasts its 24 hours and the user logs in again. Default:
   * renew whenever the token carries a refresh token.
   */
  readonly refreshTokens?: boolean | undefined
}

/**
 * The options of {@link layer}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends ClientOptions {
  /** How long before expiry a partner's token is refreshed (clamped to half its lifetime). Default: 60 seconds. */
  readonly refreshSkew?: Duration.DurationInput | undefined
  /**
   * The back-off between refresh attempts after a transient failure. Default: core's (exponential from 1 second,
   * jittered, capped at 5 minutes).
   */
  readonly retrySchedule?: Schedule.Schedule<unknown, OAuth2Error> | undefined
  /** Read the stored token as soon as the layer is built, in the background. Default: `false`. */
  readonly prefetch?: boolean | undefined
}

/**
 * The options of {@link layerStaticToken}.
 *
 * @since 0.1.0
 * @category models
 */
export interface StaticTokenOptions extends OAuth2HttpClient.ApiBounds {
  /** The API access token from your Tradier account settings (API Access). Required. Prefer `Redacted`. */
  readonly token: Redacted.Redacted<string> | string
  /** The environment the token belongs to. Default: `"sandbox"`. */
  readonly environment?: TradierEndpoint.Environment | undefined
  /** The API host. Default: the environment's host. */
  readonly apiUrl?: string | undefined
  /** The scopes the token carries, for information (a static token has every scope). Default: all five. */
  readonly scopes?: ReadonlyArray<TradierEndpoint.Scope> | undefined
}

/**
 * The options of {@link login}.
 *
 * @since 0.1.0
 * @category models
 */
export interface LoginOptions<E, R> extends ClientOptions {
  /**
   * Shows the authorize URL to the user: print it, open a browser. It carries the `state`: show it, do not log it.
   * Return promptly: the wait for the callback has started. Required.
   */
  readonly onAuthorizeUrl: (url: string) => Effect.Effect<unknown, E, R>
  /** How long to wait for the user to log in. Default: 10 minutes (Tradier's codes live 10 minutes too). */
  readonly timeout?: Duration.DurationInput | undefined
  /** The callback path: the path of the callback URL registered with the application. Default: `"/callback"`. */
  readonly path?: string | undefined
  /**
   * The host name written in the redirect URI, a loopback name (`"localhost"` when the registered callback says so).
   * Default: the listener's address, `127.0.0.1`.
   */
  readonly redirectHost?: string | undefined
  /**
   * Send the listener's address as `redirect_uri` (not documented by Tradier, tolerated by it). Default: `true`. With
   * `false`, Tradier uses the registered callback URL, which must then be the listener's address, port included.
   */
  readonly sendRedirectUri?: boolean | undefined
  /** Send a PKCE S256 challenge. Default: `false` (Tradier documents no PKCE). */
  readonly pkce?: boolean | undefined
}

/**
 * The token-store key under which {@link login} stores a token and {@link layer} reads it:
 * `{ provider: "tradier", environment, clientId, scopes }`, the key core's `AccessTokens` uses.
 *
 * @since 0.1.0
 * @category store
 */
export const storeKey = (options: {
  readonly clientId: string
  readonly environment?: TradierEndpoint.Environment | undefined
  readonly scopes?: ReadonlyArray<TradierEndpoint.Scope> | undefined
}): TokenStore.Key => ({
  provider: TradierEndpoint.provider,
  environment: options.environment ?? "sandbox",
  clientId: options.clientId,
  scopes: options.scopes ?? TradierEndpoint.defaultScopes
})

// -----------------------------------------------------------------------------
// internals shared by the layers
// -----------------------------------------------------------------------------

const withoutRefreshToken = (token: AccessToken.AccessToken): AccessToken.AccessToken =>
  token.refreshToken === undefined ? token : new AccessToken.AccessToken({
    value: token.value,
    type: token.type,
    issuedAt: token.issuedAt,
    expiresAt: token.expiresAt,
    scopes: token.scopes,
    extra: token.extra
  })

const storeWithoutRefreshTokens = (store: TokenStore.Service): TokenStore.Service => ({
  ...store,
  get: (key) => Effect.map(store.get(key), Option.map(withoutRefreshToken))
})

const makeClient = (options: ClientOptions) =>
  Effect.flatMap(TradierEndpoint.make(options), (endpoint) =>
    OAuth2Client.make({ endpoint, credentials: Endpoint.credentials(options.clientId, options.clientSecret) }))

const staticHint = "A static API token neither expires nor can be renewed here: generate a new one in your Tradier " +
  "account settings (API Access) and restart with it."

const originOf = (url: string) => new URL(url).origin

const servicesContext = (tokens: AccessTokens.Service, http: internalHttp.Authorised): Context.Context<Services> =>
  Context.make(AccessTokens.AccessTokens, tokens).pipe(Context.add(Tokens, tokens), Context.add(HttpClient, http))

// -----------------------------------------------------------------------------
// layers
// -----------------------------------------------------------------------------

/**
 * OAuth mode: tokens a {@link login} put in the `TokenStore` (give both the same store, e.g.
 * `Layer.provideMerge(TokenStore.layerMemory)`, or a persistent one to log in from another process), renewed with
 * the refresh token when there is one.
 *
 * - No token stored yet: `get` fails with `Expired` ("log in first").
 * - A token without a refresh token that expired: `Expired` ("log in again").
 * - The API answers 401 even after a refresh (wrong environment, revoked access): `Unauthorized` (`rejected-token`)
 *   naming the configured environment.
 *
 * Requires the plain `HttpClient` (never an authorised one) and a `TokenStore`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<Services, InvalidConfiguration, PlatformHttpClient.HttpClient | TokenStore.TokenStore> =>
  Layer.scopedContext(Effect.gen(function*() {
    const environment = options.environment ?? "sandbox"
    const api = TradierEndpoint.apiUrl(options)
    const client = yield* makeClient(options)
    const store = yield* TokenStore.TokenStore
    const dropRefresh = options.refreshTokens === false
    const cached = yield* AccessTokens.make({
      scopes: options.scopes ?? TradierEndpoint.defaultScopes,
      acquire: "stored",
      refreshSkew: options.refreshSkew,
      retrySchedule: options.retrySchedule,
      prefetch: options.prefetch
    }).pipe(
      Effect.provideService(OAuth2Client.OAuth2Client, client),
      Effect.provideService(TokenStore.TokenStore, dropRefresh ? storeWithoutRefreshTokens(store) : store)
    )
    const tokens: AccessTokens.Service = dropRefresh
      ? { ...cached, set: (token) => cached.set(withoutRefreshToken(token)) }
      : cached
    const http = internalHttp.make({
      client: yield* PlatformHttpClient.HttpClient,
      tokens: rejectedToken.keepUnrenewable(tokens),
      baseUrl: api,
      replay: true,
      bounds: options,
      rejected: `Tradier refused the token even after a replay. A token works only in the environment that issued ` +
        `it: this client calls ${environment} (${originOf(api)}), and a sandbox token sent to production (or the ` +
        `reverse) answers 401. If the environment is right, the access was revoked or has ended: log in again.`
    })
    return servicesContext(tokens, http)
  }))

/**
 * Static-token mode: the individual developer's API access token from Tradier's settings, no OAuth. `get` always
 * returns it (it never expires); `refresh` and `revoke` fail with `Unsupported`. A 401 from the API is not retried:
 * it fails at once with `Unauthorized` (`rejected-token`) saying to check the token in Tradier's settings.
 *
 * Requires the plain `HttpClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStaticToken = (
  options: StaticTokenOptions
): Layer.Layer<Services, InvalidConfiguration, PlatformHttpClient.HttpClient> =>
  Layer.effectContext(Effect.gen(function*() {
    const environment = options.environment ?? "sandbox"
    const api = yield* Endpoint.validateUrl(TradierEndpoint.provider, "apiUrl", TradierEndpoint.apiUrl(options))
    const tokens = yield* internalStatic.make({
      token: Redacted.isRedacted(options.token) ? options.token : Redacted.make(options.token),
      scopes: options.scopes ?? TradierEndpoint.scopes,
      settingsHint: staticHint
    })
    const http = internalHttp.make({
      client: yield* PlatformHttpClient.HttpClient,
      tokens,
      baseUrl: api,
      replay: false,
      bounds: options,
      rejected: `Tradier refused the static API token (HTTP 401); the call was not retried. Check the token in your ` +
        `Tradier account settings (API Access): it may have been regenerated, or belong to the other environment ` +
        `(this client calls ${environment} at ${originOf(api)}; sandbox and production tokens differ).`
    })
    return servicesContext(tokens, http)
  }))

/**
 * The options of {@link layerConfig} given in code; the rest comes from the environment.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConfigOptions extends Omit<Options, "clientId" | "clientSecret" | "environment" | "apiUrl"> {}

/**
 * `TRADIER_ENV`: `sandbox` (default) or `production`; any other value is a `ConfigError` naming the variable and
 * the allowed values.
 *
 * @since 0.1.0
 * @category config
 */
export const environmentConfig: Config.Config<TradierEndpoint.Environment> = Config.literal(
  ...TradierEndpoint.environments
)("TRADIER_ENV").pipe(Config.withDefault<TradierEndpoint.Environment>("sandbox"))

/**
 * Either layer, configured from the environment:
 *
 * | variable | meaning |
 * |---|---|
 * | `TRADIER_ENV` | `sandbox` (default) or `production` |
 * | `TRADIER_API_URL` | the API host; default: the environment's |
 * | `TRADIER_ACCESS_TOKEN` | a static API token: when set (non-empty), {@link layerStaticToken} is used |
 * | `TRADIER_CLIENT_ID` | the application's client id (OAuth mode) |
 * | `TRADIER_CLIENT_SECRET` | the application's client secret (OAuth mode), read with `Config.redacted` |
 *
 * Requires the plain `HttpClient` and a `TokenStore` (unused in static-token mode).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: ConfigOptions = {}
): Layer.Layer<
  Services,
  ConfigError.ConfigError | InvalidConfiguration,
  PlatformHttpClient.HttpClient | TokenStore.TokenStore
> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const environment = yield* environmentConfig
    const apiUrl = Option.getOrUndefined(yield* Config.option(Config.nonEmptyString("TRADIER_API_URL")))
    const token = yield* Config.option(Config.redacted(Config.nonEmptyString("TRADIER_ACCESS_TOKEN")))
    if (Option.isSome(token)) {
      const chosen: Layer.Layer<Services, InvalidConfiguration, PlatformHttpClient.HttpClient> = layerStaticToken({
        token: token.value,
        environment,
        apiUrl,
        scopes: options.scopes
      })
      return chosen
    }
    const clientId = yield* Config.nonEmptyString("TRADIER_CLIENT_ID")
    const clientSecret = yield* Config.redacted(Config.nonEmptyString("TRADIER_CLIENT_SECRET"))
    return layer({ ...options, clientId, clientSecret, environment, apiUrl })
  }))

// -----------------------------------------------------------------------------
// login
// -----------------------------------------------------------------------------

/**
 * The authorization-code login: listens for the callback on the loopback `HttpServer` in the context (bind it to
 * `127.0.0.1`, e.g. `NodeHttpServer.layer(() => http.createServer(), { host: "127.0.0.1", port: 8765 })`, the port
 * of the registered callback, or any port while `redirect_uri` is sent), hands the authorize URL
 * (`{api}/v1/oauth/authorize?client_id=...&scope=read,market&state=...`) to `onAuthorizeUrl`, waits for the callback
 * (10 minutes by default), checks its `state`, exchanges the code with Basic auth, stores the token in the
 * `TokenStore` under {@link storeKey} (where {@link layer} reads it) and returns it.
 *
 * Fails with `AuthorizationFailed` for a refused login (`access_denied`), a callback whose state does not match
 * (`state_mismatch`) or no callback in time (`timeout`); `Unauthorized` for a wrong client secret; `TokenStoreError`
 * when the store cannot keep the token. No secret appears in errors or logs.
 *
 * @since 0.1.0
 * @category login
 */
export const login = <E = never, R = never>(
  options: LoginOptions<E, R>
): Effect.Effect<
  AccessToken.AccessToken,
  OAuth2Error | E,
  PlatformHttpClient.HttpClient | HttpServer.HttpServer | TokenStore.TokenStore | R
> =>
  Effect.gen(function*() {
    const client = yield* makeClient(options)
    const scopes = options.scopes ?? TradierEndpoint.defaultScopes
    const granted = yield* AuthorizationCode.login({
      scopes,
      pkce: options.pkce ?? false,
      sendRedirectUri: options.sendRedirectUri ?? true,
      path: options.path,
      timeout: options.timeout,
      redirectHost: options.redirectHost,
      onAuthorizeUrl: options.onAuthorizeUrl
    }).pipe(Effect.provideService(OAuth2Client.OAuth2Client, client))
    const token = options.refreshTokens === false ? withoutRefreshToken(granted) : granted
    const store = yield* TokenStore.TokenStore
    yield* store.set(storeKey({ ...options, scopes }), token)
    return token
  })
