/**
 * A provider as the `effect-oauth2` command sees it: its `OAuth2Provider.Definition` (every fact: name, title,
 * environment variables, environments, scopes, endpoints, what it does not support and why), and the little the
 * command cannot read from it: which typed API call `whoami` makes, and the modes a provider package adds on top of
 * core (Tradier's static API token and login). A provider that needs nothing of that is its definition alone:
 *
 * ```ts
 * import { Cli, CliProvider } from "@effect-oauth2/cli"
 *
 * // `effect-oauth2 token example`, `whoami example` (a token grant), `--help` listing EXAMPLE_CLIENT_ID...
 * Cli.run(process.argv.slice(2), { providers: [...CliProvider.providers, { definition: exampleDefinition }] })
 * ```
 *
 * Every member but `definition` is made of core's types only, so a provider package can export its own entry.
 *
 * @since 0.2.0
 */
import type * as AccessToken from "@effect-oauth2/core/AccessToken"
import * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as ApiResponse from "@effect-oauth2/core/ApiResponse"
import type { InvalidConfiguration, OAuth2Error } from "@effect-oauth2/core/OAuth2Error"
import type * as OAuth2HttpClient from "@effect-oauth2/core/OAuth2HttpClient"
import type * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import type * as TokenStore from "@effect-oauth2/core/TokenStore"
import * as Banking from "@effect-oauth2/figure-pay/Banking"
import * as FigurePay from "@effect-oauth2/figure-pay/FigurePay"
import * as FigureMarkets from "@effect-oauth2/figure-markets/FigureMarkets"
import * as Trader from "@effect-oauth2/figure-markets/Trader"
import * as Openmarkets from "@effect-oauth2/openmarkets/Openmarkets"
import * as LoopbackHttps from "@effect-oauth2/node/LoopbackHttps"
import * as Accounts from "@effect-oauth2/schwab/Accounts"
import * as Schwab from "@effect-oauth2/schwab/Schwab"
import * as Customer from "@effect-oauth2/tastytrade/Customer"
import * as Tastytrade from "@effect-oauth2/tastytrade/Tastytrade"
import * as Tradier from "@effect-oauth2/tradier/Tradier"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"

/**
 * What `whoami` prints: a line for people, and the members of its `--json` answer.
 *
 * @since 0.2.0
 * @category models
 */
export interface Report {
  readonly text: string
  readonly json: Readonly<Record<string, unknown>>
}

/**
 * A provider ready to call: what `whoami` is given.
 *
 * @since 0.2.0
 * @category models
 */
export interface Session {
  readonly environment: string
  /** The scopes asked for. */
  readonly scopes: ReadonlyArray<string>
  readonly tokens: AccessTokens.Service
  /** An authorised client per API of the definition (`definition.apis`), based at its URL. */
  readonly apis: Readonly<Record<string, OAuth2HttpClient.Authorized>>
}

/**
 * The credential self-test of `whoami`.
 *
 * @since 0.2.0
 * @category models
 */
export interface WhoAmI {
  /** What it does, for `whoami --help`, e.g. `"get_who_am_i (firm and user)"`. */
  readonly describe: string
  readonly run: (session: Session) => Effect.Effect<Report, OAuth2Error>
}

/**
 * A mode beside OAuth: an API token the user pastes from the provider's settings (Tradier's static token).
 *
 * @since 0.2.0
 * @category models
 */
export interface StaticToken {
  /** The variable that holds it; when set, the mode is used. Also the `accessToken` member of a config file. */
  readonly variable: string
  /**
   * Reads the rest of its settings (environment, hosts: `hosts` overrides them) from the `Config` in effect, and
   * makes the session.
   */
  readonly make: (
    token: Redacted.Redacted<string>,
    hosts: OAuth2Provider.Hosts | undefined
  ) => Effect.Effect<
    { readonly environment: string; readonly session: Effect.Effect<Session, InvalidConfiguration, HttpClient.HttpClient | Scope.Scope> },
    ConfigError.ConfigError
  >
}

/**
 * The options the command gives a login.
 *
 * @since 0.2.0
 * @category models
 */
