import type * as Clients from "../Clients.js"
import type { BrokerOptions, BrokerUrls, Hosts, Urls } from "../Emulator.js"
import type { State } from "./state.js"

/** Path prefixes under the base URL. @internal */
export const prefixes = {
  figureMarketsMain: "/figure-markets",
  figureMarketsTrade: "/figure-markets/trade",
  figurePay: "/figure-pay",
  tradier: "/tradier",
  openmarketsIdentity: "/openmarkets/identity",
  openmarketsApi: "/openmarkets/api",
  schwab: "/schwab",
  tradestationSignin: "/tradestation/signin",
  tradestationApi: "/tradestation/api",
  tastytrade: "/tastytrade",
  tastytradeAuth: "/tastytrade/my",
  saxoLogon: "/saxo/logon",
  saxoOpenapi: "/saxo/openapi",
  control: "/_emulator"
} as const

/**
 * Each provider's hosts under the base URL, by provider name and by the host names of its definition
 * (`OAuth2Provider.Definition`): the one place that lays the emulator's URLs out.
 *
 * @internal
 */
export const makeHosts = (base: string): Hosts => ({
  "figure-markets": { main: base + prefixes.figureMarketsMain, trade: base + prefixes.figureMarketsTrade },
  "figure-pay": { api: base + prefixes.figurePay },
  tradier: { api: base + prefixes.tradier },
  openmarkets: { identity: base + prefixes.openmarketsIdentity, api: base + prefixes.openmarketsApi },
  schwab: { api: base + prefixes.schwab },
  tradestation: { signin: base + prefixes.tradestationSignin, api: base + prefixes.tradestationApi },
  tastytrade: { api: base + prefixes.tastytrade, auth: base + prefixes.tastytradeAuth },
  saxo: { logon: base + prefixes.saxoLogon, openapi: base + prefixes.saxoOpenapi }
})

/** The brokers' hosts (the same as in {@link makeHosts}). @internal */
export const makeBrokerUrls = (base: string): BrokerUrls => {
  const hosts = makeHosts(base)
  return { schwab: hosts.schwab, tradestation: hosts.tradestation, tastytrade: hosts.tastytrade, saxo: hosts.saxo }
}

/** The same hosts under the older camel-case names, and the control API. @internal */
export const makeUrls = (base: string): Urls => {
  const hosts = makeHosts(base)
  return {
    figureMarkets: hosts["figure-markets"],
    figurePay: hosts["figure-pay"],
    tradier: hosts.tradier,
    openmarkets: hosts.openmarkets,
    control: base + prefixes.control
  }
}

/** Resolved settings, in milliseconds. @internal */
export interface Settings {
  readonly lifetimes: {
    readonly figureMarkets: number
    readonly figurePay: number
    readonly tradier: number
    readonly openmarkets: number
  }
  readonly codeLifetime: number
  readonly consentLifetime: number
  readonly tradierRefreshToken: "same" | "rotate" | "none"
  /** The brokers' options as given; each broker's module applies its own defaults. */
  readonly brokers: BrokerOptions
}

/** Everything a provider's routes need. @internal */
export interface Env {
  readonly state: State
  readonly registry: Clients.Registry
  readonly urls: Urls
  readonly brokerUrls: BrokerUrls
  readonly baseUrl: string
  readonly settings: Settings
}
