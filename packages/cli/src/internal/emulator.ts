/**
 * What `effect-oauth2 emulator` prints once it listens: every URL and the demo clients. The demo secrets are the
 * emulator's own, printed on purpose: they protect nothing.
 *
 * @internal
 */
import type * as Emulator from "@effect-oauth2/emulator/Emulator"

const loopbackHosts = ["127.0.0.1", "localhost", "::1"]

/** @internal */
export const describe = (emulator: Emulator.Emulator, host: string, mode: Emulator.AuthorizationMode): string => {
  const { clients, hosts, urls } = emulator
  const lines: Array<string> = [
    `effect-oauth2 emulator listening on ${emulator.baseUrl}${
      loopbackHosts.includes(host) ? " (loopback only)" : ` (host ${host}: reachable beyond this machine)`
    }`,
    "",
    "Figure Markets (client_secret_post, scope required)",
    `  token         POST ${hosts["figure-markets"].main}/auth/oauth2/token`,
    `  revoke        POST ${hosts["figure-markets"].main}/auth/oauth2/revoke`,
    `  trading       POST ${hosts["figure-markets"].trade}/api/v1/get_who_am_i`,
    ...clients.figureMarkets.map((c) => `  client        ${c.clientId} / ${c.clientSecret}  scopes: ${c.scopes.join(" ")}`),
    "",
    "Figure Pay (client_secret_post, no scope)",
    `  token         POST ${hosts["figure-pay"].api}/oauth2/token`,
    `  profiles      GET  ${hosts["figure-pay"].api}/profiles`,
    ...clients.figurePay.map((c) => `  client        ${c.clientId} / ${c.clientSecret}`),
    "",
    "Tradier (authorization code, client_secret_basic)",
    `  authorize     GET  ${hosts.tradier.api}/v1/oauth/authorize  (mode: ${mode})`,
    `  token         POST ${hosts.tradier.api}/v1/oauth/accesstoken`,
    `  profile       GET  ${hosts.tradier.api}/v1/user/profile`,
    ...clients.tradier.map((c) =>
      `  client        ${c.clientId} / ${c.clientSecret}  callback: ${c.callbackUrl}${
        c.partner === true ? "  (partner: refresh tokens)" : ""
      }`
    ),
    ...clients.tradierStaticTokens.map((t) => `  static token  ${t.token}`),
    "",
    "Openmarkets (client_secret_basic, raw base64(id:secret))",
    `  token         POST ${hosts.openmarkets.identity}/connect/token`,
    `  api           GET  ${hosts.openmarkets.api}/v1/news`,
    ...clients.openmarkets.map((c) => `  client        ${c.clientId} / ${c.clientSecret}  plan: ${c.plan.join(" ")}`),
    "",
    "Schwab (authorization code, Basic; 7-day refresh token)",
    `  authorize     GET  ${hosts.schwab.api}/v1/oauth/authorize`,
    `  token         POST ${hosts.schwab.api}/v1/oauth/token`,
    `  accounts      GET  ${hosts.schwab.api}/trader/v1/accounts/accountNumbers`,
    ...clients.schwab.map((c) => `  app           ${c.clientId} / ${c.clientSecret}  callback: ${c.callbackUrl}`),
    "",
    "TradeStation (authorization code, client_secret_post, audience, offline_access)",
    `  authorize     GET  ${hosts.tradestation.signin}/authorize`,
    `  token         POST ${hosts.tradestation.signin}/oauth/token`,
    `  accounts      GET  ${hosts.tradestation.api}/v3/brokerage/accounts`,
    ...clients.tradestation.map((c) =>
      `  key           ${c.clientId} / ${c.clientSecret ?? "(PKCE)"}  callback: ${c.callbackUrls.join(" ")}${
        c.rotatingRefreshTokens === true ? "  (rotating refresh tokens)" : ""
      }`
    ),
    "",
    "tastytrade (personal grant or partner login, JSON body, User-Agent required)",
    `  authorize     GET  ${hosts.tastytrade.auth}/auth.html`,
    `  token         POST ${hosts.tastytrade.api}/oauth/token`,
    `  customer      GET  ${hosts.tastytrade.api}/customers/me`,
    ...clients.tastytrade.map((c) =>
      `  app           ${c.clientId} / ${c.clientSecret}${
        (c.grants ?? []).length === 0 ? "" : `  grant: ${(c.grants ?? []).map((g) => g.refreshToken).join(" ")}`
      }${(c.callbackUrls ?? []).length === 0 ? "" : `  callback: ${(c.callbackUrls ?? []).join(" ")}`}`
    ),
    "",
    "Saxo (authorization code or PKCE, rotating refresh tokens, refresh_token_expires_in)",
    `  authorize     GET  ${hosts.saxo.logon}/authorize`,
    `  token         POST ${hosts.saxo.logon}/token`,
    `  users/me      GET  ${hosts.saxo.openapi}/port/v1/users/me`,
    ...clients.saxo.map((c) => `  app           ${c.clientId} / ${c.clientSecret ?? "(PKCE)"}  callback: ${c.callbackUrl}`),
    "",
    `Control API: ${urls.control}  (faults, counters, tokens, clock)`,
    `Try: effect-oauth2 token figure-markets --emulator ${emulator.baseUrl}`,
    "Press Ctrl+C to stop."
  ]
  return lines.join("\n")
}
