/**
 * The emulator: one loopback HTTP server that behaves like the token, revocation and API endpoints of Figure
 * Markets, Figure Pay, Tradier, Openmarkets, Schwab, TradeStation, tastytrade and Saxo, with fault injection and
 * counters.
 *
 * The brokers' authorize endpoints approve at once (the emulated user consents): they redirect to the callback with
 * a code, or answer an error page where the real one shows one (a callback that is not registered).
 *
 * Each provider's hosts live under a path prefix of the one base URL; `hosts` says where, by provider name and by the
 * host names of the provider's definition, so that it is given as is to the provider's `hosts` setting
 * (`FigureMarkets.layer({ clientId, clientSecret, hosts: emulator.hosts["figure-markets"] })`), and the provider
 * appends its real paths to them:
 *
 * | host | URL | paths |
 * |---|---|---|
 * | Figure Markets main | `{base}/figure-markets` | `/auth/oauth2/token`, `/auth/oauth2/revoke` |
 * | Figure Markets trading | `{base}/figure-markets/trade` | `/api/v1/get_who_am_i`, `/api/v1/list_accounts`, `/api/v1/place_order` |
 * | Figure Pay | `{base}/figure-pay` | `/oauth2/token`, `/profiles` |
 * | Tradier | `{base}/tradier` | `/v1/oauth/authorize`, `/v1/oauth/accesstoken`, `/v1/oauth/refreshtoken`, `/v1/user/profile`, `/oauth/consent` |
 * | Openmarkets identity | `{base}/openmarkets/identity` | `/connect/token` |
 * | Openmarkets API | `{base}/openmarkets/api` | `/v1/market-data/quotes?symbols=BHP`, `/v1/news` |
 * | Schwab | `{base}/schwab` | `/v1/oauth/authorize`, `/v1/oauth/token`, `/trader/v1/accounts/accountNumbers` |
 * | TradeStation sign-in | `{base}/tradestation/signin` | `/authorize`, `/oauth/token`, `/oauth/revoke` |
 * | TradeStation API | `{base}/tradestation/api` | `/v3/brokerage/accounts` |
 * | tastytrade | `{base}/tastytrade` | `/oauth/token`, `/customers/me` |
 * | tastytrade web login | `{base}/tastytrade/my` | `/auth.html` (the partner authorize endpoint) |
 * | Saxo logon | `{base}/saxo/logon` | `/authorize`, `/token` |
 * | Saxo OpenAPI | `{base}/saxo/openapi` | `/port/v1/users/me` |
 * | control API | `{base}/_emulator` | `/faults`, `/counters`, `/tokens`, `/token-requests`, `/clock`, `/tradier/authorization` |
 *
 * **Time.** The emulator reads time from the `Clock` of the runtime it was started in, plus the clock skew. Under
 * `TestClock`, `TestClock.adjust` ages its tokens, codes and consent requests; the `latency` fault sleeps on that
 * same clock, so under `TestClock` a delayed request waits until the test adjusts the clock. `start` runs on the
 * live clock.
 *
 * @since 0.1.0
 */
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Http from "node:http"
import * as Clients from "./Clients.js"
import * as Faults from "./Faults.js"
import { type Env, makeBrokerUrls, makeHosts, makeUrls } from "./internal/context.js"
import { maxSkew } from "./internal/control.js"
import { millis } from "./internal/http.js"
import { makeApp } from "./internal/server.js"
import * as Tastytrade from "./internal/tastytrade.js"
import * as State from "./internal/state.js"

/**
 * Where each emulated provider's hosts live, by provider name (`OAuth2Provider.Definition.name`) and host name (the
 * names its URL templates use): give `hosts[definition.name]` to the provider's `hosts` setting. Providers the
 * emulator does not serve are absent.
 *
 * @since 0.2.0
 * @category models
 */
