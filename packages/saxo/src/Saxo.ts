/**
 * Saxo Bank OpenAPI: an authorization-code login (a confidential app with its AppSecret, or a PKCE app with none),
 * then tokens from the store, renewed with Saxo's rotating refresh tokens, and the authorised OpenAPI client.
 *
 * Saxo's refresh tokens are single use (each refresh answers a new one) and die after `refresh_token_expires_in`
 * (about an hour on SIM): core stores each new pair before handing out its access token, renews under the store's lock
 * (a Redis or file store shared by several processes never spends one refresh token twice), warns before the refresh
 * token dies and then fails with `LoginRequired` without sending it. A PKCE app's refresh re-sends the login's
 * `code_verifier` and `redirect_uri` (kept with the tokens, encrypted where the store encrypts).
 *
 * ```ts
 * import { Saxo, Users } from "@effect-oauth2/saxo"
 * import * as FileTokenStore from "@effect-oauth2/core/FileTokenStore"
 * import { NodeContext, NodeHttpClient } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 *
 * // After `effect-oauth2 login saxo` (which stores the tokens in the encrypted token file):
 * Users.me.pipe(
 *   Effect.provide(Saxo.layerConfig().pipe(
 *     Layer.provide(FileTokenStore.layerConfig()),
 *     Layer.provide(Layer.merge(NodeHttpClient.layerUndici, NodeContext.layer))
 *   )),
 *   Effect.runPromise
 * )
 * ```
 *
 * @since 0.1.0
 */
import type * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import type * as OAuth2HttpClient from "@effect-oauth2/core/OAuth2HttpClient"
import * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import * as ProviderConfig from "@effect-oauth2/core/ProviderConfig"
import type * as TokenStore from "@effect-oauth2/core/TokenStore"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Users from "./Users.js"

/**
 * Saxo as a provider definition, for a confidential app (one with an AppSecret). What it says, and how sure we are:
 *
 * - environments `sim` (`https://sim.logonvalidation.net`, API `https://gateway.saxobank.com/sim/openapi`) and `live`
 *   (`https://live.logonvalidation.net`, API `https://gateway.saxobank.com/openapi`); sim and live apps have separate
 *   keys (the live logon host is third-party: change it with `hosts.logon` / `SAXO_LOGON_URL`);
 * - `GET {logon}/authorize` with `response_type=code`, `client_id`, `state`, `redirect_uri` (the app's registered
 *   AppUrl); no `scope`;
 * - `POST {logon}/token`, a form, the AppKey and AppSecret in a Basic header encoded raw (Saxo's own sample; the
 *   secret in the body works too, by third-party code: {@link Options.clientAuth});
 * - every refresh re-sends the login's `redirect_uri` (Saxo's sample does), and the `code_verifier` of a PKCE login
 *   ({@link pkceDefinition});
 * - 20-minute access tokens; refresh tokens that rotate on every refresh and die after `refresh_token_expires_in`,
 *   which the server sends (no rule assumed: give `refreshTokenLifetime` to assume one);
 * - no revocation, no introspection.
 *
 * @since 0.1.0
 * @category definition
 */
