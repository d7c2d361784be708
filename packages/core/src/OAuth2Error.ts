/**
 * The error family of effect-oauth2.
 *
 * Every failure that a token acquisition, a refresh, a revocation or an authorised HTTP call can end in is one of the
 * classes below, each a `Schema.TaggedError` that carries the shared {@link TypeId}. Branch on `_tag` (or with
 * `Effect.catchTags`), ask {@link isRetryable} whether trying again can help, and show `message` to the operator: it
 * says what happened and what to do. No field ever holds a secret (client secret, token, code, verifier or state).
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as internalSanitize from "./internal/sanitize.js"

/**
 * The type id every error of the family carries.
 *
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@effect-oauth2/core/OAuth2Error")

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * Where an error was raised: the token endpoint, the revocation or introspection endpoint, the authorization
 * redirect, a resource server answering an authorised call, the server's metadata document (discovery), or its
 * pushed authorization request endpoint (RFC 9126).
 *
 * @since 0.1.0
 * @category models
 */
export const Source = Schema.Literal(
  "token-endpoint",
  "revocation-endpoint",
  "introspection-endpoint",
  "authorization",
  "resource-server",
  "token-store",
  "configuration",
  "metadata-endpoint",
  "par-endpoint"
)

/**
 * @since 0.1.0
 * @category models
 */
export type Source = typeof Source.Type

const common = {
  /** The provider the error is about, e.g. `"figure-markets"`, when known. */
  provider: Schema.optional(Schema.String),
  /** Where the error was raised. */
  source: Source
}

const providerPrefix = (provider: string | undefined) => (provider === undefined ? "" : `[${provider}] `)

const sourceName = (source: Source): string => source.replace("-", " ")

/**
 * Server-controlled text (an `error_description`, an `error` code, a scope, problem details) made safe to show in a
 * message, a log line or a terminal: terminal escape sequences and control and format characters (CR, LF, NUL,
 * bidirectional overrides, zero-width characters) removed, line breaks and tabs turned into spaces, and the length
 * capped at `max` UTF-16 units (default 500) plus `…`. Every message of the family passes the server's text through
 * it; use it wherever you show such text yourself.
 *
 * @since 0.1.0
 * @category utils
 */
export const sanitize: (text: string, max?: number | undefined) => string = (text, max) =>
  internalSanitize.sanitize(text, max ?? internalSanitize.TEXT_MAX)

const safe = (text: string, max: number) => internalSanitize.sanitize(text, max)

const describe = (description: string | undefined) => {
  const text = description === undefined ? "" : safe(description, internalSanitize.TEXT_MAX)
  return text === "" ? "" : ` (server said: ${text})`
}

/**
 * The token endpoint answered `invalid_scope`, or a resource server answered 403 `insufficient_scope`: the scopes
 * asked for are not granted to this client. A new token will not help; change the requested scopes or the client's
 * registration.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidScope extends Schema.TaggedError<InvalidScope>("@effect-oauth2/core/InvalidScope")(
  "InvalidScope",
  {
    ...common,
    /** The scopes that were asked for (or that the token carried, for a resource server's refusal). */
    requestedScopes: Schema.Array(Schema.String),
    /** The scope a resource server said it needs, from `WWW-Authenticate: Bearer scope="..."`, when it said so. */
    requiredScope: Schema.optional(Schema.String),
    /** The HTTP status of the answer. */
    status: Schema.optional(Schema.Number),
    /** The server's `error_description`, when it sent one. */
    description: Schema.optional(Schema.String)
  }
) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
  /** Whether trying again can help: never for a scope the client is not allowed. */
  get retryable(): boolean {
    return false
  }
  /** @since 0.1.0 */
  override get message(): string {
    const asked = this.requestedScopes.length === 0
      ? "(no scope)"
      : safe(this.requestedScopes.join(" "), internalSanitize.TEXT_MAX)
    const required = this.requiredScope ? safe(this.requiredScope, internalSanitize.URI_MAX) : ""
    const where = this.source === "resource-server"
      ? `The API refused the call for lack of scope${required ? ` (it needs "${required}")` : ""}; the token carries: ${asked}.`
      : `The token endpoint refused the requested scopes: ${asked}.`
    return `${providerPrefix(this.provider)}${where}${describe(this.description)} ` +
      "A new token will not help: request only scopes your client is registered for, or ask the provider to grant them."
  }
}