export interface Hosts {
  readonly "figure-markets": { readonly main: string; readonly trade: string }
  readonly "figure-pay": { readonly api: string }
  readonly tradier: { readonly api: string }
  readonly openmarkets: { readonly identity: string; readonly api: string }
  readonly schwab: { readonly api: string }
  readonly tradestation: { readonly signin: string; readonly api: string }
  readonly tastytrade: { readonly api: string; readonly auth: string }
  readonly saxo: { readonly logon: string; readonly openapi: string }
  readonly [provider: string]: Readonly<Record<string, string>>
}

/**
 * The {@link Hosts} of an emulator listening at `baseUrl` (e.g. `http://127.0.0.1:4010`): what a client that only
 * knows the emulator's address (the command line's `--emulator`) points each provider at.
 *
 * @since 0.2.0
 * @category constructors
 */
export const hostsAt = (baseUrl: string): Hosts => makeHosts(baseUrl.replace(/\/+$/, ""))

/**
 * Where each emulated host lives, under camel-case names, and the control API. Append the provider's real paths,
 * e.g. `urls.figureMarkets.main + "/auth/oauth2/token"`; for a provider's `hosts` setting, {@link Hosts} has them
 * under the names the provider uses.
 *
 * @since 0.1.0
 * @category models
 */
export interface Urls {
  readonly figureMarkets: { readonly main: string; readonly trade: string }
  readonly figurePay: { readonly api: string }
  readonly tradier: { readonly api: string }
  readonly openmarkets: { readonly identity: string; readonly api: string }
  /** The control API. */
  readonly control: string
}

/**
 * Where each emulated broker host lives (Schwab, TradeStation, tastytrade, Saxo). Append the broker's real paths,
 * e.g. `brokerUrls.saxo.logon + "/token"`.
 *
 * @since 0.2.0
 * @category models
 */
export interface BrokerUrls {
  readonly schwab: { readonly api: string }
  readonly tradestation: { readonly signin: string; readonly api: string }
  readonly tastytrade: { readonly api: string; readonly auth: string }
  readonly saxo: { readonly logon: string; readonly openapi: string }
}

/**
 * What Tradier's authorize endpoint does:
 *
 * - `consent`: 302 to an HTML consent page with Approve and Deny (the real flow);
 * - `auto-approve`: 302 straight to the callback with `code` and `state`;
 * - `auto-deny`: 302 straight to the callback with `error=access_denied` and `state`.
 *
 * @since 0.1.0
 * @category models
 */
export type AuthorizationMode = "consent" | "auto-approve" | "auto-deny"

/**
 * What Tradier's refresh endpoint answers in `refresh_token`: the same token (`same`), a new one that replaces the
 * old (`rotate`), or nothing, so the client must keep the one it has (`none`).
 *
 * @since 0.1.0
 * @category models
 */
export type RefreshTokenMode = "same" | "rotate" | "none"

/**
 * Metadata of an issued token. Never the token itself: `id` is a hash prefix.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenInfo {
  readonly id: string
  readonly kind: "access" | "refresh"
  readonly provider: Clients.Provider
  readonly clientId: string
  readonly scopes: ReadonlyArray<string>
  /** Emulator time (milliseconds since the epoch) the token was issued at. */
  readonly issuedAt: number
  /** Emulator time the token expires at; `undefined` for tokens that never expire. */
  readonly expiresAt: number | undefined
  readonly revoked: boolean
  readonly expired: boolean
  /**
   * The grant (one login, or one imported refresh token) the token belongs to; `undefined` for the seed providers.
   *
   * @since 0.2.0
   */
  readonly grant: string | undefined
  /**
   * How many token requests accepted this token as their grant (a refresh token's refreshes); a single-use refresh
   * token spent correctly shows exactly 1.
   *
   * @since 0.2.0
   */
  readonly uses: number
  /**
   * How many token requests presented this token and were refused (spent, revoked, expired, another client's).
   *
   * @since 0.2.0
   */
  readonly refusals: number
}

/**
 * One request to a broker's token endpoint (Schwab, TradeStation, tastytrade, Saxo), in arrival order.
 *
 * @since 0.2.0
 * @category models
 */