export const definition: OAuth2Provider.Definition = {
  name: "saxo",
  title: "Saxo Bank OpenAPI",
  envPrefix: "SAXO",
  environments: {
    sim: { logon: "https://sim.logonvalidation.net", openapi: "https://gateway.saxobank.com/sim/openapi" },
    live: { logon: "https://live.logonvalidation.net", openapi: "https://gateway.saxobank.com/openapi" }
  },
  defaultEnvironment: "sim",
  acquire: "stored",
  scopes: { kind: "none", known: [], default: [], delimiter: " " },
  authorizationServer: {
    tokenUrl: "{logon}/token",
    authMethod: "client_secret_basic",
    basicEncoding: "raw",
    refreshWithPkce: true,
    readableMembers: ["base_uri"],
    defaultLifetime: "1200 seconds"
  },
  revocation: {
    unsupported: "Saxo documents no revocation endpoint: access tokens expire after 20 minutes and refresh tokens " +
      "about an hour after their last use; to end every session at once, sign out of all sessions in SaxoTraderGO."
  },
  introspection: {
    unsupported: "Saxo documents no introspection endpoint. To check that a login works, run " +
      "`effect-oauth2 whoami saxo` (GET /port/v1/users/me)."
  },
  login: { url: "{logon}/authorize", pkce: false },
  apis: { openapi: "{openapi}" },
  publicClients: true,
  variables: [{
    name: "SAXO_CLIENT_AUTH",
    meaning: "how a confidential app sends its secret: `client_secret_basic` or `client_secret_post`",
    default: "`client_secret_basic`"
  }],
  hooks: {
    rejectedTokenHint: ({ apis, environment }) =>
      `Saxo refused a freshly issued token too. Sim and live apps have separate keys and tokens: this client uses ` +
      `${environment} (${apis.openapi === undefined ? "no API" : ProviderConfig.originOf(apis.openapi)}); check ` +
      "SAXO_ENV, the hosts, and that the app is enabled for the OpenAPI."
  }
}

/**
 * {@link definition} for a PKCE app (no AppSecret): the authorize request carries an S256 challenge, the token
 * requests carry `client_id` and no secret, and every refresh re-sends the login's `code_verifier` and
 * `redirect_uri`, as Saxo's PKCE sample does.
 *
 * @since 0.1.0
 * @category definition
 */
export const pkceDefinition: OAuth2Provider.Definition = {
  ...definition,
  authorizationServer: { ...definition.authorizationServer, authMethod: "none" },
  login: { url: "{logon}/authorize", pkce: true }
}

/**
 * How a confidential app authenticates to the token endpoint: a Basic header (Saxo's sample) or the secret in the
 * form body (reported to work by third-party code).
 *
 * @since 0.1.0
 * @category models
 */
export type ClientAuth = "client_secret_basic" | "client_secret_post"

/**
 * What {@link layer} takes: core's provider settings (the AppKey as `clientId`; the AppSecret of a confidential app
 * as `clientSecret`, left out for a PKCE app, then {@link pkceDefinition} applies), and how the secret is sent.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends OAuth2Provider.Settings {
  /** How a confidential app sends its secret. Default: `"client_secret_basic"` (raw, as Saxo's sample). */
  readonly clientAuth?: ClientAuth | undefined
}

/**
 * The definition the options call for: {@link pkceDefinition} without a secret, else {@link definition} with the
 * client authentication asked for.
 *
 * @since 0.1.0
 * @category definition
 */
export const definitionFor = (options: Pick<Options, "clientSecret" | "clientAuth">): OAuth2Provider.Definition =>
  options.clientSecret === undefined
    ? pkceDefinition
    : options.clientAuth === undefined || options.clientAuth === "client_secret_basic"
    ? definition
    : { ...definition, authorizationServer: { ...definition.authorizationServer, authMethod: options.clientAuth } }

/** Core's settings of the options: Saxo's warning lead times unless others are given. */
const settingsOf = (options: Options): Options => ({
  ...options,
  refreshTokenWarnings: options.refreshTokenWarnings ?? refreshTokenWarnings
})

/**
 * The default lead times of the warnings before a refresh token dies (`Settings.refreshTokenWarnings`): 15 and 5
 * minutes. A Saxo refresh token lives about an hour and is replaced by every refresh (every 20 minutes while the bot
 * runs), so core's defaults (48 h, 12 h, 1 h) would warn about every new one; these fire only when refreshes have
 * failed for most of that hour (an outage, a bot stopped). Give `refreshTokenWarnings` to change them.
 *
 * @since 0.1.0
 * @category constants
 */
export const refreshTokenWarnings: ReadonlyArray<Duration.DurationInput> = [Duration.minutes(15), Duration.minutes(5)]

/**
 * Saxo's access tokens: the same service as core's `AccessTokens`, under this package's own tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class Tokens extends Context.Tag("@effect-oauth2/saxo/Tokens")<Tokens, AccessTokens.Service>() {}

/**
 * The authorised client of the OpenAPI, based at `{openapi}` (`client.get("/port/v1/accounts/me")`): every request
 * carries the access token, which goes to that origin only.
 *
 * @since 0.1.0
 * @category tags
 */
