/**
 * The state machine, single flight, renewal floor and background refresher of `AccessTokens`.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberHandle from "effect/FiberHandle"
import * as FiberId from "effect/FiberId"
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as AccessToken from "../AccessToken.js"
import * as Grant from "../Grant.js"
import { CachedGet } from "./cachedGet.js"
import * as RefreshTokenDeath from "./refreshTokenDeath.js"
import * as Metrics from "../Metrics.js"
import { OAuth2Client } from "../OAuth2Client.js"
import {
  Expired,
  LoginRequired,
  type OAuth2Error,
  RateLimited,
  ServiceClosed,
  TokenStoreError,
  TransportError,
  type Unauthorized
} from "../OAuth2Error.js"
import * as TokenStore from "../TokenStore.js"

import type { Options, Service } from "../AccessTokens.js"

interface State {
  readonly token: AccessToken.AccessToken | undefined
  readonly inflight: Deferred.Deferred<AccessToken.AccessToken, OAuth2Error> | undefined
  /** A permanent failure of the background refresh, surfaced (once) by the next `get`. */
  readonly pendingFailure: OAuth2Error | undefined
  /** No request before this instant (epoch ms): the server's Retry-After. */
  readonly blockedUntil: number
  /**
   * The renewal floor: no renewal of `token` before this instant (epoch ms). The background refresh waits for it; a
   * `get` that finds `token` unusable before it is answered without a request.
   */
  readonly renewAfter: number
  /** How many acquisitions in a row brought a token that lives less than the floor (or was expired on arrival). */
  readonly shortStreak: number
  /** How many acquisitions in a row, started by `get` or `refresh` (not the background refresh), failed. */
  readonly failStreak: number
  /** After two failures in a row: no acquisition for `get` or `refresh` before `until`; until then they fail with `error`. */
  readonly backoff: { readonly until: number; readonly error: OAuth2Error } | undefined
  /** Completed whenever the cached token changes; replaced by a new one each time. */
  readonly changed: Deferred.Deferred<void>
  readonly storeChecked: boolean
  /** The last token dropped by `invalidate` while it had a refresh token: the next acquisition refreshes with it. */
  readonly retired: AccessToken.AccessToken | undefined
}

/** The renewal floor: the shortest time between two token requests that renew a token. */
const floorMillis = 1_000
/** How long the floor (for tokens shorter than it) and the failure back-off grow, at most. */
const backoffCapMillis = 60_000
/** `floorMillis` doubled `n - 1` times, capped. */
const grown = (n: number) => Math.min(backoffCapMillis, floorMillis * 2 ** Math.max(0, Math.min(n - 1, 16)))

/** Whether a failure of the background refresh is worth retrying while a valid token is cached. */
const retryableInBackground = (error: OAuth2Error): boolean =>
  // An unusable 200 (an HTML page, broken JSON, an empty body) is a passing fault as much as a 5xx is.
  error.retryable || error._tag === "MalformedResponse"

/** A defect's kind (its class name), never its message: a message may quote anything, a secret included. */
const defectName = (defect: unknown): string =>
  defect instanceof Error ? defect.name : typeof defect

const defaultRetrySchedule: Schedule.Schedule<unknown, OAuth2Error> = Schedule.exponential(Duration.seconds(1), 2).pipe(
  Schedule.jittered,
  Schedule.modifyDelay((_, delay) => Duration.min(delay, Duration.minutes(5)))
)