/**
 * Why a request was refused as unauthorised.
 *
 * - `invalid_client`: the client id or secret is wrong, or the client is unknown to this environment.
 * - `invalid_grant`: the authorization code or refresh token is invalid, expired, used or revoked.
 * - `unauthorized_client`: the client may not use this grant type.
 * - `access_denied`: the resource owner refused the authorization request.
 * - `rejected-token`: a resource server kept answering 401 even to a freshly acquired token.
 * - `use_dpop_nonce`: a server refused a DPoP proof for its nonce a second time, after one retry with the nonce it
 *   gave (RFC 9449 §8, §9), or refused it without giving a nonce (since 0.2.0).
 * - `invalid_dpop_proof`: a server refused a DPoP proof (RFC 9449 §5.2, §7.1) (since 0.2.0).
 *
 * @since 0.1.0
 * @category models
 */
export const UnauthorizedReason = Schema.Literal(
  "invalid_client",
  "invalid_grant",
  "unauthorized_client",
  "access_denied",
  "rejected-token",
  "use_dpop_nonce",
  "invalid_dpop_proof"
)

/**
 * @since 0.1.0
 * @category models
 */
export type UnauthorizedReason = typeof UnauthorizedReason.Type

const unauthorizedAdvice: Record<UnauthorizedReason, string> = {
  invalid_client:
    "Check the client id and secret, and that they belong to the environment you are calling (test credentials fail against production).",
  invalid_grant:
    "The authorization code or refresh token is no longer valid (expired, already used or revoked): log in again.",
  unauthorized_client: "This client is not allowed to use this grant type: check its registration with the provider.",
  access_denied: "The user refused the authorization request: ask them to log in again and approve it.",
  "rejected-token":
    "The API rejected a freshly acquired token too: check that the token comes from the same environment as the API and that the credentials have API access.",
  use_dpop_nonce:
    "The server refused the DPoP proof for its nonce again, although the retry carried the nonce it had just given (or it gave none): nothing more is retried. Its nonces may expire faster than a request takes, or servers behind one address may not share them: check the server's DPoP nonce settings.",
  invalid_dpop_proof:
    "The server refused the DPoP proof: check that the DPoP algorithm is one it accepts (dpop_signing_alg_values_supported), that this machine's clock is right (the proof's iat), and that the token was bound to this DPoP key (a new key needs a new token)."
}

/**
 * The server refused the credentials, the grant or the token. Not retryable: retrying with the same input gets the
 * same answer.
 *
 * @since 0.1.0
 * @category errors
 */
export class Unauthorized extends Schema.TaggedError<Unauthorized>("@effect-oauth2/core/Unauthorized")(
  "Unauthorized",
  {
    ...common,
    /** Why the request was refused. */
    reason: UnauthorizedReason,
    /** The HTTP status of the answer, when there was one. */
    status: Schema.optional(Schema.Number),
    /** The server's `error_description`, when it sent one. */
    description: Schema.optional(Schema.String),
    /** What to do, from the provider package when it knows better than the generic advice. */
    hint: Schema.optional(Schema.String)
  }
) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
  /** Whether trying again can help: never. */
  get retryable(): boolean {
    return false
  }
  /** @since 0.1.0 */
  override get message(): string {
    return `${providerPrefix(this.provider)}Unauthorized (${this.reason})${describe(this.description)}. ${
      this.hint ?? unauthorizedAdvice[this.reason]
    }`
  }
}

/**
 * No valid token can be had and the last one has expired: the endpoint stayed down past the token's expiry, the
 * refresh token is dead, or an authorization-code token expired with nothing to refresh it with.
 *
 * @since 0.1.0
 * @category errors
 */