export class HttpClient extends Context.Tag("@effect-oauth2/saxo/HttpClient")<
  HttpClient,
  OAuth2HttpClient.Authorized
>() {}

/**
 * What the layers of this module provide.
 *
 * @since 0.1.0
 * @category models
 */
export type Services = AccessTokens.AccessTokens | Tokens | HttpClient | Users.Users

const saxo = OAuth2Provider.layers(definition, (built) =>
  Context.make(Tokens, built.tokens).pipe(
    Context.add(HttpClient, built.apis.openapi!),
    Context.add(Users.Users, Users.fromHttpClient(built.apis.openapi!))
  ), {
  make: (options: Options) => OAuth2Provider.make(definitionFor(options), settingsOf(options)),
  config: Config.zipWith(
    OAuth2Provider.config(definition),
    ProviderConfig.oneOf("SAXO_CLIENT_AUTH", ["client_secret_basic", "client_secret_post"], "client_secret_basic"),
    (settings, clientAuth): Options => ({ ...settings, clientAuth })
  )
})

/**
 * Builds the provider the options call for ({@link definitionFor}), with this package's warning lead times
 * ({@link refreshTokenWarnings}) unless others are given. Scoped.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make: OAuth2Provider.Layers<Services, Options>["make"] = saxo.make

/**
 * Tokens from the `TokenStore` (put there by {@link login} or `effect-oauth2 login saxo`), renewed with the rotating
 * refresh tokens, the authorised {@link HttpClient} and `Users.Users`, over the plain `HttpClient`. Without a
 * `TokenStore` in the context an in-memory one is used, which starts empty: give the same store the login used.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: OAuth2Provider.Layers<Services, Options>["layer"] = saxo.layer

/**
 * The documented environment variables (`OAuth2Provider.variables(Saxo.definition)`): `SAXO_CLIENT_ID` (the
 * AppKey), `SAXO_CLIENT_SECRET` (the AppSecret, read with `Config.redacted`; leave it unset for a PKCE app),
 * `SAXO_CLIENT_AUTH` (`client_secret_basic` or `client_secret_post`, default `client_secret_basic`), `SAXO_ENV`
 * (`sim` or `live`, default `sim`), `SAXO_LOGON_URL`, `SAXO_OPENAPI_URL`, `SAXO_TOKEN_URL`, `SAXO_CALLBACK_URL` (the
 * app's registered AppUrl, sent verbatim; default: the listener's address).
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = saxo.config

/**
 * {@link layer} with its options read from a `Config`: by default {@link config}; nest it
 * (`Config.nested(Saxo.config, "LIVE")`) to run two apps side by side.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: OAuth2Provider.Layers<Services, Options>["layerConfig"] = saxo.layerConfig

/**
 * The authorization-code login (core's `OAuth2Provider.login`): listens on the loopback `HttpServer` in the context,
 * shows the authorize URL (with a PKCE challenge for a PKCE app), exchanges the code at once and puts the tokens in
 * the `TokenStore` under {@link storeKey}, where {@link layer} reads them. Give `path` the path of the app's
 * registered AppUrl (default `/callback`).
 *
 * @since 0.1.0
 * @category login
 */
export const login = <E = never, R = never>(
  options: Options,
  loginOptions: OAuth2Provider.LoginOptions<E, R>
): OAuth2Provider.Login<E, R> => OAuth2Provider.login(definitionFor(options), settingsOf(options), loginOptions)

/**
 * Where {@link login} stores the tokens and {@link layer} reads them: `saxo`, the environment, the AppKey.
 *
 * @since 0.1.0
 * @category login
 */
export const storeKey = (options: Pick<Options, "clientId" | "environment">): TokenStore.Key => ({
  provider: definition.name,
  environment: options.environment ?? definition.defaultEnvironment,
  clientId: options.clientId,
  scopes: []
})
