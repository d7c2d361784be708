/**
 * Refresh-token death as an event: a provider rule (`refreshTokenLifetime`) where the server says nothing, the
 * anchors it counts from kept on the token (and in the stores), the death logged once per instant, the gauge, the
 * warnings at lead times under `TestClock`, `Died`, re-arming on a new login, and `statusOf`.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as fc from "effect/FastCheck"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as AccessToken from "../src/AccessToken.js"
import type * as AccessTokens from "../src/AccessTokens.js"
import * as FileTokenStore from "../src/FileTokenStore.js"
import * as Metrics from "../src/Metrics.js"
import * as RefreshTokenLifetime from "../src/RefreshTokenLifetime.js"
import * as TokenStore from "../src/TokenStore.js"
import { accessTokensOver, eventsOf } from "./utils/accessTokensOver.js"
import * as TokenServer from "./utils/tokenServer.js"

const HOUR = 3_600_000
const DAY = 24 * HOUR
const key = { provider: "test", environment: "default", clientId: "client-id", scopes: [] }
const valueOf = (token: AccessToken.AccessToken) => Redacted.value(token.value)
const schwab: RefreshTokenLifetime.Rule = { duration: "7 days", from: "login" }

const tokenAt = (options: {
  readonly value?: string
  readonly issuedAt: number
  readonly lifetime: number
  readonly refreshToken?: string | undefined
  readonly refreshTokenExpiresAt?: number | undefined
  readonly authorizedAt?: number | undefined
}) =>
  new AccessToken.AccessToken({
    value: Redacted.make(options.value ?? "from-login"),
    type: "Bearer",
    issuedAt: options.issuedAt,
    expiresAt: options.issuedAt + options.lifetime,
    scopes: [],
    ...(options.refreshToken === undefined ? {} : { refreshToken: Redacted.make(options.refreshToken) }),
    ...(options.refreshTokenExpiresAt === undefined ? {} : { refreshTokenExpiresAt: options.refreshTokenExpiresAt }),
    ...(options.authorizedAt === undefined ? {} : { authorizedAt: options.authorizedAt }),
    extra: {}
  })

/** A token server, and an `AccessTokens` (stored mode, a memory store) over it, in the test's scope. */
const setup = (script: TokenServer.Script, options: AccessTokens.Options, store?: TokenStore.Service) =>
  Effect.gen(function*() {
    const built = yield* accessTokensOver(script, { acquire: "stored", ...options }, store)
    return { ...built, events: yield* eventsOf(built.tokens) }
  })

/** What an event says, as one comparable string. */
const show = (event: RefreshTokenLifetime.Event): string =>
  event._tag === "Warning"
    ? `Warning ${Duration.format(event.leadTime)} before ${event.diesAt}`
    : event._tag === "Died"
    ? `Died ${event.reason} at ${event.diesAt}`
    : `Scheduled ${event.diesAt}`

/** The events published so far that nobody took yet (after letting the service's fibers run). */
const drain = (events: Queue.Queue<RefreshTokenLifetime.Event>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10; i++) yield* Effect.yieldNow()
    return Chunk.toReadonlyArray(yield* Queue.takeAll(events)).map(show)
  })

/** Moves the `TestClock` to `instant` (epoch ms). */
const adjustTo = (instant: number) =>
  Effect.flatMap(TestClock.currentTimeMillis, (now) => TestClock.adjust(Duration.millis(instant - now)))

const gauge = Metric.taggedWithLabels(Metrics.refreshTokenExpiryTimestamp, [MetricLabel.make("provider", "test")])

