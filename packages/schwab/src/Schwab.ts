/**
 * Charles Schwab Trader API: tokens from a browser login, kept and refreshed, and the authorised API client.
 *
 * Schwab's refresh token dies 7 days after the login, whatever the refreshes in between: the death is stored with the
 * tokens, warned about at lead times (48 h, 12 h, 1 h by default, `refreshTokenWarnings`), published on
 * `Tokens.refreshTokenEvents` and to `onRefreshTokenEvent`, and once passed `get` fails with core's `LoginRequired`
 * ("log in again") without sending the dead refresh token. A new login anywhere kills the earlier grant (one live
 * grant per app): that refusal is `LoginRequired` too.
 *
 * Log in with {@link login} (an HTTPS listener on the registered callback, e.g. `LoopbackHttps.layerFor` of
 * `@effect-oauth2/node`) or {@link loginByPaste} (no listener: the user pastes the URL the browser landed on); both
 * exchange the code at once (it lives about 30 seconds) and put the tokens in the `TokenStore`, where {@link layer}
 * reads them.
 *
 * ```ts
 * import { Accounts, Schwab } from "@effect-oauth2/schwab"
 * import * as FileTokenStore from "@effect-oauth2/core/FileTokenStore"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 *
 * Accounts.accountNumbers.pipe(
 *   Effect.provide(Schwab.layerConfig().pipe(Layer.provide(FileTokenStore.layerConfig()), Layer.provide(NodeHttpClient.layerUndici))),
 *   Effect.runPromise
 * )
 * ```
 *
 * @since 0.1.0
 */
import type * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import type * as Endpoint from "@effect-oauth2/core/Endpoint"
import type { InvalidConfiguration } from "@effect-oauth2/core/OAuth2Error"
import type * as OAuth2HttpClient from "@effect-oauth2/core/OAuth2HttpClient"
import * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import { originOf } from "@effect-oauth2/core/ProviderConfig"
import type * as TokenStore from "@effect-oauth2/core/TokenStore"
import type * as Config from "effect/Config"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Accounts from "./Accounts.js"

/**
 * The callback URL used when none is given: the usual registration (`https://127.0.0.1:8182`, schwab-py's example).
 * Schwab redirects only to the URL registered with the app, compared byte for byte: set yours (`callbackUrl`,
 * `SCHWAB_CALLBACK_URL`) exactly as registered.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultCallbackUrl = "https://127.0.0.1:8182"

/**
 * How long Schwab's authorization codes live, as reported by its users (third-party: about 30 seconds). Only named
 * in the error when Schwab refuses a code; change it with the definition's `login.codeLifetime`.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultCodeLifetime: Duration.DurationInput = "30 seconds"

/**
 * What {@link errorBody} reads as a dead refresh token (third-party, Schwab's users and client libraries): the error
 * codes, found outside or inside the JSON nested in `error_description`, and what the description of an
 * `invalid_client` says when it is the refresh token that is refused rather than the client.
 *
 * @since 0.1.0
 * @category models
 */
export interface ErrorBodyOptions {
  /** Default: `["refresh_token_authentication_error", "unsupported_token_type"]`. */
  readonly refreshTokenErrors?: ReadonlyArray<string> | undefined
  /** Default: `/refresh token/i` ("refresh token invalid"). */
  readonly refreshTokenInvalid?: RegExp | undefined
}

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** The JSON object nested in a description, when it is one. */
const nested = (description: unknown): Readonly<Record<string, unknown>> | undefined => {
  if (typeof description !== "string" || !description.trimStart().startsWith("{") || description.length > 8192) {
    return undefined
  }
  try {
    const parsed: unknown = JSON.parse(description)
    return isRecord(parsed) ? parsed : undefined
  } catch {
    return undefined
  }
}

/**
 * Schwab's token-endpoint errors read as RFC 6749's, so that core maps them to the typed errors:
 *
 * - the JSON nested in `error_description` (`{"error":"unsupported_token_type","error_description":"{\"error\":
 *   \"refresh_token_authentication_error\",...}"}`) is unwrapped: its `error` and `error_description` are read;
 * - a refused refresh token (`refresh_token_authentication_error`, `unsupported_token_type`, or `invalid_client`
 *   saying "refresh token invalid") becomes `invalid_grant`, which core turns into `LoginRequired` ("log in again"),
 *   never retried; the Schwab code is kept in the description.
 *
 * Anything else is returned unchanged (a wrong app secret stays `invalid_client`).
 *
 * @since 0.1.0
 * @category errors
 */
