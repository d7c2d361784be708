/**
 * The OAuth clients each emulated provider knows, and the built-in demo clients.
 *
 * Secrets here are emulator secrets: they protect nothing and are printed by the command line on purpose. Tests and
 * examples import the demo constants instead of repeating the strings.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"

/**
 * The emulated providers: the four seed providers and the brokers Schwab, TradeStation, tastytrade and Saxo.
 *
 * @since 0.1.0
 * @category models
 */
export type Provider =
  | "figure-markets"
  | "figure-pay"
  | "tradier"
  | "openmarkets"
  | "schwab"
  | "tradestation"
  | "tastytrade"
  | "saxo"

/**
 * Every provider, in a stable order.
 *
 * @since 0.1.0
 * @category constants
 */
export const providers: ReadonlyArray<Provider> = [
  "figure-markets",
  "figure-pay",
  "tradier",
  "openmarkets",
  "schwab",
  "tradestation",
  "tastytrade",
  "saxo"
]

/**
 * A Figure Markets Trader API client (client_secret_post, client_credentials).
 *
 * @since 0.1.0
 * @category models
 */
export interface FigureMarketsClient {
  readonly clientId: string
  readonly clientSecret: string
  /** Scopes the client may ask for, e.g. `["TRADER_READ", "TRADER_TRADE"]`. */
  readonly scopes: ReadonlyArray<string>
  /** Token lifetime for this client. Default: the emulator's Figure Markets lifetime (86399 seconds). */
  readonly tokenLifetime?: Duration.DurationInput | undefined
  /** The firm in `get_who_am_i`'s answer. Default: `"demo-firm"`. */
  readonly firmId?: string | undefined
  /** The user in `get_who_am_i`'s answer. Default: the client id. */
  readonly userId?: string | undefined
}

/**
 * A Figure Pay Banking API client (client_secret_post, client_credentials, no scope).
 *
 * @since 0.1.0
 * @category models
 */
export interface FigurePayClient {
  readonly clientId: string
  readonly clientSecret: string
  /** Token lifetime for this client. Default: the emulator's Figure Pay lifetime (1 hour). */
  readonly tokenLifetime?: Duration.DurationInput | undefined
}

/**
 * A Tradier application (authorization code, client_secret_basic).
 *
 * @since 0.1.0
 * @category models
 */
export interface TradierClient {
  readonly clientId: string
  readonly clientSecret: string
  /**
   * The callback URL registered with the application. When it is a loopback URL, an authorize request may name a
   * `redirect_uri` that differs from it only in the port (RFC 8252 §7.3).
   */
  readonly callbackUrl: string
  /** Scopes the user may grant. Default: all of `read write market trade stream`. */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** Approved partners get refresh tokens. Default: `false`. */
  readonly partner?: boolean | undefined
  /** Access-token lifetime for this application. Default: the emulator's Tradier lifetime (86399 seconds). */
  readonly tokenLifetime?: Duration.DurationInput | undefined
}

/**
 * A Tradier static API token, the individual developer's alternative to OAuth. It never expires.
 *
 * @since 0.1.0
 * @category models
 */
export interface TradierStaticToken {
  readonly token: string
  /** Scopes the token carries. Default: all of `read write market trade stream`. */
  readonly scopes?: ReadonlyArray<string> | undefined
}

/**
 * An Openmarkets client (client_secret_basic with the raw `base64(id:secret)` encoding, client_credentials).
 *
 * @since 0.1.0
 * @category models
 */
export interface OpenmarketsClient {
  readonly clientId: string
  readonly clientSecret: string
  /** The scopes of the client's plan, e.g. `["market-data-api", "news-api"]`. */
  readonly plan: ReadonlyArray<string>
  /** Token lifetime for this client. Default: the emulator's Openmarkets lifetime (3600 seconds). */
  readonly tokenLifetime?: Duration.DurationInput | undefined
}

/**
 * A Schwab Trader API app (authorization code, Basic `base64(appKey:appSecret)`).
 *
 * @since 0.2.0
 * @category models
 */