export class Expired extends Schema.TaggedError<Expired>("@effect-oauth2/core/Expired")("Expired", {
  ...common,
  /** When the last token expired (epoch milliseconds), when there was one. */
  expiredAt: Schema.optional(Schema.Number),
  /**
   * When the server refused to renew the token (a refused refresh token or grant), when that is what happened: the
   * access token may then still be within its lifetime.
   */
  refusedAt: Schema.optional(Schema.Number),
  /** What to do about it, in a sentence. */
  hint: Schema.String,
  /** The failure of the last attempt to get a new token, when there was one (itself free of secrets). */
  lastFailure: Schema.optional(Schema.String)
}) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
  /** Whether trying again can help: yes, once the cause (outage, login) is dealt with. */
  get retryable(): boolean {
    return this.lastFailure !== undefined
  }
  /** @since 0.1.0 */
  override get message(): string {
    const last = this.lastFailure === undefined ? "" : ` Last attempt: ${safe(this.lastFailure, 2000)}`
    const iso = (millis: number) => new Date(millis).toISOString()
    const what = this.refusedAt !== undefined
      ? `The server refused to renew the access token at ${iso(this.refusedAt)}${
        this.expiredAt === undefined
          ? ""
          : this.expiredAt > this.refusedAt
          ? `, before its expiry at ${iso(this.expiredAt)}`
          : ` (it expired at ${iso(this.expiredAt)})`
      }, and no new one could be had.`
      : this.expiredAt === undefined
      ? "No valid access token can be had."
      : `The access token expired at ${iso(this.expiredAt)} and no new one could be had.`
    return `${providerPrefix(this.provider)}${what} ${this.hint}${last}`
  }
}

/**
 * The refresh token is dead and no valid access token is left: only a new login (an authorization-code flow, e.g.
 * `effect-oauth2 login`) gets tokens again. Raised when the refresh token's lifetime (the server's
 * `refresh_token_expires_in`) has run out, in which case no refresh request is sent, or when the server refused the
 * refresh token (`invalid_grant`: expired or revoked). Never retryable: retrying cannot bring the refresh token back.
 *
 * @since 0.2.0
 * @category errors
 */
export class LoginRequired extends Schema.TaggedError<LoginRequired>("@effect-oauth2/core/LoginRequired")(
  "LoginRequired",
  {
    ...common,
    /** When the refresh token died (epoch milliseconds), as the server gave its lifetime, when it did. */
    refreshTokenExpiredAt: Schema.optional(Schema.Number),
    /** When the server refused the refresh token (`invalid_grant`), when that is how its death was learned. */
    refusedAt: Schema.optional(Schema.Number),
    /** When the last access token expires or expired (epoch milliseconds), when there was one. */
    accessTokenExpiresAt: Schema.optional(Schema.Number)
  }
) {
  /** @since 0.2.0 */
  readonly [TypeId]: TypeId = TypeId
  /** Whether trying again can help: never; only a new login can. */
  get retryable(): boolean {
    return false
  }
  /** @since 0.2.0 */
  override get message(): string {
    const iso = (millis: number) => new Date(millis).toISOString()
    const what = this.refusedAt !== undefined
      ? `The server refused the refresh token at ${iso(this.refusedAt)} (expired or revoked)${
        this.refreshTokenExpiredAt === undefined ? "" : `; its lifetime ran out at ${iso(this.refreshTokenExpiredAt)}`
      }`
      : this.refreshTokenExpiredAt !== undefined
      ? `The refresh token expired at ${iso(this.refreshTokenExpiredAt)} (the lifetime the server gave it)`
      : "There is no usable refresh token"
    const access = this.accessTokenExpiresAt === undefined
      ? ""
      : this.refusedAt !== undefined && this.accessTokenExpiresAt > this.refusedAt
      ? `; the access token is valid until ${iso(this.accessTokenExpiresAt)} but cannot be renewed`
      : `; the access token expired at ${iso(this.accessTokenExpiresAt)}`
    return `${providerPrefix(this.provider)}${what}${access}. No new token can be had without a login: log in again.`
  }
}

