/**
 * Text the command prints: durations, token summaries, configuration errors.
 *
 * @internal
 */
import type * as AccessToken from "@effect-oauth2/core/AccessToken"
import * as OAuth2Error from "@effect-oauth2/core/OAuth2Error"
import * as ConfigError from "effect/ConfigError"

/** `23h 59m 59s`, `4m 0s`, `12s`: from the largest unit that is not zero. @internal */
export const remaining = (millis: number): string => {
  let seconds = Math.max(0, Math.round(millis / 1000))
  const days = Math.floor(seconds / 86400)
  seconds -= days * 86400
  const hours = Math.floor(seconds / 3600)
  seconds -= hours * 3600
  const minutes = Math.floor(seconds / 60)
  seconds -= minutes * 60
  const parts: Array<string> = []
  if (days > 0) parts.push(`${days}d`)
  if (days > 0 || hours > 0) parts.push(`${hours}h`)
  if (days > 0 || hours > 0 || minutes > 0) parts.push(`${minutes}m`)
  parts.push(`${seconds}s`)
  return parts.join(" ")
}

/** Whether a token is a static one that never expires (Tradier's API token). @internal */
export const isStatic = (token: AccessToken.AccessToken): boolean =>
  token.extra["static"] === true || token.expiresAt >= 8_000_000_000_000_000

const expiry = (token: AccessToken.AccessToken, now: number): string =>
  isStatic(token)
    ? "never expires (static API token)"
    : token.isExpiredAt(now)
    ? "expired"
    : `expires in ${remaining(token.expiresAt - now)}`

/**
 * Text that came from a server (scopes, names from an API, messages built on them) made safe for the terminal with
 * core's sanitiser: no escape sequence, control or bidi character, no line break, bounded. @internal
 */
export const shown = (text: string, max: number = 2000): string => OAuth2Error.sanitize(text, max)

const FORMAT_CHARACTER = /[\p{Cc}\p{Cf}\u2028\u2029]/gu

/**
 * A value as one line of JSON that is safe for the terminal and still the same JSON: the control and format
 * characters `JSON.stringify` leaves as they are (DEL, C1 such as the CSI U+009B, bidi overrides, U+2028) are
 * written as `\uXXXX` escapes. @internal
 */
export const json = (value: unknown): string =>
  JSON.stringify(value).replace(
    FORMAT_CHARACTER,
    (c) => Array.from({ length: c.length }, (_, i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, "0")}`).join("")
  )

/** `Bearer token for figure-markets (uat), scopes TRADER_READ TRADER_TRADE, expires in 23h 59m 59s`. @internal */
export const summary = (provider: string, environment: string, token: AccessToken.AccessToken, now: number): string =>
  `${token.type} token for ${provider} (${environment}), ${
    token.scopes.length === 0 ? "no scopes stated" : `scopes ${shown(token.scopes.join(" "), 500)}`
  }, ${expiry(token, now)}`

/** The token's description for `--json` (never its value). @internal */
export const summaryJson = (
  provider: string,
  environment: string,
  token: AccessToken.AccessToken,
  now: number
): Record<string, unknown> => ({
  provider,
  environment,
  type: token.type,
  scopes: token.scopes,
  issuedAt: new Date(token.issuedAt).toISOString(),
  expiresAt: isStatic(token) ? null : new Date(token.expiresAt).toISOString(),
  expiresInSeconds: isStatic(token) ? null : Math.max(0, Math.round((token.expiresAt - now) / 1000)),
  refreshable: token.refreshToken !== undefined
})

/**
 * A `ConfigError` as sentences: each invalid value with its variable, then the missing ones. Values are never
 * quoted (they may be secrets).
 *
 * @internal
 */
export const configError = (error: ConfigError.ConfigError): string => {
  const invalid: Array<string> = []
  const missing: Array<string> = []
  const walk = (e: ConfigError.ConfigError): void => {
    switch (e._op) {
      case "And":
      case "Or":
        walk(e.left)
        walk(e.right)
        return
      case "InvalidData":
        invalid.push(
          e.path.length === 0 || e.message.includes(e.path.join(".")) ? e.message : `${e.path.join(".")}: ${e.message}`
        )
        return
      case "MissingData":
        missing.push(e.path.join(".") || e.message)
        return
      case "SourceUnavailable":
      case "Unsupported":
        invalid.push(e.message)
        return
    }
  }
  walk(error)
  const unique = (xs: ReadonlyArray<string>) => [...new Set(xs)]
  const parts: Array<string> = []
  if (invalid.length > 0) parts.push(`Invalid configuration: ${unique(invalid).join("; ")}.`)
  if (missing.length > 0) parts.push(`Not set: ${unique(missing).join(", ")}.`)
  return parts.length === 0 ? String(error) : parts.join(" ")
}

/** @internal */
export const isConfigError = ConfigError.isConfigError