export interface LoginOptions<E, R> {
  /** Shows the authorize URL to the user (it carries the `state`: never log it). */
  readonly onAuthorizeUrl: (url: string) => Effect.Effect<unknown, E, R>
  /** How long to wait, in milliseconds. */
  readonly timeout: number
  /**
   * `login --paste`: reads the redirect URL the user pastes (one line). When given, the login listens nowhere: it
   * shows the authorize URL and completes with the pasted URL (`OAuth2Provider.loginByPaste`).
   *
   * @since 0.2.0
   */
  readonly paste?: Effect.Effect<string> | undefined
  /** `--port`: where the callback listens, or, with `paste`, the port of the redirect URI sent. */
  readonly port?: number | undefined
}

/**
 * The login's callback listener, for a provider whose callback is not plain HTTP on `--port` (Schwab: HTTPS on the
 * registered callback's port, with a certificate made at run time).
 *
 * @since 0.2.0
 * @category models
 */
export interface LoginServer {
  /** The listener. */
  readonly layer: Layer.Layer<HttpServer.HttpServer, InvalidConfiguration | HttpServerError.ServeError>
  /** Where it listens, for the error when the port is taken. */
  readonly address: string
  /** Printed with the authorize URL, e.g. the browser's certificate warning and how to get past it. */
  readonly notice?: string | undefined
}

/**
 * One provider of the command.
 *
 * @since 0.2.0
 * @category models
 */
export interface CliProvider {
  /** Every fact about the provider. */
  readonly definition: OAuth2Provider.Definition
  /** The settings, read from the `ConfigProvider` the command builds. Default: `OAuth2Provider.config(definition)`. */
  readonly config?: Config.Config<OAuth2Provider.Settings> | undefined
  /**
   * Builds the provider (where the package adds to core's, e.g. a header on every API call). Default:
   * `OAuth2Provider.make(definition, settings)`.
   */
  readonly make?:
    | ((
      settings: OAuth2Provider.Settings
    ) => Effect.Effect<OAuth2Provider.Provider, InvalidConfiguration, HttpClient.HttpClient | Scope.Scope>)
    | undefined
  /** The credential self-test. Default: a token grant ({@link tokenGrant}). */
  readonly whoami?: WhoAmI | undefined
  /** A static-token mode, when the provider has one. */
  readonly staticToken?: StaticToken | undefined
  /**
   * The login, for a definition with a `login` URL: gets a token and puts it in the `TokenStore`, where a `stored`
   * provider reads it. Default: `OAuth2Provider.login(definition, settings, options)`.
   */
  readonly login?:
    | (<E, R>(
      settings: OAuth2Provider.Settings,
      options: LoginOptions<E, R>
    ) => Effect.Effect<
      AccessToken.AccessToken,
      OAuth2Error | E,
      HttpClient.HttpClient | HttpServer.HttpServer | TokenStore.TokenStore | R
    >)
    | undefined
  /**
   * The login's callback listener, when not plain HTTP on 127.0.0.1 at `--port` (Schwab's HTTPS one). Default: that.
   *
   * @since 0.2.0
   */
  readonly loginServer?: ((settings: OAuth2Provider.Settings) => LoginServer) | undefined
  /** Said after a successful revocation, e.g. how long a revoked token may still work. */
  readonly afterRevoke?: string | undefined
}

/**
 * The self-test of a provider without an identity call: a token grant.
 *
 * @since 0.2.0
 * @category constructors
 */
export const tokenGrant = (name: string, why: string): WhoAmI => ({
  describe: "a token grant",
  run: (session) =>
    Effect.map(session.tokens.get, (token): Report => {
      const scopes = token.scopes.length === 0 ? "for the client's whole plan" : `with scopes ${token.scopes.join(" ")}`
      return {
        text: `${name} (${session.environment}): credentials accepted, a token was granted ${scopes}. ${why}`,
        json: { provider: name, environment: session.environment, check: "token", scopes: token.scopes }
      }
    })
})

// -----------------------------------------------------------------------------
// the four providers
// -----------------------------------------------------------------------------

