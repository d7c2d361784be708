/**
 * tastytrade: its definitions (a personal grant, or a partner's login), tags, layers and the partner login. The
 * package README has the facts (all third-party), the sample, the variables and the errors.
 *
 * @since 0.1.0
 */
import type * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as Endpoint from "@effect-oauth2/core/Endpoint"
import type * as AccessToken from "@effect-oauth2/core/AccessToken"
import * as OAuth2Error from "@effect-oauth2/core/OAuth2Error"
import type { InvalidConfiguration } from "@effect-oauth2/core/OAuth2Error"
import type * as OAuth2HttpClient from "@effect-oauth2/core/OAuth2HttpClient"
import * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import { originOf } from "@effect-oauth2/core/ProviderConfig"
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import type * as PlatformHttpClient from "@effect/platform/HttpClient"
import type * as HttpServer from "@effect/platform/HttpServer"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Customer from "./Customer.js"

/**
 * This package's version, named by the default `User-Agent` (`effect-oauth2-tastytrade/<version>`).
 *
 * @since 0.1.0
 * @category constants
 */
export const version = "0.1.0"

/**
 * tastytrade as a provider definition, for a personal grant (a refresh token minted in the web UI). Its facts are
 * third-party (the README says whose), so each is an option: hosts, token URL, scopes, `User-Agent`, or a spread.
 *
 * @since 0.1.0
 * @category definition
 */
export const definition: OAuth2Provider.Definition = {
  name: "tastytrade",
  title: "tastytrade",
  envPrefix: "TASTYTRADE",
  environments: {
    sandbox: { api: "https://api.cert.tastyworks.com", auth: "https://cert-my.staging-tasty.works" },
    production: { api: "https://api.tastyworks.com", auth: "https://my.tastytrade.com" }
  },
  defaultEnvironment: "sandbox",
  acquire: "refresh_token",
  userAgent: `effect-oauth2-tastytrade/${version}`,
  scopes: { kind: "open", known: ["read", "trade", "openid"], default: [], delimiter: " " },
  authorizationServer: {
    tokenUrl: "{api}/oauth/token",
    authMethod: "client_secret_post",
    sendClientId: false,
    bodyFormat: "json",
    errorBody: Endpoint.errorMembers({ error: "error_code" }),
    defaultLifetime: "900 seconds"
  },
  revocation: {
    unsupported: "tastytrade documents no revocation endpoint: access tokens expire after 15 minutes; to cut off a " +
      "personal grant, delete it under OAuth Applications > Manage in tastytrade's web UI (or ask support)."
  },
  introspection: {
    unsupported: "tastytrade documents no introspection endpoint. To check that a grant works, run " +
      "`effect-oauth2 whoami tastytrade` (GET /customers/me)."
  },
  login: {
    unsupported: "tastytrade's personal grant needs no login: create one under OAuth Applications > Manage > Create " +
      "Grant and set TASTYTRADE_REFRESH_TOKEN. A partner app logs in with Tastytrade.partnerDefinition " +
      "(Tastytrade.login, `effect-oauth2 login tastytrade`)."
  },
  apis: { api: "{api}" },
  hooks: {
    rejectedTokenHint: ({ apis, environment }) =>
      `tastytrade refused a freshly issued token too. A grant and its tokens work only in the environment that ` +
      `minted them: this client uses ${environment} (${apis.api === undefined ? "no API" : originOf(apis.api)}); ` +
      "check TASTYTRADE_ENV, and that the User-Agent has the form <product>/<version>."
  }
}

/**
 * tastytrade for an app it approved as a partner: {@link definition} with tokens from an authorization-code
 * {@link login} (`acquire: "stored"`). No PKCE and no refresh-token lifetime are assumed (spread it to add them).
 *
 * @since 0.2.0
 * @category definition
 */
export const partnerDefinition: OAuth2Provider.Definition = {
  ...definition,
  acquire: "stored",
  login: { url: "{auth}/auth.html" },
  variables: [{
    name: "TASTYTRADE_REFRESH_TOKEN",
    meaning: "a personal grant: when set, tokens come from it (Tastytrade.definition) instead of a login",
    default: "none: the tokens a login stored"
  }]
}

/**
 * The definition the given settings call for: {@link definition} (a personal grant) when they carry a
 * `refreshToken`, else {@link partnerDefinition} (the tokens a login stored).
 *
 * @since 0.2.0
 * @category definition
 */
