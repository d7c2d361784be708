/**
 * TradeStation (Auth0): the browser login, stored tokens that refresh themselves, and the authorised API client.
 *
 * Log in once ({@link login}, or `effect-oauth2 login tradestation`): the authorize request names the
 * API's `audience` and asks `openid offline_access` with the API scopes, the callback comes back to one of the key's
 * Allowed Callback URLs (`http://localhost:31022` by default), and the code is exchanged at once with the secret in
 * the body. The token lands in the `TokenStore`; the layer reads it there and refreshes it (20-minute access tokens).
 * On a key with "expire and rotate" (`rotation: true`), each refresh brings a new single-use refresh token, and every
 * refresh token of a login dies 24 hours after it: core warns before then and, once passed, fails with
 * `LoginRequired` without sending the dead token.
 *
 * ```ts
 * import { TokenStore } from "@effect-oauth2/core"
 * import { Brokerage, TradeStation } from "@effect-oauth2/tradestation"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 *
 * Brokerage.accounts.pipe(
 *   Effect.provide(TradeStation.layerConfig().pipe(
 *     Layer.provide(TokenStore.layerMemory), // a FileTokenStore or the Redis store in production
 *     Layer.provide(NodeHttpClient.layerUndici)
 *   )),
 *   Effect.runPromise
 * )
 * ```
 *
 * @since 0.1.0
 */
import type * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import type { InvalidConfiguration } from "@effect-oauth2/core/OAuth2Error"
import type * as OAuth2HttpClient from "@effect-oauth2/core/OAuth2HttpClient"
import * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import { originOf } from "@effect-oauth2/core/ProviderConfig"
import type * as RefreshTokenLifetime from "@effect-oauth2/core/RefreshTokenLifetime"
import type * as TokenStore from "@effect-oauth2/core/TokenStore"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Brokerage from "./Brokerage.js"

/**
 * The `audience` the authorize request names, so that the token is one the API accepts (doc: required; without it
 * Auth0 issues a token for its own `userinfo`, which the API refuses).
 *
 * @since 0.1.0
 * @category constants
 */
export const audience = "https://api.tradestation.com"

/**
 * When the refresh tokens of a key with "expire and rotate" die: 24 hours after the login, whatever the refreshes
 * since (doc, the newer refresh-tokens page). Applied only with `rotation: true`; change it with
 * `refreshTokenLifetime` or `TRADESTATION_REFRESH_TOKEN_LIFETIME`.
 *
 * @since 0.1.0
 * @category constants
 */
export const rotatingRefreshTokenLifetime: RefreshTokenLifetime.Rule = { duration: "24 hours", from: "login" }

/**
 * The lead times of the warnings before a rotating refresh token dies: 12 hours and 1 hour (core's 48 hours would
 * fire at every login of a 24-hour token). Change them with `refreshTokenWarnings`.
 *
 * @since 0.1.0
 * @category constants
 */
export const rotatingRefreshTokenWarnings: ReadonlyArray<Duration.DurationInput> = ["12 hours", "1 hour"]

/**
 * The Allowed Callback URL the login uses by default: `http://localhost:31022`, on the default list of every key
 * (doc: the logout page's defaults; third-party: the callback list), with the port no other tool is likely to hold.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultCallbackUrl = "http://localhost:31022"

/**
 * TradeStation as a provider definition:
 *
 * - environments `sim` (paper trading, API `https://sim-api.tradestation.com/v3`) and `live`
 *   (`https://api.tradestation.com/v3`), both signing in at `https://signin.tradestation.com` with the same key
 *   (third-party: so each is a host a user can change, `TRADESTATION_SIGNIN_URL`, `TRADESTATION_API_URL`);
 * - the login at `{signin}/authorize` with `audience=https://api.tradestation.com`; the token endpoint
 *   `{signin}/oauth/token`, `client_secret_post` (doc);
 * - scopes space-separated and case-sensitive: `openid` is required (refused here when missing), `offline_access`
 *   brings the refresh token; the API scopes `MarketData`, `ReadAccount`, `Trade`, `OptionSpreads`, `Matrix`,
 *   `Crypto` (the pages disagree on the list, so any well-formed scope passes); by default
 *   `openid offline_access MarketData ReadAccount Trade`;
 * - 1200-second access tokens; refresh tokens that never expire, unless the key rotates them ({@link Options});
 * - revocation at `{signin}/oauth/revoke` (doc), which revokes **every** refresh token of the key, in every process
 *   and for every user of it (a form body with `token`: Auth0's convention, inferred; the encoding is UNCERTAIN, so
 *   change it by spreading the definition). No introspection.
 *
 * @since 0.1.0
 * @category definition
 */