export const errorBody = (options?: ErrorBodyOptions): Endpoint.ErrorBody => {
  const dead = new Set(options?.refreshTokenErrors ?? ["refresh_token_authentication_error", "unsupported_token_type"])
  const invalidRefresh = options?.refreshTokenInvalid ?? /refresh token/i
  return (body) => {
    const outer = typeof body.error === "string" ? body.error : undefined
    if (outer === undefined) return body
    const inner = nested(body.error_description)
    const innerError = typeof inner?.error === "string" ? inner.error : undefined
    const innerDescription = typeof inner?.error_description === "string" ? inner.error_description : undefined
    const code = innerError ?? outer
    const description = inner === undefined
      ? (typeof body.error_description === "string" ? body.error_description : undefined)
      : innerDescription
    const refused = dead.has(code) || dead.has(outer) ||
      (outer === "invalid_client" && description !== undefined && invalidRefresh.test(description))
    if (refused) {
      return {
        ...body,
        error: "invalid_grant",
        error_description: `Schwab refused the refresh token (${code})${description === undefined ? "" : `: ${description}`}`
      }
    }
    return inner === undefined ? body : { ...body, error: code, error_description: description }
  }
}

/**
 * Schwab's code from the callback's query, already percent-decoded once: Schwab's codes end in `@`, which arrives as
 * `%40`; a URL copied through something that encoded it again carries `%2540`, read as `%40`: that trailing `%40`
 * becomes `@`. Nothing else is touched.
 *
 * @since 0.1.0
 * @category login
 */
export const decodeCode = (code: string): string => code.endsWith("%40") ? `${code.slice(0, -3)}@` : code

/**
 * Schwab as a provider definition. Schwab's developer portal is behind a login, so every fact below is third-party
 * (many client libraries agree on them; see PROVIDERS-NEXT.md §3), and each is something a user can change: the host
 * (`hosts.api`, `SCHWAB_API_URL`), the token URL, the scopes, the refresh token's lifetime
 * (`refreshTokenLifetime`), or the whole definition (`{ ...Schwab.definition, ... }`).
 *
 * - one host, `https://api.schwabapi.com`, for OAuth and the API; no public sandbox;
 * - `GET {api}/v1/oauth/authorize`; `POST {api}/v1/oauth/token`, a form body, Basic `base64(appKey:appSecret)`;
 * - no PKCE (not documented), no revocation, no introspection;
 * - scope `api` by default (what Schwab answers; `readonly` is accepted too);
 * - 1800-second access tokens; the refresh token dies 7 days after the login, which no refresh extends;
 * - errors with Schwab's JSON nested in `error_description` ({@link errorBody}).
 *
 * @since 0.1.0
 * @category definition
 */
export const definition: OAuth2Provider.Definition = {
  name: "schwab",
  title: "Charles Schwab",
  envPrefix: "SCHWAB",
  // Schwab has no public sandbox: production is the only environment.
  environments: { production: { api: "https://api.schwabapi.com" } },
  defaultEnvironment: "production",
  acquire: "stored",
  scopes: { kind: "open", known: ["api", "readonly"], default: ["api"], delimiter: " " },
  authorizationServer: {
    tokenUrl: "{api}/v1/oauth/token",
    authMethod: "client_secret_basic",
    // App keys and secrets are alphanumeric: raw and form-encoded Basic agree; raw is what Schwab's clients send.
    basicEncoding: "raw",
    errorBody: errorBody(),
    defaultLifetime: "1800 seconds"
  },
  revocation: {
    unsupported: "Schwab has no revocation endpoint: access tokens expire after 30 minutes and the refresh token 7 " +
      "days after the login. To cut off an app, remove its access at schwab.com (Security > Apps), or log in again: " +
      "a new login kills the app's earlier grant."
  },
  introspection: {
    unsupported: "Schwab has no introspection endpoint. To check that a login works, run " +
      "`effect-oauth2 whoami schwab` (GET /trader/v1/accounts/accountNumbers)."
  },
  login: {
    url: "{api}/v1/oauth/authorize",
    callbackUrl: defaultCallbackUrl,
    decodeCode,
    codeLifetime: defaultCodeLifetime
  },
  refreshTokenLifetime: { duration: "7 days", from: "login" },
  apis: { api: "{api}" },
  hooks: {
    rejectedTokenHint: ({ apis }) =>
      `Schwab refused a freshly issued token too (${apis.api === undefined ? "no API" : originOf(apis.api)}). ` +
      "Check that the app is Ready For Use (not Approved - Pending) and has the Trader API product, or log in again: " +
      "a login elsewhere with the same app kills this one's grant."
  }
}

