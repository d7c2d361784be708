/**
 * When a refresh token dies, and what a bot hears about it.
 *
 * A refresh token's death ends a bot's access until a person logs in again, so it is an event, not a surprise:
 *
 * - **When.** From the server's `refresh_token_expires_in` (Saxo), or from a provider {@link Rule} where the server
 *   says nothing (Schwab: 7 days from the login, which no refresh extends). Where both are known, the earlier wins:
 *   the refresh token dies at whichever comes first, and a death announced early costs a login, one announced late
 *   costs a dead bot. The instant is kept on the token (`AccessToken.refreshTokenExpiresAt`, with the anchors it is
 *   counted from, `authorizedAt` and `refreshTokenIssuedAt`), so every token store keeps it.
 * - **What is heard.** `AccessTokens` logs each new death instant once, exports it as the gauge
 *   `Metrics.refreshTokenExpiryTimestamp`, publishes {@link Event}s on `refreshTokenEvents` (and to the
 *   `onRefreshTokenEvent` callback): {@link Scheduled} for a new instant, a {@link Warning} at each lead time before
 *   it (default 48 h, 12 h, 1 h), and {@link Died} once it has passed or the server refused the refresh token.
 *   From then on `get` fails with `LoginRequired` and no request is sent with the dead refresh token. (With
 *   `acquire: "client_credentials"` a dead refresh token costs nothing, a new token being asked for with the
 *   client's credentials: its death is logged and exported, but neither warned about nor announced as `Died`.)
 * - **`status`.** {@link statusOf} says the same of any token, e.g. one read from a store (`effect-oauth2 status`).
 *
 * @since 0.2.0
 */
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"
import * as AccessToken from "./AccessToken.js"

/**
 * A provider's rule for when its refresh tokens die, for servers that do not say (`refresh_token_expires_in`).
 *
 * @since 0.2.0
 * @category models
 */
export interface Rule {
  /** How long a refresh token lives. */
  readonly duration: Duration.DurationInput
  /**
   * What the lifetime counts from:
   * - `"login"`: the login (the authorization-code exchange, or the first token of a grant), whatever the refreshes
   *   since: no refresh extends it, even one that brings a new refresh token (Schwab's 7 days, TradeStation's 24 h
   *   absolute limit with rotation).
   * - `"issue"`: the moment each refresh token was issued: a refresh that brings a new refresh token starts a new
   *   lifetime; one that keeps the old refresh token keeps its death (Coinbase's 1.5 years per single-use token).
   */
  readonly from: "login" | "issue"
}

/**
 * The default lead times of the warnings: 48 hours, 12 hours and 1 hour before the refresh token dies.
 *
 * @since 0.2.0
 * @category constants
 */
export const defaultWarnings: ReadonlyArray<Duration.Duration> = [
  Duration.hours(48),
  Duration.hours(12),
  Duration.hours(1)
]

const iso = (millis: number) => new Date(millis).toISOString()

const common = {
  /** The provider, as in logs and metrics. */
  provider: Schema.String,
  /** The environment, as in logs and store keys. */
  environment: Schema.String,
  /** When the refresh token dies (epoch milliseconds). */
  diesAt: Schema.Number
}

/**
 * A new death instant is known: a login, a refresh token with a new lifetime, or the service starting with a stored
 * token. Published once per instant.
 *
 * @since 0.2.0
 * @category events
 */
export class Scheduled extends Schema.TaggedClass<Scheduled>("@effect-oauth2/core/RefreshTokenLifetime/Scheduled")(
  "Scheduled",
  common
) {
  /** A line for people, with no secret. */
  get message(): string {
    return `The ${this.provider} (${this.environment}) refresh token dies at ${iso(this.diesAt)}.`
  }
}

/**
 * The refresh token dies within `leadTime`: time to log in again. Published once per lead time and death instant;
 * a service that starts already inside lead times publishes only the nearest one.
 *
 * @since 0.2.0
 * @category events
 */
export class Warning extends Schema.TaggedClass<Warning>("@effect-oauth2/core/RefreshTokenLifetime/Warning")(
  "Warning",
  {
    ...common,
    /** The lead time reached (encoded as milliseconds). */
    leadTime: Schema.DurationFromMillis
  }
) {
  /** A line for people, with no secret. */
  get message(): string {
    return `The ${this.provider} (${this.environment}) refresh token dies within ${
      Duration.format(this.leadTime)
    }, at ${iso(this.diesAt)}: log in again before then, or the bot stops when its access token expires.`
  }
}

/**
 * The refresh token is dead: its lifetime ran out (`reason: "expired"`, `diesAt` its end), or the server refused
 * it (`reason: "refused"`, `diesAt` when). No refresh request is sent with it any more; once the access token
 * expires, `get` fails with `LoginRequired`.
 *
 * @since 0.2.0
 * @category events
 */
