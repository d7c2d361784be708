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
import type * as AccessToken from "@effect-oauth2/core/AccessToken"
import * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as AuthorizationCode from "@effect-oauth2/core/AuthorizationCode"
import * as OAuth2Client from "@effect-oauth2/core/OAuth2Client"
import type { InvalidConfiguration, OAuth2Error } from "@effect-oauth2/core/OAuth2Error"
import type * as OAuth2HttpClient from "@effect-oauth2/core/OAuth2HttpClient"
import * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import { originOf } from "@effect-oauth2/core/ProviderConfig"
import * as RefreshTokenLifetime from "@effect-oauth2/core/RefreshTokenLifetime"
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import * as PlatformHttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpServer from "@effect/platform/HttpServer"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as internalStatic from "./internal/staticTokens.js"
import type * as TradierEndpoint from "./TradierEndpoint.js"

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
    // Tradier answers XML unless asked for JSON: ask for JSON unless the caller named a type.
    transformClient: (client) =>
      PlatformHttpClient.mapRequest(client, (request) =>
        request.headers["accept"] === undefined ? HttpClientRequest.acceptJson(request) : request),
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
  OAuth2HttpClient.Authorized
>() {}

/**
 * What every layer of this module provides.
 *
 * @since 0.1.0
 * @category models
 */
export type Services = AccessTokens.AccessTokens | Tokens | HttpClient

const servicesContext = (tokens: AccessTokens.Service, http: OAuth2HttpClient.Authorized): Context.Context<Services> =>
  Context.make(AccessTokens.AccessTokens, tokens).pipe(Context.add(Tokens, tokens), Context.add(HttpClient, http))

// -----------------------------------------------------------------------------
// options
// -----------------------------------------------------------------------------

/**
 * The application's identity and environment, shared by {@link layer} and {@link login}: core's provider settings.
 * `scopes` (default `["read"]`) are sent comma-separated at login and are part of the token-store key, so
 * {@link login} and {@link layer} must be given the same ones. `refreshTokens: false` drops refresh tokens (Tradier
 * gives them to approved partners only): each token then lasts its 24 hours and the user logs in again.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientOptions extends OAuth2Provider.Settings {
  /**
   * The API host.
   *
   * @deprecated Give `hosts: { api }`.
   */
  readonly apiUrl?: string | undefined
}

/**
 * The options of {@link layer}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends ClientOptions {}

/** Core's settings for the options: the deprecated `apiUrl` as `hosts.api`. */
const settings = (options: ClientOptions): OAuth2Provider.Settings =>
  options.apiUrl === undefined ? options : { ...options, hosts: { api: options.apiUrl, ...options.hosts } }

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
  readonly environment?: string | undefined
  /** The API host override, `{ api }`. Default: the environment's host. */
  readonly hosts?: Readonly<Record<string, string | undefined>> | undefined
  /**
   * The API host.
   *
   * @deprecated Give `hosts: { api }`.
   */
  readonly apiUrl?: string | undefined
  /** The scopes the token carries, for information (a static token has every scope). Default: all five. */
  readonly scopes?: ReadonlyArray<string> | undefined
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
  readonly environment?: string | undefined
  readonly scopes?: ReadonlyArray<string> | undefined
}): TokenStore.Key => ({
  provider: definition.name,
  environment: options.environment ?? definition.defaultEnvironment,
  clientId: options.clientId,
  scopes: options.scopes ?? definition.scopes.default
})

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
  Layer.scopedContext(
    Effect.zipRight(
      TokenStore.TokenStore,
      Effect.map(OAuth2Provider.make(definition, settings(options)), (built) =>
        servicesContext(built.tokens, built.apis.api!))
    )
  )

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
    const hosts = options.apiUrl === undefined ? options.hosts : { api: options.apiUrl, ...options.hosts }
    const located = yield* OAuth2Provider.resolveHosts(definition, { environment: options.environment, hosts })
    const tokens = yield* internalStatic.make({
      provider: definition.name,
      token: Redacted.isRedacted(options.token) ? options.token : Redacted.make(options.token),
      scopes: options.scopes ?? definition.scopes.known,
      settingsHint: "A static API token neither expires nor can be renewed here: generate a new one in your " +
        "Tradier account settings (API Access) and restart with it."
    })
    const apis = yield* OAuth2Provider.makeApis(located, tokens, {
      ...options,
      replay: false,
      rejectedTokenHint: `Tradier refused the static API token (HTTP 401); the call was not retried. Check the ` +
        `token in your Tradier account settings (API Access): it may have been regenerated, or belong to the other ` +
        `environment (this client calls ${located.environment} at ${originOf(located.hosts.api!)}; sandbox and ` +
        `production tokens differ).`
    })
    return servicesContext(tokens, apis.api!)
  }))