/**
 * Figure Markets: `whoami` is the Trader API's `get_who_am_i`.
 *
 * @since 0.2.0
 * @category providers
 */
export const figureMarkets: CliProvider = {
  definition: FigureMarkets.definition,
  whoami: {
    describe: "get_who_am_i (firm and user)",
    run: ({ apis, environment, scopes }) =>
      Effect.map(Trader.fromHttpClient(apis.trade!, { scopes }).whoAmI, (me): Report => ({
        text: `figure-markets (${environment}): ${
          me.firmId !== undefined && me.userId !== undefined ? `firm ${me.firmId}, user ${me.userId} (${me.user})` : me.user
        }`,
        json: {
          provider: "figure-markets",
          environment,
          user: me.user,
          firmId: me.firmId ?? null,
          userId: me.userId ?? null
        }
      }))
  },
  afterRevoke: "Figure Markets says a revoked token can take a few minutes to stop working in every region."
}

/**
 * Figure Pay: built by `FigurePay.make` (its API-version header), read by `FigurePay.config`
 * (`FIGURE_PAY_API_VERSION`); `whoami` is `GET /profiles`.
 *
 * @since 0.2.0
 * @category providers
 */
export const figurePay: CliProvider = {
  definition: FigurePay.definition,
  config: FigurePay.config,
  make: FigurePay.make,
  whoami: {
    describe: "GET /profiles",
    run: ({ apis, environment }) =>
      Effect.map(Banking.fromHttpClient(apis.api!).listProfiles, (profiles): Report => ({
        text: `figure-pay (${environment}): credentials accepted; ${profiles.length} profile(s)${
          profiles.length === 0 ? "" : `: ${profiles.map((p) => p.id).join(", ")}`
        }`,
        json: {
          provider: "figure-pay",
          environment,
          profiles: profiles.map((p) => ({ id: p.id, type: p.type ?? null, status: p.status ?? null }))
        }
      }))
  }
}

const tradierProfile = (api: OAuth2HttpClient.Authorized, environment: string) =>
  Effect.gen(function*() {
    const ctx: ApiResponse.Context = { provider: "tradier", request: "GET /v1/user/profile", scopes: ["read"] }
    const body = yield* ApiResponse.json(api, HttpClientRequest.get("/v1/user/profile"), ctx)
    const profile = typeof body === "object" && body !== null && "profile" in body
      ? (body as { readonly profile: unknown }).profile
      : undefined
    const field = (name: string): string | undefined => {
      const value = typeof profile === "object" && profile !== null
        ? (profile as Record<string, unknown>)[name]
        : undefined
      return typeof value === "string" ? value : undefined
    }
    const id = field("id")
    const name = field("name")
    const report: Report = {
      text: `tradier (${environment}): ${
        id === undefined ? "the profile answered, without an id" : `user ${id}${name === undefined ? "" : ` (${name})`}`
      }`,
      json: { provider: "tradier", environment, id: id ?? null, name: name ?? null }
    }
    return report
  })

const tradierScopes = Config.option(Config.nonEmptyString("TRADIER_SCOPES")).pipe(
  Config.map(Option.map((text) => text.split(/[\s,]+/).filter((s) => s !== ""))),
  Config.map(Option.filter((scopes) => scopes.length > 0)),
  Config.map(Option.getOrUndefined)
)

type TradierEnvironment = NonNullable<Tradier.ClientOptions["environment"]>

/**
 * Tradier: `whoami` is `GET /v1/user/profile`; a static API token (`TRADIER_ACCESS_TOKEN`) is a mode of its own, and
 * `Tradier.login` the login.
 *
 * @since 0.2.0
 * @category providers
 */