export interface TokenRequest {
  /** The endpoint's name, e.g. `"saxo.token"`. */
  readonly endpoint: string
  readonly provider: Clients.Provider
  /** The authenticated client, when the request got that far. */
  readonly clientId: string | undefined
  readonly grantType: string | undefined
  /** The `TokenInfo.id` of the refresh token presented, if any. */
  readonly refreshTokenId: string | undefined
  /** The status answered. */
  readonly status: number
  /** The OAuth error answered (tastytrade's `error_code` included), if any. */
  readonly error: string | undefined
  /** Emulator time of the request (milliseconds since the epoch). */
  readonly at: number
}

/**
 * Schwab's quirks. Every default is a third-party fact (Schwab's developer portal is behind a login); see
 * `shared/PROVIDERS-NEXT.md` §3.
 *
 * @since 0.2.0
 * @category models
 */
export interface SchwabOptions {
  /** Access-token lifetime. Default: 1800 seconds. */
  readonly accessTokenLifetime?: Duration.DurationInput | undefined
  /** Refresh-token lifetime, counted from the login; a refresh never extends it. Default: 7 days (UNCERTAIN). */
  readonly refreshTokenLifetime?: Duration.DurationInput | undefined
  /** How long an authorization code can be exchanged. Default: 30 seconds (UNCERTAIN). */
  readonly authorizationCodeLifetime?: Duration.DurationInput | undefined
  /** A new login kills the app's earlier refresh tokens (one live grant per app). Default: `true`. */
  readonly oneGrantPerApp?: boolean | undefined
  /**
   * What a refresh answers in `refresh_token`: the same token (`"same"`), or a new one that replaces it and keeps
   * the login's deadline (`"rotate"`). Default: `"same"` (UNCERTAIN).
   */
  readonly refreshToken?: "same" | "rotate" | undefined
}

/**
 * TradeStation's quirks (Auth0); see `shared/PROVIDERS-NEXT.md` §4.
 *
 * @since 0.2.0
 * @category models
 */
export interface TradeStationOptions {
  /** Access-token lifetime. Default: 1200 seconds (doc). */
  readonly accessTokenLifetime?: Duration.DurationInput | undefined
  /** The `audience` the authorize request must name for a token the API accepts. Default: `"https://api.tradestation.com"` (doc). */
  readonly audience?: string | undefined
  /** With rotation, a refresh token dies this long after it was issued unless used. Default: 30 minutes (UNCERTAIN: 30 or 40). */
  readonly rotatingRefreshIdleLifetime?: Duration.DurationInput | undefined
  /** With rotation, every refresh token of a login dies this long after the login. Default: 24 hours (doc). */
  readonly rotatingRefreshAbsoluteLifetime?: Duration.DurationInput | undefined
  /** How long an authorization code can be exchanged. Default: 10 minutes (inferred). */
  readonly authorizationCodeLifetime?: Duration.DurationInput | undefined
}

/**
 * tastytrade's quirks; see `shared/PROVIDERS-NEXT.md` §5.
 *
 * @since 0.2.0
 * @category models
 */
export interface TastytradeOptions {
  /** Access-token lifetime. Default: 900 seconds (third-party). */
  readonly accessTokenLifetime?: Duration.DurationInput | undefined
  /** Whether the token endpoint also takes a form body. Default: `false`, JSON only (UNCERTAIN). */
  readonly acceptFormBody?: boolean | undefined
  /** Whether every request needs a `User-Agent` of the form `<product>/<version>`. Default: `true` (third-party). */
  readonly requireUserAgent?: boolean | undefined
  /** How long a partner login's authorization code lives. Default: 5 minutes (inferred: nothing published). */
  readonly authorizationCodeLifetime?: Duration.DurationInput | undefined
  /**
   * How long a partner login's refresh token lives. Default: for ever, like a personal grant (UNCERTAIN: nothing
   * published).
   */
  readonly partnerRefreshTokenLifetime?: Duration.DurationInput | undefined
}

/**
 * Saxo's quirks; see `shared/PROVIDERS-NEXT.md` §6.
 *
 * @since 0.2.0
 * @category models
 */
