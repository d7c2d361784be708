/**
 * `AccessTokens.makeTest` / `layerTest` and the refresh token's death: the events a bot's pager wiring listens to,
 * derived from the tokens the double serves under `TestClock`, or published by the test.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as AccessToken from "../src/AccessToken.js"
import * as AccessTokens from "../src/AccessTokens.js"
import * as RefreshTokenLifetime from "../src/RefreshTokenLifetime.js"

const DAY = 86_400_000
const HOUR = 3_600_000

/** What a bot's pager sees: each event as `tag` or `tag:lead-hours`. */
const label = (event: RefreshTokenLifetime.Event) =>
  event._tag === "Warning" ? `Warning:${Duration.toHours(event.leadTime)}h` : event._tag

/** A bot's pager wiring: every refresh-token event of the `AccessTokens` in context, paged in order. */
const pager = (pages: Ref.Ref<ReadonlyArray<string>>) =>
  Effect.flatMap(AccessTokens.AccessTokens, (tokens) =>
    Stream.runForEach(tokens.refreshTokenEvents, (event) => Ref.update(pages, (all) => [...all, label(event)])))

/** Lets the other fibers (the stream's) run: a fixed number of yields, so that "nothing more happened" means it. */
const settle = Effect.repeatN(Effect.yieldNow(), 200)

/** Yields until `done` holds, at most 2000 times (then fails, rather than hang). */
const waitFor = (done: () => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; i < 2000 && !done(); i++) yield* Effect.yieldNow()
    if (!done()) return yield* Effect.dieMessage("the expected events never came")
  })

/** Moves the clock in steps, letting the stream's fibers run between them. */
const advance = (...steps: ReadonlyArray<Duration.DurationInput>) =>
  Effect.forEach(steps, (step) => Effect.zipRight(TestClock.adjust(step), settle), { discard: true })