export const definition: OAuth2Provider.Definition = {
  name: "tradestation",
  title: "TradeStation",
  envPrefix: "TRADESTATION",
  environments: {
    sim: { signin: "https://signin.tradestation.com", api: "https://sim-api.tradestation.com" },
    live: { signin: "https://signin.tradestation.com", api: "https://api.tradestation.com" }
  },
  defaultEnvironment: "sim",
  acquire: "stored",
  scopes: {
    kind: "open",
    known: [
      "openid",
      "offline_access",
      "profile",
      "email",
      "MarketData",
      "ReadAccount",
      "Trade",
      "OptionSpreads",
      "Matrix",
      "Crypto"
    ],
    default: ["openid", "offline_access", "MarketData", "ReadAccount", "Trade"],
    required: true,
    delimiter: " "
  },
  authorizationServer: {
    tokenUrl: "{signin}/oauth/token",
    authMethod: "client_secret_post",
    defaultLifetime: "1200 seconds"
  },
  revocation: { url: "{signin}/oauth/revoke" },
  introspection: {
    unsupported: "TradeStation documents no introspection endpoint. To check a login, run " +
      "`effect-oauth2 whoami tradestation` (GET /brokerage/accounts)."
  },
  login: { url: "{signin}/authorize", params: { audience }, callbackUrl: defaultCallbackUrl },
  apis: { api: "{api}/v3" },
  variables: [
    {
      name: "TRADESTATION_ROTATION",
      meaning: "the key's refresh tokens \"expire and rotate\" (Client Services turns it on per key): `true` or `false`",
      default: "false"
    },
    {
      name: "TRADESTATION_REFRESH_TOKEN_LIFETIME",
      meaning: "with rotation, how long after the login every refresh token dies (e.g. `24 hours`)",
      default: "24 hours"
    }
  ],
  hooks: {
    check: (resolved) =>
      resolved.scopes.includes("openid")
        ? undefined
        : "TradeStation requires the openid scope: add it to the scopes (with offline_access for a refresh token).",
    rejectedTokenHint: ({ apis, environment }) =>
      `TradeStation refused a freshly refreshed token too. This client uses ${environment} ` +
      `(${apis.api === undefined ? "no API" : originOf(apis.api)}): check TRADESTATION_ENV. A login made without ` +
      `audience=${audience} gets tokens the API never accepts; log in again (effect-oauth2 login tradestation).`
  }
}

/**
 * TradeStation's access tokens: the same service as core's `AccessTokens`, under this package's own tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class Tokens extends Context.Tag("@effect-oauth2/tradestation/Tokens")<Tokens, AccessTokens.Service>() {}

/**
 * The authorised client of the TradeStation API, based at `{api}/v3` (`client.get("/brokerage/accounts")`): every
 * request carries the access token, sent to that origin only.
 *
 * @since 0.1.0
 * @category tags
 */
export class HttpClient extends Context.Tag("@effect-oauth2/tradestation/HttpClient")<
  HttpClient,
  OAuth2HttpClient.Authorized
>() {}

/**
 * What {@link layer} and {@link login} take: core's provider settings, and TradeStation's own.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends OAuth2Provider.Settings {
  /**
   * The key's refresh tokens "expire and rotate" (Client Services turns it on per key, on request): each refresh
   * answers a new refresh token and the old one is spent, and every refresh token of a login dies
   * {@link rotatingRefreshTokenLifetime} after it (unless `refreshTokenLifetime` says otherwise), warned about at
   * {@link rotatingRefreshTokenWarnings} (unless `refreshTokenWarnings` does). Default: `false` (the doc's default:
   * refresh tokens that never expire, and a refresh that answers none).
   */
  readonly rotation?: boolean | undefined
  /**
   * Add `offline_access` to the scopes when they lack it, so that the login brings a refresh token (without one, the
   * token lives 20 minutes and then needs a new login). Default: `true`. (`openid`, which TradeStation requires, is
   * always added.)
   */
  readonly offlineAccess?: boolean | undefined
}

/**
 * Core's settings for these options: scopes given get `openid` (required) and, unless `offlineAccess` is `false`,
 * `offline_access` in front; with `rotation`, the refresh-token lifetime and warnings default to
 * {@link rotatingRefreshTokenLifetime} and {@link rotatingRefreshTokenWarnings}; without, to none (the refresh
 * tokens never expire) and core's.
 *
 * @since 0.1.0
 * @category constructors
 */