export interface SaxoOptions {
  /** Access-token lifetime. Default: 1200 seconds (doc). */
  readonly accessTokenLifetime?: Duration.DurationInput | undefined
  /** Refresh-token lifetime, sent as `refresh_token_expires_in`. Default: 3600 seconds (SIM samples). */
  readonly refreshTokenLifetime?: Duration.DurationInput | undefined
  /**
   * What becomes of a refresh token once used: it is refused from then on (`"single-use"`), or it stays valid until
   * it expires (`"valid-until-expiry"`). Either way the refresh answers a new one. Default: `"single-use"` (UNCERTAIN).
   */
  readonly spentRefreshTokens?: "single-use" | "valid-until-expiry" | undefined
  /** How long an authorization code can be exchanged. Default: 10 minutes (inferred). */
  readonly authorizationCodeLifetime?: Duration.DurationInput | undefined
  /** A PKCE app's refresh must re-send `code_verifier` and `redirect_uri`. Default: `true` (the official sample sends them). */
  readonly pkceRefreshNeedsVerifier?: boolean | undefined
  /** A loopback `http` callback may differ from the registered one in its port. Default: `true` (UNCERTAIN). */
  readonly anyLoopbackPort?: boolean | undefined
}

/**
 * The brokers' options.
 *
 * @since 0.2.0
 * @category models
 */
export interface BrokerOptions {
  readonly schwab?: SchwabOptions | undefined
  readonly tradestation?: TradeStationOptions | undefined
  readonly tastytrade?: TastytradeOptions | undefined
  readonly saxo?: SaxoOptions | undefined
}

/**
 * Token lifetimes per provider.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenLifetimes {
  /** Default: 86399 seconds. */
  readonly figureMarkets?: Duration.DurationInput | undefined
  /** Default: 1 hour. */
  readonly figurePay?: Duration.DurationInput | undefined
  /** Default: 86399 seconds. */
  readonly tradier?: Duration.DurationInput | undefined
  /** Default: 3600 seconds. */
  readonly openmarkets?: Duration.DurationInput | undefined
}

/**
 * Each provider's documented token lifetime.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultTokenLifetimes = {
  figureMarkets: "86399 seconds",
  figurePay: "1 hour",
  tradier: "86399 seconds",
  openmarkets: "3600 seconds"
} as const satisfies Required<{ readonly [K in keyof TokenLifetimes]: Duration.DurationInput }>

/**
 * Options of `make`, `layer` and `start`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The port to listen on. Default: `0`, a free port the system picks. */
  readonly port?: number | undefined
  /**
   * The interface to listen on. Default: `"127.0.0.1"`, loopback only. Another value (such as `"0.0.0.0"`) exposes
   * the emulator beyond this machine: give it only when you mean it.
   */
  readonly host?: string | undefined
  /** Registered clients; each provider's list given here replaces its demo list. Default: `Clients.demo`. */
  readonly clients?: Partial<Clients.Registry> | undefined
  /** One token lifetime for every provider. Default: each provider's own (`defaultTokenLifetimes`). */
  readonly tokenLifetime?: Duration.DurationInput | undefined
  /** Token lifetimes per provider; win over `tokenLifetime`, and a client's own lifetime wins over both. */
  readonly tokenLifetimes?: TokenLifetimes | undefined
  /** How long a Tradier authorization code can be exchanged. Default: 10 minutes. */
  readonly authorizationCodeLifetime?: Duration.DurationInput | undefined
  /** How long a Tradier consent page stays answerable. Default: 10 minutes. */
  readonly consentLifetime?: Duration.DurationInput | undefined
  /** What Tradier's authorize endpoint does. Default: `"consent"`. */
  readonly tradierAuthorization?: AuthorizationMode | undefined
  /** What Tradier's refresh endpoint answers in `refresh_token`. Default: `"same"`. */
  readonly tradierRefreshToken?: RefreshTokenMode | undefined
  /** Faults set from the start, per endpoint. Default: none. An invalid value (a count below 1) is a defect. */
  readonly faults?: Partial<Record<Faults.Endpoint, Faults.Faults>> | undefined
  /** Milliseconds added to the emulator's clock. Default: `0`. */
  readonly clockSkew?: number | undefined
  /**
   * The brokers' quirks (Schwab, TradeStation, tastytrade, Saxo). Default: each broker's defaults.
   *
   * @since 0.2.0
   */
  readonly brokers?: BrokerOptions | undefined
}