/**
 * The server answered 429 (or 503 with `Retry-After`): too many requests. Wait `retryAfter` before trying again; the
 * library itself will not call the endpoint again before then.
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimited extends Schema.TaggedError<RateLimited>("@effect-oauth2/core/RateLimited")("RateLimited", {
  ...common,
  /** The HTTP status, usually 429. */
  status: Schema.Number,
  /** How long the server asked us to wait, in milliseconds, when it said (`Retry-After`). */
  retryAfterMillis: Schema.optional(Schema.Number)
}) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
  /** Whether trying again can help: yes, after `retryAfter`. */
  get retryable(): boolean {
    return true
  }
  /** The server's `Retry-After`, as a Duration, when it sent one. */
  get retryAfter(): Duration.Duration | undefined {
    return this.retryAfterMillis === undefined ? undefined : Duration.millis(this.retryAfterMillis)
  }
  /** @since 0.1.0 */
  override get message(): string {
    const wait = this.retryAfterMillis === undefined
      ? "The server gave no Retry-After: back off before trying again."
      : `Try again in ${Duration.format(Duration.millis(this.retryAfterMillis))}.`
    return `${providerPrefix(this.provider)}Rate limited by the ${sourceName(this.source)} (HTTP ${this.status}). ${wait}`
  }
}

/**
 * The request did not get an answer: connection refused or reset, DNS failure, TLS failure, or no answer within the
 * timeout. Retryable.
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Schema.TaggedError<TransportError>("@effect-oauth2/core/TransportError")(
  "TransportError",
  {
    ...common,
    /** `"Timeout"` when no answer came in time, `"Network"` for every other failure to get an answer. */
    reason: Schema.Literal("Timeout", "Network"),
    /** The method and URL that failed (URLs here never carry secrets). */
    request: Schema.String,
    /** What the platform said, stripped of headers and bodies. */
    description: Schema.String
  }
) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
  /** Whether trying again can help: yes. */
  get retryable(): boolean {
    return true
  }
  /** @since 0.1.0 */
  override get message(): string {
    const what = this.reason === "Timeout" ? "timed out" : "failed"
    return `${providerPrefix(this.provider)}${safe(this.request, 2000)} ${what}: ${
      safe(this.description, internalSanitize.TEXT_MAX)
    }. ` +
      "This is a network problem, not a credentials problem: retrying can help (the background refresh retries with back-off); if it persists, check the URL, DNS, proxy and the provider's status."
  }
}

/**
 * The server answered, but not with something we can use: not JSON or form data, no `access_token`, an unknown
 * `token_type`, a body over the size limit, a redirect. Retryable only where the status suggests a passing fault
 * (5xx).
 *
 * @since 0.1.0
 * @category errors
 */
export class MalformedResponse extends Schema.TaggedError<MalformedResponse>(
  "@effect-oauth2/core/MalformedResponse"
)("MalformedResponse", {
  ...common,
  /** The HTTP status of the answer. */
  status: Schema.Number,
  /** The answer's `Content-Type`, when it had one. */
  contentType: Schema.optional(Schema.String),
  /** What is wrong with it. Never quotes the body. */
  reason: Schema.String
}) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
  /** Whether trying again can help: yes for a server error status (5xx), otherwise no. */
  get retryable(): boolean {
    return this.status >= 500
  }
  /** @since 0.1.0 */
  override get message(): string {
    const ct = this.contentType === undefined ? "" : `, ${safe(this.contentType, internalSanitize.CODE_MAX)}`
    const advice = this.status >= 500
      ? "It looks like a passing server fault (an error page from a gateway): retrying can help."
      : "Check that the URL points at the provider's OAuth 2.0 endpoint (and the right environment)."
    return `${providerPrefix(this.provider)}Unusable answer from the ${sourceName(this.source)} (HTTP ${this.status}${ct}): ${
      safe(this.reason, internalSanitize.TEXT_MAX)
    }. ${advice}`
  }
}

/**
 * Any other protocol failure: `invalid_request`, `unsupported_grant_type`, an unknown error code, or an unexpected
 * HTTP status. Retryable for server errors (5xx, or the RFC 6749 §4.1.2.1 codes `server_error` and
 * `temporarily_unavailable`, which some servers send with a 400), not otherwise.
 *
 * @since 0.1.0
 * @category errors
 */
