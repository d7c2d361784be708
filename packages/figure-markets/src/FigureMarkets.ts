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
import * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as Endpoint from "@effect-oauth2/core/Endpoint"
import * as OAuth2Client from "@effect-oauth2/core/OAuth2Client"
import * as OAuth2Error from "@effect-oauth2/core/OAuth2Error"
import * as OAuth2HttpClient from "@effect-oauth2/core/OAuth2HttpClient"
import type * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import type * as EffectScope from "effect/Scope"
import * as urls from "@effect-oauth2/core/ProviderConfig"
import * as Trader from "./Trader.js"

/**
 * The provider name used in logs, spans, metrics, errors and token-store keys.
 *
 * @since 0.1.0
 * @category constants
 */
export const provider = "figure-markets"

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
  revocation: { url: "{main}/auth/oauth2/revoke" },
  introspection: {
    unsupported: "Figure Markets documents no introspection endpoint (RFC 7662) for clients: it introspects tokens " +
      "inside its own gateway. To check that credentials and tokens work, run `effect-oauth2 whoami figure-markets`."
  },
  login: {
    unsupported: "figure-markets uses the client-credentials grant: there is nothing to log in to. " +
      "`effect-oauth2 token figure-markets` gets a token directly."
  },
  apis: { trade: "{trade}/api/v1", rest: "{main}/trader" },
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
 * A Figure Markets environment: `"uat"` (the test environment, `figuremarkets.dev`) or `"production"`
 * (`figuremarkets.com`).
 *
 * @since 0.1.0
 * @category models
 */
export type Environment = "uat" | "production"

/**
 * The hosts of each environment: the main host (OAuth and the standard REST API under `/trader`) and the
 * low-latency trading host (`/api/v1/{operation}`).
 *
 * @since 0.1.0
 * @category constants
 */
export const environments: { readonly [E in Environment]: { readonly main: string; readonly trade: string } } = {
  uat: { main: "https://www.figuremarkets.dev", trade: "https://trade.figuremarkets.dev" },
  production: { main: "https://www.figuremarkets.com", trade: "https://trade.figuremarkets.com" }
}

/**
 * The environment used when none is given: `"uat"`, the test environment, so that nothing reaches production by
 * accident.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultEnvironment: Environment = "uat"

/**
 * A Trader API scope. `TRADER_READ` gives read-only access to the standard API; `TRADER_TRADE` gives trading access
 * to it and full access to the low-latency trading API. Any other string is passed as is, for scopes the docs do not
 * list (a third-party note mentions `TRADER`).
 *
 * @since 0.1.0
 * @category models
 */
export type Scope = "TRADER_READ" | "TRADER_TRADE" | (string & {})

/**
 * The scopes asked for when none are given: both documented ones, as in Figure Markets' own example. A read-only
 * client must ask for `["TRADER_READ"]` (asking for more than the client is registered for is `InvalidScope`).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultScopes: ReadonlyArray<Scope> = ["TRADER_READ", "TRADER_TRADE"]

/**
 * The lifetime of a token whose response has no `expires_in`: 86399 seconds, what the token endpoint grants.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultLifetime: Duration.Duration = Duration.seconds(86399)

/**
 * An `HttpClient` that puts the Figure Markets access token on every request (and replays once after a 401).
 *
 * @since 0.1.0
 * @category models
 */
export type AuthorizedHttpClient = HttpClient.HttpClient.With<
  HttpClientError.HttpClientError | OAuth2Error.OAuth2Error
>

