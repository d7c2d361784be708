/**
 * Fault injection and request counters, per emulated endpoint.
 *
 * Faults are plain JSON-compatible values, so the same shape is set from code (`Emulator.setFaults`) and over the
 * control API (`PUT /_emulator/faults/{endpoint}`).
 *
 * A request to an endpoint goes through its faults in this order:
 *
 * 1. `latency`: sleeps that many milliseconds on the emulator's `Clock` (under `TestClock`, adjust the clock to let
 *    the request go on); applies to every request while set.
 * 2. `reset`: destroys the connection without an answer (TCP reset); the client sees a transport error.
 * 3. `rateLimit`: answers 429 with `Retry-After`.
 * 4. `failNext`: answers 500, 502 or 503 (with `Retry-After` when given).
 * 5. `malformed`: answers an HTML page, broken JSON or an empty body, with status 200 unless `status` says otherwise.
 *
 * The counted faults (`reset`, `rateLimit`, `failNext`, `malformed`) apply to the next `count` requests, then clear
 * themselves. At most one of them applies to a request, the first in the order above.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * Every endpoint the emulator serves, by name. The names key faults and counters.
 *
 * - `figure-markets.token`: `POST {main}/auth/oauth2/token`
 * - `figure-markets.revoke`: `POST {main}/auth/oauth2/revoke`
 * - `figure-markets.trade`: `POST {trade}/api/v1/{operation}`
 * - `figure-pay.token`: `POST {api}/oauth2/token`
 * - `figure-pay.profiles`: `GET {api}/profiles`
 * - `tradier.authorize`: `GET {api}/v1/oauth/authorize`
 * - `tradier.consent`: `GET|POST {api}/oauth/consent` (the emulated login and consent page)
 * - `tradier.token`: `POST {api}/v1/oauth/accesstoken`
 * - `tradier.refresh`: `POST {api}/v1/oauth/refreshtoken`
 * - `tradier.profile`: `GET {api}/v1/user/profile`
 * - `openmarkets.token`: `POST {identity}/connect/token`
 * - `openmarkets.api`: `GET {api}/v1/market-data/quotes` and `GET {api}/v1/news`
 * - `schwab.authorize`: `GET {api}/v1/oauth/authorize`
 * - `schwab.token`: `POST {api}/v1/oauth/token`
 * - `schwab.accounts`: `GET {api}/trader/v1/accounts/accountNumbers`
 * - `tradestation.authorize`: `GET {signin}/authorize`
 * - `tradestation.token`: `POST {signin}/oauth/token`
 * - `tradestation.revoke`: `POST {signin}/oauth/revoke`
 * - `tradestation.accounts`: `GET {api}/v3/brokerage/accounts`
 * - `tastytrade.authorize`: `GET {auth}/auth.html` (the partner login)
 * - `tastytrade.token`: `POST {api}/oauth/token`
 * - `tastytrade.customer`: `GET {api}/customers/me`
 * - `saxo.authorize`: `GET {logon}/authorize`
 * - `saxo.token`: `POST {logon}/token`
 * - `saxo.users`: `GET {openapi}/port/v1/users/me`
 *
 * @since 0.1.0
 * @category endpoints
 */
export const endpoints = [
  "figure-markets.token",
  "figure-markets.revoke",
  "figure-markets.trade",
  "figure-pay.token",
  "figure-pay.profiles",
  "tradier.authorize",
  "tradier.consent",
  "tradier.token",
  "tradier.refresh",
  "tradier.profile",
  "openmarkets.token",
  "openmarkets.api",
  "schwab.authorize",
  "schwab.token",
  "schwab.accounts",
  "tradestation.authorize",
  "tradestation.token",
  "tradestation.revoke",
  "tradestation.accounts",
  "tastytrade.authorize",
  "tastytrade.token",
  "tastytrade.customer",
  "saxo.authorize",
  "saxo.token",
  "saxo.users"
] as const

/**
 * The name of an emulated endpoint.
 *
 * @since 0.1.0
 * @category endpoints
 */
export type Endpoint = (typeof endpoints)[number]

/**
 * Whether a string names an endpoint.
 *
 * @since 0.1.0
 * @category endpoints
 */
export const isEndpoint = (u: unknown): u is Endpoint => typeof u === "string" && (endpoints as ReadonlyArray<string>).includes(u)

/**
 * Schema of a count of requests a fault applies to: a positive integer.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Count = Schema.Int.pipe(Schema.positive())

/**
 * Schema of a `Retry-After` value in seconds.
 *
 * @since 0.1.0
 * @category schemas
 */
