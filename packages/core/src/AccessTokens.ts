/**
 * The cached, self-refreshing access token of one client: the service a bot asks for a token.
 *
 * - `get` answers from a `Ref` with no I/O and no lock while the cached token is valid. When it is missing or
 *   expired, all concurrent callers share one acquisition (single flight); one caller's interruption never cancels
 *   it, and a failed acquisition is never cached.
 * - A background fiber refreshes at `expiresAt − refreshSkew` (skew clamped to half the lifetime) and retries
 *   transient failures on a `Schedule` (exponential, jittered, capped, honouring `Retry-After`) while the still-valid
 *   token keeps being served. A permanent failure (bad client, bad scope) stops the retries and surfaces on the next
 *   `get`.
 * - After a `Retry-After`, no request is sent to the token endpoint before the server said.
 * - A refresh token known to be dead (its `refreshTokenExpiresAt` passed) is never sent: with `client_credentials` a
 *   new token is asked for that way; in `stored` mode `get` fails with `LoginRequired` once the access token is no
 *   longer usable, as it does when the server refuses a refresh token (`invalid_grant`).
 * - A refresh token the server refused (`invalid_grant`), whoever sent it (`get`, `refresh`, the background refresh,
 *   a replay after a 401), is dead from then on: `Died` (reason `"refused"`) is published once, and every later `get`
 *   or `refresh` fails with `LoginRequired` without sending it again (no back-off either), until a token with another
 *   refresh token appears: `set`, or a login stored by this or another process (the store is re-read, under its
 *   lock where it has one, before each such failure). Passing failures (network, 5xx, 429) are never taken for a
 *   refusal: they keep being retried.
 * - That death is told before it happens: logged, exported (`Metrics.refreshTokenExpiryTimestamp`), warned about at
 *   lead times, and published on `refreshTokenEvents` (see `RefreshTokenLifetime`); a provider rule
 *   (`refreshTokenLifetime`) gives it where the server does not.
 * - Time always comes from `Clock`, so `TestClock` drives every expiry.
 * - Closing the scope stops the fiber, and revokes the token when `revokeOnClose` is set. From then on `get` and
 *   `refresh` fail at once with `ServiceClosed`; a `get` waiting on an acquisition when the scope closes gets it too.
 *
 * **Lifetimes and the renewal floor.** Whatever the token endpoint answers, the service never hammers it and never
 * hands out a token it knows to be expired:
 *
 * - A token's life counts from the start of the second its request was sent (see `AccessToken.expiryOf`), so never
 *   longer than a whole-second server's `exp`. The cache stops serving it a little before it expires (its margin:
 *   1 s, or a tenth of a short lifetime); no token is handed out, by any path, once it has expired.
 * - A token granted a second or more is not handed out within its margin either, so that a request that leaves with
 *   it has that long to reach the server: callers then wait for its renewal (at most the margin), and a token that
 *   arrives within its margin is asked for once more (at once, or from the next second when a token asked for now
 *   would expire with it).
 * - A token granted a second or more is renewed at most once a second: not before the second after the one its
 *   request was sent in (a token asked for within the same second would expire with it). While the endpoint keeps
 *   granting less than a second (`expires_in` 0, a fraction of a second, or less), the floor doubles with each such
 *   answer (1 s, 2 s, 4 s… up to 1 minute); a normal token brings it back to 1 s. A short token still valid on
 *   arrival goes to the callers that asked for it; one already expired on arrival goes to nobody. Within the floor,
 *   callers get such a token while it is valid (even in its last moments), and after that `Expired` at once, saying
 *   how long the tokens live and when the endpoint is asked next.
 * - After two failed acquisitions in a row for callers (not counting the background refresh, which follows its
 *   `retrySchedule`), callers get the last failure for 1 s, 2 s, 4 s… (up to 1 minute) instead of sending a request
 *   each; the first failure is retried at once by the next call. A token acquired ends the back-off.
 * - An unusable `200` (an HTML page, broken JSON, an empty body) during a background refresh is retried like a
 *   server fault while the cached token is valid; only a caller with no valid token sees the `MalformedResponse`.
 * - A token acquired is always handed to the callers waiting for it, even when writing it to the `TokenStore` fails
 *   or dies (that is logged); the waiters of an acquisition are always completed.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type * as AccessToken from "./AccessToken.js"
import * as internal from "./internal/accessTokens.js"
import * as internalTest from "./internal/accessTokensTest.js"
import * as policies from "./internal/tokenPolicies.js"
import type { OAuth2Client } from "./OAuth2Client.js"
import type { OAuth2Error } from "./OAuth2Error.js"
import type * as RefreshTokenLifetime from "./RefreshTokenLifetime.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The provider these tokens are for. */
  readonly provider: string
  /**
   * A valid token: the cached one while it is valid (no I/O), otherwise the result of the one shared acquisition.
   */
  readonly get: Effect.Effect<AccessToken.AccessToken, OAuth2Error>
  /**
   * Forces a new token now (joining an acquisition already under way), whatever the cached one's state; while the
   * token endpoint grants tokens under a second and the renewal floor holds (see the module documentation), it
   * answers like `get` instead.
   */
  readonly refresh: Effect.Effect<AccessToken.AccessToken, OAuth2Error>
  /**
   * Drops `token` from the cache (and the store) if it is still the cached one: call it when a server rejected the
   * token. A newer token acquired meanwhile is kept.
   */
  readonly invalidate: (token: AccessToken.AccessToken) => Effect.Effect<void>
  /**
   * Revokes the cached token (and its refresh token) at the provider and drops it. Fails with `Unsupported` where
   * the provider has no revocation endpoint; then the token is kept.
   */
  readonly revoke: Effect.Effect<void, OAuth2Error>
  /** The cached token, valid or not, with no I/O. */
  readonly current: Effect.Effect<Option.Option<AccessToken.AccessToken>>
  /**
   * Puts a token in the cache (and the store), e.g. the result of an authorization-code login. The background
   * refresh takes it from there. What is cached and stored is the token with the instants its refresh token's death
   * counts from (`authorizedAt`, `refreshTokenIssuedAt`: its `issuedAt` when it has none) and that death (see
   * `refreshTokenLifetime`), so `current` may return a copy of `token` rather than `token` itself.
   */
  readonly set: (token: AccessToken.AccessToken) => Effect.Effect<void>
  /**
   * What happens to the refresh token's death (see `RefreshTokenLifetime`): the latest event about the current
   * death instant, if any, then each new one as it happens (`Scheduled`, `Warning` at each lead time, `Died`). Each
   * run of the stream is a subscriber of its own; one that falls behind loses the oldest events (a bounded, sliding
   * buffer), never holds up the tokens. Ends when the service's scope closes.
   *
   * @since 0.2.0
   */
  readonly refreshTokenEvents: Stream.Stream<RefreshTokenLifetime.Event>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class AccessTokens extends Context.Tag("@effect-oauth2/core/AccessTokens")<AccessTokens, Service>() {}