/**
 * A running emulator.
 *
 * @since 0.1.0
 * @category models
 */
export interface Emulator {
  /** `http://127.0.0.1:{port}`, no trailing slash. */
  readonly baseUrl: string
  /**
   * Each provider's hosts, by provider name and host name: `FigureMarkets.layer({ ...credentials, hosts:
   * emulator.hosts["figure-markets"] })`.
   *
   * @since 0.2.0
   */
  readonly hosts: Hosts
  readonly urls: Urls
  /**
   * Where the brokers' hosts live.
   *
   * @since 0.2.0
   */
  readonly brokerUrls: BrokerUrls
  /** The clients it knows. */
  readonly clients: Clients.Registry
  /** Faults currently set, by endpoint (counted faults show what is left). */
  readonly faults: Effect.Effect<Readonly<Partial<Record<Faults.Endpoint, Faults.Faults>>>>
  /** Faults currently set on one endpoint. */
  readonly getFaults: (endpoint: Faults.Endpoint) => Effect.Effect<Faults.Faults>
  /** Replaces an endpoint's faults. An invalid value (a count below 1) is a defect. */
  readonly setFaults: (endpoint: Faults.Endpoint, faults: Faults.Faults) => Effect.Effect<void>
  /** Clears one endpoint's faults, or every endpoint's. */
  readonly clearFaults: (endpoint?: Faults.Endpoint | undefined) => Effect.Effect<void>
  /** Counters of every endpoint. */
  readonly counters: Effect.Effect<Readonly<Record<Faults.Endpoint, Faults.Counters>>>
  /** Counters of one endpoint. */
  readonly countersFor: (endpoint: Faults.Endpoint) => Effect.Effect<Faults.Counters>
  /** Sets every counter back to zero. */
  readonly resetCounters: Effect.Effect<void>
  /** Revokes an access or refresh token before its time; `false` when unknown or already revoked. */
  readonly revokeToken: (token: string) => Effect.Effect<boolean>
  /** Revokes every token issued so far (static Tradier tokens included); returns how many. */
  readonly revokeAllTokens: Effect.Effect<number>
  /** Metadata of every token issued so far. */
  readonly tokens: Effect.Effect<ReadonlyArray<TokenInfo>>
  /**
   * Every request to a broker's token endpoint so far, in arrival order.
   *
   * @since 0.2.0
   */
  readonly tokenRequests: Effect.Effect<ReadonlyArray<TokenRequest>>
  /** Sets the clock skew: the emulator's time becomes the `Clock`'s plus `millis` (clamped to ±100 years). */
  readonly skewClock: (millis: number) => Effect.Effect<void>
  /** The current clock skew in milliseconds. */
  readonly clockSkew: Effect.Effect<number>
  /** The emulator's time in milliseconds since the epoch: `Clock` plus skew. */
  readonly now: Effect.Effect<number>
  /** What Tradier's authorize endpoint does from now on. */
  readonly setAuthorizationMode: (mode: AuthorizationMode) => Effect.Effect<void>
  /** What Tradier's authorize endpoint does now. */
  readonly authorizationMode: Effect.Effect<AuthorizationMode>
}

/**
 * The emulator service.
 *
 * @since 0.1.0
 * @category tags
 */
export const Emulator: Context.Tag<Emulator, Emulator> = Context.GenericTag<Emulator>(
  "@effect-oauth2/emulator/Emulator"
)

const validateFaults = Schema.validate(Faults.Faults)

const clampSkew = (millis: number): number =>
  Number.isFinite(millis) ? Math.max(-maxSkew, Math.min(maxSkew, millis)) : 0