describe("RefreshTokenLifetime.apply", () => {
  it.effect("login rule: the death counts from the login, kept by anchors; the earlier of rule and server wins", () =>
    Effect.sync(() => {
      const login = tokenAt({ issuedAt: 1_000, lifetime: HOUR, refreshToken: "rt" })
      const stamped = RefreshTokenLifetime.apply(login, schwab)
      assert.strictEqual(stamped.authorizedAt, 1_000)
      assert.strictEqual(stamped.refreshTokenIssuedAt, 1_000)
      assert.strictEqual(stamped.refreshTokenExpiresAt, 1_000 + 7 * DAY)
      // Idempotent, and the same object when nothing changes.
      assert.strictEqual(RefreshTokenLifetime.apply(stamped, schwab), stamped)
      // A server that says sooner wins; one that says later does not.
      const sooner = tokenAt({ issuedAt: 1_000, lifetime: HOUR, refreshToken: "rt", refreshTokenExpiresAt: 1_000 + DAY })
      assert.strictEqual(RefreshTokenLifetime.apply(sooner, schwab).refreshTokenExpiresAt, 1_000 + DAY)
      const later = tokenAt({ issuedAt: 1_000, lifetime: HOUR, refreshToken: "rt", refreshTokenExpiresAt: 1_000 + 30 * DAY })
      assert.strictEqual(RefreshTokenLifetime.apply(later, schwab).refreshTokenExpiresAt, 1_000 + 7 * DAY)
      // A token that descends from an earlier login counts from that login, not from its own issue.
      const refreshed = tokenAt({ issuedAt: 5 * DAY, lifetime: HOUR, refreshToken: "rt", authorizedAt: 1_000 })
      assert.strictEqual(RefreshTokenLifetime.apply(refreshed, schwab).refreshTokenExpiresAt, 1_000 + 7 * DAY)
      assert.strictEqual(
        RefreshTokenLifetime.apply(refreshed, { duration: "7 days", from: "issue" }).refreshTokenExpiresAt,
        12 * DAY
      )
      // No refresh token: nothing to die, the token itself; no rule: only the anchors.
      const bare = tokenAt({ issuedAt: 1_000, lifetime: HOUR })
      assert.strictEqual(RefreshTokenLifetime.apply(bare, schwab), bare)
      const norule = RefreshTokenLifetime.apply(login, undefined)
      assert.isUndefined(norule.refreshTokenExpiresAt)
      assert.strictEqual(norule.authorizedAt, 1_000)
      assert.strictEqual(Redacted.value(norule.refreshToken!), "rt")
    }))

  it.prop(
    "the death is never after the server's nor after the rule's, equals one of them, and applying twice changes nothing",
    {
      issuedAt: fc.integer({ min: 0, max: 2 ** 40 }),
      since: fc.integer({ min: 0, max: 30 * DAY }),
      server: fc.option(fc.integer({ min: 0, max: 60 * DAY }), { nil: undefined }),
      days: fc.integer({ min: 0, max: 400 }),
      from: fc.constantFrom("login" as const, "issue" as const)
    },
    ({ days, from, issuedAt, server, since }) => {
      const token = tokenAt({
        issuedAt: issuedAt + since,
        lifetime: HOUR,
        refreshToken: "rt",
        authorizedAt: issuedAt,
        refreshTokenExpiresAt: server === undefined ? undefined : issuedAt + since + server
      })
      const rule = { duration: Duration.days(days), from }
      const once = RefreshTokenLifetime.apply(token, rule)
      const byRule = (from === "login" ? issuedAt : issuedAt + since) + days * DAY
      const expected = server === undefined ? byRule : Math.min(byRule, issuedAt + since + server)
      assert.strictEqual(once.refreshTokenExpiresAt, expected)
      assert.strictEqual(RefreshTokenLifetime.apply(once, rule), once)
    }
  )
})