export const definitionFor = (settings: OAuth2Provider.Settings): OAuth2Provider.Definition =>
  settings.refreshToken === undefined ? partnerDefinition : definition

/**
 * tastytrade's access tokens: core's `AccessTokens` service under this package's tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class Tokens extends Context.Tag("@effect-oauth2/tastytrade/Tokens")<Tokens, AccessTokens.Service>() {}

/**
 * The authorised client of the tastytrade API, based at `{api}`: `client.get("/accounts/.../positions")`.
 *
 * @since 0.1.0
 * @category tags
 */
export class HttpClient extends Context.Tag("@effect-oauth2/tastytrade/HttpClient")<
  HttpClient,
  OAuth2HttpClient.Authorized
>() {}

/**
 * What {@link layer} takes: core's provider settings, with the personal grant in `refreshToken`; without one, the
 * tokens a partner {@link login} stored (see {@link definitionFor}).
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
export type Services = AccessTokens.AccessTokens | Tokens | HttpClient | Customer.Customer

/**
 * Builds the provider the options call for ({@link definitionFor}): a personal grant's, or, without a refresh token,
 * a partner login's, whose tokens come from the `TokenStore` in the context. Without a refresh token and without a
 * `TokenStore`, nothing could ever give it a token: that is an `InvalidConfiguration` saying what to give.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<OAuth2Provider.Provider, InvalidConfiguration, PlatformHttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const chosen = definitionFor(options)
    if (chosen.acquire === "stored" && Option.isNone(yield* Effect.serviceOption(TokenStore.TokenStore))) {
      return yield* new OAuth2Error.InvalidConfiguration({
        provider: definition.name,
        source: "configuration",
        description: "no refreshToken (TASTYTRADE_REFRESH_TOKEN, a personal grant) and no TokenStore holding a " +
          "partner login: give the personal grant, or provide the TokenStore Tastytrade.login stored the tokens in."
      })
    }
    return yield* OAuth2Provider.make(chosen, options)
  })

const tastytrade = OAuth2Provider.layers(definition, ({ apis, resolved, tokens }) =>
  Context.make(Tokens, tokens).pipe(
    Context.add(HttpClient, apis.api!),
    Context.add(Customer.Customer, Customer.fromHttpClient(apis.api!, { scopes: resolved.scopes }))
  ), {
  make,
  // the personal grant when given, else the tokens a partner login stored
  config: Config.zipWith(
    OAuth2Provider.config(partnerDefinition),
    Config.option(Config.redacted(Config.nonEmptyString("TASTYTRADE_REFRESH_TOKEN"))),
    (settings, grant): Options => Option.isSome(grant) ? { ...settings, refreshToken: grant.value } : settings
  )
})

/**
 * Provides {@link Services} over the plain `HttpClient`, the tokens as {@link make} chooses them.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: OAuth2Provider.Layers<Services, Options>["layer"] = tastytrade.layer

/**
 * The documented environment variables (`OAuth2Provider.variables(partnerDefinition)`, the README's table):
 * `TASTYTRADE_REFRESH_TOKEN` set, a personal grant; unset, the tokens a partner login stored.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = tastytrade.config

/**
 * {@link layer} with its options read from {@link config}, or from the `Config` given: an IRA beside a margin account
 * is `layerConfig(Config.nested(Tastytrade.config, "IRA"))`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: OAuth2Provider.Layers<Services, Options>["layerConfig"] = tastytrade.layerConfig

// -----------------------------------------------------------------------------
// partner login (counted apart from the wiring)
// -----------------------------------------------------------------------------

/**
 * The partner login ({@link partnerDefinition}): listens on the loopback `HttpServer` in the context, shows the
 * authorize URL, exchanges the code at once and puts the tokens in the `TokenStore`, where {@link layer} (given the
 * same settings, without a refresh token) reads and refreshes them. `OAuth2Provider.login` over
 * {@link partnerDefinition}.
 *
 * @since 0.2.0
 * @category login
 */
export const login = <E = never, R = never>(
  options: Options,
  loginOptions: OAuth2Provider.LoginOptions<E, R>
): Effect.Effect<
  AccessToken.AccessToken,
  OAuth2Error.OAuth2Error | E,
  PlatformHttpClient.HttpClient | HttpServer.HttpServer | TokenStore.TokenStore | R
> => OAuth2Provider.login(partnerDefinition, options, loginOptions)