export const make = (options: Options): Effect.Effect<Service, never, OAuth2Client | Scope.Scope> =>
  Effect.gen(function*() {
    const client = yield* OAuth2Client
    const store = Option.getOrUndefined(yield* Effect.serviceOption(TokenStore.TokenStore))
    const scope = yield* Effect.scope
    const { endpoint } = client
    const provider = endpoint.provider
    const scopes = options.scopes ?? []
    const acquireOption = options.acquire ?? "client_credentials"
    // A refresh token given by the user (a personal grant): tokens come from refreshing it.
    const given = typeof acquireOption === "object" ? acquireOption.refreshToken : undefined
    const mode = typeof acquireOption === "object" ? "refresh_token" : acquireOption
    const skewMillis = Duration.toMillis(Duration.decode(options.refreshSkew ?? Duration.seconds(60)))
    const key: TokenStore.Key = {
      provider,
      environment: endpoint.environment,
      clientId: client.clientId,
      scopes
    }
    const annotate = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.annotateLogs(effect, { provider, environment: endpoint.environment })
    // The refresh token's death: tokens coming in are stamped with it, and each change of the cached token is told.
    const death = yield* RefreshTokenDeath.make({
      provider,
      environment: endpoint.environment,
      rule: options.refreshTokenLifetime,
      warnings: options.refreshTokenWarnings,
      onEvent: options.onRefreshTokenEvent,
      loginOnDeath: mode === "stored"
    })

    const state = yield* Ref.make<State>({
      token: undefined,
      inflight: undefined,
      pendingFailure: undefined,
      blockedUntil: 0,
      renewAfter: 0,
      shortStreak: 0,
      failStreak: 0,
      backoff: undefined,
      changed: Deferred.unsafeMake<void>(FiberId.none),
      storeChecked: store === undefined,
      retired: undefined
    })
    /** Set once the service's scope starts closing: from then on nothing is served or started. */
    let closed = false
    /** The background refresh, forked in the service's scope when the first token is installed. */
    let refresherFiber: Effect.Effect<never> | undefined
    let retryPolicy: Schedule.Schedule<unknown, OAuth2Error> | undefined
    const startRefresher = Effect.suspend(() => {
      const refresher = refresherFiber
      if (refresher === undefined || closed) return Effect.void
      refresherFiber = undefined
      return Effect.asVoid(Effect.forkIn(refresher, scope))
    })
    const closedError = () => new ServiceClosed({ provider, source: "configuration", service: "AccessTokens" })

    const hits = Metric.taggedWithLabels(Metrics.cacheHitsTotal, [MetricLabel.make("provider", provider)])
    const misses = Metric.taggedWithLabels(Metrics.cacheMissesTotal, [MetricLabel.make("provider", provider)])

    // The hot path: serves the cached token with no work while it is usable (see internal/cachedGet.ts).
    const slowPath: Effect.Effect<AccessToken.AccessToken, OAuth2Error> = Effect.suspend(() => slowGet)
    const cached = new CachedGet<AccessToken.AccessToken, OAuth2Error>(slowPath)
    // While an acquisition is in flight, callers that find no usable token join it straight from `cached` (instead of
    // running the slow path, which would only end by joining it too): how many did, and which acquisition.
    let joins = 0
    let joiningFor: Deferred.Deferred<AccessToken.AccessToken, OAuth2Error> | undefined
    const startJoining = (deferred: Deferred.Deferred<AccessToken.AccessToken, OAuth2Error>) => {
      joiningFor = deferred
      cached.slow = Effect.suspend(() => {
        joins++
        return Deferred.await(deferred)
      })
    }
    const stopJoining = (deferred: Deferred.Deferred<AccessToken.AccessToken, OAuth2Error>) => {
      if (joiningFor !== deferred) return
      joiningFor = undefined
      cached.slow = slowPath
    }
    // Gets answered without the slow path are counted as they happen and added to the metrics now and then (a metric
    // update per get would cost more than the get): hits, and joins of an acquisition under way (misses).
    const flushHits = Effect.suspend(() => {
      const h = cached.takeHits()
      const j = joins
      joins = 0
      return h === 0 && j === 0
        ? Effect.void
        : Effect.zipRight(
          h === 0 ? Effect.void : Metric.incrementBy(hits, h),
          j === 0 ? Effect.void : Metric.incrementBy(misses, j)
        )
    })
    // A token stops being handed out a little before it expires (1 s, or a tenth of a short lifetime), so that it
    // does not expire in flight.
    const usableUntil = (token: AccessToken.AccessToken) =>
      token.expiresAt - Math.min(1000, (token.expiresAt - token.issuedAt) / 10)
    const expiryWatch = yield* FiberHandle.make<void>()
    const serveHot = (token: AccessToken.AccessToken): Effect.Effect<void> =>
      Effect.flatMap(Effect.zip(Ref.get(state), Clock.currentTimeMillis), ([s, now]) => {
        const until = usableUntil(token)
        // Not (or no longer) the current token, e.g. invalidated since it was installed; or the service is closed.
        if (closed || s.token !== token || now >= until) {
          if (cached.current === token) cached.current = undefined
          return Effect.void
        }
        cached.current = token
        return FiberHandle.run(
          expiryWatch,
          Effect.sleep(Duration.millis(until - now)).pipe(
            Effect.zipRight(Effect.sync(() => {
              if (cached.current === token) cached.current = undefined
            }))
          )
        ).pipe(Effect.asVoid)
      })

    // -- store access: failures (defects included) are logged, never fatal ---------------------------------------------
    /** A defect of the store (a bug in it, a stack overflow) becomes its typed error, so that it is handled as one. */
    const guarded = <A>(operation: string, effect: Effect.Effect<A, TokenStoreError>) =>
      Effect.catchAllDefect(effect, (defect) =>
        Effect.fail(
          new TokenStoreError({
            provider,
            source: "token-store",
            operation,
            description: `the store failed unexpectedly (a defect: ${defectName(defect)}); this is a bug in the token store`
          })
        ))
    const storeGet: Effect.Effect<AccessToken.AccessToken | undefined> = store === undefined
      ? Effect.succeed(undefined)
      : guarded("get", store.get(key)).pipe(
        Effect.map((stored) => Option.isSome(stored) ? death.stamp(stored.value) : undefined),
        Effect.catchAll((error) =>
          Effect.as(annotate(Effect.logWarning(`token store read failed, continuing without it: ${error.message}`)), undefined)
        )
      )
    const storeSet = (token: AccessToken.AccessToken): Effect.Effect<void> =>
      store === undefined ? Effect.void : guarded("set", store.set(key, token)).pipe(
        Effect.catchAll((error) => annotate(Effect.logWarning(`token store write failed: ${error.message}`)))
      )
    const storeDelete = (token: AccessToken.AccessToken): Effect.Effect<void> =>
      store === undefined ? Effect.void : storeGet.pipe(
        Effect.flatMap((stored) =>
          stored !== undefined && AccessToken.sameValue(stored, token) ? guarded("delete", store.delete(key)) : Effect.void
        ),
        Effect.catchAll((error) => annotate(Effect.logWarning(`token store delete failed: ${error.message}`)))
      )

    // -- installing a token -------------------------------------------------------------------------------------------
    /**
     * Makes `token` the current one (ending the acquisition `acquisition`, when it comes from one, with the renewal
     * bookkeeping `after` it) and returns what `announce` needs. Gets see it from then on.
     */
    const publish = (
      token: AccessToken.AccessToken,
      acquisition?: Deferred.Deferred<AccessToken.AccessToken, OAuth2Error>,
      after?: Partial<State>
    ): Effect.Effect<Deferred.Deferred<void>> =>
      Ref.modify(state, (s): [Deferred.Deferred<void>, State] => [s.changed, {
        ...s,
        token,
        pendingFailure: undefined,
        retired: undefined,
        storeChecked: true,
        changed: Deferred.unsafeMake<void>(FiberId.none),
        ...(acquisition !== undefined && s.inflight === acquisition ? { inflight: undefined, blockedUntil: 0 } : {}),
        ...after
      }]).pipe(
        Effect.tap(() => {
          if (acquisition !== undefined) stopJoining(acquisition)
        })
      )
    /** Wakes the background refresh, serves the token from the hot path until it stops being usable. */
    const announce = (token: AccessToken.AccessToken, changed: Deferred.Deferred<void>) =>
      Deferred.succeed(changed, undefined).pipe(
        Effect.zipRight(startRefresher),
        Effect.zipRight(serveHot(token)),
        Effect.zipRight(death.track(token)),
        Effect.zipRight(flushHits)
      )
    const install = (token: AccessToken.AccessToken) =>
      Effect.flatMap(publish(token), (changed) => announce(token, changed))

    // -- one acquisition --------------------------------------------------------------------------------------------
    const iso = (millis: number) => new Date(millis).toISOString()

    /** `Expired` for a client that can only log in again. Says "expired at" only for a token that has expired by `now`. */
    const loginAgain = (stale: AccessToken.AccessToken | undefined, hint: string, now: number) =>
      new Expired({
        provider,
        source: "token-endpoint",
        expiredAt: stale !== undefined && now >= stale.expiresAt ? stale.expiresAt : undefined,
        hint: stale !== undefined && now < stale.expiresAt
          ? `The access token is valid until ${iso(stale.expiresAt)}, but a new one was asked for. ${hint}`
          : hint
      })

    const fromStoreOnly = (stale: AccessToken.AccessToken | undefined): Effect.Effect<AccessToken.AccessToken, OAuth2Error> =>
      Effect.flatMap(storeGet, (stored) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          stored !== undefined && now < stored.expiresAt && (stale === undefined || !AccessToken.sameValue(stored, stale))
            ? Effect.succeed(stored)
            // Nothing obtained yet (a `refresh` first), and the stored token expired: renewed with its refresh token,
            // unless that is dead (then `LoginRequired`, with no request).
            : stale === undefined && stored !== undefined && stored.refreshToken !== undefined
            ? fresh(stored)
            : Effect.fail(
              loginAgain(
                stale,
                stale === undefined
                  ? "No token has been obtained yet and this client gets tokens only by logging in: log in first."
                  : "There is no refresh token to renew it with: log in again.",
                now
              )
            )))

    /** `LoginRequired` for a refresh token that is dead: its lifetime ran out, or the server refused it (`refusedAt`). */
    const loginRequired = (stale: AccessToken.AccessToken, refusedAt?: number) =>
      new LoginRequired({
        provider,
        source: "token-endpoint",
        refreshTokenExpiredAt: stale.refreshTokenExpiresAt !== undefined &&
            (refusedAt === undefined || refusedAt >= stale.refreshTokenExpiresAt)
          ? stale.refreshTokenExpiresAt
          : undefined,
        refusedAt,
        accessTokenExpiresAt: stale.expiresAt
      })

    /**
     * A refresh with `stale`'s refresh token. A refresh that brings no new refresh token keeps the old one, and with
     * it the instant the old one dies; the login it descends from is kept either way (see `RefreshTokenLifetime`).
     */
    const refreshWith = (stale: AccessToken.AccessToken, refreshToken: Redacted.Redacted<string>) =>
      client.requestToken(Grant.refreshToken({
        refreshToken,
        // With a given refresh token, every refresh asks for the scopes asked for (none: the grant's).
        scopes: mode === "refresh_token" && scopes.length > 0 ? scopes : undefined,
        grantedScopes: stale.scopes,
        // The login's PKCE verifier and redirect URI, re-sent where the endpoint asks for them (`refreshWithPkce`).
        codeVerifier: stale.codeVerifier,
        redirectUri: stale.redirectUri
      })).pipe(
        Effect.map((token) => death.afterRefresh(stale, refreshToken, token))
      )

    /**
     * The refresh token the server refused last (`invalid_grant`), and what callers are told while it is the one to
     * renew with: it is dead, and is never sent again. Only a token with another refresh token (a new login, here or
     * in another process, found in the store) ends this.
     */
    let refused: { readonly refreshToken: Redacted.Redacted<string>; readonly error: LoginRequired } | undefined
    const isRefused = (token: AccessToken.AccessToken | undefined): boolean =>
      refused !== undefined && token?.refreshToken !== undefined &&
      Redacted.value(token.refreshToken) === Redacted.value(refused.refreshToken)

    /**
     * Once `stale`'s refresh token is dead (its lifetime ran out, or the server refused it): a token another process
     * (or a login) put in the store since, when it is usable or can be renewed (never with a dead refresh token);
     * otherwise `dead`, with no request sent.
     */
    const afterDeath = (stale: AccessToken.AccessToken, dead: LoginRequired) =>
      Effect.flatMap(Effect.zip(storeGet, Clock.currentTimeMillis), ([stored, now]) =>
        stored === undefined || AccessToken.sameValue(stored, stale) || isRefused(stored)
          ? Effect.fail(dead)
          : now < stored.expiresAt
          ? Effect.succeed(stored)
          : stored.refreshToken !== undefined && stored.canRefreshAt(now)
          ? refreshWith(stored, stored.refreshToken)
          : Effect.fail(dead))

    /**
     * A token from the refresh token given in the options (a personal grant). Once the server has refused it
     * (`invalid_grant`), it is dead: it is never sent again, and callers get `LoginRequired` (with no request) unless
     * the store holds a token another process obtained since.
     */
    const fromGiven = (
      refreshToken: Redacted.Redacted<string>,
      stale: AccessToken.AccessToken | undefined
    ): Effect.Effect<AccessToken.AccessToken, OAuth2Error> => {
      const dead = (error: LoginRequired) => stale === undefined ? Effect.fail(error) : afterDeath(stale, error)
      if (refused !== undefined && Redacted.value(refused.refreshToken) === Redacted.value(refreshToken)) {
        return dead(refused.error)
      }
      return client.requestToken(Grant.refreshToken({ refreshToken, scopes: scopes.length > 0 ? scopes : undefined }))
        .pipe(
          Effect.catchIf(
            (error): error is Unauthorized => error._tag === "Unauthorized" && error.reason === "invalid_grant",
            () =>
              Effect.flatMap(Clock.currentTimeMillis, (now) => {
                const error = new LoginRequired({
                  provider,
                  source: "token-endpoint",
                  refusedAt: now,
                  accessTokenExpiresAt: stale?.expiresAt
                })
                refused = { refreshToken, error }
                return dead(error)
              })
          )
        )
    }

    const fresh = (stale: AccessToken.AccessToken | undefined): Effect.Effect<AccessToken.AccessToken, OAuth2Error> => {
      const initial = mode === "client_credentials"
        ? client.requestToken(Grant.clientCredentials(scopes))
        : given !== undefined
        ? fromGiven(given, stale)
        : fromStoreOnly(stale)
      const refreshToken = stale?.refreshToken
      if (stale === undefined || refreshToken === undefined) return initial
      // With a given refresh token, a refused or dead one that is not it (a rotated one) falls back to it.
      const renewable = mode === "client_credentials" ||
        (given !== undefined && Redacted.value(given) !== Redacted.value(refreshToken))
      // A refresh token the server refused is never sent again: a new token from the store, or `LoginRequired`.
      if (refused !== undefined && isRefused(stale)) {
        return renewable ? initial : afterDeath(stale, refused.error)
      }
      return Effect.flatMap(Clock.currentTimeMillis, (now) =>
        // A refresh token known to be dead is never sent: with client credentials a new token is asked for instead.
        stale.isRefreshTokenExpiredAt(now)
          ? renewable
            ? initial
            : mode === "stored"
            ? afterDeath(stale, loginRequired(stale))
            : Effect.fail(loginRequired(stale, now))
          : refreshWith(stale, refreshToken).pipe(
            Effect.catchIf(
              (error): error is Unauthorized =>
                error._tag === "Unauthorized" && error.reason === "invalid_grant" &&
                (renewable || mode === "stored" || given !== undefined),
              () =>
                renewable ? initial : Effect.flatMap(Clock.currentTimeMillis, (now) => {
                  // The server refused the refresh token (expired or revoked): it is dead, and only a login helps.
                  const error = loginRequired(stale, now)
                  refused = { refreshToken, error }
                  return afterDeath(stale, error)
                })
            )
          ))
    }

    // -- rotation safety across processes ------------------------------------------------------------------------------
    /** Tokens known to be in the store already (stored under the store's coordination, or read from it). */
    const persisted = new WeakSet<AccessToken.AccessToken>()

    /**
     * The acquisition run under the store's coordination (a shared store's lock). Another process may have renewed
     * since `stale` was read, spending `stale`'s refresh token (single use, with rotation): the newest pair is the
     * stored one then, and the renewal starts from it, never from the spent one. The new token is stored before the
     * coordination ends, so the next process to take the lock reads it.
     */
    const renewUnderLock = (stale: AccessToken.AccessToken | undefined): Effect.Effect<AccessToken.AccessToken, OAuth2Error> =>
      Effect.flatMap(stale === undefined ? Effect.succeed(undefined) : storeGet, (stored) => {
        // A stale token whose refresh token was refused is not renewed from the store's newer pair here: `fresh`
        // re-reads the store and takes a new login's token as it is (usable), without a request.
        const base = stale !== undefined && stored !== undefined && stored.refreshToken !== undefined &&
            !AccessToken.sameValue(stored, stale) && stored.issuedAt >= stale.issuedAt && !isRefused(stale)
          ? stored
          : stale
        // Stamped with its refresh token's death before it is stored: `observe` then finds it stamped (the same
        // object), so it is known to be stored and is not written again outside the lock.
        return Effect.tap(Effect.map(fresh(base), death.stamp), (token) => storeSet(token))
      })

    /**
     * The acquisition through the store's coordination, when there is a store. A defect of the store's `coordinate`
     * never loses the acquisition: the token endpoint's answer, when there was one, is used; otherwise the
     * acquisition runs without the store.
     */
    const coordinated = (stale: AccessToken.AccessToken | undefined): Effect.Effect<AccessToken.AccessToken, OAuth2Error> => {
      if (store === undefined) return fresh(stale)
      return Effect.suspend(() => {
        let outcome: Exit.Exit<AccessToken.AccessToken, OAuth2Error> | undefined
        // Rotation safety: renew from the newest stored pair, and store the result before the store's lock is let go.
        const inner = Effect.flatten(Effect.tap(Effect.exit(renewUnderLock(stale)), (exit) => {
          outcome = exit
        }))
        return store.coordinate(key, stale, inner).pipe(
          // Whether acquired here (and stored under the lock) or adopted from the store, the token is in the store:
          // writing it again later, outside the lock, could only roll back a newer pair another process stored since.
          Effect.tap((token) => Effect.sync(() => persisted.add(token))),
          Effect.catchAllDefect((defect) =>
            annotate(
              Effect.logWarning(
                `token store coordination failed unexpectedly (a defect: ${defectName(defect)}); continuing without it`
              )
            ).pipe(Effect.zipRight(outcome ?? fresh(stale)))
          )
        )
      })
    }

    const toCallerError = (error: OAuth2Error, stale: AccessToken.AccessToken | undefined, now: number): OAuth2Error =>
      stale !== undefined && now >= stale.expiresAt && error.retryable && error._tag !== "Expired"
        ? new Expired({
          provider,
          source: error.source,
          expiredAt: stale.expiresAt,
          hint: "The token endpoint could not issue a new one in time; it keeps being retried, and the next call tries again.",
          lastFailure: `${error._tag}: ${error.message}`
        })
        : error

    /** What callers are told when the token endpoint's token is already expired, or renewal waits for the floor. */
    const tooShort = (token: AccessToken.AccessToken, next: number) => {
      const lived = token.expiresAt <= token.issuedAt ? "0 s" : Duration.format(token.lifetime)
      return new Expired({
        provider,
        source: "token-endpoint",
        expiredAt: token.expiresAt,
        hint: `The token endpoint issues tokens that live ${lived}: a token is never handed out once expired, and the endpoint is asked again at ${
          iso(next)
        } at the earliest (the renewal floor, growing while its tokens stay that short). Check the provider's token lifetime.`,
        lastFailure: `a token that lived ${lived}`
      })
    }

    /**
     * One acquisition's token. A token granted a second or more that has expired by the time it arrives (its life
     * counts from the start of the second its request was sent, and the answer came after its end: a request sent late
     * in a second and answered slowly, as with tokens of a second or two on a loaded machine) is asked for once more
     * at once, from a new second: its callers then get a usable token instead of `Expired`. The renewal starts from
     * the token just obtained (its refresh token is the current one).
     */
    const obtain = (stale: AccessToken.AccessToken | undefined): Effect.Effect<AccessToken.AccessToken, OAuth2Error> =>
      Effect.flatMap(Clock.currentTimeMillis, (askedAt) =>
        Effect.flatMap(coordinated(stale), (token) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) => {
            const lifetime = token.expiresAt - token.issuedAt
            if (lifetime < floorMillis || now < usableUntil(token)) return Effect.succeed(token)
            // Arrived within its margin, or expired: asked for once more, at once when a token asked for now would
            // arrive usable (its life counting from this second, the answer taking as long as this one did), else
            // at the start of the next second (at most a tenth of a second away: the margin of a token of a second
            // or more is at most a tenth of its life).
            const second = AccessToken.AccessToken.issuedAtOf(now)
            const margin = token.expiresAt - usableUntil(token)
            const at = second + lifetime - margin > now + (now - askedAt) ? now : second + 1000
            return at > now
              ? Effect.zipRight(Effect.sleep(Duration.millis(at - now)), coordinated(token))
              : coordinated(token)
          })))

    /** Ends the acquisition `deferred` (new callers no longer join it) with the bookkeeping `after` it. */
    const release = (
      deferred: Deferred.Deferred<AccessToken.AccessToken, OAuth2Error>,
      after: (s: State) => Partial<State> = () => ({})
    ): Effect.Effect<void> =>
      Ref.update(state, (s) => s.inflight !== deferred ? s : { ...s, inflight: undefined, ...after(s) }).pipe(
        Effect.zipRight(Effect.sync(() => stopJoining(deferred)))
      )

    /**
     * Runs one acquisition and completes `deferred` with its outcome, whatever happens: a defect after the token
     * arrived still hands the token over; an interruption (the scope closing) fails the waiters with `ServiceClosed`.
     */
    const runAcquisition = (
      deferred: Deferred.Deferred<AccessToken.AccessToken, OAuth2Error>,
      stale: AccessToken.AccessToken | undefined,
      foreground: boolean,
      notBefore: number | undefined
    ): Effect.Effect<void> => {
      let obtained: AccessToken.AccessToken | undefined
      // An acquisition claimed ahead of the renewal floor sends its request when the floor is reached.
      const wait = notBefore === undefined ? Effect.void : Effect.flatMap(Clock.currentTimeMillis, (now) =>
        now < notBefore ? Effect.sleep(Duration.millis(notBefore - now)) : Effect.void)
      const body = Effect.zipRight(wait, Effect.flatMap(Clock.currentTimeMillis, (startedAt) =>
        death.observe(obtain(stale)).pipe(
          Effect.withSpan("AccessTokens.acquire", {
            attributes: { "oauth2.provider": provider, "oauth2.refresh": stale !== undefined }
          }),
          Effect.exit,
          Effect.flatMap((exit) =>
            Effect.gen(function*() {
              const now = yield* Clock.currentTimeMillis
              if (Exit.isSuccess(exit)) {
                const token = exit.value
                obtained = token
                // The renewal floor: for a token granted a second or more, the start of the second after the one its
                // request was sent in (its life counts from the start of that second, so a token asked for within
                // it would expire with it; never past its expiry); while the tokens granted live less than a second,
                // a delay that doubles with each such token (capped).
                const short = token.expiresAt - token.issuedAt < floorMillis
                const s0 = yield* Ref.get(state)
                const shortStreak = short ? s0.shortStreak + 1 : 0
                const renewAfter = short ? startedAt + grown(shortStreak) : token.issuedAt + floorMillis
                // The token and the end of the acquisition are one state change, so that no caller finds neither.
                const changed = yield* publish(token, deferred, {
                  renewAfter,
                  shortStreak,
                  failStreak: 0,
                  backoff: undefined
                })
                if (now < usableUntil(token)) cached.current = token
                if (!persisted.has(token)) yield* storeSet(token)
                // A token is never handed out once expired: the callers then learn why, and when the next try is.
                yield* now < token.expiresAt
                  ? Deferred.succeed(deferred, token)
                  : Deferred.fail(deferred, tooShort(token, renewAfter))
                // The callers waiting for it run first; the bookkeeping (the expiry watch, waking the background
                // refresh, metrics, the log line) follows (scheduled after them, whatever the acquisition's priority).
                yield* Effect.yieldNow({ priority: 1 })
                yield* announce(token, changed)
                return yield* annotate(
                  (short
                    ? Effect.logWarning(
                      `the token endpoint issued a token that lives ${
                        Duration.format(token.lifetime)
                      }; the next renewal is not before ${iso(renewAfter)}`
                    )
                    : Effect.logInfo(stale === undefined ? "access token acquired" : "access token renewed")).pipe(
                      Effect.annotateLogs("expiresIn", Duration.format(token.remainingAt(now)))
                    )
                )
              }
              const failure = Cause.failureOption(exit.cause)
              if (Option.isNone(failure)) {
                yield* release(deferred)
                return yield* Deferred.failCause(deferred, exit.cause)
              }
              const error = toCallerError(failure.value, stale, now)
              const blockedUntil = failure.value._tag === "RateLimited" && failure.value.retryAfterMillis !== undefined
                ? now + failure.value.retryAfterMillis
                : undefined
              // A dead refresh token (`LoginRequired`) is answered without a request from then on: no back-off is
              // needed, and none may hide a new login stored meanwhile.
              const counted = foreground && failure.value._tag !== "LoginRequired"
              yield* release(deferred, (s) => {
                const failStreak = counted ? s.failStreak + 1 : s.failStreak
                return {
                  blockedUntil: blockedUntil ?? s.blockedUntil,
                  failStreak,
                  // The first failure is retried by the next call at once; from the second in a row, calls wait
                  // for a back-off (1 s, doubling, capped) and meanwhile get this failure.
                  backoff: counted && failStreak >= 2 ? { until: now + grown(failStreak - 1), error } : s.backoff
                }
              })
              return yield* Deferred.fail(deferred, error)
            })
          )
        )
      ))
      return body.pipe(
        Effect.interruptible,
        // Whatever ended the acquisition, its callers are completed: never left waiting.
        Effect.onExit((exit) =>
          Effect.flatMap(Deferred.isDone(deferred), (done) => {
            if (done) return Effect.void
            const token = obtained
            return release(deferred).pipe(
              Effect.zipRight(
                Exit.isInterrupted(exit)
                  ? Deferred.fail(deferred, closedError())
                  : token !== undefined
                  ? Deferred.succeed(deferred, token)
                  : Deferred.failCause(deferred, Exit.isFailure(exit) ? exit.cause : Cause.die("acquisition ended"))
              ),
              Effect.zipRight(
                Exit.isFailure(exit) && !Exit.isInterrupted(exit)
                  ? annotate(Effect.logError(`token acquisition failed unexpectedly (a defect: ${defectName(Cause.squash(exit.cause))})`))
                  : Effect.void
              )
            )
          })
        )
      )
    }

    /**
     * Joins the acquisition under way, or starts one in the service's scope (so no caller can cancel it).
     * `foreground`: started for `get` or `refresh` (its failures count towards the back-off of calls).
     */
    const acquire = (
      stale: AccessToken.AccessToken | undefined,
      foreground: boolean,
      notBefore?: number
    ): Effect.Effect<AccessToken.AccessToken, OAuth2Error> =>
      // Claiming the acquisition and starting it happen without a chance of interruption in between: a caller
      // interrupted there would leave an acquisition claimed that nobody runs, and every later caller waiting on it.
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(
          Ref.modify(state, (s): [readonly [Deferred.Deferred<AccessToken.AccessToken, OAuth2Error>, boolean], State] => {
            if (s.inflight !== undefined) return [[s.inflight, false], s]
            const deferred = Deferred.unsafeMake<AccessToken.AccessToken, OAuth2Error>(FiberId.none)
            return [[deferred, true], { ...s, inflight: deferred }]
          }),
          ([deferred, mine]) => {
            if (!mine) return restore(Deferred.await(deferred))
            if (closed) {
              // Callers may have joined it already: they get the same answer.
              const error = closedError()
              return release(deferred).pipe(Effect.zipRight(Deferred.fail(deferred, error)), Effect.zipRight(Effect.fail(error)))
            }
            startJoining(deferred)
            // Forked while uninterruptible: the completion guard in `runAcquisition` is in place before an
            // interruption (the scope closing) can reach it. Everyone waits for it, so its steps are scheduled ahead of
            // other fibers' (a herd of callers starting at once would otherwise run before it even sends its request).
            return Effect.zipRight(
              Effect.withSchedulingPriority(Effect.forkIn(runAcquisition(deferred, stale, foreground, notBefore), scope), -1),
              restore(Deferred.await(deferred))
            )
          }
        )
      )

    const rateLimited = (s: State, now: number): Effect.Effect<never, RateLimited> | undefined =>
      now < s.blockedUntil
        ? Effect.fail(
          new RateLimited({ provider, source: "token-endpoint", status: 429, retryAfterMillis: s.blockedUntil - now })
        )
        : undefined

    /**
     * Why no request may be sent for a caller now (a `Retry-After`, the failure back-off, the renewal floor), as the
     * effect that answers the caller instead; `undefined` when a request may be sent. An acquisition under way is
     * always joined. A `forced` refresh is held by the floor only while the tokens granted live under a second.
     */
    const held = (
      s: State,
      now: number,
      forced: boolean
    ): Effect.Effect<AccessToken.AccessToken, OAuth2Error> | undefined => {
      if (s.inflight !== undefined) return undefined
      const blocked = rateLimited(s, now)
      if (blocked !== undefined) return blocked
      if (s.backoff !== undefined && now < s.backoff.until) return Effect.fail(s.backoff.error)
      // The floor holds renewals of a token that ran out (not of one invalidated).
      const token = s.token
      if (token !== undefined && now < s.renewAfter && (!forced || s.shortStreak > 0)) {
        if (now < usableUntil(token)) return Effect.succeed(token)
        // A token of a second or more in its last margin (a tenth of its life, at most 1 s), its renewal held by the
        // floor until its expiry at the latest (a token asked for before then would expire with it, its life counting
        // from the same second): the callers wait for that renewal instead of being handed a token that may expire
        // before their request reaches the server. The acquisition is claimed now and sends its request at the floor.
        if (s.shortStreak === 0 && token.expiresAt - token.issuedAt >= floorMillis && s.renewAfter <= token.expiresAt) {
          return acquire(token, !forced, s.renewAfter)
        }
        // A token shorter than the floor, past its margin but not expired: it is still true to hand it out.
        return now < token.expiresAt ? Effect.succeed(token) : Effect.fail(tooShort(token, s.renewAfter))
      }
      return undefined
    }

    // -- get ----------------------------------------------------------------------------------------------------------
    const slowGet: Effect.Effect<AccessToken.AccessToken, OAuth2Error> = Effect.gen(function*() {
      if (closed) return yield* Effect.fail(closedError())
      const pending = yield* Ref.modify(state, (s): [OAuth2Error | undefined, State] => [s.pendingFailure, {
        ...s,
        pendingFailure: undefined
      }])
      if (pending !== undefined) return yield* Effect.fail(pending)
      let s = yield* Ref.get(state)
      let now = yield* Clock.currentTimeMillis
      if (s.token !== undefined && now < usableUntil(s.token)) {
        yield* serveHot(s.token)
        return s.token
      }
      if (!s.storeChecked) {
        const stored = yield* storeGet
        yield* Ref.update(state, (s) => ({ ...s, storeChecked: true }))
        now = yield* Clock.currentTimeMillis
        if (stored !== undefined && now < usableUntil(stored)) {
          yield* install(stored)
          yield* annotate(Effect.logDebug("access token loaded from the token store"))
          return stored
        }
        s = yield* Ref.get(state)
        if (s.token === undefined && stored !== undefined) s = { ...s, token: stored }
      }
      const hold = held(s, now, false)
      if (hold !== undefined) return yield* hold
      yield* Metric.increment(misses)
      yield* flushHits
      return yield* acquire(s.token ?? s.retired, true)
    })

    const get: Effect.Effect<AccessToken.AccessToken, OAuth2Error> = cached

    const refresh: Effect.Effect<AccessToken.AccessToken, OAuth2Error> = Effect.gen(function*() {
      if (closed) return yield* Effect.fail(closedError())
      const s = yield* Ref.updateAndGet(state, (s) => ({ ...s, pendingFailure: undefined }))
      const now = yield* Clock.currentTimeMillis
      // While the renewal floor holds for tokens granted under a second, a forced refresh answers like `get` (the
      // cached token if it is still valid): it is never a way around the floor.
      const hold = held(s, now, true)
      if (hold !== undefined) return yield* hold
      return yield* acquire(s.token ?? s.retired, true)
    }).pipe(Effect.withSpan("AccessTokens.refresh", { attributes: { "oauth2.provider": provider } }))

    const invalidate = (token: AccessToken.AccessToken): Effect.Effect<void> =>
      Ref.modify(state, (s): [Deferred.Deferred<void> | undefined, State] =>
        s.token !== undefined && AccessToken.sameValue(s.token, token)
          ? [s.changed, {
            ...s,
            token: undefined,
            retired: token.refreshToken === undefined ? s.retired : token,
            changed: Deferred.unsafeMake<void>(FiberId.none)
          }]
          : [undefined, s]).pipe(
          Effect.flatMap((changed) =>
            changed === undefined ? Effect.void : Effect.sync(() => {
              if (cached.current !== undefined && AccessToken.sameValue(cached.current, token)) cached.current = undefined
            }).pipe(
              Effect.zipRight(Deferred.succeed(changed, undefined)),
              // A token with a refresh token stays in the store: the refresh token is still good, and the next
              // acquisition (here or in another process) replaces the pair.
              Effect.zipRight(token.refreshToken === undefined ? storeDelete(token) : Effect.void),
              Effect.zipRight(annotate(Effect.logInfo("access token invalidated")))
            )
          )
        )

    const revoke: Effect.Effect<void, OAuth2Error> = Effect.gen(function*() {
      const token = (yield* Ref.get(state)).token
      if (token === undefined) return
      if (token.refreshToken !== undefined) yield* client.revoke(token.refreshToken, "refresh_token")
      yield* client.revoke(token.value, "access_token")
      yield* invalidate(token)
    }).pipe(Effect.withSpan("AccessTokens.revoke", { attributes: { "oauth2.provider": provider } }))

    const set = (token: AccessToken.AccessToken): Effect.Effect<void> =>
      Effect.suspend(() => {
        const stamped = death.stamp(token)
        return Effect.zipRight(install(stamped), storeSet(stamped))
      })

    // -- background refresh -------------------------------------------------------------------------------------------
    // Built when the background refresh first needs it (not while the service is built, before the first token).
    const makeRetryPolicy = () => (options.retrySchedule ?? defaultRetrySchedule).pipe(
      Schedule.intersect(Schedule.identity<OAuth2Error>()),
      Schedule.modifyDelay(([, error], delay) =>
        error._tag === "RateLimited" && error.retryAfterMillis !== undefined
          ? Duration.max(delay, Duration.millis(error.retryAfterMillis))
          : delay
      ),
      Schedule.whileInput(retryableInBackground),
      Schedule.tapInput((error: OAuth2Error) =>
        Metrics.refreshFailure(provider, error._tag).pipe(
          Effect.zipRight(annotate(Effect.logWarning(`token refresh failed, retrying: ${error.message}`)))
        )
      )
    )

    const refreshOnce = (token: AccessToken.AccessToken) =>
      Effect.gen(function*() {
        const s = yield* Ref.get(state)
        if (s.token !== token) return
        const now = yield* Clock.currentTimeMillis
        if (now < s.blockedUntil) yield* Effect.sleep(Duration.millis(s.blockedUntil - now))
        yield* acquire(token, false).pipe(
          // An acquisition that replaced the token (even with one that came expired) is done: the loop goes on
          // from the new token, and its renewal floor.
          Effect.catchAll((error) => Effect.flatMap(Ref.get(state), (s) => s.token !== token ? Effect.void : Effect.fail(error))),
          Effect.retry(retryPolicy ??= makeRetryPolicy()),
          Effect.catchAll((error) =>
            retryableInBackground(error)
              // The schedule gave up on a passing failure (an unusable 200 included): the still-valid token keeps
              // being served, and the next `get` after it expires tries again.
              ? annotate(Effect.logWarning(`token refresh gave up after its retries: ${error.message}`))
              // A permanent failure (bad client, bad scope) surfaces on the next `get`.
              : Metrics.refreshFailure(provider, error._tag).pipe(
                Effect.zipRight(Ref.update(state, (s) => ({ ...s, pendingFailure: error }))),
                Effect.zipRight(Effect.sync(() => {
                  cached.current = undefined
                })),
                Effect.zipRight(
                  annotate(Effect.logError(`token refresh failed permanently, not retrying: ${error.message}`))
                )
              )
          )
        )
      })

    const refresher: Effect.Effect<never> = Effect.gen(function*() {
      const s = yield* Ref.get(state)
      const token = s.token
      if (token === undefined || s.pendingFailure !== undefined) {
        yield* Deferred.await(s.changed)
        return
      }
      if (mode === "stored" && token.refreshToken === undefined) {
        // Nothing to renew it with: it is served until it expires, then `get` says to log in again.
        yield* Deferred.await(s.changed)
        return
      }
      const now = yield* Clock.currentTimeMillis
      const skew = Math.min(skewMillis, (token.expiresAt - token.issuedAt) / 2)
      // Never sooner than the renewal floor, whatever the token's lifetime.
      const refreshAt = Math.max(token.expiresAt - skew, s.renewAfter)
      if (mode === "stored" && token.isRefreshTokenExpiredAt(refreshAt)) {
        // Its refresh token will be dead by then: no refresh request is sent with it. The token is served until it
        // expires, then `get` fails with `LoginRequired` (unless a login or another process stores new tokens).
        yield* Deferred.await(s.changed)
        return
      }
      if (now < refreshAt) {
        const changed = yield* Effect.raceFirst(
          Effect.as(Effect.sleep(Duration.millis(refreshAt - now)), false),
          Effect.as(Deferred.await(s.changed), true)
        )
        if (changed) return
      }
      yield* refreshOnce(token)
      // Wait for the token to change if the refresh ended without replacing it (a permanent failure).
      const after = yield* Ref.get(state)
      if (after.token === token) yield* Deferred.await(after.changed)
    }).pipe(Effect.forever)

    // The background refresh starts with the first token (it has nothing to do before), so that building the service
    // and getting the first token do not wait for its first run.
    refresherFiber = Effect.interruptible(annotate(refresher))
    yield* Effect.addFinalizer(() => flushHits)

    if (options.revokeOnClose === true) {
      // Finalizers are uninterruptible, and a timeout cannot interrupt uninterruptible work: the revocation is made
      // interruptible again, so that each request's own timeout (the endpoint's `requestTimeout`) can stop a silent
      // revocation endpoint, and the whole of it (two requests and the store) is bounded besides, so that closing the
      // scope always ends.
      const shutdownBound = Duration.times(client.endpoint.requestTimeout, 3)
      yield* Effect.addFinalizer(() =>
        revoke.pipe(
          Effect.timeoutFail({
            duration: shutdownBound,
            onTimeout: () =>
              new TransportError({
                provider,
                source: "revocation-endpoint",
                reason: "Timeout",
                request: `revocation at shutdown (POST ${client.endpoint.revocationUrl ?? "no revocation URL"})`,
                description: `not done within ${Duration.format(shutdownBound)}; the token will expire on its own`
              })
          }),
          Effect.interruptible,
          Effect.catchAll((error) => annotate(Effect.logWarning(`revocation at shutdown failed: ${error.message}`)))
        )
      )
    }
    if (options.prefetch === true) {
      yield* Effect.forkIn(Effect.ignore(get), scope)
    }
    // Added last, so it runs first when the scope closes: from then on `get` and `refresh` fail at once with
    // `ServiceClosed` (instead of starting an acquisition in a closed scope, which nobody would complete).
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closed = true
        cached.current = undefined
      })
    )

    const service: Service = {
      provider,
      get,
      refresh,
      invalidate,
      revoke,
      current: Effect.map(Ref.get(state), (s) => Option.fromNullable(s.token)),
      set,
      refreshTokenEvents: death.events
    }
    return service
  })