describe("RefreshTokenLifetime.statusOf", () => {
  it.effect("none, unknown, alive (with the nearest lead time reached), dead", () =>
    Effect.sync(() => {
      const now = 10 * DAY
      assert.strictEqual(RefreshTokenLifetime.statusOf(tokenAt({ issuedAt: now, lifetime: HOUR }), now)._tag, "NoRefreshToken")
      assert.strictEqual(
        RefreshTokenLifetime.statusOf(tokenAt({ issuedAt: now, lifetime: HOUR, refreshToken: "rt" }), now)._tag,
        "Unknown"
      )
      const dies = (at: number) => tokenAt({ issuedAt: now, lifetime: HOUR, refreshToken: "rt", refreshTokenExpiresAt: at })
      const far = RefreshTokenLifetime.statusOf(dies(now + 3 * DAY), now)
      assert.isTrue(far._tag === "Alive" && far.warning === undefined && Duration.toMillis(far.remaining) === 3 * DAY)
      const near = RefreshTokenLifetime.statusOf(dies(now + 11 * HOUR), now)
      assert.isTrue(near._tag === "Alive" && Duration.toMillis(near.warning!) === 12 * HOUR)
      const exactly = RefreshTokenLifetime.statusOf(dies(now + HOUR), now)
      assert.isTrue(exactly._tag === "Alive" && Duration.toMillis(exactly.warning!) === HOUR)
      const custom = RefreshTokenLifetime.statusOf(dies(now + 11 * HOUR), now, ["5 hours"])
      assert.isTrue(custom._tag === "Alive" && custom.warning === undefined)
      const dead = RefreshTokenLifetime.statusOf(dies(now), now)
      assert.isTrue(dead._tag === "Dead" && dead.diesAt === now)
    }))

  it.effect("events encode without secrets and decode back", () =>
    Effect.sync(() => {
      const event = new RefreshTokenLifetime.Warning({
        provider: "schwab",
        environment: "production",
        diesAt: 7 * DAY,
        leadTime: Duration.hours(12)
      })
      const encoded = Schema.encodeSync(RefreshTokenLifetime.Event)(event)
      assert.deepStrictEqual(encoded, {
        _tag: "Warning",
        provider: "schwab",
        environment: "production",
        diesAt: 7 * DAY,
        leadTime: 12 * HOUR
      })
      const back = Schema.decodeUnknownSync(RefreshTokenLifetime.Event)(JSON.parse(JSON.stringify(encoded)))
      assert.strictEqual(back.message, event.message)
      assert.include(event.message, "dies within 12h")
      assert.include(event.message, "1970-01-08T00:00:00.000Z")
    }))
})

describe("the anchors in the token stores", () => {
  it.scoped("authorizedAt and refreshTokenIssuedAt survive the FileTokenStore; a token without them still decodes", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "eo2-rt-death-" })
      const secret = Redacted.make(Encoding.encodeBase64(Uint8Array.from({ length: 32 }, (_, i) => i + 3)))
      const store = yield* Effect.orDie(FileTokenStore.make({ path: `${dir}/tokens.json`, key: secret }))
      const token = RefreshTokenLifetime.apply(
        tokenAt({ issuedAt: Date.now(), lifetime: HOUR, refreshToken: "rt", authorizedAt: Date.now() - DAY }),
        schwab
      )
      yield* store.set(key, token)
      const reread = yield* Effect.orDie(FileTokenStore.make({ path: `${dir}/tokens.json`, key: secret }))
      const got = Option.getOrThrow(yield* reread.get(key))
      assert.strictEqual(got.authorizedAt, token.authorizedAt)
      assert.strictEqual(got.refreshTokenIssuedAt, token.refreshTokenIssuedAt)
      assert.strictEqual(got.refreshTokenExpiresAt, token.authorizedAt! + 7 * DAY)
      const { authorizedAt: _a, refreshTokenIssuedAt: _r, ...old } = AccessToken.encode(token)
      const legacy = yield* AccessToken.decodeUnknown(JSON.parse(JSON.stringify(old)))
      assert.isUndefined(legacy.authorizedAt)
      assert.isUndefined(legacy.refreshTokenIssuedAt)
    }).pipe(Effect.provide(NodeContext.layer)))
})

