/**
 * tastytrade: tokens from a personal grant (no browser at all) and the authorised API client.
 *
 * A personal grant is a refresh token minted in tastytrade's web UI (OAuth Applications > Manage > Create Grant). It
 * never expires; access tokens live 15 minutes. Give the client id, the client secret and the grant: core refreshes
 * the grant (a JSON body with the secret alone, a `User-Agent`, `error_code` errors read as RFC 6749's) and keeps a
 * valid token cached. The layer provides core's `AccessTokens` and this package's {@link Tokens}, {@link HttpClient}
 * and `Customer.Customer`.
 *
 * ```ts
 * import { Customer, Tastytrade } from "@effect-oauth2/tastytrade"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 *
 * Customer.me.pipe(
 *   Effect.provide(Tastytrade.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici))),
 *   Effect.runPromise
 * )
 * ```
 *
 * @since 0.1.0
 */
import type * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as Endpoint from "@effect-oauth2/core/Endpoint"
import type * as OAuth2HttpClient from "@effect-oauth2/core/OAuth2HttpClient"
import * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import { originOf } from "@effect-oauth2/core/ProviderConfig"
import * as Context from "effect/Context"
import * as Customer from "./Customer.js"
import type * as Config from "effect/Config"

/**
 * This package's version, named by the default `User-Agent` (`effect-oauth2-tastytrade/<version>`).
 *
 * @since 0.1.0
 * @category constants
 */
export const version = "0.1.0"

/**
 * tastytrade as a provider definition. Every fact below is third-party (tastytrade's SDKs and integrators; its own
 * pages are behind a login), so each is something a user can change: the hosts (`hosts.api`,
 * `TASTYTRADE_API_URL`), the token URL, the scopes, the `User-Agent` (`TASTYTRADE_USER_AGENT`), or the whole
 * definition (`OAuth2Provider.layer({ ...Tastytrade.definition, ... }, settings)`).
 *
 * - sandbox `https://api.cert.tastyworks.com`, production `https://api.tastyworks.com` (one host for OAuth and the
 *   API; a grant works only in the environment that minted it);
 * - `POST {api}/oauth/token` with a JSON body `{grant_type, refresh_token, client_secret, scope?}`, no `client_id`;
 * - a `User-Agent` of the form `<product>/<version>` on every request, or tastytrade refuses it;
 * - errors as `{"error_code", "error_description"}`;
 * - scopes `read`, `trade`, `openid`, space-separated; none asked by default (the grant's own);
 * - 900-second access tokens; no revocation, no introspection.
 *
 * @since 0.1.0
 * @category definition
 */
export const definition: OAuth2Provider.Definition = {
  name: "tastytrade",
  title: "tastytrade",
  envPrefix: "TASTYTRADE",
  environments: {
    sandbox: { api: "https://api.cert.tastyworks.com" },
    production: { api: "https://api.tastyworks.com" }
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
      "Grant and set TASTYTRADE_REFRESH_TOKEN. The partner (authorization-code) flow is not supported yet."
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
 * tastytrade's access tokens: the same service as core's `AccessTokens`, under this package's own tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class Tokens extends Context.Tag("@effect-oauth2/tastytrade/Tokens")<Tokens, AccessTokens.Service>() {}

/**
 * The authorised client of the tastytrade API, based at `{api}` (`client.get("/accounts/.../positions")`): every
 * request carries the access token and the `User-Agent`; the token goes to that origin only.
 *
 * @since 0.1.0
 * @category tags
 */
export class HttpClient extends Context.Tag("@effect-oauth2/tastytrade/HttpClient")<
  HttpClient,
  OAuth2HttpClient.Authorized
>() {}

/**
 * What {@link layer} takes: core's provider settings, with the personal grant in `refreshToken` (required).
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

const tastytrade = OAuth2Provider.layers(definition, ({ apis, resolved, tokens }) =>
  Context.make(Tokens, tokens).pipe(
    Context.add(HttpClient, apis.api!),
    Context.add(Customer.Customer, Customer.fromHttpClient(apis.api!, { scopes: resolved.scopes }))
  ))

/**
 * Tokens from the personal grant, the authorised {@link HttpClient} and `Customer.Customer`, over the plain
 * `HttpClient` (`OAuth2Provider.Layers`); a `TokenStore` in its context is used when there is one.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: OAuth2Provider.Layers<Services, Options>["layer"] = tastytrade.layer

/**
 * The documented environment variables (`OAuth2Provider.variables(Tastytrade.definition)`): `TASTYTRADE_CLIENT_ID`,
 * `TASTYTRADE_CLIENT_SECRET`, `TASTYTRADE_REFRESH_TOKEN` (the personal grant), `TASTYTRADE_ENV` (`sandbox` or
 * `production`, default `sandbox`), `TASTYTRADE_SCOPES`, `TASTYTRADE_API_URL`, `TASTYTRADE_TOKEN_URL`,
 * `TASTYTRADE_USER_AGENT`. The secret and the grant are read with `Config.redacted`.
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