export const RetryAfter = Schema.Int.pipe(Schema.nonNegative())

/**
 * The next `count` requests fail with `status`, with a `Retry-After` header (seconds) when `retryAfter` is given.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FailNext = Schema.Struct({
  count: Count,
  status: Schema.Literal(500, 502, 503),
  retryAfter: Schema.optional(Schema.UndefinedOr(RetryAfter))
})

/**
 * @since 0.1.0
 * @category models
 */
export interface FailNext extends Schema.Schema.Type<typeof FailNext> {}

/**
 * The next `count` requests answer 429 with `Retry-After: {retryAfter}` (seconds).
 *
 * @since 0.1.0
 * @category schemas
 */
export const RateLimit = Schema.Struct({ count: Count, retryAfter: RetryAfter })

/**
 * @since 0.1.0
 * @category models
 */
export interface RateLimit extends Schema.Schema.Type<typeof RateLimit> {}

/**
 * The next `count` requests have their connection destroyed with a TCP reset, before any answer.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Reset = Schema.Struct({ count: Count })

/**
 * @since 0.1.0
 * @category models
 */
export interface Reset extends Schema.Schema.Type<typeof Reset> {}

/**
 * The body a malformed answer carries:
 *
 * - `html`: an HTML error page (`text/html`), as a misconfigured gateway or login wall answers;
 * - `broken-json`: `application/json` that stops half-way through an object;
 * - `empty`: `application/json` with an empty body.
 *
 * @since 0.1.0
 * @category schemas
 */
export const MalformedKind = Schema.Literal("html", "broken-json", "empty")

/**
 * @since 0.1.0
 * @category models
 */
export type MalformedKind = Schema.Schema.Type<typeof MalformedKind>

/**
 * The next `count` requests get a malformed body of `kind`, with status `status` (default 200; use 502 for the
 * gateway-error page a proxy would serve).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Malformed = Schema.Struct({
  count: Count,
  kind: MalformedKind,
  status: Schema.optional(Schema.UndefinedOr(Schema.Int.pipe(Schema.between(200, 599))))
})

/**
 * @since 0.1.0
 * @category models
 */
export interface Malformed extends Schema.Schema.Type<typeof Malformed> {}

/**
 * The faults set on one endpoint. An empty object means none.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Faults = Schema.Struct({
  /** Milliseconds every request waits (on the emulator's `Clock`) before anything else happens. Default: none. */
  latency: Schema.optional(Schema.UndefinedOr(Schema.Number.pipe(Schema.nonNegative(), Schema.finite()))),
  /** Default: none. */
  failNext: Schema.optional(Schema.UndefinedOr(FailNext)),
  /** Default: none. */
  rateLimit: Schema.optional(Schema.UndefinedOr(RateLimit)),
  /** Default: none. */
  reset: Schema.optional(Schema.UndefinedOr(Reset)),
  /** Default: none. */
  malformed: Schema.optional(Schema.UndefinedOr(Malformed))
})

/**
 * @since 0.1.0
 * @category models
 */
export interface Faults extends Schema.Schema.Type<typeof Faults> {}

/**
 * No faults.
 *
 * @since 0.1.0
 * @category constants
 */
export const none: Faults = {}

/**
 * Whether a faults value sets nothing.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isNone = (faults: Faults): boolean =>
  (faults.latency === undefined || faults.latency === 0) && faults.failNext === undefined &&
  faults.rateLimit === undefined && faults.reset === undefined && faults.malformed === undefined

/**
 * What one endpoint has seen since the start or the last reset of the counters.
 *
 * - `requests`: every request that reached the endpoint, resets included;
 * - `successes`: answers with a status below 400 (redirects count as successes);
 * - `failures`: answers with status 400 and above, by status (`{ "401": 2 }`);
 * - `resets`: connections destroyed by the `reset` fault.
 *
 * @since 0.1.0
 * @category counters
 */
export interface Counters {
  readonly requests: number
  readonly successes: number
  readonly failures: Readonly<Record<string, number>>
  readonly resets: number
}

/**
 * Counters at zero.
 *
 * @since 0.1.0
 * @category counters
 */
export const emptyCounters: Counters = { requests: 0, successes: 0, failures: {}, resets: 0 }

/**
 * The total number of failures in a counters value.
 *
 * @since 0.1.0
 * @category counters
 */
export const totalFailures = (counters: Counters): number =>
  Object.values(counters.failures).reduce((sum, n) => sum + n, 0)
