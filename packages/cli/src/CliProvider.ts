/**
 * A provider as the `effect-oauth2` command sees it: its `OAuth2Provider.Definition` (every fact: name, title,
 * environment variables, environments, scopes, endpoints, what it does not support and why) and its credential
 * self-test (`OAuth2Provider.SelfTest`, exported by the provider package), plus the little a provider package adds on
 * top of core: its own `config` and `make` (Figure Pay's API version), a static-token mode (Tradier). A provider that
 * needs nothing of that is its definition alone (`whoami` is then a token grant):
 *
 * ```ts
 * import { Cli, CliProvider } from "@effect-oauth2/cli"
 *
 * // `effect-oauth2 token example`, `whoami example` (a token grant), `--help` listing EXAMPLE_CLIENT_ID...
 * Cli.run(process.argv.slice(2), { providers: [...CliProvider.providers, { definition: exampleDefinition }] })
 * ```
 *
 * Every member is made of core's types only, so a provider package can export its own entry.
 *
 * @since 0.2.0
 */
import type * as AccessToken from "@effect-oauth2/core/AccessToken"
import * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import type { InvalidConfiguration, OAuth2Error } from "@effect-oauth2/core/OAuth2Error"
import * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import type * as TokenStore from "@effect-oauth2/core/TokenStore"
import * as Banking from "@effect-oauth2/figure-pay/Banking"
import * as FigurePay from "@effect-oauth2/figure-pay/FigurePay"
import * as FigureMarkets from "@effect-oauth2/figure-markets/FigureMarkets"
import * as Trader from "@effect-oauth2/figure-markets/Trader"
import * as Openmarkets from "@effect-oauth2/openmarkets/Openmarkets"
import * as Saxo from "@effect-oauth2/saxo/Saxo"
import * as SaxoUsers from "@effect-oauth2/saxo/Users"
import * as Accounts from "@effect-oauth2/schwab/Accounts"
import * as Schwab from "@effect-oauth2/schwab/Schwab"
import * as Customer from "@effect-oauth2/tastytrade/Customer"
import * as Tastytrade from "@effect-oauth2/tastytrade/Tastytrade"
import * as Brokerage from "@effect-oauth2/tradestation/Brokerage"
import * as TradeStation from "@effect-oauth2/tradestation/TradeStation"
import * as Tradier from "@effect-oauth2/tradier/Tradier"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpServer from "@effect/platform/HttpServer"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"

/**
 * What `whoami` prints: a line for people, and the members of its `--json` answer.
 *
 * @since 0.2.0
 * @category models
 */
export type Report = OAuth2Provider.Report

/**
 * A provider ready to call: what `whoami` is given.
 *
 * @since 0.2.0
 * @category models
 */
export type Session = OAuth2Provider.Session

/**
 * The credential self-test of `whoami`.
 *
 * @since 0.2.0
 * @category models
 */
export type WhoAmI = OAuth2Provider.SelfTest

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
  /**
   * `--port`: where the callback listens, or, with `paste`, the port of the redirect URI sent, where the provider
   * has no registered callback URL.
   */
  readonly port?: number | undefined
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
   * For a provider with two ways to tokens, the definition the settings read call for (tastytrade: a personal grant
   * when a refresh token is given, else the tokens a login stored; Saxo: a PKCE app without a secret); a login uses
   * it where it has a login, else `definition`. Default: `definition` always.
   */
  readonly definitionFor?: ((settings: OAuth2Provider.Settings) => OAuth2Provider.Definition) | undefined
  /**
   * Builds the provider (where the package adds to core's, e.g. a header on every API call). Default:
   * `OAuth2Provider.make(definition, settings)`.
   */
  readonly make?:
    | ((
      settings: OAuth2Provider.Settings
    ) => Effect.Effect<OAuth2Provider.Provider, InvalidConfiguration, HttpClient.HttpClient | Scope.Scope>)
    | undefined
  /** The credential self-test. Default: a token grant (`OAuth2Provider.tokenGrant`). */
  readonly whoami?: WhoAmI | undefined
  /** A static-token mode, when the provider has one. */
  readonly staticToken?: StaticToken | undefined
  /**
   * The login, for a definition with a `login` URL whose callback the definition alone cannot say: gets a token and
   * puts it in the `TokenStore`, where a `stored` provider reads it. Default: `OAuth2Provider.login(definition,
   * settings, options)`.
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
  /** Said after a successful revocation. Default: the definition's `revocation.note`. */
  readonly afterRevoke?: string | undefined
}

// -----------------------------------------------------------------------------
// the providers
// -----------------------------------------------------------------------------

/**
 * Figure Markets: `whoami` is the Trader API's `get_who_am_i` (`Trader.selfTest`).
 *
 * @since 0.2.0
 * @category providers
 */