/**
 * The options of {@link layer} and {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends OAuth2HttpClient.ApiBounds {
  /** The OAuth client id from the Trader API section of the Figure Markets app. Required. */
  readonly clientId: string
  /** The client secret; a plain string is wrapped in `Redacted` at once. Required. */
  readonly clientSecret: Redacted.Redacted<string> | string
  /** Which environment's hosts to use. Default: `"uat"`. */
  readonly environment?: Environment | undefined
  /** The scopes to ask for (at least one; Figure Markets requires the parameter). Default: `["TRADER_READ", "TRADER_TRADE"]`. */
  readonly scopes?: ReadonlyArray<Scope> | undefined
  /** The main host (OAuth, REST under `/trader`), e.g. a proxy or the emulator. Default: the environment's `www.` host. */
  readonly mainUrl?: string | undefined
  /** The low-latency trading host (regional). Default: the environment's `trade.` host. */
  readonly tradeUrl?: string | undefined
  /** The token endpoint; never on the trading host. Default: `{mainUrl}/auth/oauth2/token`. */
  readonly tokenUrl?: string | undefined
  /** The revocation endpoint (RFC 7009); never on the trading host. Default: `{mainUrl}/auth/oauth2/revoke`. */
  readonly revocationUrl?: string | undefined
  /** How long a token or revocation request may take. Default: 30 seconds. */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** How long before expiry the background refresh starts. Default: 60 seconds (core's default). */
  readonly refreshSkew?: Duration.DurationInput | undefined
  /** The back-off of background refresh retries. Default: core's (exponential from 1 s, jittered, capped at 5 min). */
  readonly retrySchedule?: Schedule.Schedule<unknown, OAuth2Error.OAuth2Error> | undefined
  /** Revoke the cached token when the layer is released. Default: `false`. */
  readonly revokeOnClose?: boolean | undefined
  /** Start acquiring a token in the background as soon as the layer is built. Default: `false`. */
  readonly prefetch?: boolean | undefined
}

/**
 * The options after defaults and validation.
 *
 * @since 0.1.0
 * @category models
 */
export interface Resolved {
  readonly environment: Environment
  /** The main host, without a trailing slash. */
  readonly mainUrl: string
  /** The trading host, without a trailing slash. */
  readonly tradeUrl: string
  /** The base of {@link TradeHttpClient}: `{tradeUrl}/api/v1`. */
  readonly tradeApiUrl: string
  /** The base of {@link RestHttpClient}: `{mainUrl}/trader`. */
  readonly restUrl: string
  /** The scopes asked for, deduplicated. */
  readonly scopes: ReadonlyArray<string>
  /** The only origins the access token is ever sent to: the main and trading hosts'. */
  readonly allowedOrigins: ReadonlyArray<string>
  /** The token-endpoint description handed to core. */
  readonly endpoint: Endpoint.Endpoint
  /** The client id and secret (`Redacted`), as handed to core. */
  readonly credentials: Endpoint.Credentials
}

const invalid = (description: string) =>
  new OAuth2Error.InvalidConfiguration({ provider, source: "configuration", description })

const onTradingHost = (url: string) => urls.hostnameOf(url).toLowerCase().startsWith("trade.")

/**
 * Applies the defaults and validates the options: every URL https (or http on loopback), tokens requested on the
 * main host only (a token or revocation URL on a `trade.` host is refused), at least one well-formed scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolve = (options: Options): Effect.Effect<Resolved, OAuth2Error.InvalidConfiguration> =>
  Effect.gen(function*() {
    const environment = options.environment ?? defaultEnvironment
    const hosts = environments[environment]
    if (hosts === undefined) {
      return yield* invalid(`environment must be one of ${Object.keys(environments).join(", ")}.`)
    }
    if (options.clientId.trim() === "") return yield* invalid("clientId is empty.")
    const credentials = Endpoint.credentials(options.clientId, options.clientSecret)
    if (credentials.clientSecret === undefined || Redacted.value(credentials.clientSecret) === "") {
      return yield* invalid("clientSecret is empty.")
    }
    const mainUrl = yield* urls.baseUrl(provider, "mainUrl", options.mainUrl ?? hosts.main)
    const tradeUrl = yield* urls.baseUrl(provider, "tradeUrl", options.tradeUrl ?? hosts.trade)
    if (onTradingHost(mainUrl)) {
      return yield* invalid(
        "mainUrl points at the trading host (trade.*): OAuth and the REST API live on the main host (www.*)."
      )
    }
    const tokenUrl = options.tokenUrl ?? `${mainUrl}/auth/oauth2/token`
    const revocationUrl = options.revocationUrl ?? `${mainUrl}/auth/oauth2/revoke`
    for (const [name, url] of [["tokenUrl", tokenUrl], ["revocationUrl", revocationUrl]] as const) {
      const valid = yield* Endpoint.validateUrl(provider, name, url)
      if (onTradingHost(valid)) {
        return yield* invalid(
          `${name} is on the trading host (trade.*): Figure Markets issues and revokes tokens only on the main host (www.*).`
        )
      }
    }
    const scopes = [...new Set(options.scopes ?? defaultScopes)]
    if (scopes.length === 0) {
      return yield* invalid(`scopes is empty: Figure Markets requires at least one (${defaultScopes.join(", ")}).`)
    }
    // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
    const malformed = scopes.filter((s) => !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s))
    if (malformed.length > 0) {
      return yield* invalid(
        `scopes must be single words without spaces, quotes or backslashes (got ${malformed.length} that are not).`
      )
    }
    const endpoint = yield* Endpoint.make({
      provider,
      environment,
      tokenUrl,
      revocationUrl,
      authMethod: "client_secret_post",
      scopeDelimiter: " ",
      defaultLifetime,
      acceptedTokenTypes: ["Bearer"],
      requestTimeout: options.requestTimeout
    })
    return {
      environment,
      mainUrl,
      tradeUrl,
      tradeApiUrl: `${tradeUrl}/api/v1`,
      restUrl: `${mainUrl}/trader`,
      scopes,
      allowedOrigins: [...new Set([urls.originOf(mainUrl), urls.originOf(tradeUrl)])],
      endpoint,
      credentials
    }
  })

/**
 * The Figure Markets access tokens. The same service as core's `AccessTokens`, under this package's own tag, so that
 * it stays reachable when another provider's layer also provides `AccessTokens`.
 *
 * @since 0.1.0
 * @category tags
 */