/**
 * The options of {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The scopes to ask for with `client_credentials`, and the store key's scopes. Default: none. */
  readonly scopes?: ReadonlyArray<string> | undefined
  /**
   * Where new tokens come from when there is no refresh token:
   * - `"client_credentials"`: a client-credentials request.
   * - `"stored"`: only the token store (an authorization-code login puts tokens there, or {@link Service.set}); with
   *   no usable token there, `get` fails with `Expired`, saying to log in again. Once the refresh token is dead (its
   *   `refreshTokenExpiresAt` has passed, or the server refused it), `get` fails with `LoginRequired`, and no request
   *   is sent with a refresh token known to be dead; a new login's token found in the store is taken as it is.
   *
   * - `{ refreshToken }`: refreshing a refresh token the user gives (a personal grant minted in the provider's web
   *   UI, tastytrade's), asking for `scopes` each time (none: the grant's). A refreshed token that brings a new
   *   refresh token is renewed with that one, and with the given one again should the server refuse it. The given
   *   one refused (`invalid_grant`) is dead: `get` and `refresh` fail with `LoginRequired` and it is never sent
   *   again (a token another process put in the store since is still taken): mint a new grant.
   *
   * Default: `"client_credentials"`.
   */
  readonly acquire?: "client_credentials" | "stored" | { readonly refreshToken: Redacted.Redacted<string> } | undefined
  /** How long before expiry the background refresh starts; clamped to half the token's lifetime. Default: 60 seconds. */
  readonly refreshSkew?: Duration.DurationInput | undefined
  /**
   * The back-off between background refresh attempts after a transient failure; a `Retry-After` from the server
   * lengthens a delay, never shortens it. Default: exponential from 1 second, doubling, jittered, capped at 5 minutes.
   */
  readonly retrySchedule?: Schedule.Schedule<unknown, OAuth2Error> | undefined
  /** Revoke the cached token when the scope closes (where the provider supports revocation). Default: `false`. */
  readonly revokeOnClose?: boolean | undefined
  /** Start acquiring a token as soon as the service is built, in the background. Default: `false`. */
  readonly prefetch?: boolean | undefined
  /**
   * When the refresh token dies where the server does not say (no `refresh_token_expires_in`): `duration` after the
   * login (`from: "login"`, e.g. Schwab's `{ duration: "7 days", from: "login" }`, which no refresh extends) or
   * after each refresh token is issued (`from: "issue"`). Where the server does say, the earlier of the two is
   * kept. The death is stored with the token (`refreshTokenExpiresAt`), and once it has passed no request is sent
   * with that refresh token. Default: none (only the server's word).
   *
   * @since 0.2.0
   */
  readonly refreshTokenLifetime?: RefreshTokenLifetime.Rule | undefined
  /**
   * How long before the refresh token dies to warn (a log line at warning level and a `Warning` event), each once
   * per death instant; a service that starts already inside lead times warns once, at the nearest. A refresh token
   * born inside a lead time (one that lives less) is not warned about at that lead time. Only in `stored` mode,
   * where a dead refresh token means a login. Default: 48 hours, 12 hours and 1 hour
   * (`RefreshTokenLifetime.defaultWarnings`); `[]` for none.
   *
   * @since 0.2.0
   */
  readonly refreshTokenWarnings?: ReadonlyArray<Duration.DurationInput> | undefined
  /**
   * Called with each event of {@link Service.refreshTokenEvents}, in order, in a fiber of its own (a slow callback
   * falls behind and loses the oldest events; a failing one is logged): e.g. to page an operator on a `Warning`.
   * Default: none.
   *
   * @since 0.2.0
   */
  readonly onRefreshTokenEvent?: ((event: RefreshTokenLifetime.Event) => Effect.Effect<void, unknown>) | undefined
  /**
   * Keep no refresh token: tokens read from the `TokenStore`, and tokens given to `set`, are kept without theirs, so
   * each token lives its lifetime and is then acquired anew (or, in `stored` mode, logged in again). For a client
   * that must not renew on its own (Tradier's `refreshTokens: false`). Default: `false`.
   */
  readonly dropRefreshTokens?: boolean | undefined
  /**
   * Make `invalidate` keep a token that has no refresh token. With `acquire: "stored"`, dropping such a token only
   * turns the API's 401 into `Expired` (nothing can renew it without a login): keeping it lets the authorised
   * client's replay meet the same 401, so the caller gets `Unauthorized` with the provider's advice (wrong
   * environment, revoked access). Default: `false` (every rejected token is dropped).
   */
  readonly keepUnrenewableOnInvalidate?: boolean | undefined
}