export class ProtocolError extends Schema.TaggedError<ProtocolError>("@effect-oauth2/core/ProtocolError")(
  "ProtocolError",
  {
    ...common,
    /** The HTTP status of the answer. */
    status: Schema.Number,
    /** The RFC 6749 §5.2 `error` code, when the server sent one. */
    error: Schema.optional(Schema.String),
    /** The server's `error_description`, when it sent one. */
    errorDescription: Schema.optional(Schema.String),
    /** The server's `error_uri`, when it sent one. */
    errorUri: Schema.optional(Schema.String)
  }
) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
  /** Whether trying again can help: yes for 5xx, `temporarily_unavailable` and `server_error`, otherwise no. */
  get retryable(): boolean {
    return this.status >= 500 || this.error === "temporarily_unavailable" || this.error === "server_error"
  }
  /** @since 0.1.0 */
  override get message(): string {
    const code = this.error === undefined ? "" : ` ${safe(this.error, internalSanitize.CODE_MAX)}`
    const uri = this.errorUri === undefined ? "" : ` See ${safe(this.errorUri, internalSanitize.URI_MAX)}.`
    const advice = this.retryable
      ? "The server is failing: retrying can help (the background refresh retries with back-off)."
      : this.error === "unsupported_grant_type"
      ? "The provider does not support this grant for this client: check the provider settings (grant, token URL)."
      : this.error === "invalid_request"
      ? "The provider rejected the request as malformed: check the provider settings (client auth style, token URL, parameters)."
      : "Check the provider settings and the provider's status; this is not a network blip."
    return `${providerPrefix(this.provider)}The ${sourceName(this.source)} answered HTTP ${this.status}${code}${
      describe(this.errorDescription)
    }. ${advice}${uri}`
  }
}

/**
 * The authorization redirect did not end in a usable code: the user refused, the `state` does not match the one
 * sent (a forged or replayed callback), the callback carried no code, or nobody logged in before the timeout.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthorizationFailed extends Schema.TaggedError<AuthorizationFailed>(
  "@effect-oauth2/core/AuthorizationFailed"
)("AuthorizationFailed", {
  ...common,
  /**
   * `state_mismatch`, `missing_code`, `timeout`, `issuer_mismatch` or `missing_issuer` (RFC 9207), `invalid_redirect`
   * (a pasted URL that is not the login's callback), or the `error` code the provider put on the callback.
   */
  reason: Schema.String,
  /** The provider's `error_description`, when it sent one. */
  description: Schema.optional(Schema.String)
}) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
  /** Whether trying again can help: a new login can, the same callback cannot. */
  get retryable(): boolean {
    return false
  }
  /** @since 0.1.0 */
  override get message(): string {
    const what = this.reason === "state_mismatch"
      ? "The callback's state does not match the one sent: it may be forged or replayed, so the code was not used."
      : this.reason === "missing_code"
      ? "The callback carried no authorization code."
      : this.reason === "timeout"
      ? "Nobody completed the login before the timeout."
      : this.reason === "access_denied"
      ? "The user refused the authorization request."
      : this.reason === "issuer_mismatch" || this.reason === "missing_issuer"
      ? "The callback does not come from the authorization server the login was sent to (RFC 9207 mix-up defence), so the code was not used."
      : this.reason === "invalid_redirect"
      ? "The pasted redirect URL is not this login's callback, so nothing in it was used."
      : `The provider ended the authorization with "${safe(this.reason, internalSanitize.CODE_MAX)}".`
    // The RFC 9207 description is ours (what came and what was expected), not the server's.
    const detail = this.reason === "issuer_mismatch" || this.reason === "missing_issuer" ||
        this.reason === "invalid_redirect"
      ? (this.description ? ` (${safe(this.description, 500)})` : "")
      : describe(this.description)
    return `${providerPrefix(this.provider)}${what}${detail} Start the login again.`
  }
}

/**
 * The provider does not offer this operation (revocation, introspection, refresh, authorization code).
 *
 * @since 0.1.0
 * @category errors
 */
export class Unsupported extends Schema.TaggedError<Unsupported>("@effect-oauth2/core/Unsupported")("Unsupported", {
  ...common,
  /** The operation asked for. */
  operation: Schema.String,
  /** What to do instead. */
  hint: Schema.optional(Schema.String)
}) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
  /** Whether trying again can help: never. */
  get retryable(): boolean {
    return false
  }
  /** @since 0.1.0 */
  override get message(): string {
    return `${providerPrefix(this.provider)}${this.operation} is not supported by this provider.${
      this.hint === undefined ? "" : ` ${this.hint}`
    }`
  }
}

