import { parseArgs } from "node:util"
import * as Clients from "../Clients.js"
import type * as Emulator from "../Emulator.js"

/** @internal */
export const usage = `Usage: effect-oauth2-emulator [options]

Runs a loopback server that behaves like Figure Markets, Figure Pay, Tradier and Openmarkets.

Options:
  --port <n>             port to listen on (default 4010; 0 picks a free port)
  --host <address>       interface to listen on (default 127.0.0.1: loopback only)
  --provider <name>      print only one provider's URLs and clients:
                         figure-markets | figure-pay | tradier | openmarkets
  --auto-approve         Tradier authorize redirects straight to the callback with a code
  --auto-deny            Tradier authorize redirects straight to the callback with error=access_denied
  --token-lifetime <s>   access-token lifetime in seconds for every provider
                         (default: 86399 Figure Markets and Tradier, 3600 Figure Pay and Openmarkets)
  --code-lifetime <s>    Tradier authorization-code lifetime in seconds (default 600)
  -h, --help             print this help

The control API (faults, counters, tokens, clock) is under {base}/_emulator.
`

/** The port the command line listens on unless told otherwise. @internal */
export const defaultPort = 4010

/** @internal */
export type Command =
  | { readonly _tag: "Help" }
  | { readonly _tag: "Invalid"; readonly message: string }
  | {
    readonly _tag: "Run"
    readonly options: Emulator.Options & { readonly port: number; readonly host: string }
    readonly provider: Clients.Provider | undefined
  }

const invalid = (message: string): Command => ({ _tag: "Invalid", message })

const integer = (value: string | undefined, min: number, max: number): number | undefined | null => {
  if (value === undefined) return undefined
  const n = Number(value)
  return value.trim() !== "" && Number.isInteger(n) && n >= min && n <= max ? n : null
}

/** Reads the command line. @internal */
export const parse = (argv: ReadonlyArray<string>): Command => {
  let values
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        provider: { type: "string" },
        "auto-approve": { type: "boolean" },
        "auto-deny": { type: "boolean" },
        "token-lifetime": { type: "string" },
        "code-lifetime": { type: "string" },
        help: { type: "boolean", short: "h" }
      }
    }).values
  } catch (e) {
    return invalid(e instanceof Error ? e.message : String(e))
  }
  if (values.help === true) return { _tag: "Help" }
  if (values["auto-approve"] === true && values["auto-deny"] === true) {
    return invalid("--auto-approve and --auto-deny exclude each other")
  }
  const provider = values.provider
  if (provider !== undefined && !(Clients.providers as ReadonlyArray<string>).includes(provider)) {
    return invalid(`--provider must be one of ${Clients.providers.join(", ")}`)
  }
  const port = integer(values.port, 0, 65535)
  if (port === null) return invalid("--port must be an integer from 0 to 65535")
  const tokenLifetime = integer(values["token-lifetime"], 1, 10 * 365 * 86400)
  if (tokenLifetime === null) return invalid("--token-lifetime must be a whole number of seconds, at least 1")
  const codeLifetime = integer(values["code-lifetime"], 1, 86400)
  if (codeLifetime === null) return invalid("--code-lifetime must be a whole number of seconds from 1 to 86400")
  const host = values.host ?? "127.0.0.1"
  if (host.trim() === "") return invalid("--host must not be empty")
  return {
    _tag: "Run",
    provider: provider as Clients.Provider | undefined,
    options: {
      port: port ?? defaultPort,
      host,
      tradierAuthorization: values["auto-approve"] === true
        ? "auto-approve"
        : values["auto-deny"] === true
        ? "auto-deny"
        : "consent",
      tokenLifetime: tokenLifetime === undefined ? undefined : `${tokenLifetime} seconds`,
      authorizationCodeLifetime: codeLifetime === undefined ? undefined : `${codeLifetime} seconds`
    }
  }
}

const loopbackHosts = ["127.0.0.1", "localhost", "::1"]