/**
 * Builds the service from the `OAuth2Client` in the context (and the `TokenStore`, when one is provided; otherwise
 * tokens live in this service only). Scoped: the background refresh lives as long as the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, never, OAuth2Client | Scope.Scope> =>
  policies.apply(options, internal.make(options))

/**
 * The service as a layer, over the `OAuth2Client` (and optional `TokenStore`) in the context.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<AccessTokens, never, OAuth2Client> =>
  Layer.scoped(AccessTokens, make(options))

/**
 * The service as a layer whose options come from `Config`, e.g.
 * `AccessTokens.layerConfig({ scopes: Config.array(Config.string(), "SCOPES"), refreshSkew: Config.duration("SKEW") })`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<Omit<Options, "retrySchedule" | "onRefreshTokenEvent">>
): Layer.Layer<AccessTokens, ConfigError.ConfigError, OAuth2Client> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), (options) => layer(options)))

/**
 * The token without its refresh token: what {@link Options.dropRefreshTokens} keeps, for a login that must not store
 * one either.
 *
 * @since 0.2.0
 * @category utils
 */
export const withoutRefreshToken: (token: AccessToken.AccessToken) => AccessToken.AccessToken =
  policies.withoutRefreshToken

/**
 * A step of a {@link makeTest} script: a token value (valid for the script's lifetime from the moment it is handed
 * out), a full `AccessToken`, or an error to fail that acquisition with.
 *
 * @since 0.1.0
 * @category testing
 */