describe("AccessTokens: the refresh token's death as events", () => {
  it.scoped(
    "Schwab's 7 days from the login: refreshes with new refresh tokens do not extend it; each lead time fires once, " +
      "at its instant; then Died, LoginRequired and no request; a new login re-arms",
    () => {
      const lines: Array<string> = []
      return Effect.gen(function*() {
        const heard: Array<string> = []
        // Each refresh brings a new refresh token and a 3-day access token, and says nothing of the refresh token.
        const { events, server, store, tokens } = yield* setup(
          (request) =>
            TokenServer.token({ access_token: `tok-${request.index}`, refresh_token: `rt-${request.index}`, expires_in: 3 * 86400 }),
          {
            refreshTokenLifetime: schwab,
            onRefreshTokenEvent: (event) => Effect.sync(() => void heard.push(show(event)))
          }
        )
        const login = tokenAt({ issuedAt: 0, lifetime: 3 * DAY, refreshToken: "rt-login" })
        yield* tokens.set(login)
        const D = 7 * DAY
        assert.deepStrictEqual(yield* drain(events), [`Scheduled ${D}`])
        assert.strictEqual(Option.getOrThrow(yield* store.get(key)).refreshTokenExpiresAt, D, "stored with the token")
        const gaugeState = yield* Metric.value(gauge)
        assert.strictEqual(gaugeState.value, D / 1000)

        // The first background refresh (1 minute before expiry): a new refresh token, the same death.
        yield* adjustTo(3 * DAY - 60_000)
        yield* server.awaitRequests(1)
        assert.strictEqual((yield* server.last).form.refresh_token, "rt-login")
        yield* adjustTo(3 * DAY + 1_000)
        const first = yield* tokens.get
        assert.strictEqual(valueOf(first), "tok-0")
        assert.strictEqual(Redacted.value(first.refreshToken!), "rt-0")
        assert.strictEqual(first.refreshTokenExpiresAt, D, "a refresh does not extend a login-time death")
        assert.strictEqual(first.authorizedAt, 0)
        assert.deepStrictEqual(yield* drain(events), [], "the same death is not announced again")

        // 48 hours before: not a millisecond sooner.
        yield* adjustTo(D - 48 * HOUR - 1)
        assert.deepStrictEqual(yield* drain(events), [])
        yield* adjustTo(D - 48 * HOUR)
        assert.deepStrictEqual(yield* drain(events), [`Warning 2d before ${D}`])

        // The second refresh (tok-0 expires at 6 days - 60 s).
        yield* adjustTo(6 * DAY - 120_000)
        yield* server.awaitRequests(2)
        assert.strictEqual((yield* server.last).form.refresh_token, "rt-0")
        yield* adjustTo(6 * DAY - 59_000)
        const second = yield* tokens.get
        assert.strictEqual(valueOf(second), "tok-1")
        assert.strictEqual(second.refreshTokenExpiresAt, D)
        assert.deepStrictEqual(yield* drain(events), [])

        yield* adjustTo(D - 12 * HOUR - 1)
        assert.deepStrictEqual(yield* drain(events), [])
        yield* adjustTo(D - 12 * HOUR)
        assert.deepStrictEqual(yield* drain(events), [`Warning 12h before ${D}`])
        yield* adjustTo(D - HOUR - 1)
        assert.deepStrictEqual(yield* drain(events), [])
        yield* adjustTo(D - HOUR)
        assert.deepStrictEqual(yield* drain(events), [`Warning 1h before ${D}`])
        yield* adjustTo(D - 1)
        assert.deepStrictEqual(yield* drain(events), [])
        yield* adjustTo(D)
        assert.deepStrictEqual(yield* drain(events), [`Died expired at ${D}`])

        // tok-1 lives until 9 days - 120 s, then nothing can renew it: no request, LoginRequired.
        yield* adjustTo(10 * DAY)
        assert.strictEqual(yield* server.count, 2, "no token request after the death")
        const error = yield* Effect.flip(tokens.get)
        assert.strictEqual(error._tag, "LoginRequired")
        assert.strictEqual((yield* Effect.flip(tokens.refresh))._tag, "LoginRequired")
        assert.strictEqual(yield* server.count, 2)
        assert.deepStrictEqual(yield* drain(events), [])

        // A new login re-arms: a new death, its warnings again.
        const relogin = tokenAt({ value: "relogin", issuedAt: 10 * DAY, lifetime: 3 * DAY, refreshToken: "rt-relogin" })
        yield* tokens.set(relogin)
        assert.strictEqual(valueOf(yield* tokens.get), "relogin")
        const D2 = 17 * DAY
        assert.deepStrictEqual(yield* drain(events), [`Scheduled ${D2}`])
        assert.strictEqual((yield* Metric.value(gauge)).value, D2 / 1000)
        // Its first refresh, then the 48-hour warning of the new death.
        yield* adjustTo(13 * DAY - 60_000)
        yield* server.awaitRequests(3)
        yield* adjustTo(13 * DAY + 1_000)
        assert.strictEqual(valueOf(yield* tokens.get), "tok-2")
        yield* adjustTo(D2 - 48 * HOUR)
        assert.deepStrictEqual(yield* drain(events), [`Warning 2d before ${D2}`])

        // The callback heard the same, in order; the death was logged once per instant, with no secret.
        assert.deepStrictEqual(heard, [
          `Scheduled ${D}`,
          `Warning 2d before ${D}`,
          `Warning 12h before ${D}`,
          `Warning 1h before ${D}`,
          `Died expired at ${D}`,
          `Scheduled ${D2}`,
          `Warning 2d before ${D2}`
        ])
        const scheduledLines = lines.filter((line) => line.includes("refresh token dies at"))
        assert.strictEqual(scheduledLines.length, 2)
        assert.include(scheduledLines[0], "INFO The test (default) refresh token dies at 1970-01-08T00:00:00.000Z")
        for (const line of lines) {
          assert.notInclude(line, "rt-")
          assert.notInclude(line, "tok-")
        }
        assert.isTrue(lines.some((line) => line.startsWith("WARN") && line.includes("dies within 12h")))
        assert.isTrue(lines.some((line) => line.startsWith("ERROR") && line.includes("refresh token expired at")))
      }).pipe(
        Effect.provide(
          Logger.replace(
            Logger.defaultLogger,
            Logger.make(({ logLevel, message }) => {
              const text = Array.isArray(message) ? message.map(String).join(" ") : String(message)
              // Only the lines about the refresh token's death (the rest is the renewal's bookkeeping).
              if (text.includes("refresh token")) lines.push(`${logLevel.label} ${text}`)
            })
          )
        ),
        Logger.withMinimumLogLevel(LogLevel.All)
      )
    }
  )

  it.scoped("a service started inside lead times warns once, at the nearest; then the rest in turn", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust("30 days")
      const now = 30 * DAY
      const store = yield* TokenStore.makeMemory
      // Stored by an earlier run: the login was 6 days 14 hours ago; the access token is 5 hours old.
      yield* store.set(
        key,
        tokenAt({ issuedAt: now - 5 * HOUR, lifetime: DAY, refreshToken: "rt-stored", authorizedAt: now - 6 * DAY - 14 * HOUR })
      )
      const { events, server, tokens } = yield* setup(TokenServer.token(), { refreshTokenLifetime: schwab }, store)
      const D = now + 10 * HOUR
      assert.strictEqual(valueOf(yield* tokens.get), "from-login")
      assert.deepStrictEqual(yield* drain(events), [`Scheduled ${D}`, `Warning 12h before ${D}`])
      yield* adjustTo(D - HOUR)
      assert.deepStrictEqual(yield* drain(events), [`Warning 1h before ${D}`])
      yield* adjustTo(D)
      assert.deepStrictEqual(yield* drain(events), [`Died expired at ${D}`])
      // A late subscriber hears the latest event first.
      const late = yield* tokens.refreshTokenEvents.pipe(Stream.take(1), Stream.runCollect)
      assert.deepStrictEqual(Chunk.toReadonlyArray(late).map(show), [`Died expired at ${D}`])
      yield* adjustTo(now + 2 * DAY)
      assert.strictEqual((yield* Effect.flip(tokens.get))._tag, "LoginRequired")
      assert.strictEqual(yield* server.count, 0)
    }))

  it.scoped("a refresh token born inside a lead time (Saxo's hour-long ones) is not warned about at it", () =>
    Effect.gen(function*() {
      // Saxo-like: every refresh brings a new refresh token that lives an hour, and says so.
      const { events, server, tokens } = yield* setup(
        (request) =>
          TokenServer.token({
            access_token: `tok-${request.index}`,
            refresh_token: `rt-${request.index}`,
            expires_in: 1200,
            refresh_token_expires_in: 3600
          }),
        {}
      )
      yield* tokens.set(tokenAt({ issuedAt: 0, lifetime: 1_200_000, refreshToken: "rt-login", refreshTokenExpiresAt: HOUR }))
      assert.deepStrictEqual(yield* drain(events), [`Scheduled ${HOUR}`])
      // The background refresh at 19 minutes: a new refresh token, a new death, still no warning.
      yield* adjustTo(19 * 60_000)
      yield* server.awaitRequests(1)
      yield* adjustTo(20 * 60_000)
      const renewed = yield* tokens.get
      assert.strictEqual(renewed.refreshTokenExpiresAt, 19 * 60_000 + HOUR)
      assert.strictEqual(renewed.refreshTokenIssuedAt, 19 * 60_000)
      assert.deepStrictEqual(yield* drain(events), [`Scheduled ${19 * 60_000 + HOUR}`])
    }))

  it.scoped("the server's lifetime and the login rule: the earlier wins, and a sliding server lifetime still slides", () =>
    Effect.gen(function*() {
      // Each refresh: a new refresh token said to live 1 day, under a 7-day rule from the login.
      const { events, tokens } = yield* setup(
        (request) =>
          TokenServer.token({
            access_token: `tok-${request.index}`,
            refresh_token: `rt-${request.index}`,
            expires_in: 3 * 86400,
            refresh_token_expires_in: 86400
          }),
        { refreshTokenLifetime: schwab, refreshTokenWarnings: [] }
      )
      yield* tokens.set(tokenAt({ issuedAt: 0, lifetime: 3 * DAY, refreshToken: "rt-login" }))
      yield* adjustTo(12 * HOUR)
      const a = yield* tokens.refresh
      assert.strictEqual(a.refreshTokenExpiresAt, 12 * HOUR + DAY, "the server's (earlier)")
      yield* adjustTo(30 * HOUR)
      const b = yield* tokens.refresh
      assert.strictEqual(b.refreshTokenExpiresAt, 30 * HOUR + DAY, "slides with the server")
      yield* adjustTo(6 * DAY + 12 * HOUR)
      const c = yield* tokens.refresh.pipe(Effect.either)
      // 30 h + 1 day had passed by then: the refresh token was dead, no request; log in again.
      assert.isTrue(c._tag === "Left" && c.left._tag === "LoginRequired")
      assert.deepStrictEqual(yield* drain(events), [
        `Scheduled ${7 * DAY}`,
        `Scheduled ${12 * HOUR + DAY}`,
        `Scheduled ${30 * HOUR + DAY}`,
        `Died expired at ${30 * HOUR + DAY}`
      ])
    }))

  it.scoped("the login rule caps a generous server: the refresh keeps the login's death", () =>
    Effect.gen(function*() {
      const { tokens } = yield* setup(
        (request) =>
          TokenServer.token({
            access_token: `tok-${request.index}`,
            refresh_token: `rt-${request.index}`,
            refresh_token_expires_in: 90 * 86400
          }),
        { refreshTokenLifetime: schwab, refreshTokenWarnings: [] }
      )
      yield* tokens.set(tokenAt({ issuedAt: 0, lifetime: 6 * DAY, refreshToken: "rt-login" }))
      yield* adjustTo(5 * DAY)
      const refreshed = yield* tokens.refresh
      assert.strictEqual(refreshed.refreshTokenExpiresAt, 7 * DAY)
    }))

  it.scoped("the issue rule: the same refresh token keeps its death, a new one starts a new lifetime", () =>
    Effect.gen(function*() {
      const { tokens } = yield* setup(
        [
          (request) => TokenServer.token({ access_token: `tok-${request.index}`, expires_in: 5 * 86400 }),
          (request) =>
            TokenServer.token({ access_token: `tok-${request.index}`, refresh_token: "rt-rotated", expires_in: 5 * 86400 })
        ],
        { refreshTokenLifetime: { duration: "30 days", from: "issue" }, refreshTokenWarnings: [] }
      )
      yield* tokens.set(tokenAt({ issuedAt: 0, lifetime: 5 * DAY, refreshToken: "rt-login" }))
      yield* adjustTo(2 * DAY)
      const same = yield* tokens.refresh
      assert.strictEqual(Redacted.value(same.refreshToken!), "rt-login")
      assert.strictEqual(same.refreshTokenExpiresAt, 30 * DAY)
      assert.strictEqual(same.refreshTokenIssuedAt, 0)
      yield* adjustTo(3 * DAY)
      const rotated = yield* tokens.refresh
      assert.strictEqual(Redacted.value(rotated.refreshToken!), "rt-rotated")
      assert.strictEqual(rotated.refreshTokenExpiresAt, 33 * DAY)
      assert.strictEqual(rotated.authorizedAt, 0)
    }))

  it.scoped("client_credentials: the death is told and exported, not warned about, and costs a grant, not a login", () =>
    Effect.gen(function*() {
      const { events, server, tokens } = yield* setup(
        (request) => TokenServer.token({ access_token: `tok-${request.index}`, expires_in: 86400 }),
        { acquire: "client_credentials", refreshTokenLifetime: schwab }
      )
      yield* tokens.set(tokenAt({ issuedAt: 0, lifetime: 8 * DAY, refreshToken: "rt-login" }))
      assert.deepStrictEqual(yield* drain(events), [`Scheduled ${7 * DAY}`])
      assert.strictEqual((yield* Metric.value(gauge)).value, 7 * DAY / 1000)
      yield* adjustTo(7 * DAY + HOUR)
      assert.deepStrictEqual(yield* drain(events), [], "no warning, no Died: a grant replaces it")
      // The access token expires at 8 days: its renewal is a client-credentials grant, not the dead refresh token.
      yield* adjustTo(8 * DAY - 60_000)
      yield* server.awaitRequests(1)
      const request = yield* server.last
      assert.strictEqual(request.form.grant_type, "client_credentials")
      yield* adjustTo(8 * DAY)
      assert.strictEqual(valueOf(yield* tokens.get), "tok-0")
    }))

  it.scoped("a refresh token the server refuses is Died (refused), told once", () =>
    Effect.gen(function*() {
      const { events, server, tokens } = yield* setup(TokenServer.oauthError("invalid_grant"), {})
      yield* tokens.set(tokenAt({ issuedAt: 0, lifetime: HOUR, refreshToken: "rt-revoked" }))
      assert.deepStrictEqual(yield* drain(events), [], "a refresh token whose lifetime nobody said: nothing scheduled")
      assert.strictEqual((yield* Metric.value(gauge)).value, Number.POSITIVE_INFINITY)
      yield* adjustTo(2 * HOUR)
      const error = yield* Effect.flip(tokens.get)
      assert.strictEqual(error._tag, "LoginRequired")
      assert.isAtLeast(yield* server.count, 1)
      yield* Effect.flip(tokens.get)
      const died = yield* drain(events)
      assert.strictEqual(died.length, 1)
      // Under TestClock a retry after a timed-out first attempt may land on a jittered (fractional) instant.
      assert.match(died[0]!, /^Died refused at \d+(\.\d+)?$/)
    }))
})