export const figureMarkets: CliProvider = { definition: FigureMarkets.definition, whoami: Trader.selfTest }

/**
 * Figure Pay: built by `FigurePay.make` (its API-version header), read by `FigurePay.config`
 * (`FIGURE_PAY_API_VERSION`); `whoami` is `GET /profiles` (`Banking.selfTest`).
 *
 * @since 0.2.0
 * @category providers
 */
export const figurePay: CliProvider = {
  definition: FigurePay.definition,
  config: FigurePay.config,
  make: FigurePay.make,
  whoami: Banking.selfTest
}

/**
 * Tradier: `whoami` is `GET /v1/user/profile` (`Tradier.selfTest`); a static API token (`TRADIER_ACCESS_TOKEN`) is a
 * mode of its own, its environment, scopes and hosts read as for the OAuth mode.
 *
 * @since 0.2.0
 * @category providers
 */
export const tradier: CliProvider = {
  definition: Tradier.definition,
  whoami: Tradier.selfTest,
  staticToken: {
    variable: "TRADIER_ACCESS_TOKEN",
    make: (token, hosts) =>
      Effect.map(OAuth2Provider.configWithoutCredentials(Tradier.definition), (read) => {
        const options = { ...read, token, hosts: { ...read.hosts, ...hosts } }
        const environment = options.environment ?? Tradier.definition.defaultEnvironment
        const session = Effect.map(
          Layer.build(Tradier.layerStaticToken(options)),
          (context): Session => ({
            environment,
            scopes: options.scopes ?? [],
            tokens: Context.get(context, AccessTokens.AccessTokens),
            apis: { api: Context.get(context, Tradier.HttpClient) }
          })
        )
        return { environment, session }
      })
  }
}

/**
 * Openmarkets: it documents no identity endpoint, so `whoami` is a token grant (`Openmarkets.selfTest`).
 *
 * @since 0.2.0
 * @category providers
 */
export const openmarkets: CliProvider = { definition: Openmarkets.definition, whoami: Openmarkets.selfTest }

/**
 * tastytrade: tokens come from the user's personal grant (a refresh token, `TASTYTRADE_REFRESH_TOKEN`), or without
 * one from the partner login `login tastytrade` stored (`Tastytrade.partnerDefinition`); `whoami` is
 * `GET /customers/me`.
 *
 * @since 0.2.0
 * @category providers
 */
export const tastytrade: CliProvider = {
  definition: Tastytrade.partnerDefinition,
  config: Tastytrade.config,
  definitionFor: Tastytrade.definitionFor,
  whoami: Customer.selfTest
}

/**
 * TradeStation: `whoami` is `GET /brokerage/accounts` (`Brokerage.selfTest`); the login goes back to the key's
 * Allowed Callback URL (`TRADESTATION_CALLBACK_URL`, default `http://localhost:31022`), and `TradeStation.config`
 * reads the rotation.
 *
 * @since 0.2.0
 * @category providers
 */
export const tradestation: CliProvider = {
  definition: TradeStation.definition,
  config: TradeStation.config,
  whoami: Brokerage.selfTest,
  afterRevoke: "TradeStation revokes every refresh token of the key, in every process and for every user of it: " +
    "each must log in again. Access tokens already issued work until they expire (20 minutes)."
}

/**
 * Saxo Bank OpenAPI: a confidential app (`SAXO_CLIENT_SECRET`) or a PKCE app (no secret: `Saxo.definitionFor` picks
 * `Saxo.pkceDefinition`), built by `Saxo.make` (its warning lead times); `whoami` is `GET /port/v1/users/me`
 * (`Users.selfTest`).
 *
 * @since 0.2.0
 * @category providers
 */
export const saxo: CliProvider = {
  definition: Saxo.definition,
  config: Saxo.config,
  definitionFor: Saxo.definitionFor,
  make: Saxo.make,
  whoami: SaxoUsers.selfTest
}

/**
 * Charles Schwab: logins over HTTPS on the registered callback (`SCHWAB_CALLBACK_URL`, default
 * `https://127.0.0.1:8182`) with a certificate made at run time, or by pasting the redirect URL (`--paste`); `whoami`
 * is `GET /trader/v1/accounts/accountNumbers` (`Accounts.selfTest`).
 *
 * @since 0.2.0
 * @category providers
 */
export const schwab: CliProvider = { definition: Schwab.definition, whoami: Accounts.selfTest }

/**
 * The command's providers, in the order it lists them.
 *
 * @since 0.2.0
 * @category providers
 */
export const providers: ReadonlyArray<CliProvider> = [
  figureMarkets,
  figurePay,
  tradier,
  openmarkets,
  tastytrade,
  tradestation,
  saxo,
  schwab
]
