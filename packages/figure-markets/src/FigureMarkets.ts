/**
 * Figure Markets Trader API: its definition, tags and layers. The package README has the sample, the environment
 * variables and the behaviour.
 *
 * @since 0.1.0
 */
import type * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import type * as OAuth2HttpClient from "@effect-oauth2/core/OAuth2HttpClient"
import * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import * as urls from "@effect-oauth2/core/ProviderConfig"
import type * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Trader from "./Trader.js"

/** Whether a URL is on the trading host: a `trade.*` host name, or under the resolved trading host. */
const isTradingHost = (url: string, trade?: string): boolean =>
  urls.hostnameOf(url).toLowerCase().startsWith("trade.") ||
  (trade !== undefined && (url === trade || url.startsWith(`${trade}/`)))

/**
 * Figure Markets as a provider definition: `main` serves OAuth and the REST API, `trade` the low-latency trading API;
 * its own check refuses a token or revocation URL on the trading host.
 *
 * @since 0.2.0
 * @category definition
 */
export const definition: OAuth2Provider.Definition = {
  name: "figure-markets",
  title: "Figure Markets",
  envPrefix: "FIGURE_MARKETS",
  environments: {
    uat: { main: "https://www.figuremarkets.dev", trade: "https://trade.figuremarkets.dev" },
    production: { main: "https://www.figuremarkets.com", trade: "https://trade.figuremarkets.com" }
  },
  defaultEnvironment: "uat",
  acquire: "client_credentials",
  scopes: {
    kind: "open",
    known: ["TRADER_READ", "TRADER_TRADE"],
    default: ["TRADER_READ", "TRADER_TRADE"],
    required: true,
    delimiter: " "
  },
  authorizationServer: {
    tokenUrl: "{main}/auth/oauth2/token",
    authMethod: "client_secret_post",
    defaultLifetime: "86399 seconds",
    acceptedTokenTypes: ["Bearer"]
  },
  revocation: {
    url: "{main}/auth/oauth2/revoke",
    note: "Figure Markets says a revoked token can take a few minutes to stop working in every region."
  },
  introspection: {
    unsupported: "Figure Markets documents no introspection endpoint (RFC 7662) for clients: it introspects tokens " +
      "inside its own gateway. To check that credentials and tokens work, run `effect-oauth2 whoami figure-markets`."
  },
  login: {
    unsupported: "figure-markets uses the client-credentials grant: there is nothing to log in to. " +
      "`effect-oauth2 token figure-markets` gets a token directly."
  },
  apis: { rest: "{main}/trader", trade: "{trade}/api/v1" },
  hooks: {
    check: ({ endpoint, hosts }) => {
      if (hosts.main !== undefined && isTradingHost(hosts.main)) {
        return "hosts.main (mainUrl) points at the trading host (trade.*): OAuth and the REST API live on the main " +
          "host (www.*)."
      }
      for (const [name, url] of [["tokenUrl", endpoint.tokenUrl], ["revocationUrl", endpoint.revocationUrl]]) {
        if (url !== undefined && isTradingHost(url, hosts.trade)) {
          return `${name} is on the trading host (trade.*): Figure Markets issues and revokes tokens only on the ` +
            "main host (www.*)."
        }
      }
      return undefined
    }
  }
}

/**
 * The provider name used in logs, spans, metrics, errors and token-store keys.
 *
 * @since 0.1.0
 * @category constants
 */
export const provider = "figure-markets"

/**
 * A Figure Markets environment: `"uat"` (the test environment) or `"production"`.
 *
 * @since 0.1.0
 * @category models
 */
export type Environment = "uat" | "production"

/**
 * A Trader API scope (the README says what each grants); any other string is passed as is.
 *
 * @since 0.1.0
 * @category models
 */
export type Scope = "TRADER_READ" | "TRADER_TRADE" | (string & {})

/**
 * What {@link layer} and {@link make} take: core's provider settings (`hosts`: `main` and `trade`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends OAuth2Provider.Settings {}

/**
 * Figure Markets' access tokens: core's `AccessTokens` service under this package's tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class Tokens extends Context.Tag("@effect-oauth2/figure-markets/Tokens")<Tokens, AccessTokens.Service>() {}

/**
 * The authorised client of the low-latency trading host, based at `{trade}/api/v1`:
 * `client.execute(HttpClientRequest.post("/get_who_am_i"))`.
 *
 * @since 0.1.0
 * @category tags
 */
export class TradeHttpClient extends Context.Tag("@effect-oauth2/figure-markets/TradeHttpClient")<
  TradeHttpClient,
  OAuth2HttpClient.Authorized
>() {}

/**
 * The authorised client of the standard REST API, based at `{main}/trader`.
 *
 * @since 0.1.0
 * @category tags
 */
export class RestHttpClient extends Context.Tag("@effect-oauth2/figure-markets/RestHttpClient")<
  RestHttpClient,
  OAuth2HttpClient.Authorized
>() {}

/**
 * What {@link layer} provides.
 *
 * @since 0.2.0
 * @category models
 */
export type Services = AccessTokens.AccessTokens | Tokens | TradeHttpClient | RestHttpClient | Trader.Trader

const figureMarkets = OAuth2Provider.layers(definition, ({ apis, resolved, tokens }) =>
  Context.make(Tokens, tokens).pipe(
    Context.add(TradeHttpClient, apis.trade!),
    Context.add(RestHttpClient, apis.rest!),
    Context.add(Trader.Trader, Trader.fromHttpClient(apis.trade!, { scopes: resolved.scopes }))
  ))

/**
 * Validates the options and builds the tokens and the authorised clients (`OAuth2Provider.make`). Scoped.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: OAuth2Provider.Layers<Services, Options>["make"] = figureMarkets.make

/**
 * Provides {@link Services} over the plain `HttpClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: OAuth2Provider.Layers<Services, Options>["layer"] = figureMarkets.layer

/**
 * The documented environment variables (`OAuth2Provider.variables(definition)`, the README's table).
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = figureMarkets.config

/**
 * {@link layer} from a `Config`, {@link config} by default. Two desks in one program:
 * `layerConfig(Config.nested(FigureMarkets.config, "DESK_A"))` reads `DESK_A_FIGURE_MARKETS_CLIENT_ID`...
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: OAuth2Provider.Layers<Services, Options>["layerConfig"] = figureMarkets.layerConfig
