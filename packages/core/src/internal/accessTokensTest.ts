/**
 * The test double of `AccessTokens`: a scripted token with no HTTP, and the refresh-token events a test needs
 * (derived from the tokens it serves, under the `Clock`, and published by the test itself).
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as AccessToken from "../AccessToken.js"
import { LoginRequired, type OAuth2Error } from "../OAuth2Error.js"
import * as RefreshTokenLifetime from "../RefreshTokenLifetime.js"

import type { Service, TestControls, TestOptions } from "../AccessTokens.js"

/** Sleeps until `instant` (epoch milliseconds) by the `Clock`; at once when it has passed. */
const until = (instant: number) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => now < instant ? Effect.sleep(Duration.millis(instant - now)) : Effect.void)

export const makeTest = (options: TestOptions): Effect.Effect<Service & TestControls> =>
  Effect.gen(function*() {
    const script = options.script === undefined || options.script.length === 0 ? ["test-access-token"] : options.script
    const lifetime = Duration.toMillis(Duration.decode(options.lifetime ?? Duration.hours(1)))
    const scopes = options.scopes ?? []
    const provider = options.provider ?? "test"
    const environment = options.environment ?? "test"
    const rule = options.refreshTokenLifetime
    const leads = RefreshTokenLifetime.leadTimes(options.refreshTokenWarnings).map(Duration.toMillis)
    const cached = yield* SubscriptionRef.make<AccessToken.AccessToken | undefined>(undefined)
    /** The token served last, whatever happened to the cache since: what a string step refreshes. */
    const served = yield* Ref.make<AccessToken.AccessToken | undefined>(undefined)
    const count = yield* Ref.make(0)
    /** The events the test published: the latest is told to each new run of the stream, then each new one. */
    const published = yield* SubscriptionRef.make<RefreshTokenLifetime.Event | undefined>(undefined)

    /** A string step: a new access token, and with a rule, a refresh of the last one (a new refresh token). */
    const fromString = (value: string) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const fields = {
          value: Redacted.make(value),
          type: "Bearer",
          issuedAt: now,
          expiresAt: now + lifetime,
          scopes,
          extra: {}
        } as const
        if (rule === undefined) return new AccessToken.AccessToken(fields)
        const last = yield* Ref.get(served)
        const previous = last?.refreshToken === undefined ? undefined : last
        if (previous !== undefined && previous.isRefreshTokenExpiredAt(now)) {
          return yield* new LoginRequired({
            provider,
            source: "token-endpoint",
            refreshTokenExpiredAt: previous.refreshTokenExpiresAt,
            accessTokenExpiresAt: previous.expiresAt
          })
        }
        return RefreshTokenLifetime.apply(
          new AccessToken.AccessToken({
            ...fields,
            refreshToken: Redacted.make(`${value}.refresh`),
            // A refresh keeps the login it descends from; the first token is the login.
            authorizedAt: previous?.authorizedAt ?? now,
            refreshTokenIssuedAt: now
          }),
          rule
        )
      })

    const next: Effect.Effect<AccessToken.AccessToken, OAuth2Error> = Effect.gen(function*() {
      const index = yield* Ref.getAndUpdate(count, (n) => n + 1)
      const step = script[Math.min(index, script.length - 1)]!
      if (step instanceof AccessToken.AccessToken || typeof step === "string") {
        const token = typeof step === "string" ? yield* fromString(step) : step
        yield* Ref.set(served, token)
        yield* SubscriptionRef.set(cached, token)
        return token
      }
      return yield* Effect.fail(step)
    })
    const get = Effect.flatMap(SubscriptionRef.get(cached), (token) =>
      token === undefined
        ? next
        : Effect.flatMap(Clock.currentTimeMillis, (now) => (now < token.expiresAt ? Effect.succeed(token) : next)))
    const invalidate = (token: AccessToken.AccessToken) =>
      SubscriptionRef.update(cached, (c) => (c !== undefined && AccessToken.sameValue(c, token) ? undefined : c))

    /** What is told of one death instant, from the moment a subscriber learns of it. */
    const timeline = (diesAt: number): Stream.Stream<RefreshTokenLifetime.Event> =>
      Stream.unwrap(Effect.map(Clock.currentTimeMillis, (now) => {
        const died = new RefreshTokenLifetime.Died({ provider, environment, diesAt, reason: "expired" })
        if (now >= diesAt) return Stream.make(died)
        const warning = (lead: number) =>
          new RefreshTokenLifetime.Warning({ provider, environment, diesAt, leadTime: Duration.millis(lead) })
        const remaining = diesAt - now
        const reached = leads.filter((lead) => remaining <= lead)
        const pending = leads.filter((lead) => remaining > lead)
        return Stream.concat(
          Stream.fromIterable<RefreshTokenLifetime.Event>([
            new RefreshTokenLifetime.Scheduled({ provider, environment, diesAt }),
            ...(reached.length === 0 ? [] : [warning(reached[reached.length - 1]!)])
          ]),
          Stream.concat(
            Stream.mapEffect(Stream.fromIterable(pending), (lead) => Effect.as(until(diesAt - lead), warning(lead))),
            Stream.fromEffect(Effect.as(until(diesAt), died))
          )
        )
      }))

    // The tokens served, as their deaths: each new one replaces the countdown of the one before.
    const derived = cached.changes.pipe(
      Stream.filter((token): token is AccessToken.AccessToken => token !== undefined),
      Stream.map((token) => (token.refreshToken === undefined ? undefined : token.refreshTokenExpiresAt)),
      Stream.changes,
      Stream.flatMap((diesAt) => (diesAt === undefined ? Stream.empty : timeline(diesAt)), { switch: true })
    )

    return {
      provider,
      get,
      refresh: next,
      invalidate,
      revoke: SubscriptionRef.set(cached, undefined),
      current: Effect.map(SubscriptionRef.get(cached), Option.fromNullable),
      set: (token) => Effect.zipRight(Ref.set(served, token), SubscriptionRef.set(cached, token)),
      refreshTokenEvents: Stream.merge(
        derived,
        Stream.filter(published.changes, (event): event is RefreshTokenLifetime.Event => event !== undefined)
      ),
      acquisitions: Ref.get(count),
      publishRefreshTokenEvent: (event) => SubscriptionRef.set(published, event)
    }
  })
