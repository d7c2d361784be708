/**
 * Tradier Brokerage: its definition, tags and layers in two modes (OAuth tokens from a {@link login}, or a static
 * API token), and the login. The package README tells the modes, the store key and the errors.
 *
 * @since 0.1.0
 */
import * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import type { InvalidConfiguration } from "@effect-oauth2/core/OAuth2Error"
import type * as OAuth2HttpClient from "@effect-oauth2/core/OAuth2HttpClient"
import * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import { originOf } from "@effect-oauth2/core/ProviderConfig"
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import * as PlatformHttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as internalStatic from "./internal/staticTokens.js"
import * as User from "./User.js"

/**
 * Tradier as a provider definition. Its own: `Accept: application/json` on API calls (Tradier answers XML
 * otherwise), a rejected token kept when only a login can renew it, and a 401 hint naming the environment.
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

/**
 * Tradier's access tokens: core's `AccessTokens` service under a Tradier tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class Tokens extends Context.Tag("@effect-oauth2/tradier/Tokens")<Tokens, AccessTokens.Service>() {}

/**
 * The authorised `HttpClient` for Tradier's API: relative URLs on the API host, the token sent to that origin only,
 * `Accept: application/json` unless the request names another type.
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
// OAuth mode
// -----------------------------------------------------------------------------

/**
 * The application's identity and environment, shared by {@link layer} and {@link login}. `scopes` are part of the
 * store key: give both the same. `refreshTokens: false` drops refresh tokens (only approved partners get them).
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientOptions extends OAuth2Provider.Settings {}

/**
 * The options of {@link layer}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends ClientOptions {}

/**
 * The token-store key under which {@link login} stores a token and {@link layer} reads it.
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

/**
 * OAuth mode: tokens a {@link login} put in the `TokenStore` (give both the same store), renewed with the refresh
 * token when there is one; without a token, `get` fails with `Expired` saying to log in. Requires the plain
 * `HttpClient` and a `TokenStore`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<Services, InvalidConfiguration, PlatformHttpClient.HttpClient | TokenStore.TokenStore> =>
  Layer.unwrapEffect(Effect.as(TokenStore.TokenStore, tradier.layer(options)))

const tradier = OAuth2Provider.layers(definition, ({ apis, tokens }) => servicesContext(tokens, apis.api!))

// -----------------------------------------------------------------------------
// static-token mode (internal/staticTokens.ts)
// -----------------------------------------------------------------------------

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
  /** The scopes the token carries, for information (a static token has every scope). Default: all five. */
  readonly scopes?: ReadonlyArray<string> | undefined
}

/**
 * Static-token mode: the developer's API token from Tradier's settings, no OAuth. `get` always returns it;
 * `refresh` and `revoke` fail with `Unsupported`; a 401 is not replayed but fails at once with `Unauthorized`
 * (`rejected-token`) saying to check the token. Requires the plain `HttpClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStaticToken = (
  options: StaticTokenOptions
): Layer.Layer<Services, InvalidConfiguration, PlatformHttpClient.HttpClient> =>
  internalStatic.layer(definition, options, servicesContext)

// -----------------------------------------------------------------------------
// either mode, from config
// -----------------------------------------------------------------------------

/**
 * What {@link config} reads: the OAuth mode's options, or a static token's.
 *
 * @since 0.2.0
 * @category models
 */
export type ConfigOptions = Options | StaticTokenOptions

/**
 * The documented environment variables (`OAuth2Provider.variables(Tradier.definition)`, in the README): static-token
 * mode when `TRADIER_ACCESS_TOKEN` is set, else `TRADIER_CLIENT_ID` and `TRADIER_CLIENT_SECRET` are required.
 *
 * @since 0.2.0
 * @category config
 */
export const config: Config.Config<ConfigOptions> = internalStatic.config(definition)

/**
 * Either layer, with its options read from a `Config` (default {@link config}). Requires the plain `HttpClient` and
 * a `TokenStore` (unused in static-token mode).
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
 * The credential self-test, `User.selfTest` (`GET /v1/user/profile`), kept here for its first users.
 *
 * @since 0.2.0
 * @category self-test
 */
export const selfTest: OAuth2Provider.SelfTest = User.selfTest

// -----------------------------------------------------------------------------
// login (counted apart from the wiring)
// -----------------------------------------------------------------------------

/**
 * The options of {@link login}: the application's ({@link ClientOptions}), core's login options (`onAuthorizeUrl`,
 * required, shows the authorize URL, which carries the `state`: show it, do not log it; `timeout`, 10 minutes by
 * default, as long as Tradier's codes live; `path`, the registered callback's path, default `"/callback"`;
 * `redirectHost`), and how Tradier is asked.
 *
 * @since 0.1.0
 * @category models
 */
export interface LoginOptions<E, R> extends ClientOptions, OAuth2Provider.LoginOptions<E, R> {
  /**
   * Send the listener's address as `redirect_uri` (not documented by Tradier, tolerated by it). Default: `true`. With
   * `false`, Tradier uses the registered callback URL, which must then be the listener's address, port included.
   */
  readonly sendRedirectUri?: boolean | undefined
  /** Send a PKCE S256 challenge. Default: `false` (Tradier documents no PKCE). */
  readonly pkce?: boolean | undefined
}

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
export const login = <E = never, R = never>(options: LoginOptions<E, R>): ReturnType<typeof OAuth2Provider.login<E, R>> =>
  OAuth2Provider.login(
    { ...definition, login: { ...definition.login, pkce: options.pkce, sendRedirectUri: options.sendRedirectUri } },
    options,
    options
  )