const formatHost = (hostname: string): string => {
  const reachable = hostname === "0.0.0.0" || hostname === "::" ? "127.0.0.1" : hostname
  return reachable.includes(":") ? `[${reachable}]` : reachable
}

/**
 * Starts an emulator in the current scope; closing the scope stops it (open connections are closed).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Emulator, HttpServerError.ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    const host = options.host ?? "127.0.0.1"
    const port = options.port ?? 0
    const nodeServer = Http.createServer()
    const server = yield* NodeHttpServer.make(() => nodeServer, { host, port })
    // Runs before the server's own close: in-flight requests (a long `latency`) must not hold the shutdown.
    yield* Effect.addFinalizer(() => Effect.sync(() => nodeServer.closeAllConnections()))
    const address = server.address
    const baseUrl = address._tag === "TcpAddress"
      ? `http://${formatHost(address.hostname)}:${address.port}`
      : `http://unix:${address.path}`
    const hosts = makeHosts(baseUrl)
    const urls = makeUrls(baseUrl)
    const brokerUrls = makeBrokerUrls(baseUrl)
    const registry = Clients.withDemo(options.clients)
    const lifetime = (key: keyof TokenLifetimes): number =>
      millis(options.tokenLifetimes?.[key] ?? options.tokenLifetime ?? defaultTokenLifetimes[key])
    const initialFaults: Partial<Record<Faults.Endpoint, Faults.Faults>> = {}
    for (const [endpoint, faults] of Object.entries(options.faults ?? {})) {
      if (Faults.isEndpoint(endpoint) && faults !== undefined) {
        initialFaults[endpoint] = yield* Effect.orDie(validateFaults(faults))
      }
    }
    const state = yield* State.make({
      skew: clampSkew(options.clockSkew ?? 0),
      faults: initialFaults,
      authorizationMode: options.tradierAuthorization ?? "consent"
    })
    const startedAt = yield* state.now
    for (const staticToken of registry.tradierStaticTokens) {
      yield* state.put(staticToken.token, {
        kind: "access",
        provider: "tradier",
        clientId: "static",
        scopes: staticToken.scopes ?? Clients.tradierScopes,
        issuedAt: startedAt,
        expiresAt: undefined,
        revoked: false
      })
    }
    yield* Tastytrade.seed(state, registry)
    const env: Env = {
      state,
      registry,
      urls,
      brokerUrls,
      baseUrl,
      settings: {
        lifetimes: {
          figureMarkets: lifetime("figureMarkets"),
          figurePay: lifetime("figurePay"),
          tradier: lifetime("tradier"),
          openmarkets: lifetime("openmarkets")
        },
        codeLifetime: millis(options.authorizationCodeLifetime ?? "10 minutes"),
        consentLifetime: millis(options.consentLifetime ?? "10 minutes"),
        tradierRefreshToken: options.tradierRefreshToken ?? "same",
        brokers: options.brokers ?? {}
      }
    }
    yield* server.serve(yield* makeApp(env))

    const emulator: Emulator = {
      baseUrl,
      hosts,
      urls,
      brokerUrls,
      clients: registry,
      faults: state.faults,
      getFaults: state.faultsFor,
      setFaults: (endpoint, faults) =>
        Effect.flatMap(Effect.orDie(validateFaults(faults)), (valid) => state.setFaults(endpoint, valid)),
      clearFaults: state.clearFaults,
      counters: state.counters,
      countersFor: (endpoint) => Effect.map(state.counters, (table) => table[endpoint]),
      resetCounters: state.resetCounters,
      revokeToken: state.revoke,
      revokeAllTokens: state.revokeWhere(() => true),
      tokens: state.tokens,
      tokenRequests: state.tokenRequests,
      skewClock: (millis) => state.setSkew(clampSkew(millis)),
      clockSkew: state.skew,
      now: state.now,
      setAuthorizationMode: (mode) => Ref.set(state.authorizationMode, mode),
      authorizationMode: Ref.get(state.authorizationMode)
    }
    return emulator
  })

/**
 * A Layer providing a running `Emulator`; it stops when the Layer is released.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Emulator, HttpServerError.ServeError> =>
  Layer.scoped(Emulator, make(options))

/**
 * A running emulator for code that does not use Effect: every method returns a Promise.
 *
 * @since 0.1.0
 * @category models
 */