/**
 * What {@link config} reads: the OAuth mode's options, or a static token's.
 *
 * @since 0.2.0
 * @category models
 */
export type ConfigOptions = Options | StaticTokenOptions

/**
 * The documented environment variables (`OAuth2Provider.variables(Tradier.definition)`): `TRADIER_ENV` (`sandbox`,
 * the default, or `production`), `TRADIER_SCOPES` (comma- or space-separated), `TRADIER_API_URL`,
 * `TRADIER_TOKEN_URL`, and either `TRADIER_ACCESS_TOKEN` (a static API token: when set, static-token mode) or
 * `TRADIER_CLIENT_ID` and `TRADIER_CLIENT_SECRET` (OAuth mode).
 *
 * @since 0.2.0
 * @category config
 */
export const config: Config.Config<ConfigOptions> = Config.all({
  token: Config.option(Config.redacted(Config.nonEmptyString("TRADIER_ACCESS_TOKEN"))),
  clientId: Config.option(Config.nonEmptyString("TRADIER_CLIENT_ID")),
  clientSecret: Config.option(Config.redacted(Config.nonEmptyString("TRADIER_CLIENT_SECRET"))),
  rest: OAuth2Provider.configWithoutCredentials(definition)
}).pipe(Config.mapOrFail(({ clientId, clientSecret, rest, token }) => {
  if (Option.isSome(token)) return Either.right<ConfigOptions>({ ...rest, token: token.value })
  if (Option.isSome(clientId) && Option.isSome(clientSecret)) {
    return Either.right<ConfigOptions>({ ...rest, clientId: clientId.value, clientSecret: clientSecret.value })
  }
  const missing = [Option.isNone(clientId) ? "TRADIER_CLIENT_ID" : [], Option.isNone(clientSecret) ? "TRADIER_CLIENT_SECRET" : []]
    .flat()
  return Either.left(ConfigError.MissingData(
    [],
    `${missing.join(" and ")} must be set for the OAuth mode (or TRADIER_ACCESS_TOKEN for a static API token)`
  ))
}))

/**
 * Either layer, with its options read from a `Config`: by default {@link config} (static-token mode when
 * `TRADIER_ACCESS_TOKEN` is set). Requires the plain `HttpClient` and a `TokenStore` (unused in static-token mode).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config<ConfigOptions> = config
): Layer.Layer<
  Services,
  ConfigError.ConfigError | InvalidConfiguration,
  PlatformHttpClient.HttpClient | TokenStore.TokenStore
> =>
  Layer.unwrapEffect(Effect.map(options, (read) => "token" in read ? layerStaticToken(read) : layer(read)))

/**
 * `TRADIER_ENV`: `sandbox` (default) or `production`.
 *
 * @deprecated Read {@link config}'s `environment`.
 * @since 0.1.0
 * @category config
 */
export const environmentConfig: Config.Config<TradierEndpoint.Environment> = Config.literal("sandbox", "production")(
  "TRADIER_ENV"
).pipe(Config.withDefault<TradierEndpoint.Environment>("sandbox"))

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
    const resolved = yield* OAuth2Provider.resolve(definition, settings(options))
    const client = yield* OAuth2Client.make({ endpoint: resolved.endpoint, credentials: resolved.credentials })
    const granted = yield* AuthorizationCode.login({
      scopes: resolved.scopes,
      pkce: options.pkce ?? false,
      sendRedirectUri: options.sendRedirectUri ?? true,
      path: options.path,
      timeout: options.timeout,
      redirectHost: options.redirectHost,
      onAuthorizeUrl: options.onAuthorizeUrl
    }).pipe(Effect.provideService(OAuth2Client.OAuth2Client, client))
    // The refresh token's anchors (this login) and death, stored with it, as OAuth2Provider.login does.
    const token = RefreshTokenLifetime.apply(
      options.refreshTokens === false ? AccessTokens.withoutRefreshToken(granted) : granted,
      options.refreshTokenLifetime ?? definition.refreshTokenLifetime
    )
    const store = yield* TokenStore.TokenStore
    yield* store.set(storeKey({ ...options, scopes: resolved.scopes }), token)
    return token
  })