export type TestStep = string | AccessToken.AccessToken | OAuth2Error

/**
 * The options of {@link makeTest}.
 *
 * @since 0.1.0
 * @category testing
 */
export interface TestOptions {
  /**
   * What each acquisition (the first `get`, a `get` after expiry or `invalidate`, a `refresh`) yields, in order; the
   * last step repeats. Default: `["test-access-token"]`.
   */
  readonly script?: ReadonlyArray<TestStep> | undefined
  /** The lifetime of tokens given as strings. Default: 1 hour. */
  readonly lifetime?: Duration.DurationInput | undefined
  /** The scopes of tokens given as strings. Default: none. */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** The provider name the service reports (and its refresh-token events). Default: `"test"`. */
  readonly provider?: string | undefined
  /** The environment its refresh-token events name. Default: `"test"`. */
  readonly environment?: string | undefined
  /**
   * Gives the tokens of string steps a refresh token that dies by this rule, e.g. Schwab's
   * `{ duration: "7 days", from: "login" }`: the first is a login, each later one a refresh of the one before (a new
   * refresh token, the same login). Once that refresh token is dead, a string step fails with `LoginRequired`, as the
   * real service does; a scripted `AccessToken` step is a new login. Default: none (string steps have no refresh
   * token).
   */
  readonly refreshTokenLifetime?: RefreshTokenLifetime.Rule | undefined
  /** The lead times of the `Warning` events. Default: `RefreshTokenLifetime.defaultWarnings` (48 h, 12 h, 1 h). */
  readonly refreshTokenWarnings?: ReadonlyArray<Duration.DurationInput> | undefined
}

/**
 * What {@link makeTest} gives beside the service: the acquisitions counted, and a way to publish any refresh-token
 * event on `refreshTokenEvents` (to test what a bot does on a `Warning` or a `Died` without waiting for one).
 *
 * @since 0.2.0
 * @category testing
 */
export interface TestControls {
  /** How many acquisitions were made (each step of the script taken). */
  readonly acquisitions: Effect.Effect<number>
  /**
   * Publishes `event` on `refreshTokenEvents`: to every run of the stream, and, as the latest, to each run started
   * later (as the real service tells a new subscriber the latest event).
   */
  readonly publishRefreshTokenEvent: (event: RefreshTokenLifetime.Event) => Effect.Effect<void>
}

/**
 * A test double with no HTTP: serves a fixed or scripted token, follows the `Clock` (so `TestClock` expires it),
 * and counts acquisitions. Swap it in for a provider's layer to test a bot's own logic.
 *
 * Its `refreshTokenEvents` tell of the refresh tokens it serves (see `refreshTokenLifetime`, or script tokens with a
 * `refreshToken` and `refreshTokenExpiresAt`), by the `Clock`: each run of the stream hears, for the death of the
 * token served when it starts and for each new death after, `Scheduled` (with a `Warning` at the nearest lead time
 * already reached, if one is), a `Warning` at each later lead time, and `Died` when it passes, so that `TestClock`
 * drives a bot's pager wiring. It also hears what {@link TestControls.publishRefreshTokenEvent} publishes.
 *
 * @since 0.1.0
 * @category testing
 */
export const makeTest = (options: TestOptions = {}): Effect.Effect<Service & TestControls> =>
  internalTest.makeTest(options)

/**
 * {@link makeTest} as a layer of `AccessTokens`.
 *
 * @since 0.1.0
 * @category testing
 */
export const layerTest = (options: TestOptions = {}): Layer.Layer<AccessTokens> =>
  Layer.effect(AccessTokens, makeTest(options))
