import type * as Clients from "../Clients.js"
import type { Hosts, Urls } from "../Emulator.js"
import type { State } from "./state.js"

/** Path prefixes under the base URL. @internal */
export const prefixes = {
  figureMarketsMain: "/figure-markets",
  figureMarketsTrade: "/figure-markets/trade",
  figurePay: "/figure-pay",
  tradier: "/tradier",
  openmarketsIdentity: "/openmarkets/identity",
  openmarketsApi: "/openmarkets/api",
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
  openmarkets: { identity: base + prefixes.openmarketsIdentity, api: base + prefixes.openmarketsApi }
})

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
}

/** Everything a provider's routes need. @internal */
export interface Env {
  readonly state: State
  readonly registry: Clients.Registry
  readonly urls: Urls
  readonly baseUrl: string
  readonly settings: Settings
}