export interface Handle {
  /** `http://127.0.0.1:{port}`, no trailing slash. */
  readonly baseUrl: string
  /**
   * Each provider's hosts, by provider name and host name (see {@link Hosts}).
   *
   * @since 0.2.0
   */
  readonly hosts: Hosts
  readonly urls: Urls
  /** @since 0.2.0 */
  readonly brokerUrls: BrokerUrls
  readonly clients: Clients.Registry
  readonly faults: () => Promise<Readonly<Partial<Record<Faults.Endpoint, Faults.Faults>>>>
  readonly getFaults: (endpoint: Faults.Endpoint) => Promise<Faults.Faults>
  /** Rejects when the faults are invalid. */
  readonly setFaults: (endpoint: Faults.Endpoint, faults: Faults.Faults) => Promise<void>
  readonly clearFaults: (endpoint?: Faults.Endpoint | undefined) => Promise<void>
  readonly counters: () => Promise<Readonly<Record<Faults.Endpoint, Faults.Counters>>>
  readonly countersFor: (endpoint: Faults.Endpoint) => Promise<Faults.Counters>
  readonly resetCounters: () => Promise<void>
  readonly revokeToken: (token: string) => Promise<boolean>
  readonly revokeAllTokens: () => Promise<number>
  readonly tokens: () => Promise<ReadonlyArray<TokenInfo>>
  /** @since 0.2.0 */
  readonly tokenRequests: () => Promise<ReadonlyArray<TokenRequest>>
  readonly skewClock: (millis: number) => Promise<void>
  readonly setAuthorizationMode: (mode: AuthorizationMode) => Promise<void>
  /** Stops the server and closes its connections. Calling it again does nothing. */
  readonly stop: () => Promise<void>
}

/**
 * Starts an emulator on the live clock, for callers outside Effect. Rejects when the server cannot listen.
 *
 * @example
 * ```ts
 * import { Emulator } from "@effect-oauth2/emulator"
 *
 * const emulator = await Emulator.start()
 * console.log(emulator.hosts["figure-markets"].main + "/auth/oauth2/token")
 * await emulator.stop()
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = async (options: Options = {}): Promise<Handle> => {
  const scope = Effect.runSync(Scope.make())
  const emulator = await Effect.runPromise(
    make(options).pipe(
      Scope.extend(scope),
      Effect.onError(() => Scope.close(scope, Exit.void))
    )
  )
  const run = <A>(effect: Effect.Effect<A>): Promise<A> => Effect.runPromise(effect)
  return {
    baseUrl: emulator.baseUrl,
    hosts: emulator.hosts,
    urls: emulator.urls,
    brokerUrls: emulator.brokerUrls,
    clients: emulator.clients,
    faults: () => run(emulator.faults),
    getFaults: (endpoint) => run(emulator.getFaults(endpoint)),
    setFaults: (endpoint, faults) =>
      Effect.runPromise(Effect.flatMap(validateFaults(faults), (valid) => emulator.setFaults(endpoint, valid))),
    clearFaults: (endpoint) => run(emulator.clearFaults(endpoint)),
    counters: () => run(emulator.counters),
    countersFor: (endpoint) => run(emulator.countersFor(endpoint)),
    resetCounters: () => run(emulator.resetCounters),
    revokeToken: (token) => run(emulator.revokeToken(token)),
    revokeAllTokens: () => run(emulator.revokeAllTokens),
    tokens: () => run(emulator.tokens),
    tokenRequests: () => run(emulator.tokenRequests),
    skewClock: (millis) => run(emulator.skewClock(millis)),
    setAuthorizationMode: (mode) => run(emulator.setAuthorizationMode(mode)),
    stop: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}