export interface SchwabClient {
  /** The "App Key". */
  readonly clientId: string
  /** The "App Secret". */
  readonly clientSecret: string
  /**
   * The registered callback URL. Schwab compares `redirect_uri` with it byte for byte (case, port, trailing slash);
   * the usual value is `https://127.0.0.1:<port>`.
   */
  readonly callbackUrl: string
  /** The accounts `accounts/accountNumbers` lists. Default: one, `"12345678"`. */
  readonly accountNumbers?: ReadonlyArray<string> | undefined
}

/**
 * A TradeStation API key (Auth0: authorization code, `client_secret_post`, `audience`, `offline_access`).
 *
 * @since 0.2.0
 * @category models
 */
export interface TradeStationClient {
  readonly clientId: string
  /** The secret; absent for a key switched to PKCE (SPA/Native), which must then use PKCE. */
  readonly clientSecret?: string | undefined
  /** The "Allowed Callback URLs": `redirect_uri` must be one of them exactly. */
  readonly callbackUrls: ReadonlyArray<string>
  /** Refresh tokens "expire and rotate" (enabled by Client Services on request). Default: `false` (never expire). */
  readonly rotatingRefreshTokens?: boolean | undefined
  /** The account ids `brokerage/accounts` lists. Default: one, `"11111111"`. */
  readonly accountIds?: ReadonlyArray<string> | undefined
}

/**
 * A refresh token minted in tastytrade's web UI ("Create Grant"): a personal grant that never expires.
 *
 * @since 0.2.0
 * @category models
 */
export interface TastytradeGrant {
  readonly refreshToken: string
  /** The scopes granted. Default: `read trade openid`. */
  readonly scopes?: ReadonlyArray<string> | undefined
}

/**
 * A tastytrade OAuth app (refresh grant with a JSON body, `client_secret` without `client_id`).
 *
 * @since 0.2.0
 * @category models
 */
export interface TastytradeClient {
  readonly clientId: string
  readonly clientSecret: string
  /** Personal grants of this app: refresh tokens that work from the start. Default: none. */
  readonly grants?: ReadonlyArray<TastytradeGrant> | undefined
  /**
   * The registered redirect URIs of a partner app (the authorization-code login): `redirect_uri` must be one of them
   * exactly, except that a loopback one (`http://127.0.0.1/...`) matches on any port (RFC 8252 §7.3; inferred for
   * tastytrade). Default: none (no partner login).
   */
  readonly callbackUrls?: ReadonlyArray<string> | undefined
  /** The customer `customers/me` answers with. Default: `"demo-customer"`. */
  readonly customerId?: string | undefined
}

/**
 * A Saxo OpenAPI app: confidential (an AppSecret, Basic `base64(appKey:appSecret)`) or, without a secret, a public
 * PKCE app.
 *
 * @since 0.2.0
 * @category models
 */
export interface SaxoClient {
  /** The "AppKey". */
  readonly clientId: string
  /** The "AppSecret"; absent for a PKCE app. */
  readonly clientSecret?: string | undefined
  /** The registered "AppUrl" (redirect URL). */
  readonly callbackUrl: string
  /** The user `port/v1/users/me` answers with. Default: `"demo-user"`. */
  readonly userId?: string | undefined
}

/**
 * Every client the emulator knows, per provider.
 *
 * @since 0.1.0
 * @category models
 */
export interface Registry {
  readonly figureMarkets: ReadonlyArray<FigureMarketsClient>
  readonly figurePay: ReadonlyArray<FigurePayClient>
  readonly tradier: ReadonlyArray<TradierClient>
  readonly tradierStaticTokens: ReadonlyArray<TradierStaticToken>
  readonly openmarkets: ReadonlyArray<OpenmarketsClient>
  /** @since 0.2.0 */
  readonly schwab: ReadonlyArray<SchwabClient>
  /** @since 0.2.0 */
  readonly tradestation: ReadonlyArray<TradeStationClient>
  /** @since 0.2.0 */
  readonly tastytrade: ReadonlyArray<TastytradeClient>
  /** @since 0.2.0 */
  readonly saxo: ReadonlyArray<SaxoClient>
}

