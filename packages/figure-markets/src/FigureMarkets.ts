/**
 * Figure Markets Trader API: the environments, the token endpoint (client_secret_post, `TRADER_*` scopes,
 * revocation), and the layers that give a program its tokens and its authorised HTTP clients.
 *
 * One layer provides core's generic `AccessTokens` (so code written against `@effect-oauth2/core` just works) and this
 * package's own tags (`Tokens`, `TradeHttpClient`, `RestHttpClient`, `Trader`), so that a program can use Figure
 * Markets next to another provider without the two shadowing each other.
 *
 * ```ts
 * import { FigureMarkets, Trader } from "@effect-oauth2/figure-markets"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const me = yield* Trader.whoAmI
 *   yield* Effect.log(`authenticated as ${me.user}`)
 * })
 *
 * program.pipe(
 *   Effect.provide(FigureMarkets.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici))),
 *   Effect.runPromise
 * )
 * ```
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
 * Figure Markets as a provider definition: two hosts per environment (`main` for OAuth and the REST API, `trade` for
 * the low-latency trading API), `client_secret_post`, `TRADER_*` scopes (at least one), 86399-second tokens,
 * revocation on the main host, and one check of its own: no token or revocation URL on the trading host.
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
 * A Figure Markets environment: `"uat"` (the test environment, `figuremarkets.dev`) or `"production"`
 * (`figuremarkets.com`).
 *
 * @since 0.1.0
 * @category models
 */
export type Environment = "uat" | "production"

/**
 * A Trader API scope. `TRADER_READ` gives read-only access to the standard API; `TRADER_TRADE` gives trading access
 * to it and full access to the low-latency trading API. Any other string is passed as is, for scopes the docs do not
 * list (a third-party note mentions `TRADER`). A read-only client must ask for `["TRADER_READ"]`.
 *
 * @since 0.1.0
 * @category models
 */
export type Scope = "TRADER_READ" | "TRADER_TRADE" | (string & {})

/**
 * What {@link layer} and {@link make} take: core's provider settings. `hosts` takes `main` (OAuth, REST under
 * `/trader`) and `trade` (the low-latency trading host, regional); the defaults are in {@link definition}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends OAuth2Provider.Settings {}

/**
 * The Figure Markets access tokens. The same service as core's `AccessTokens`, under this package's own tag, so that
 * it stays reachable when another provider's layer also provides `AccessTokens`.
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
 * Validates the options and builds the tokens and the authorised `trade` and `rest` clients over the plain
 * `HttpClient` from the context (`OAuth2Provider.make`). Scoped: the background refresh lives as long as the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: OAuth2Provider.Layers<Services, Options>["make"] = figureMarkets.make

/**
 * Provides core's `AccessTokens` and this package's `Tokens`, `TradeHttpClient`, `RestHttpClient` and
 * `Trader.Trader`, over the plain `HttpClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: OAuth2Provider.Layers<Services, Options>["layer"] = figureMarkets.layer

/**
 * The documented environment variables ({@link definition}'s table, `OAuth2Provider.variables`):
 * `FIGURE_MARKETS_CLIENT_ID`, `FIGURE_MARKETS_CLIENT_SECRET`, `FIGURE_MARKETS_ENV` (`uat` or `production`, default
 * `uat`), `FIGURE_MARKETS_SCOPES` (space-separated, default `TRADER_READ TRADER_TRADE`), `FIGURE_MARKETS_MAIN_URL`,
 * `FIGURE_MARKETS_TRADE_URL`, `FIGURE_MARKETS_TOKEN_URL`. A missing or bad value is a `ConfigError` naming it.
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
