/**
 * The refresh token's death, for `AccessTokens`: stamps tokens with their anchors and death (the provider rule), and
 * tells about each death instant (log, gauge, events, warnings at lead times). The state machine calls it where
 * tokens come in (`stamp`, `afterRefresh`, `observe`) and whenever the cached token changes (`track`); nothing here
 * is on the path of a `get`.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberHandle from "effect/FiberHandle"
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import * as PubSub from "effect/PubSub"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as AccessToken from "../AccessToken.js"
import * as Metrics from "../Metrics.js"
import type { OAuth2Error } from "../OAuth2Error.js"
import * as RefreshTokenLifetime from "../RefreshTokenLifetime.js"

/** How many events a subscriber that does not keep up may be behind; older ones are dropped (sliding). */
const capacity = 32

export interface Tracker {
  /** A token from a grant, a login or a store, with its anchors and death (see `RefreshTokenLifetime.apply`). */
  readonly stamp: (token: AccessToken.AccessToken) => AccessToken.AccessToken
  /** The token a refresh with `stale`'s refresh token `sent` brought, with the anchors and death it inherits. */
  readonly afterRefresh: (
    stale: AccessToken.AccessToken,
    sent: Redacted.Redacted<string>,
    token: AccessToken.AccessToken
  ) => AccessToken.AccessToken
  /** An acquisition: its token stamped, a refusal of the refresh token (`LoginRequired` with `refusedAt`) told. */
  readonly observe: (
    acquisition: Effect.Effect<AccessToken.AccessToken, OAuth2Error>
  ) => Effect.Effect<AccessToken.AccessToken, OAuth2Error>
  /** The cached token changed to `token`: a new death instant is told, and its warnings are armed. */
  readonly track: (token: AccessToken.AccessToken) => Effect.Effect<void>
  /** The latest event about the current death, then every new one. */
  readonly events: Stream.Stream<RefreshTokenLifetime.Event>
}