/** What the command line prints once the emulator listens. @internal */
export const describe = (
  emulator: Emulator.Emulator,
  host: string,
  mode: Emulator.AuthorizationMode,
  only: Clients.Provider | undefined
): string => {
  const { clients, urls } = emulator
  const show = (p: Clients.Provider) => only === undefined || only === p
  const lines: Array<string> = [
    `effect-oauth2 emulator listening on ${emulator.baseUrl}${
      loopbackHosts.includes(host) ? " (loopback only)" : ` (host ${host}: reachable beyond this machine)`
    }`,
    ""
  ]
  if (show("figure-markets")) {
    lines.push(
      "Figure Markets (client_secret_post, scope required)",
      `  main host     ${urls.figureMarkets.main}`,
      `  token         POST ${urls.figureMarkets.main}/auth/oauth2/token`,
      `  revoke        POST ${urls.figureMarkets.main}/auth/oauth2/revoke`,
      `  trading host  ${urls.figureMarkets.trade}`,
      `  trading       POST ${urls.figureMarkets.trade}/api/v1/get_who_am_i  (also list_accounts, place_order)`,
      ...clients.figureMarkets.map((c) =>
        `  client        ${c.clientId} / ${c.clientSecret}  scopes: ${c.scopes.join(" ")}`
      ),
      ""
    )
  }
  if (show("figure-pay")) {
    lines.push(
      "Figure Pay (client_secret_post, no scope)",
      `  api host      ${urls.figurePay.api}`,
      `  token         POST ${urls.figurePay.api}/oauth2/token`,
      `  profiles      GET  ${urls.figurePay.api}/profiles`,
      ...clients.figurePay.map((c) => `  client        ${c.clientId} / ${c.clientSecret}`),
      ""
    )
  }
  if (show("tradier")) {
    lines.push(
      "Tradier (authorization code, client_secret_basic)",
      `  api host      ${urls.tradier.api}`,
      `  authorize     GET  ${urls.tradier.api}/v1/oauth/authorize?client_id=...&scope=read,trade&state=...`,
      `  token         POST ${urls.tradier.api}/v1/oauth/accesstoken`,
      `  refresh       POST ${urls.tradier.api}/v1/oauth/refreshtoken  (partners only)`,
      `  profile       GET  ${urls.tradier.api}/v1/user/profile`,
      ...clients.tradier.map((c) =>
        `  client        ${c.clientId} / ${c.clientSecret}  callback: ${c.callbackUrl}${
          c.partner === true ? "  (partner: refresh tokens)" : ""
        }`
      ),
      ...clients.tradierStaticTokens.map((t) => `  static token  ${t.token}`),
      `  authorize mode: ${mode}`,
      ""
    )
  }
  if (show("openmarkets")) {
    lines.push(
      "Openmarkets (client_secret_basic, raw base64(id:secret))",
      `  identity host ${urls.openmarkets.identity}`,
      `  token         POST ${urls.openmarkets.identity}/connect/token`,
      `  api host      ${urls.openmarkets.api}`,
      `  quotes        GET  ${urls.openmarkets.api}/v1/market-data/quotes?symbols=BHP`,
      `  news          GET  ${urls.openmarkets.api}/v1/news`,
      ...clients.openmarkets.map((c) => `  client        ${c.clientId} / ${c.clientSecret}  plan: ${c.plan.join(" ")}`),
      ""
    )
  }
  const brokers = emulator.brokerUrls
  if (show("schwab")) {
    lines.push(
      "Schwab (authorization code, Basic; 30 s codes, 7-day refresh token, one grant per app)",
      `  authorize     GET  ${brokers.schwab.api}/v1/oauth/authorize?client_id=...&redirect_uri=...&response_type=code`,
      `  token         POST ${brokers.schwab.api}/v1/oauth/token`,
      `  accounts      GET  ${brokers.schwab.api}/trader/v1/accounts/accountNumbers`,
      ...clients.schwab.map((c) => `  app           ${c.clientId} / ${c.clientSecret}  callback: ${c.callbackUrl}`),
      ""
    )
  }
  if (show("tradestation")) {
    lines.push(
      "TradeStation (Auth0: authorization code, client_secret_post, audience, offline_access)",
      `  authorize     GET  ${brokers.tradestation.signin}/authorize?...&audience=https://api.tradestation.com`,
      `  token         POST ${brokers.tradestation.signin}/oauth/token`,
      `  revoke        POST ${brokers.tradestation.signin}/oauth/revoke  (every refresh token of the key)`,
      `  accounts      GET  ${brokers.tradestation.api}/v3/brokerage/accounts`,
      ...clients.tradestation.map((c) =>
        `  key           ${c.clientId} / ${c.clientSecret ?? "(PKCE)"}${c.rotatingRefreshTokens === true ? "  (rotating refresh tokens)" : ""}`
      ),
      ""
    )
  }
  if (show("tastytrade")) {
    lines.push(
      "tastytrade (personal grant or partner login, JSON body, User-Agent required, error_code errors)",
      `  authorize     GET  ${brokers.tastytrade.auth}/auth.html?client_id=...&redirect_uri=...&response_type=code`,
      `  token         POST ${brokers.tastytrade.api}/oauth/token`,
      `  customer      GET  ${brokers.tastytrade.api}/customers/me`,
      ...clients.tastytrade.map((c) =>
        `  app           ${c.clientId} / ${c.clientSecret}  grants: ${(c.grants ?? []).map((g) => g.refreshToken).join(" ")}${
          c.callbackUrls === undefined || c.callbackUrls.length === 0 ? "" : `  callback: ${c.callbackUrls.join(" ")}`
        }`
      ),
      ""
    )
  }
  if (show("saxo")) {
    lines.push(
      "Saxo (authorization code or PKCE, rotating single-use refresh tokens, refresh_token_expires_in)",
      `  authorize     GET  ${brokers.saxo.logon}/authorize?response_type=code&client_id=...&redirect_uri=...`,
      `  token         POST ${brokers.saxo.logon}/token`,
      `  users/me      GET  ${brokers.saxo.openapi}/port/v1/users/me`,
      ...clients.saxo.map((c) => `  app           ${c.clientId} / ${c.clientSecret ?? "(PKCE)"}  AppUrl: ${c.callbackUrl}`),
      ""
    )
  }
  lines.push(`Control API: ${urls.control}  (faults, counters, tokens, token-requests, clock)`, "Press Ctrl+C to stop.")
  return lines.join("\n")
}