export const settings = (options: Options): Options => {
  const scopes = options.scopes === undefined || options.scopes.length === 0 ? options.scopes : [
    ...new Set(["openid", ...(options.offlineAccess === false ? [] : ["offline_access"]), ...options.scopes])
  ]
  return {
    ...options,
    scopes,
    ...(options.rotation === true
      ? {
        refreshTokenLifetime: options.refreshTokenLifetime ?? rotatingRefreshTokenLifetime,
        refreshTokenWarnings: options.refreshTokenWarnings ?? rotatingRefreshTokenWarnings
      }
      : {})
  }
}

/**
 * What the layers of this module provide.
 *
 * @since 0.1.0
 * @category models
 */
export type Services = AccessTokens.AccessTokens | Tokens | HttpClient | Brokerage.Brokerage

/**
 * Where {@link login} stores the token and {@link layer} reads it (`OAuth2Provider.storeKey`: the provider, the
 * environment, the client id and the scopes), for these options.
 *
 * @since 0.1.0
 * @category getters
 */
export const storeKey = (options: Options): Effect.Effect<TokenStore.Key, InvalidConfiguration> =>
  Effect.map(OAuth2Provider.resolve(definition, settings(options)), OAuth2Provider.storeKey)

/**
 * The login (`OAuth2Provider.login` with {@link settings}): listens on the loopback `HttpServer` in the context, which
 * must be on the port of the key's Allowed Callback URL (`callbackUrl`, `http://localhost:31022` by default: bind
 * `127.0.0.1:31022`; Auth0 compares it byte for byte, so it is sent as written), hands the authorize URL (with
 * `audience`, the scopes, `state`) to `onAuthorizeUrl`, exchanges the code at once, stamps the refresh token's death
 * where the key rotates, and stores the token under {@link storeKey}, where {@link layer} reads it. A callback URL
 * that is not a loopback `http` URL with a port, or a listener on another port, fails with `InvalidConfiguration`
 * before anything is shown.
 *
 * @since 0.1.0
 * @category login
 */
export const login = <E = never, R = never>(
  options: Options,
  loginOptions: OAuth2Provider.LoginOptions<E, R>
): OAuth2Provider.Login<E, R> => OAuth2Provider.login(definition, settings(options), loginOptions)

const optional = <A>(config: Config.Config<A>): Config.Config<A | undefined> =>
  Config.map(Config.option(config), Option.getOrUndefined)

const tradestation = OAuth2Provider.layers(definition, (built) =>
  Context.make(Tokens, built.tokens).pipe(
    Context.add(HttpClient, built.apis.api!),
    Context.add(Brokerage.Brokerage, Brokerage.fromHttpClient(built.apis.api!, { scopes: built.resolved.scopes }))
  ), {
  make: (options: Options) => OAuth2Provider.make(definition, settings(options)),
  config: Config.all({
    common: OAuth2Provider.config(definition),
    rotation: Config.withDefault(Config.boolean("TRADESTATION_ROTATION"), false),
    lifetime: optional(Config.duration("TRADESTATION_REFRESH_TOKEN_LIFETIME"))
  }).pipe(
    Config.map(({ common, lifetime, rotation }) =>
      settings({
        ...common,
        rotation,
        ...(rotation && lifetime !== undefined ? { refreshTokenLifetime: { duration: lifetime, from: "login" } } : {})
      })
    )
  )
})

/**
 * Tokens from the login in the `TokenStore` ({@link login} puts the token there), refreshed as they near expiry, the
 * authorised {@link HttpClient} and `Brokerage.Brokerage`, over the plain `HttpClient`. Without a stored login, `get`
 * fails with `LoginRequired`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: OAuth2Provider.Layers<Services, Options>["layer"] = tradestation.layer

/**
 * The documented environment variables (`OAuth2Provider.variables(TradeStation.definition)`):
 * `TRADESTATION_CLIENT_ID`, `TRADESTATION_CLIENT_SECRET`, `TRADESTATION_ENV` (`sim` or `live`, default `sim`),
 * `TRADESTATION_SCOPES`, `TRADESTATION_SIGNIN_URL`, `TRADESTATION_API_URL`, `TRADESTATION_TOKEN_URL`,
 * `TRADESTATION_CALLBACK_URL`, and this package's `TRADESTATION_ROTATION` (`true`/`false`) and
 * `TRADESTATION_REFRESH_TOKEN_LIFETIME` (a duration such as `24 hours`, used with rotation). The result has
 * {@link settings} applied, so core's login and `make` (the command line's) see the rotation's lifetime too.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = tradestation.config

/**
 * {@link layer} with its options read from a `Config`: by default {@link config}; nest it
 * (`Config.nested(TradeStation.config, "IRA")`) to run two logins side by side.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: OAuth2Provider.Layers<Services, Options>["layerConfig"] = tradestation.layerConfig