export class Tokens extends Context.Tag("@effect-oauth2/figure-markets/Tokens")<Tokens, AccessTokens.Service>() {}

/**
 * The authorised client of the low-latency trading host, based at `{tradeUrl}/api/v1`:
 * `client.execute(HttpClientRequest.post("/get_who_am_i"))`.
 *
 * @since 0.1.0
 * @category tags
 */
export class TradeHttpClient extends Context.Tag("@effect-oauth2/figure-markets/TradeHttpClient")<
  TradeHttpClient,
  AuthorizedHttpClient
>() {}

/**
 * The authorised client of the standard REST API, based at `{mainUrl}/trader`.
 *
 * @since 0.1.0
 * @category tags
 */
export class RestHttpClient extends Context.Tag("@effect-oauth2/figure-markets/RestHttpClient")<
  RestHttpClient,
  AuthorizedHttpClient
>() {}

/**
 * Everything {@link make} builds.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly config: Resolved
  readonly tokens: AccessTokens.Service
  readonly tradeHttpClient: AuthorizedHttpClient
  readonly restHttpClient: AuthorizedHttpClient
  readonly trader: Trader.Service
}

/**
 * Builds the token cache and the authorised clients over the plain `HttpClient` from the context (which also serves
 * the token endpoint: never give it an authorised client). A `TokenStore` in the context is used when present.
 * Scoped: the background refresh lives as long as the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<Service, OAuth2Error.InvalidConfiguration, HttpClient.HttpClient | EffectScope.Scope> =>
  Effect.gen(function*() {
    const config = yield* resolve(options)
    const client = yield* OAuth2Client.make({ endpoint: config.endpoint, credentials: config.credentials })
    const tokens = yield* AccessTokens.make({
      scopes: config.scopes,
      refreshSkew: options.refreshSkew,
      retrySchedule: options.retrySchedule,
      revokeOnClose: options.revokeOnClose,
      prefetch: options.prefetch
    }).pipe(Effect.provideService(OAuth2Client.OAuth2Client, client))
    const plain = yield* HttpClient.HttpClient
    // The base URL goes on outside the middleware, so that the origin check sees the full URL and a replay never
    // prepends it twice.
    const authorised = OAuth2HttpClient.withAccessToken(plain, tokens, {
      allowedOrigins: config.allowedOrigins,
      ...OAuth2HttpClient.boundsOptions(options)
    })
    const tradeHttpClient: AuthorizedHttpClient = authorised.pipe(
      HttpClient.mapRequest(HttpClientRequest.prependUrl(config.tradeApiUrl))
    )
    const restHttpClient: AuthorizedHttpClient = authorised.pipe(
      HttpClient.mapRequest(HttpClientRequest.prependUrl(config.restUrl))
    )
    const trader = Trader.fromHttpClient(tradeHttpClient, { scopes: config.scopes })
    return { config, tokens, tradeHttpClient, restHttpClient, trader }
  })

/**
 * The services of a built {@link Service} as a `Context`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const toContext = (
  service: Service
): Context.Context<AccessTokens.AccessTokens | Tokens | TradeHttpClient | RestHttpClient | Trader.Trader> =>
  Context.make(AccessTokens.AccessTokens, service.tokens).pipe(
    Context.add(Tokens, service.tokens),
    Context.add(TradeHttpClient, service.tradeHttpClient),
    Context.add(RestHttpClient, service.restHttpClient),
    Context.add(Trader.Trader, service.trader)
  )

/**
 * Provides core's `AccessTokens` and this package's `Tokens`, `TradeHttpClient`, `RestHttpClient` and
 * `Trader.Trader`, over the plain `HttpClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<
  AccessTokens.AccessTokens | Tokens | TradeHttpClient | RestHttpClient | Trader.Trader,
  OAuth2Error.InvalidConfiguration,
  HttpClient.HttpClient
> => Layer.scopedContext(Effect.map(make(options), toContext))

/**
 * The options {@link config} reads from the environment.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConfigOptions {
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly environment: Environment
  readonly scopes: ReadonlyArray<Scope> | undefined
  readonly mainUrl: string | undefined
  readonly tradeUrl: string | undefined
}

const scopesConfig = (name: string): Config.Config<ReadonlyArray<string> | undefined> =>
  Config.string(name).pipe(
    Config.mapOrFail((value) => {
      const scopes = value.split(/[\s,]+/).filter((s) => s !== "")
      if (value.includes(",")) {
        return Either.left(
          ConfigError.InvalidData([], `${name} is space-separated (e.g. "TRADER_READ TRADER_TRADE"), not comma-separated`)
        )
      }
      return scopes.length === 0
        ? Either.left(ConfigError.InvalidData([], `${name} is set but names no scope (e.g. "TRADER_READ")`))
        : Either.right(scopes)
    }),
    Config.option,
    Config.map(Option.getOrUndefined)
  )

/**
 * Reads the documented environment variables:
 *
 * | variable | meaning | default |
 * |---|---|---|
 * | `FIGURE_MARKETS_CLIENT_ID` | client id | required |
 * | `FIGURE_MARKETS_CLIENT_SECRET` | client secret (read with `Config.redacted`) | required |
 * | `FIGURE_MARKETS_ENV` | `uat` or `production` | `uat` |
 * | `FIGURE_MARKETS_SCOPES` | space-separated scopes | `TRADER_READ TRADER_TRADE` |
 * | `FIGURE_MARKETS_MAIN_URL` | main host override | the environment's |
 * | `FIGURE_MARKETS_TRADE_URL` | trading host override | the environment's |
 *
 * A missing or bad value is a `ConfigError` naming the variable (and, for an enumeration, the allowed values).
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<ConfigOptions> = Config.all({
  clientId: Config.nonEmptyString("FIGURE_MARKETS_CLIENT_ID"),
  clientSecret: Config.redacted(Config.nonEmptyString("FIGURE_MARKETS_CLIENT_SECRET")),
  environment: urls.oneOf("FIGURE_MARKETS_ENV", ["uat", "production"], defaultEnvironment),
  scopes: scopesConfig("FIGURE_MARKETS_SCOPES"),
  mainUrl: urls.optionalUrl("FIGURE_MARKETS_MAIN_URL"),
  tradeUrl: urls.optionalUrl("FIGURE_MARKETS_TRADE_URL")
})

/**
 * {@link layer} with the credentials, environment, scopes and hosts read by {@link config}; `options` gives the
 * rest (token URL overrides, refresh policy...).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Omit<Options, keyof ConfigOptions> = {}
): Layer.Layer<
  AccessTokens.AccessTokens | Tokens | TradeHttpClient | RestHttpClient | Trader.Trader,
  ConfigError.ConfigError | OAuth2Error.InvalidConfiguration,
  HttpClient.HttpClient
> => Layer.unwrapEffect(Effect.map(config, (fromEnv) => layer({ ...options, ...fromEnv })))

/**
 * The URL overrides that point everything at an `@effect-oauth2/emulator` instance (or anything laid out like it):
 * pass `emulator.urls` or `emulator.urls.figureMarkets`.
 *
 * ```ts
 * FigureMarkets.layer({ clientId, clientSecret, ...FigureMarkets.emulatorUrls(emulator.urls) })
 * ```
 *
 * @since 0.1.0
 * @category emulator
 */
export const emulatorUrls = (
  urls:
    | { readonly main: string; readonly trade: string }
    | { readonly figureMarkets: { readonly main: string; readonly trade: string } }
): { readonly mainUrl: string; readonly tradeUrl: string } => {
  const hosts = "figureMarkets" in urls ? urls.figureMarkets : urls
  return { mainUrl: hosts.main, tradeUrl: hosts.trade }
}