/**
 * Schwab's access tokens: the same service as core's `AccessTokens`, under this package's own tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class Tokens extends Context.Tag("@effect-oauth2/schwab/Tokens")<Tokens, AccessTokens.Service>() {}

/**
 * The authorised client of the Trader API, based at `{api}` (`client.get("/trader/v1/accounts")`): every request
 * carries the access token, which goes to that origin only.
 *
 * @since 0.1.0
 * @category tags
 */
export class HttpClient extends Context.Tag("@effect-oauth2/schwab/HttpClient")<
  HttpClient,
  OAuth2HttpClient.Authorized
>() {}

/**
 * What {@link layer} and the logins take: core's provider settings (the App Key as `clientId`, the App Secret as
 * `clientSecret`, the registered callback as `callbackUrl`, default {@link defaultCallbackUrl}).
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends OAuth2Provider.Settings {}

/**
 * What {@link layer} provides.
 *
 * @since 0.1.0
 * @category models
 */
export type Services = AccessTokens.AccessTokens | Tokens | HttpClient | Accounts.Accounts

/**
 * The key under which the logins store the tokens and {@link layer} reads them.
 *
 * @since 0.1.0
 * @category getters
 */
export const storeKey = (options: Options): Effect.Effect<TokenStore.Key, InvalidConfiguration> =>
  Effect.map(OAuth2Provider.resolve(definition, options), OAuth2Provider.storeKey)

const schwab = OAuth2Provider.layers<Tokens | HttpClient | Accounts.Accounts, Options>(definition, (built) =>
  Context.make(Tokens, built.tokens).pipe(
    Context.add(HttpClient, built.apis.api!),
    Context.add(Accounts.Accounts, Accounts.fromHttpClient(built.apis.api!, { scopes: built.resolved.scopes }))
  ))

/**
 * Tokens a login put in the `TokenStore` (give both the same store: a `FileTokenStore` to log in from the command
 * line and run the bot elsewhere), refreshed in the background, with the refresh token's death tracked; the
 * authorised {@link HttpClient} and `Accounts.Accounts`, over the plain `HttpClient`.
 *
 * - No token stored yet: `get` fails with `Expired` ("log in first").
 * - The refresh token dead (7 days after the login) or refused (a newer login): `LoginRequired` ("log in again"),
 *   and no request is sent with it.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: OAuth2Provider.Layers<Services, Options>["layer"] = schwab.layer

/**
 * The documented environment variables (`OAuth2Provider.variables(Schwab.definition)`): `SCHWAB_CLIENT_ID` (the App
 * Key), `SCHWAB_CLIENT_SECRET` (the App Secret, read with `Config.redacted`), `SCHWAB_SCOPES`, `SCHWAB_API_URL`,
 * `SCHWAB_TOKEN_URL`, `SCHWAB_CALLBACK_URL`.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = schwab.config

/**
 * {@link layer} with its options read from a `Config`: by default {@link config}.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: OAuth2Provider.Layers<Services, Options>["layerConfig"] = schwab.layerConfig

// -----------------------------------------------------------------------------
// login
// -----------------------------------------------------------------------------

/**
 * The login over a loopback listener at the registered callback (`OAuth2Provider.login`): the `HttpServer` in the
 * context must be HTTPS on 127.0.0.1 at the callback's port (`LoopbackHttps.layerFor(callbackUrl)` of
 * `@effect-oauth2/node`). The callback URL is sent verbatim as `redirect_uri` and the listener answers on its path;
 * the code (its `%40` read as `@`) is exchanged at once, and the tokens stored with the refresh token's death (7
 * days) under {@link storeKey}. A login kills the app's earlier grant: every process sharing the old tokens gets
 * `LoginRequired` until it reads the new ones from the store.
 *
 * @since 0.1.0
 * @category login
 */
export const login = <E = never, R = never>(
  options: Options,
  loginOptions: OAuth2Provider.LoginOptions<E, R>
): OAuth2Provider.Login<E, R> => OAuth2Provider.login(definition, options, loginOptions)

/**
 * The login without a listener (`OAuth2Provider.loginByPaste`): the user opens the authorize URL in any browser,
 * logs in, and pastes the whole URL the browser landed on with `paste`, at once (the code lives about 30 seconds).
 * Its state is checked as the listener checks it; the tokens are stored as by {@link login}.
 *
 * @since 0.1.0
 * @category login
 */
export const loginByPaste = <E = never, R = never>(
  options: Options,
  loginOptions: OAuth2Provider.PasteLoginOptions<E, R>
): OAuth2Provider.PasteLogin<E, R> => OAuth2Provider.loginByPaste(definition, options, loginOptions)