export const make = (options: {
  readonly provider: string
  readonly environment: string
  readonly rule: RefreshTokenLifetime.Rule | undefined
  readonly warnings: ReadonlyArray<Duration.DurationInput> | undefined
  readonly onEvent: ((event: RefreshTokenLifetime.Event) => Effect.Effect<void, unknown>) | undefined
  /**
   * Whether a dead refresh token means a login (`stored` mode). Otherwise (`client_credentials`) its death costs
   * nothing, a new token being asked for with the client's credentials: it is still told (`Scheduled`, the gauge),
   * but neither warned about nor announced as `Died`.
   */
  readonly loginOnDeath: boolean
}): Effect.Effect<Tracker, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { environment, provider, rule } = options
    const leads = options.loginOnDeath ? RefreshTokenLifetime.leadTimes(options.warnings).map(Duration.toMillis) : []
    const startedAt = yield* Clock.currentTimeMillis
    const gauge = Metric.taggedWithLabels(Metrics.refreshTokenExpiryTimestamp, [MetricLabel.make("provider", provider)])
    const pubsub = yield* PubSub.sliding<RefreshTokenLifetime.Event>(capacity)
    yield* Effect.addFinalizer(() => PubSub.shutdown(pubsub))
    const timer = yield* FiberHandle.make<void>()
    // Changes of what is tracked, and subscriptions (which read `latest`), one at a time.
    const lock = yield* Effect.makeSemaphore(1)
    const annotate = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.annotateLogs(effect, { provider, environment })

    /** The death instant tracked (`undefined`: none known); `tracked` is false until the first token. */
    let tracked = false
    let current: number | undefined
    /**
     * The token tracked last, and whether a refusal was told since it was tracked (or since the start, for a stored
     * token refused before any was tracked): each refusal is told once.
     */
    let trackedToken: AccessToken.AccessToken | undefined
    let refusalTold = false
    let latest: RefreshTokenLifetime.Event | undefined

    const stamp = (token: AccessToken.AccessToken) => RefreshTokenLifetime.apply(token, rule)

    const afterRefresh = (
      stale: AccessToken.AccessToken,
      sent: Redacted.Redacted<string>,
      token: AccessToken.AccessToken
    ): AccessToken.AccessToken => {
      const same = token.refreshToken !== undefined && Redacted.value(token.refreshToken) === Redacted.value(sent)
      const authorizedAt = token.authorizedAt ?? stale.authorizedAt ?? stale.issuedAt
      const refreshTokenIssuedAt = same ? stale.refreshTokenIssuedAt ?? stale.issuedAt : token.issuedAt
      // The same refresh token, and the server said nothing new of its lifetime: it dies when it was going to.
      const refreshTokenExpiresAt = token.refreshTokenExpiresAt === undefined && same
        ? stale.refreshTokenExpiresAt
        : token.refreshTokenExpiresAt
      return stamp(
        new AccessToken.AccessToken({
          ...token,
          authorizedAt,
          ...(token.refreshToken === undefined ? {} : { refreshTokenIssuedAt }),
          ...(refreshTokenExpiresAt === undefined ? {} : { refreshTokenExpiresAt })
        }, { disableValidation: true })
      )
    }

    /** Publishes `event` about the death `diesAt` (unless another death is tracked by now), logs it. */
    const emit = (diesAt: number | undefined, event: RefreshTokenLifetime.Event) =>
      Effect.suspend(() => {
        if (current !== diesAt) return Effect.void
        latest = event
        const log = event._tag === "Scheduled"
          ? Effect.logInfo(event.message)
          : event._tag === "Warning"
          ? Effect.logWarning(event.message)
          : Effect.logError(event.message)
        return PubSub.publish(pubsub, event).pipe(
          Effect.zipRight(annotate(log.pipe(Effect.annotateLogs("refreshTokenDiesAt", new Date(event.diesAt).toISOString()))))
        )
      })

    const at = (instant: number) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => now < instant ? Effect.sleep(Duration.millis(instant - now)) : Effect.void)

    /** Sleeps until each lead time before `diesAt` in `pending`, then until `diesAt`, telling each. */
    const countdown = (diesAt: number, pending: ReadonlyArray<number>) =>
      Effect.gen(function*() {
        for (const lead of pending) {
          yield* at(diesAt - lead)
          yield* lock.withPermits(1)(
            emit(diesAt, new RefreshTokenLifetime.Warning({ provider, environment, diesAt, leadTime: Duration.millis(lead) }))
          )
        }
        if (!options.loginOnDeath) return
        yield* at(diesAt)
        yield* lock.withPermits(1)(
          emit(diesAt, new RefreshTokenLifetime.Died({ provider, environment, diesAt, reason: "expired" }))
        )
      })

    const track = (token: AccessToken.AccessToken): Effect.Effect<void> =>
      lock.withPermits(1)(Effect.gen(function*() {
        if (token !== trackedToken) refusalTold = false
        trackedToken = token
        const diesAt = token.refreshToken === undefined ? undefined : token.refreshTokenExpiresAt
        if (tracked && diesAt === current) return
        tracked = true
        current = diesAt
        latest = undefined
        yield* FiberHandle.clear(timer)
        yield* Metric.set(gauge, diesAt === undefined ? Number.POSITIVE_INFINITY : diesAt / 1000)
        if (diesAt === undefined) return
        const now = yield* Clock.currentTimeMillis
        if (now >= diesAt) {
          if (!options.loginOnDeath) return
          return yield* emit(diesAt, new RefreshTokenLifetime.Died({ provider, environment, diesAt, reason: "expired" }))
        }
        yield* emit(diesAt, new RefreshTokenLifetime.Scheduled({ provider, environment, diesAt }))
        const remaining = diesAt - now
        const reached = leads.filter((lead) => remaining <= lead)
        // A refresh token born inside a lead time (Saxo's hour-long ones, renewed every 20 minutes) is not warned about
        // at that lead time, whether it was issued in this service's lifetime or read from a store (a login by another
        // process); one found already past lead times it was born outside of (the service starting with an older
        // stored token) is warned about once, at the nearest of them. Its death is known from its birth, or from the
        // login for a rule that counts from the login.
        const bornAt = rule?.from === "login"
          ? Math.min(token.authorizedAt ?? token.issuedAt, token.refreshTokenIssuedAt ?? token.issuedAt)
          : token.refreshTokenIssuedAt ?? token.issuedAt
        const missed = reached.filter((lead) => diesAt - bornAt > lead)
        const fresh = (token.refreshTokenIssuedAt ?? token.issuedAt) >= startedAt
        if (!fresh && missed.length > 0) {
          const lead = missed[missed.length - 1]!
          yield* emit(diesAt, new RefreshTokenLifetime.Warning({ provider, environment, diesAt, leadTime: Duration.millis(lead) }))
        }
        yield* FiberHandle.run(timer, countdown(diesAt, leads.filter((lead) => remaining > lead)))
      }))

    const refused = (error: OAuth2Error): Effect.Effect<void> =>
      error._tag !== "LoginRequired" || error.refusedAt === undefined
        ? Effect.void
        : lock.withPermits(1)(Effect.suspend(() => {
          if (refusalTold) return Effect.void
          refusalTold = true
          const diesAt = error.refusedAt!
          current = diesAt
          return FiberHandle.clear(timer).pipe(
            Effect.zipRight(Metric.set(gauge, diesAt / 1000)),
            Effect.zipRight(emit(diesAt, new RefreshTokenLifetime.Died({ provider, environment, diesAt, reason: "refused" })))
          )
        }))

    const observe = (acquisition: Effect.Effect<AccessToken.AccessToken, OAuth2Error>) =>
      acquisition.pipe(Effect.map(stamp), Effect.tapError(refused))

    const events: Stream.Stream<RefreshTokenLifetime.Event> = Stream.unwrapScoped(
      lock.withPermits(1)(
        Effect.map(PubSub.subscribe(pubsub), (queue) =>
          Stream.concat(Stream.fromIterable(latest === undefined ? [] : [latest]), Stream.fromQueue(queue)))
      )
    )

    if (options.onEvent !== undefined) {
      const onEvent = options.onEvent
      // Subscribed now, so that the callback hears every event from the first; it runs in its own fiber, so a slow
      // callback only falls behind (the oldest events are dropped), never holds up the tokens.
      const queue = yield* PubSub.subscribe(pubsub)
      yield* Effect.forkScoped(
        Queue.take(queue).pipe(
          Effect.flatMap((event) =>
            Effect.catchAllCause(
              onEvent(event),
              (cause) => annotate(Effect.logWarning("the onRefreshTokenEvent callback failed", cause))
            )
          ),
          Effect.forever
        )
      )
    }

    const tracker: Tracker = { stamp, afterRefresh, observe, track, events }
    return tracker
  })
