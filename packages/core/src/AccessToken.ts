/**
 * An access token as the token endpoint granted it.
 *
 * The value and the refresh token are `Redacted`: printing, logging or `JSON.stringify`-ing a token shows
 * `<redacted>`. So are the members of `extra` that are not known to be harmless. The schema encodes them in clear
 * (for a {@link TokenStore} that encrypts), so only encode a token on its way to such a store.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

const REDACTED_MEMBER = "@effect-oauth2/redacted"

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * `extra`, with its `Redacted` members encoded in clear as `{ "@effect-oauth2/redacted": value }` (and decoded back
 * into `Redacted`), so that a token store keeps them, still redacted once read.
 */
const Extra = Schema.transform(
  Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  {
    strict: true,
    decode: (encoded) => {
      const out: Record<string, unknown> = {}
      for (const [key, member] of Object.entries(encoded)) {
        out[key] = isRecord(member) && Object.keys(member).length === 1 && REDACTED_MEMBER in member
          ? Redacted.make(member[REDACTED_MEMBER])
          : member
      }
      return out
    },
    encode: (extra) => {
      const out: Record<string, unknown> = {}
      for (const [key, member] of Object.entries(extra)) {
        out[key] = Redacted.isRedacted(member) ? { [REDACTED_MEMBER]: Redacted.value(member) } : member
      }
      return out
    }
  }
)

/**
 * @since 0.1.0
 * @category models
 */