/**
 * All Figure Markets scopes.
 *
 * @since 0.1.0
 * @category constants
 */
export const figureMarketsScopes: ReadonlyArray<string> = ["TRADER_READ", "TRADER_TRADE"]

/**
 * All Tradier scopes.
 *
 * @since 0.1.0
 * @category constants
 */
export const tradierScopes: ReadonlyArray<string> = ["read", "write", "market", "trade", "stream"]

/**
 * All Openmarkets scopes the emulator knows.
 *
 * @since 0.1.0
 * @category constants
 */
export const openmarketsScopes: ReadonlyArray<string> = ["market-data-api", "news-api", "oms-api"]

/**
 * Figure Markets demo client, allowed `TRADER_READ TRADER_TRADE`.
 *
 * @since 0.1.0
 * @category demo clients
 */
export const figureMarketsDemo = {
  clientId: "fm-demo-client",
  clientSecret: "fm-demo-secret",
  scopes: ["TRADER_READ", "TRADER_TRADE"]
} as const satisfies FigureMarketsClient

/**
 * Figure Markets read-only demo client, allowed only `TRADER_READ` (so `place_order` answers 403).
 *
 * @since 0.1.0
 * @category demo clients
 */
export const figureMarketsReadOnlyDemo = {
  clientId: "fm-readonly-client",
  clientSecret: "fm-readonly-secret",
  scopes: ["TRADER_READ"]
} as const satisfies FigureMarketsClient

/**
 * Figure Pay demo client.
 *
 * @since 0.1.0
 * @category demo clients
 */
export const figurePayDemo = {
  clientId: "fp-demo-client",
  clientSecret: "fp-demo-secret"
} as const satisfies FigurePayClient

/**
 * Tradier demo application (not a partner: no refresh tokens). Its callback is a loopback URL; any port is accepted
 * through `redirect_uri`.
 *
 * @since 0.1.0
 * @category demo clients
 */
export const tradierDemo = {
  clientId: "tradier-demo-client",
  clientSecret: "tradier-demo-secret",
  callbackUrl: "http://127.0.0.1:8765/callback"
} as const satisfies TradierClient

/**
 * Tradier demo partner application: its tokens come with a refresh token.
 *
 * @since 0.1.0
 * @category demo clients
 */
export const tradierPartnerDemo = {
  clientId: "tradier-partner-client",
  clientSecret: "tradier-partner-secret",
  callbackUrl: "http://127.0.0.1:8765/callback",
  partner: true
} as const satisfies TradierClient

/**
 * Tradier demo static API token (all scopes, never expires).
 *
 * @since 0.1.0
 * @category demo clients
 */
export const tradierStaticDemo = {
  token: "tradier-demo-static-token"
} as const satisfies TradierStaticToken

/**
 * Openmarkets demo client. Its secret holds `+`, `/` and `=`, so the raw Basic encoding Openmarkets expects and the
 * RFC 6749 form-encoded one differ: only the raw one is accepted.
 *
 * @since 0.1.0
 * @category demo clients
 */
export const openmarketsDemo = {
  clientId: "om-demo-client",
  clientSecret: "om+demo/secret=",
  plan: ["market-data-api", "news-api"]
} as const satisfies OpenmarketsClient

/**
 * Schwab demo app. Its callback is HTTPS on loopback with a port, as Schwab requires.
 *
 * @since 0.2.0
 * @category demo clients
 */
export const schwabDemo = {
  clientId: "SchwabDemoAppKey0000000000000000",
  clientSecret: "SchwabDemoSecret",
  callbackUrl: "https://127.0.0.1:8182"
} as const satisfies SchwabClient

/**
 * TradeStation demo key with the default (non-expiring) refresh tokens and the default localhost callbacks.
 *
 * @since 0.2.0
 * @category demo clients
 */