describe("AccessTokens.layerTest: refresh-token events", () => {
  it.scoped("a rule's death (Schwab's 7 days from the login): Scheduled, a Warning at each lead time, Died; then LoginRequired", () =>
    Effect.gen(function*() {
      const pages = yield* Ref.make<ReadonlyArray<string>>([])
      const fiber = yield* Effect.fork(pager(pages))
      yield* settle
      const tokens = yield* AccessTokens.AccessTokens
      const first = yield* tokens.get
      assert.isDefined(first.refreshToken)
      assert.strictEqual(first.refreshTokenExpiresAt, first.authorizedAt! + 7 * DAY)
      yield* settle
      assert.deepStrictEqual(yield* Ref.get(pages), ["Scheduled"])

      // A refresh a day later: a new access and refresh token, the same login, so the same death: nothing new told.
      yield* advance("1 day")
      const refreshed = yield* tokens.get
      assert.isFalse(AccessToken.sameValue(refreshed, first))
      assert.notStrictEqual(Redacted.value(refreshed.refreshToken!), Redacted.value(first.refreshToken!))
      assert.strictEqual(refreshed.authorizedAt, first.authorizedAt)
      assert.strictEqual(refreshed.refreshTokenExpiresAt, first.refreshTokenExpiresAt)
      yield* settle
      assert.deepStrictEqual(yield* Ref.get(pages), ["Scheduled"])

      yield* advance("3 days", "23 hours")
      assert.deepStrictEqual(yield* Ref.get(pages), ["Scheduled"], "nothing before the first lead time")
      yield* advance("1 hour")
      assert.deepStrictEqual(yield* Ref.get(pages), ["Scheduled", "Warning:48h"])
      yield* advance("36 hours")
      assert.deepStrictEqual(yield* Ref.get(pages), ["Scheduled", "Warning:48h", "Warning:12h"])
      yield* advance("11 hours")
      assert.deepStrictEqual(yield* Ref.get(pages), ["Scheduled", "Warning:48h", "Warning:12h", "Warning:1h"])
      yield* advance("59 minutes")
      assert.deepStrictEqual((yield* Ref.get(pages)).length, 4, "nothing before the death itself")
      yield* advance("1 minute")
      assert.deepStrictEqual(yield* Ref.get(pages), ["Scheduled", "Warning:48h", "Warning:12h", "Warning:1h", "Died"])

      // Dead: the access token expired long ago, and a refresh is refused as the real service refuses it.
      const error = yield* Effect.flip(tokens.get)
      assert.strictEqual(error._tag, "LoginRequired")
      assert.strictEqual((error as { readonly refreshTokenExpiredAt?: number }).refreshTokenExpiredAt, first.refreshTokenExpiresAt)
      assert.isFalse(error.retryable)
      yield* Fiber.interrupt(fiber)
    }).pipe(
      Effect.provide(AccessTokens.layerTest({
        provider: "schwab",
        environment: "production",
        script: ["login", "refreshed"],
        lifetime: "30 minutes",
        refreshTokenLifetime: { duration: "7 days", from: "login" }
      }))
    ))

  it.effect("own lead times; a new login (a scripted token) replaces the countdown; a token without one ends it", () =>
    Effect.gen(function*() {
      const login = (diesIn: number) =>
        Effect.map(TestClock.currentTimeMillis, (now) =>
          new AccessToken.AccessToken({
            value: Redacted.make(`login-${diesIn}`),
            type: "Bearer",
            issuedAt: now,
            expiresAt: now + HOUR,
            scopes: [],
            refreshToken: Redacted.make("rt"),
            refreshTokenExpiresAt: now + diesIn,
            extra: {}
          }))
      const tokens = yield* AccessTokens.makeTest({ refreshTokenWarnings: ["6 hours", "72 hours"] })
      const events: Array<RefreshTokenLifetime.Event> = []
      const fiber = yield* Effect.fork(Stream.runForEach(tokens.refreshTokenEvents, (e) => Effect.sync(() => events.push(e))))
      yield* settle

      // Dies in 2 days: already inside 72h (told at once, with Scheduled), 6h still to come.
      yield* tokens.set(yield* login(2 * DAY))
      yield* settle
      assert.deepStrictEqual(events.map(label), ["Scheduled", "Warning:72h"])
      assert.strictEqual(events[0]!.provider, "test")
      assert.strictEqual(events[0]!.environment, "test")

      // A new login: the old countdown stops (no 6h warning for the old death), the new one starts.
      yield* advance("1 day")
      const second = yield* login(10 * DAY)
      yield* tokens.set(second)
      yield* advance("1 day", "1 day")
      assert.deepStrictEqual(events.map(label), ["Scheduled", "Warning:72h", "Scheduled"])
      assert.strictEqual(events[2]!.diesAt, second.refreshTokenExpiresAt)

      // A token without a refresh token: nothing to count down.
      yield* tokens.set(new AccessToken.AccessToken({ ...second, refreshToken: undefined }, { disableValidation: true }))
      yield* advance("10 days")
      assert.strictEqual(events.length, 3)
      yield* Fiber.interrupt(fiber)
    }))

  it.effect("published events reach the stream: the latest to a run started later, then each new one", () =>
    Effect.gen(function*() {
      const tokens = yield* AccessTokens.makeTest()
      // Scripted tokens without a refresh token tell nothing of their own.
      yield* tokens.get
      const diesAt = Date.UTC(2027, 0, 1)
      const died = new RefreshTokenLifetime.Died({ provider: "p", environment: "e", diesAt, reason: "refused" })
      yield* tokens.publishRefreshTokenEvent(
        new RefreshTokenLifetime.Warning({ provider: "p", environment: "e", diesAt, leadTime: Duration.hours(1) })
      )
      const seen: Array<RefreshTokenLifetime.Event> = []
      const fiber = yield* Effect.fork(Stream.runForEach(tokens.refreshTokenEvents, (e) => Effect.sync(() => seen.push(e))))
      yield* waitFor(() => seen.length === 1)
      yield* tokens.publishRefreshTokenEvent(died)
      yield* waitFor(() => seen.length === 2)
      yield* settle
      assert.deepStrictEqual(seen.map(label), ["Warning:1h", "Died"])
      assert.strictEqual(seen[1], died)
      assert.strictEqual((seen[1] as RefreshTokenLifetime.Died).reason, "refused")
      yield* Fiber.interrupt(fiber)
    }))

  it.effect("without a rule, string steps stay as they were: no refresh token, no event, served after any time", () =>
    Effect.gen(function*() {
      const tokens = yield* AccessTokens.makeTest({ lifetime: "1 hour" })
      const events: Array<RefreshTokenLifetime.Event> = []
      const fiber = yield* Effect.fork(Stream.runForEach(tokens.refreshTokenEvents, (e) => Effect.sync(() => events.push(e))))
      const token = yield* tokens.get
      assert.isUndefined(token.refreshToken)
      yield* advance("30 days")
      assert.strictEqual(Redacted.value((yield* tokens.get).value), "test-access-token")
      assert.strictEqual(events.length, 0)
      assert.strictEqual(yield* tokens.acquisitions, 2)
      yield* Fiber.interrupt(fiber)
    }))
})