export class AccessToken extends Schema.Class<AccessToken>("@effect-oauth2/core/AccessToken")({
  /** The bearer value to put on requests. */
  value: Schema.Redacted(Schema.String),
  /**
   * The token type, normalised to `"Bearer"` for bearer tokens (RFC 6750) and `"DPoP"` for DPoP-bound ones (RFC 9449,
   * accepted only while a `Dpop` key is in use), as given otherwise.
   */
  type: Schema.String,
  /**
   * When the token was issued (epoch milliseconds): the start of the second its request was sent, as a whole-second
   * server counts it (its `iat`); see {@link AccessToken.expiryOf}.
   */
  issuedAt: Schema.Number,
  /**
   * When the token expires (epoch milliseconds): `issuedAt` plus the lifetime granted, so never later than the
   * server's own expiry (see {@link AccessToken.expiryOf}).
   */
  expiresAt: Schema.Number,
  /** The scopes granted: the response's `scope`, or the ones asked for when the response has none. */
  scopes: Schema.Array(Schema.String),
  /** The refresh token, when the server issued one (or the previous one, kept when a refresh brought none). */
  refreshToken: Schema.optional(Schema.Redacted(Schema.String)),
  /**
   * When the refresh token dies (epoch milliseconds), when known: the server's `refresh_token_expires_in`, counted
   * like `expiresAt` from the start of the second the request was sent (see {@link AccessToken.expiryOf}), or a
   * provider's `RefreshTokenLifetime.Rule` (`AccessTokens`' `refreshTokenLifetime` option), the earlier of the two.
   * A refresh that brings no new refresh token keeps the old one and this instant with it. Absent when nobody gave a
   * lifetime (the refresh token may still die at any time; the server then refuses it). Once it has passed,
   * `AccessTokens` sends no refresh request with that refresh token: `get` fails with `LoginRequired` (or, with
   * `client_credentials`, asks for a new token with the client's credentials).
   *
   * @since 0.2.0
   */
  refreshTokenExpiresAt: Schema.optional(Schema.Number),
  /**
   * When the login this token descends from happened (epoch milliseconds): the `issuedAt` of the first token of its
   * grant (an authorization-code exchange, a client-credentials request), kept through every refresh. What a
   * `RefreshTokenLifetime.Rule` counting `from: "login"` counts from. Absent when unknown (a token from an older
   * version, or one not yet seen by `AccessTokens`).
   *
   * @since 0.2.0
   */
  authorizedAt: Schema.optional(Schema.Number),
  /**
   * When the refresh token was issued (epoch milliseconds): the `issuedAt` of the token that brought it, kept while
   * refreshes keep the same refresh token. What a `RefreshTokenLifetime.Rule` counting `from: "issue"` counts from.
   * Absent when unknown or when there is no refresh token.
   *
   * @since 0.2.0
   */
  refreshTokenIssuedAt: Schema.optional(Schema.Number),
  /**
   * The PKCE `code_verifier` (RFC 7636) of the login this token descends from, kept for a server that wants it again
   * on every refresh (Saxo's PKCE apps; the endpoint's `refreshWithPkce`). `Redacted` like the refresh token, stored
   * with it (a store that encrypts encrypts it too), and sent nowhere but the token endpoint. Absent unless the
   * endpoint asks for it, and on tokens stored by older versions.
   *
   * @since 0.2.0
   */
  codeVerifier: Schema.optional(Schema.Redacted(Schema.String)),
  /**
   * The `redirect_uri` of the login this token descends from, kept for a server that wants it again on every refresh
   * (Saxo; the endpoint's `refreshWithPkce`). Absent unless the endpoint asks for it.
   *
   * @since 0.2.0
   */
  redirectUri: Schema.optional(Schema.String),
  /**
   * Members of the token response this library does not interpret. Those known to be harmless (e.g. Tradier's
   * `issued_at` and `status`, see `OAuth2Client.readableMembers`, and those the endpoint's `readableMembers` names)
   * are kept as they came; every other one is wrapped whole in `Redacted` (a `mac_key`, an `id_token`, a nested
   * object), so that printing the token never shows it: read it with `Redacted.value(token.extra.name)`.
   */
  extra: Extra
}) {
  /**
   * When a token granted `lifetimeMillis` by a request sent at `sentAt` expires (epoch milliseconds).
   *
   * Many servers compute `exp = floor(now in seconds) + expires_in` (oidc-provider, most JWT issuers), up to a second
   * before `sentAt + lifetime`. The lifetime is therefore counted from the start of the second the request was sent:
   * never later than such a server's `exp` (server and client clocks agreeing), at the cost of up to a second of a
   * token's life. A lifetime of zero or less gives a token already expired.
   */
  static expiryOf(sentAt: number, lifetimeMillis: number): number {
    return AccessToken.issuedAtOf(sentAt) + lifetimeMillis
  }
  /** When a token whose request was sent at `sentAt` was issued: the start of that second (epoch milliseconds). */
  static issuedAtOf(sentAt: number): number {
    return Math.floor(sentAt / 1000) * 1000
  }
  /** The lifetime the server granted, from request to expiry. */
  get lifetime(): Duration.Duration {
    return Duration.millis(Math.max(0, this.expiresAt - this.issuedAt))
  }
  /** Whether the token is expired at `now` (epoch milliseconds). */
  isExpiredAt(now: number): boolean {
    return now >= this.expiresAt
  }
  /** How long the token stays valid after `now` (epoch milliseconds); zero once expired. */
  remainingAt(now: number): Duration.Duration {
    return Duration.millis(Math.max(0, this.expiresAt - now))
  }
  /**
   * Whether the refresh token is known to be dead at `now` (epoch milliseconds): the token has one, the server gave
   * its lifetime, and that has run out. `false` when there is no refresh token or its lifetime is unknown.
   *
   * @since 0.2.0
   */
  isRefreshTokenExpiredAt(now: number): boolean {
    return this.refreshToken !== undefined && this.refreshTokenExpiresAt !== undefined &&
      now >= this.refreshTokenExpiresAt
  }
  /**
   * Whether the token can be renewed with its refresh token at `now`: it has one, not known to be dead.
   *
   * @since 0.2.0
   */
  canRefreshAt(now: number): boolean {
    return this.refreshToken !== undefined && !this.isRefreshTokenExpiredAt(now)
  }
  /** The value of an `Authorization` header for this token, e.g. `Bearer abc`. Handle with care: it is the secret. */
  authorizationHeader(): string {
    return `${this.type} ${Redacted.value(this.value)}`
  }
}

/**
 * A token as JSON-safe data with the secrets in clear, for token stores that encrypt what they persist.
 *
 * @since 0.1.0
 * @category schemas
 */
export type Encoded = typeof AccessToken.Encoded

/**
 * Encodes a token for a store (secrets in clear: encrypt before persisting).
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode: (token: AccessToken) => Encoded = Schema.encodeSync(AccessToken)

/**
 * Decodes a token read from a store.
 *
 * @since 0.1.0
 * @category encoding
 */
export const decodeUnknown = Schema.decodeUnknown(AccessToken)

/**
 * Whether two tokens carry the same value.
 *
 * @since 0.1.0
 * @category predicates
 */
export const sameValue = (self: AccessToken, that: AccessToken): boolean =>
  self === that || Redacted.value(self.value) === Redacted.value(that.value)