export const tradestationDemo = {
  clientId: "ts-demo-client",
  clientSecret: "ts-demo-secret",
  callbackUrls: ["http://localhost", "http://localhost:80", "http://localhost:3000", "http://localhost:3001", "http://localhost:8080", "http://localhost:31022"]
} as const satisfies TradeStationClient

/**
 * TradeStation demo key with rotating refresh tokens ("expire and rotate").
 *
 * @since 0.2.0
 * @category demo clients
 */
export const tradestationRotatingDemo = {
  clientId: "ts-rotating-client",
  clientSecret: "ts-rotating-secret",
  callbackUrls: ["http://localhost:31022"],
  rotatingRefreshTokens: true
} as const satisfies TradeStationClient

/**
 * tastytrade demo app with one personal grant, registered for the partner login on a loopback callback (any port).
 *
 * @since 0.2.0
 * @category demo clients
 */
export const tastytradeDemo = {
  clientId: "tt-demo-client",
  clientSecret: "tt-demo-secret",
  grants: [{ refreshToken: "tt-demo-personal-grant", scopes: ["read", "trade", "openid"] }],
  callbackUrls: ["http://127.0.0.1:8765/callback"]
} as const satisfies TastytradeClient

/**
 * Saxo demo app (confidential: Basic client authentication).
 *
 * @since 0.2.0
 * @category demo clients
 */
export const saxoDemo = {
  clientId: "saxo-demo-app-key",
  clientSecret: "saxo-demo-app-secret",
  callbackUrl: "http://127.0.0.1:8765/callback"
} as const satisfies SaxoClient

/**
 * Saxo demo PKCE app (public: no secret; the refresh re-sends `code_verifier` and `redirect_uri`).
 *
 * @since 0.2.0
 * @category demo clients
 */
export const saxoPkceDemo = {
  clientId: "saxo-pkce-app-key",
  callbackUrl: "http://127.0.0.1:8765/callback"
} as const satisfies SaxoClient

/**
 * The built-in demo registry: every demo client above. The emulator's default.
 *
 * @since 0.1.0
 * @category constants
 */
export const demo: Registry = {
  figureMarkets: [figureMarketsDemo, figureMarketsReadOnlyDemo],
  figurePay: [figurePayDemo],
  tradier: [tradierDemo, tradierPartnerDemo],
  tradierStaticTokens: [tradierStaticDemo],
  openmarkets: [openmarketsDemo],
  schwab: [schwabDemo],
  tradestation: [tradestationDemo, tradestationRotatingDemo],
  tastytrade: [tastytradeDemo],
  saxo: [saxoDemo, saxoPkceDemo]
}

/**
 * The demo registry with some providers' lists replaced.
 *
 * @since 0.1.0
 * @category constructors
 */
export const withDemo = (overrides: Partial<Registry> | undefined): Registry => ({ ...demo, ...overrides })

/**
 * A demo client's credentials: its id and secret, and for a provider whose tokens come from a refresh token the user
 * holds (tastytrade's personal grant), that refresh token.
 *
 * @since 0.2.0
 * @category demo clients
 */
export interface DemoCredentials {
  readonly clientId: string
  readonly clientSecret: string
  readonly refreshToken?: string | undefined
}

/**
 * Each provider's main demo client (its id and secret), by provider name (`OAuth2Provider.Definition.name`): what a
 * client of the emulator that was given no credentials uses (the command line's `--emulator`). Providers the
 * emulator does not serve are absent.
 *
 * @since 0.2.0
 * @category demo clients
 */
export const demoCredentials: Readonly<Record<string, DemoCredentials>> = {
  "figure-markets": figureMarketsDemo,
  "figure-pay": figurePayDemo,
  tradier: tradierDemo,
  openmarkets: openmarketsDemo,
  schwab: schwabDemo,
  tradestation: tradestationDemo,
  tastytrade: {
    clientId: tastytradeDemo.clientId,
    clientSecret: tastytradeDemo.clientSecret,
    refreshToken: tastytradeDemo.grants[0].refreshToken
  },
  saxo: saxoDemo
}