export const tradier: CliProvider = {
  definition: Tradier.definition,
  whoami: {
    describe: "GET /v1/user/profile",
    run: ({ apis, environment }) => tradierProfile(apis.api!, environment)
  },
  staticToken: {
    variable: "TRADIER_ACCESS_TOKEN",
    make: (token, hosts) =>
      Effect.gen(function*() {
        const environment = yield* Tradier.environmentConfig
        const apiUrl = hosts?.api ?? Option.getOrUndefined(yield* Config.option(Config.nonEmptyString("TRADIER_API_URL")))
        const scopes = yield* tradierScopes
        const session = Effect.map(
          Layer.build(Tradier.layerStaticToken({ token, environment, apiUrl, scopes })),
          (context): Session => ({
            environment,
            scopes: scopes ?? [],
            tokens: Context.get(context, AccessTokens.AccessTokens),
            apis: { api: Context.get(context, Tradier.HttpClient) }
          })
        )
        return { environment, session }
      })
  },
  login: (settings, options) =>
    Tradier.login({
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      environment: settings.environment as TradierEnvironment | undefined,
      apiUrl: settings.hosts?.api,
      scopes: settings.scopes,
      onAuthorizeUrl: options.onAuthorizeUrl,
      timeout: options.timeout
    })
}

/**
 * Openmarkets: it documents no identity endpoint, so `whoami` is a token grant.
 *
 * @since 0.2.0
 * @category providers
 */
export const openmarkets: CliProvider = {
  definition: Openmarkets.definition,
  whoami: tokenGrant(
    "openmarkets",
    "Openmarkets documents no identity endpoint, so the token grant is the self-test."
  )
}

/**
 * tastytrade: tokens come from the user's personal grant (a refresh token, `TASTYTRADE_REFRESH_TOKEN`); `whoami` is
 * `GET /customers/me`.
 *
 * @since 0.2.0
 * @category providers
 */
export const tastytrade: CliProvider = {
  definition: Tastytrade.definition,
  whoami: {
    describe: "GET /customers/me",
    run: ({ apis, environment, scopes }) =>
      Effect.map(Customer.fromHttpClient(apis.api!, { scopes }).me, (me): Report => {
        const name = [me.firstName, me.lastName].filter((part) => part !== undefined).join(" ")
        return {
          text: `tastytrade (${environment}): customer ${me.id}${name === "" ? "" : ` (${name})`}`,
          json: { provider: "tastytrade", environment, id: me.id, name: name === "" ? null : name }
        }
      })
  }
}

/**
 * Charles Schwab: logins over HTTPS on the registered callback (`SCHWAB_CALLBACK_URL`, default
 * `https://127.0.0.1:8182`) with a certificate made at run time, or by pasting the redirect URL (`--paste`); `whoami`
 * is `GET /trader/v1/accounts/accountNumbers`.
 *
 * @since 0.2.0
 * @category providers
 */
export const schwab: CliProvider = {
  definition: Schwab.definition,
  config: Schwab.config,
  whoami: {
    describe: "GET /trader/v1/accounts/accountNumbers",
    run: ({ apis, environment, scopes }) =>
      Effect.map(Accounts.fromHttpClient(apis.api!, { scopes }).accountNumbers, (accounts): Report => ({
        text: `schwab (${environment}): ${accounts.length} account(s)${
          accounts.length === 0 ? "" : `: ${accounts.map((a) => a.accountNumber).join(", ")}`
        }`,
        json: { provider: "schwab", environment, accounts: accounts.map((a) => a.accountNumber) }
      }))
  },
  loginServer: (settings) => {
    const callbackUrl = (settings as Schwab.Options).callbackUrl ?? Schwab.defaultCallbackUrl
    return {
      layer: LoopbackHttps.layerFor(callbackUrl),
      address: callbackUrl,
      notice: `${LoopbackHttps.browserWarning(callbackUrl)} Schwab's codes live about 30 seconds: the login ` +
        "completes as soon as the browser reaches the callback."
    }
  },
  login: (settings, options) =>
    options.paste === undefined
      ? Schwab.login(settings, options)
      : Schwab.loginByPaste(settings, { ...options, paste: options.paste })
}

/**
 * The command's providers, in the order it lists them.
 *
 * @since 0.2.0
 * @category providers
 */
export const providers: ReadonlyArray<CliProvider> = [figureMarkets, figurePay, tradier, openmarkets, tastytrade, schwab]