/**
 * The options are unusable: an `http://` endpoint that is not loopback, a token about to be sent to an origin that
 * is not the provider's, a malformed URL, a token store that cannot be read.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidConfiguration extends Schema.TaggedError<InvalidConfiguration>(
  "@effect-oauth2/core/InvalidConfiguration"
)("InvalidConfiguration", {
  ...common,
  /** What is wrong, and how to fix it. */
  description: Schema.String
}) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
  /** Whether trying again can help: never. */
  get retryable(): boolean {
    return false
  }
  /** @since 0.1.0 */
  override get message(): string {
    return `${providerPrefix(this.provider)}Invalid configuration: ${this.description}`
  }
}

/**
 * A token store could not be read or written: the file is corrupted or was written with another key, Redis is
 * unreachable. `AccessTokens` never fails a `get` for a store problem (it logs and carries on in memory); this error
 * reaches users who call a store directly.
 *
 * @since 0.1.0
 * @category errors
 */
export class TokenStoreError extends Schema.TaggedError<TokenStoreError>("@effect-oauth2/core/TokenStoreError")(
  "TokenStoreError",
  {
    ...common,
    /** What the store was doing: `get`, `set`, `delete` or `lock`. */
    operation: Schema.String,
    /** What went wrong, and how to fix it. */
    description: Schema.String
  }
) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
  /** Whether trying again can help: yes (a store that was down may be back). */
  get retryable(): boolean {
    return true
  }
  /** @since 0.1.0 */
  override get message(): string {
    return `${providerPrefix(this.provider)}Token store ${this.operation} failed: ${safe(this.description, 2000)}`
  }
}

/**
 * The service was used after the scope (or layer) that built it had closed: it serves no token and sends no request
 * any more. Not retryable: use the service only inside the scope that provides it, or build a new one.
 *
 * @since 0.1.0
 * @category errors
 */
export class ServiceClosed extends Schema.TaggedError<ServiceClosed>("@effect-oauth2/core/ServiceClosed")(
  "ServiceClosed",
  {
    ...common,
    /** The service that is closed, e.g. `"AccessTokens"`. */
    service: Schema.String
  }
) {
  /** @since 0.1.0 */
  readonly [TypeId]: TypeId = TypeId
  /** Whether trying again can help: never, on this instance. */
  get retryable(): boolean {
    return false
  }
  /** @since 0.1.0 */
  override get message(): string {
    return `${providerPrefix(this.provider)}The ${this.service} service is closed: the scope or layer that built it has ended, so it serves no token and sends no request. Use it only inside the scope that provides it, or provide its layer again for a new one.`
  }
}

/**
 * Every error of the family.
 *
 * @since 0.1.0
 * @category models
 */
export type OAuth2Error =
  | InvalidScope
  | Unauthorized
  | Expired
  | LoginRequired
  | RateLimited
  | TransportError
  | MalformedResponse
  | ProtocolError
  | AuthorizationFailed
  | Unsupported
  | InvalidConfiguration
  | TokenStoreError
  | ServiceClosed

/**
 * The schema of {@link OAuth2Error}, to encode errors for logs or across processes (it holds no secrets).
 *
 * @since 0.1.0
 * @category schemas
 */
export const OAuth2Error: Schema.Union<[
  typeof InvalidScope,
  typeof Unauthorized,
  typeof Expired,
  typeof LoginRequired,
  typeof RateLimited,
  typeof TransportError,
  typeof MalformedResponse,
  typeof ProtocolError,
  typeof AuthorizationFailed,
  typeof Unsupported,
  typeof InvalidConfiguration,
  typeof TokenStoreError,
  typeof ServiceClosed
]> = Schema.Union(
  InvalidScope,
  Unauthorized,
  Expired,
  LoginRequired,
  RateLimited,
  TransportError,
  MalformedResponse,
  ProtocolError,
  AuthorizationFailed,
  Unsupported,
  InvalidConfiguration,
  TokenStoreError,
  ServiceClosed
)

/**
 * Whether a value is an error of the family.
 *
 * @since 0.1.0
 * @category guards
 */
export const isOAuth2Error = (u: unknown): u is OAuth2Error => Predicate.hasProperty(u, TypeId)

/**
 * Whether trying the same operation again can help (a transport failure, a rate limit, a server error).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isRetryable = (error: OAuth2Error): boolean => error.retryable