export class Died extends Schema.TaggedClass<Died>("@effect-oauth2/core/RefreshTokenLifetime/Died")("Died", {
  ...common,
  reason: Schema.Literal("expired", "refused")
}) {
  /** A line for people, with no secret. */
  get message(): string {
    return `The ${this.provider} (${this.environment}) refresh token ${
      this.reason === "refused" ? "was refused by the server" : "expired"
    } at ${iso(this.diesAt)}: log in again.`
  }
}

/**
 * What `AccessTokens` publishes about its refresh token's death.
 *
 * @since 0.2.0
 * @category events
 */
export type Event = Scheduled | Warning | Died

/**
 * The schema of {@link Event}, to encode events (e.g. as JSON for a pager); they hold no secret.
 *
 * @since 0.2.0
 * @category schemas
 */
export const Event: Schema.Union<[typeof Scheduled, typeof Warning, typeof Died]> = Schema.Union(
  Scheduled,
  Warning,
  Died
)

/**
 * The anchors and death of `token` under `rule`, where the token has a refresh token (otherwise `token` itself):
 *
 * - `authorizedAt` (the login) and `refreshTokenIssuedAt` default to the token's `issuedAt` when unknown (a token
 *   from a login, or stored by an older version);
 * - `refreshTokenExpiresAt` becomes the earlier of what the token says (the server's) and what the rule says.
 *
 * Idempotent: applying it again changes nothing, and it returns `token` itself when nothing changes. `AccessTokens`
 * applies it to every token it obtains (its `refreshTokenLifetime` option); call it on a token stored by other
 * means, e.g. a login that writes the store itself, to store the death with it.
 *
 * @since 0.2.0
 * @category rules
 */
export const apply = (token: AccessToken.AccessToken, rule: Rule | undefined): AccessToken.AccessToken => {
  if (token.refreshToken === undefined) return token
  const authorizedAt = token.authorizedAt ?? token.issuedAt
  const refreshTokenIssuedAt = token.refreshTokenIssuedAt ?? token.issuedAt
  let diesAt = token.refreshTokenExpiresAt
  if (rule !== undefined) {
    const byRule = (rule.from === "login" ? authorizedAt : refreshTokenIssuedAt) +
      Duration.toMillis(Duration.decode(rule.duration))
    diesAt = diesAt === undefined ? byRule : Math.min(diesAt, byRule)
  }
  if (
    authorizedAt === token.authorizedAt && refreshTokenIssuedAt === token.refreshTokenIssuedAt &&
    diesAt === token.refreshTokenExpiresAt
  ) return token
  return new AccessToken.AccessToken({
    ...token,
    authorizedAt,
    refreshTokenIssuedAt,
    ...(diesAt === undefined ? {} : { refreshTokenExpiresAt: diesAt })
  }, { disableValidation: true })
}

/**
 * The state of a token's refresh token at an instant, as {@link statusOf} tells it.
 *
 * @since 0.2.0
 * @category models
 */
export type Status = Data.TaggedEnum<{
  /** The token has no refresh token: a login is needed once the access token expires. */
  NoRefreshToken: {}
  /** The token has a refresh token whose lifetime nobody said: it lives until the server refuses it. */
  Unknown: {}
  /**
   * The refresh token lives until `diesAt`; `warning` is the shortest lead time already reached, when one is.
   */
  Alive: { readonly diesAt: number; readonly remaining: Duration.Duration; readonly warning: Duration.Duration | undefined }
  /** The refresh token died at `diesAt`: log in again. */
  Dead: { readonly diesAt: number }
}>

/**
 * The constructors and matchers of {@link Status}.
 *
 * @since 0.2.0
 * @category models
 */
export const Status = Data.taggedEnum<Status>()

/**
 * The lead times, longest first, without duplicates or zeros.
 *
 * @since 0.2.0
 * @category rules
 */
export const leadTimes = (warnings: ReadonlyArray<Duration.DurationInput> | undefined): ReadonlyArray<Duration.Duration> => {
  const millis = new Set<number>()
  for (const warning of warnings ?? defaultWarnings) {
    const m = Duration.toMillis(Duration.decode(warning))
    if (m > 0 && Number.isFinite(m)) millis.add(m)
  }
  return [...millis].sort((a, b) => b - a).map(Duration.millis)
}

/**
 * The state of `token`'s refresh token at `now` (epoch milliseconds), with the warnings at `warnings` (default
 * {@link defaultWarnings}).
 *
 * @since 0.2.0
 * @category status
 */
export const statusOf = (
  token: AccessToken.AccessToken,
  now: number,
  warnings?: ReadonlyArray<Duration.DurationInput> | undefined
): Status => {
  if (token.refreshToken === undefined) return Status.NoRefreshToken()
  const diesAt = token.refreshTokenExpiresAt
  if (diesAt === undefined) return Status.Unknown()
  if (now >= diesAt) return Status.Dead({ diesAt })
  const remaining = diesAt - now
  const reached = leadTimes(warnings).filter((lead) => remaining <= Duration.toMillis(lead))
  return Status.Alive({ diesAt, remaining: Duration.millis(remaining), warning: reached[reached.length - 1] })
}
