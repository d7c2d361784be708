import type * as AccessToken from "@effect-oauth2/core/AccessToken"
import * as FileTokenStore from "@effect-oauth2/core/FileTokenStore"
import * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import type * as RefreshTokenLifetime from "@effect-oauth2/core/RefreshTokenLifetime"
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { randomBytes } from "node:crypto"
import { Brokerage, TradeStation } from "../src/index.js"
import { browser, expired, start, type Visit } from "./utils.js"

const HOUR = 3_600_000
const valueOf = (token: AccessToken.AccessToken) => Redacted.value(token.value)
const refreshOf = (token: AccessToken.AccessToken) => Redacted.value(token.refreshToken!)

/** Moves the `TestClock` to `instant` (epoch ms). */
const adjustTo = (instant: number) =>
  Effect.flatMap(TestClock.currentTimeMillis, (now) => TestClock.adjust(Duration.millis(instant - now)))

/** Waits on real time, a bounded number of times, until `done` holds (a background refresh doing loopback I/O). */
const eventually = <E, R>(done: Effect.Effect<boolean, E, R>, what: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 1000; i++) {
      if (yield* done) return
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 3)))
    }
    return yield* Effect.dieMessage(`timed out waiting for ${what}`)
  })

const show = (event: RefreshTokenLifetime.Event): string =>
  event._tag === "Warning"
    ? `Warning ${Duration.format(event.leadTime)} before ${event.diesAt}`
    : event._tag === "Died"
    ? `Died ${event.reason} at ${event.diesAt}`
    : `Scheduled ${event.diesAt}`

/** The events heard so far, after letting the service's fibers run. */
const heardSoFar = (heard: Array<string>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
    return heard.splice(0)
  })

describe("TradeStation: the login", () => {
  it.scoped("logs in end to end: audience and offline_access asked, the bare callback URL, stored where the layer reads", () =>
    Effect.gen(function*() {
      const s = yield* start()
      const token = yield* s.login("demo")
      const authorize = new URL(s.visits[0]!.authorizeUrl)
      assert.strictEqual(authorize.origin + authorize.pathname, `${s.emulator.brokerUrls.tradestation.signin}/authorize`)
      assert.strictEqual(authorize.searchParams.get("audience"), "https://api.tradestation.com")
      assert.strictEqual(authorize.searchParams.get("scope"), "openid offline_access MarketData ReadAccount Trade")
      assert.strictEqual(authorize.searchParams.get("response_type"), "code")
      assert.strictEqual(authorize.searchParams.get("client_id"), s.keys.demo.clientId)
      // Auth0 compares the callback URL byte for byte with the key's list: the bare origin, no trailing slash.
      assert.strictEqual(authorize.searchParams.get("redirect_uri"), s.callbackUrl)
      assert.isNull(authorize.searchParams.get("code_challenge"), "a Regular Web key uses no PKCE")
      assert.strictEqual(s.visits[0]!.callbackStatus, 200)

      assert.isDefined(token.refreshToken, "offline_access brings a refresh token")
      assert.isUndefined(token.refreshTokenExpiresAt, "without rotation the refresh token never expires")
      assert.isTrue(token.expiresAt - token.issuedAt <= 1_200_000)
      const stored = yield* s.store.get(yield* TradeStation.storeKey(s.options("demo")))
      assert.strictEqual(valueOf(Option.getOrThrow(stored)), valueOf(token))

      const ctx = yield* s.build("demo")
      const accounts = yield* Context.get(ctx, Brokerage.Brokerage).accounts
      assert.deepStrictEqual(accounts.map((a) => [a.AccountID, a.Currency, a.AccountType]), [["11111111", "USD", "Margin"]])
      assert.deepStrictEqual((accounts[0]!.AccountDetail as { OptionApprovalLevel: number }).OptionApprovalLevel, 2)
      assert.deepStrictEqual(
        (yield* s.emulator.tokenRequests).map((r) => [r.endpoint, r.grantType, r.clientId, r.status]),
        [["tradestation.token", "authorization_code", s.keys.demo.clientId, 200]],
        "the stored token served the call: no other token request"
      )
    }))

  it.scoped("a callback URL off the listener's port, or not a loopback http URL, fails before anything is shown", () =>
    Effect.gen(function*() {
      const s = yield* start()
      const shown: Array<string> = []
      const attempt = (callbackUrl: string) =>
        TradeStation.login(s.options("demo", { callbackUrl }), {
          onAuthorizeUrl: (url) => Effect.sync(() => void shown.push(url))
        }).pipe(
          Effect.provideService(HttpServer.HttpServer, s.callback.server),
          Effect.provideService(TokenStore.TokenStore, s.store),
          Effect.provide(s.http),
          Effect.flip
        )
      const otherPort = s.callback.port === 31022 ? 31023 : 31022
      const wrongPort = yield* attempt(`http://localhost:${otherPort}`)
      assert.strictEqual(wrongPort._tag, "InvalidConfiguration")
      assert.include(wrongPort.message, `--port ${otherPort}`)
      for (const bad of ["https://localhost:31022", "http://example.com:31022", "http://localhost", "http://localhost:31022/?x=1"]) {
        const error = yield* attempt(bad)
        assert.strictEqual(error._tag, "InvalidConfiguration", bad)
        assert.include(error.message, "loopback http URL")
      }
      assert.deepStrictEqual(shown, [])
      assert.deepStrictEqual(yield* s.emulator.tokenRequests, [])
    }))

  it.scoped("a callback URL with a path is sent as written, and the listener answers there", () =>
    Effect.gen(function*() {
      const s = yield* start()
      const withPath = `${s.callbackUrl}/tradestation/callback`
      const fiber = yield* Effect.fork(s.login("demo", { callbackUrl: withPath }))
      yield* eventually(Effect.sync(() => s.visits.length === 1), "the browser")
      // Not on the key's list: Auth0 answers with its error page and never comes back, so the login times out.
      assert.strictEqual(new URL(s.visits[0]!.authorizeUrl).searchParams.get("redirect_uri"), withPath)
      assert.strictEqual(s.visits[0]!.authorizeStatus, 400)
      assert.isUndefined(s.visits[0]!.callbackUrl)
      yield* TestClock.adjust("31 seconds")
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "AuthorizationFailed")
      if (error._tag === "AuthorizationFailed") assert.strictEqual(error.reason, "timeout")
      // Registered, the same URL works: the listener answers at its path.
      const registered = yield* start({}, ["/tradestation/callback"])
      const token = yield* registered.login("demo", { callbackUrl: `${registered.callbackUrl}/tradestation/callback` })
      assert.isDefined(token.refreshToken)
      assert.strictEqual(registered.visits[0]!.callbackStatus, 200)
    }))

  it.scoped("openid is always asked; offline_access too unless turned off, and without it no refresh token comes", () =>
    Effect.gen(function*() {
      const s = yield* start()
      yield* s.login("demo", { scopes: ["ReadAccount"] })
      assert.strictEqual(new URL(s.visits[0]!.authorizeUrl).searchParams.get("scope"), "openid offline_access ReadAccount")
      const bare = yield* s.login("demo", { scopes: ["ReadAccount"], offlineAccess: false })
      assert.strictEqual(new URL(s.visits[1]!.authorizeUrl).searchParams.get("scope"), "openid ReadAccount")
      assert.isUndefined(bare.refreshToken)
      // The definition alone (core's make) refuses scopes without openid, which TradeStation requires.
      const refused = yield* Effect.flip(
        OAuth2Provider.make(TradeStation.definition, { ...s.options("demo"), scopes: ["ReadAccount"] })
      )
      assert.include(refused.message, "openid")
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.scoped("without the audience the API refuses the token, which is why the definition sends it", () =>
    Effect.gen(function*() {
      const s = yield* start()
      const noAudience: OAuth2Provider.Definition = {
        ...TradeStation.definition,
        login: { url: "{signin}/authorize", path: "" }
      }
      const visits: Array<Visit> = []
      const settings = s.options("demo")
      yield* OAuth2Provider.login(noAudience, settings, { onAuthorizeUrl: browser(visits), redirectHost: "localhost" }).pipe(
        Effect.provideService(HttpServer.HttpServer, s.callback.server),
        Effect.provideService(TokenStore.TokenStore, s.store),
        Effect.provide(s.http)
      )
      assert.isNull(new URL(visits[0]!.authorizeUrl).searchParams.get("audience"))
      const ctx = yield* s.build("demo")
      const error = yield* Effect.flip(Context.get(ctx, Brokerage.Brokerage).accounts)
      assert.strictEqual(error._tag, "Unauthorized")
      assert.include(error.message, "audience=https://api.tradestation.com")
      assert.include(error.message, "effect-oauth2 login tradestation")
    }))

  it.scoped("a login without ReadAccount: accounts fails with InvalidScope, not a retry", () =>
    Effect.gen(function*() {
      const s = yield* start()
      yield* s.login("demo", { scopes: ["MarketData"] })
      const ctx = yield* s.build("demo", { scopes: ["MarketData"] })
      const error = yield* Effect.flip(Context.get(ctx, Brokerage.Brokerage).accounts)
      assert.strictEqual(error._tag, "InvalidScope")
      assert.isFalse(error.retryable)
      assert.strictEqual((yield* s.emulator.tokenRequests).length, 1, "the login's exchange only")
    }))
})

describe("TradeStation: refresh tokens", () => {
  it.scoped("without rotation, a refresh answers no refresh token and the one of the login is kept", () =>
    Effect.gen(function*() {
      const s = yield* start()
      const login = yield* s.login("demo")
      const ctx = yield* s.build("demo")
      const tokens = Context.get(ctx, TradeStation.Tokens)
      assert.strictEqual(valueOf(yield* tokens.get), valueOf(login), "the stored login")
      const seen = new Set([valueOf(login)])
      for (let i = 0; i < 3; i++) {
        const token = yield* tokens.refresh
        seen.add(valueOf(token))
        assert.strictEqual(refreshOf(token), refreshOf(login))
        assert.isUndefined(token.refreshTokenExpiresAt)
      }
      assert.strictEqual(seen.size, 4, "each refresh brought a new access token")
      const stored = Option.getOrThrow(yield* s.store.get(yield* TradeStation.storeKey(s.options("demo"))))
      assert.strictEqual(refreshOf(stored), refreshOf(login))
      const refreshes = (yield* s.emulator.tokenRequests).filter((r) => r.grantType === "refresh_token")
      assert.strictEqual(refreshes.length, 3)
      assert.strictEqual(new Set(refreshes.map((r) => r.refreshTokenId)).size, 1)
      const refreshTokens = (yield* s.emulator.tokens).filter((t) => t.kind === "refresh" && t.provider === "tradestation")
      assert.deepStrictEqual(refreshTokens.map((t) => [t.uses, t.expiresAt]), [[3, undefined]])
    }))

  it.scoped(
    "with rotation: each refresh token is spent once and replaced; warnings at 12 h and 1 h; 24 h after the login " +
      "it dies, and LoginRequired follows with no token request",
    () =>
      Effect.gen(function*() {
        // Six-hour access tokens (the emulator's option) keep the day to four background refreshes.
        const s = yield* start({ accessTokenLifetime: "6 hours", rotatingRefreshIdleLifetime: "7 hours" })
        const heard: Array<string> = []
        const onRefreshTokenEvent = (event: RefreshTokenLifetime.Event) => Effect.sync(() => void heard.push(show(event)))
        const login = yield* s.login("rotating")
        const t0 = login.authorizedAt!
        const D = t0 + 24 * HOUR
        assert.strictEqual(t0, yield* Clock.currentTimeMillis)
        assert.strictEqual(login.refreshTokenExpiresAt, D, "stamped at the login: 24 hours from it")
        const key = yield* TradeStation.storeKey(s.options("rotating"))
        const spare = yield* TokenStore.makeMemory
        yield* spare.set(key, expired(login, t0))

        const ctx = yield* s.build("rotating", { onRefreshTokenEvent })
        const tokens = Context.get(ctx, TradeStation.Tokens)
        assert.strictEqual(valueOf(yield* tokens.get), valueOf(login))
        assert.deepStrictEqual(yield* heardSoFar(heard), [`Scheduled ${D}`], "no warning yet: 12 h is the first")

        const storedValue = Effect.map(s.store.get(key), (o) => Option.getOrThrow(o))
        /** Moves to one minute before the cached token's expiry and waits for the background refresh to land. */
        const backgroundRefresh = Effect.gen(function*() {
          const before = yield* tokens.get
          yield* adjustTo(before.expiresAt - 60_000)
          yield* eventually(Effect.map(storedValue, (t) => valueOf(t) !== valueOf(before)), "the background refresh")
          const after = yield* tokens.get
          assert.notStrictEqual(refreshOf(after), refreshOf(before), "a new refresh token with each refresh")
          assert.strictEqual(after.refreshTokenExpiresAt, D, "no refresh extends the login's 24 hours")
          assert.strictEqual(after.authorizedAt, t0)
          return after
        })

        yield* backgroundRefresh
        // The login's refresh token, spent by that refresh, is refused when presented again (another process that
        // still holds it): that process must log in again, or adopt the stored pair.
        const replay = yield* s.build("rotating", {}, spare)
        const refused = yield* Effect.flip(Context.get(replay, TradeStation.Tokens).get)
        assert.strictEqual(refused._tag, "LoginRequired")
        const firstRefresh = (yield* s.emulator.tokenRequests).filter((r) => r.grantType === "refresh_token")
        assert.deepStrictEqual(firstRefresh.map((r) => [r.status, r.error]), [[200, undefined], [403, "invalid_grant"]])
        assert.strictEqual(firstRefresh[1]!.refreshTokenId, firstRefresh[0]!.refreshTokenId)
        // The refused refresh token is dead for that process: it is never sent again.
        for (let i = 0; i < 3; i++) {
          assert.strictEqual((yield* Effect.flip(Context.get(replay, TradeStation.Tokens).get))._tag, "LoginRequired")
          assert.strictEqual((yield* Effect.flip(Context.get(replay, TradeStation.Tokens).refresh))._tag, "LoginRequired")
        }
        assert.strictEqual(
          (yield* s.emulator.tokenRequests).filter((r) => r.grantType === "refresh_token").length,
          2,
          "no request with the refused refresh token after its refusal"
        )

        yield* backgroundRefresh
        yield* adjustTo(D - 12 * HOUR - 1)
        assert.deepStrictEqual(yield* heardSoFar(heard), [])
        yield* adjustTo(D - 12 * HOUR)
        assert.deepStrictEqual(yield* heardSoFar(heard), [`Warning 12h before ${D}`])
        yield* backgroundRefresh
        yield* adjustTo(D - HOUR - 1)
        assert.deepStrictEqual(yield* heardSoFar(heard), [])
        yield* adjustTo(D - HOUR)
        assert.deepStrictEqual(yield* heardSoFar(heard), [`Warning 1h before ${D}`])
        const last = yield* backgroundRefresh
        yield* adjustTo(D - 1)
        assert.deepStrictEqual(yield* heardSoFar(heard), [])
        yield* adjustTo(D)
        assert.deepStrictEqual(yield* heardSoFar(heard), [`Died expired at ${D}`])

        // Each refresh token was presented once and accepted once, the newest never: single use, counted at the emulator.
        const requests = yield* s.emulator.tokenRequests
        const refreshes = requests.filter((r) => r.grantType === "refresh_token" && r.status === 200)
        assert.strictEqual(refreshes.length, 4)
        assert.strictEqual(new Set(refreshes.map((r) => r.refreshTokenId)).size, 4)
        const issued = (yield* s.emulator.tokens).filter((t) => t.kind === "refresh" && t.clientId === s.keys.rotating.clientId)
        assert.deepStrictEqual(issued.map((t) => t.uses), [1, 1, 1, 1, 0])

        // The last access token still works until it expires; then nothing can renew it and nothing is sent.
        yield* Effect.asVoid(Context.get(ctx, Brokerage.Brokerage).accounts)
        const count = requests.length
        yield* adjustTo(last.expiresAt + HOUR)
        const error = yield* Effect.flip(tokens.get)
        assert.strictEqual(error._tag, "LoginRequired")
        assert.include(error.message, "log in again")
        assert.strictEqual((yield* Effect.flip(tokens.refresh))._tag, "LoginRequired")
        assert.strictEqual((yield* s.emulator.tokenRequests).length, count, "no token request after the death")

      }),
    { timeout: 60_000 }
  )
})

describe("TradeStation: settings and variables", () => {
  it("settings: rotation brings the 24-hour rule and its warnings, each one the user's to change", () => {
    const base = { clientId: "id", clientSecret: "secret" }
    assert.isUndefined(TradeStation.settings(base).refreshTokenLifetime)
    assert.isUndefined(TradeStation.settings(base).refreshTokenWarnings)
    const rotating = TradeStation.settings({ ...base, rotation: true })
    assert.deepStrictEqual(rotating.refreshTokenLifetime, { duration: "24 hours", from: "login" })
    assert.deepStrictEqual(rotating.refreshTokenWarnings, ["12 hours", "1 hour"])
    const own = TradeStation.settings({
      ...base,
      rotation: true,
      refreshTokenLifetime: { duration: "40 minutes", from: "issue" },
      refreshTokenWarnings: ["5 minutes"]
    })
    assert.deepStrictEqual(own.refreshTokenLifetime, { duration: "40 minutes", from: "issue" })
    assert.deepStrictEqual(own.refreshTokenWarnings, ["5 minutes"])
    assert.deepStrictEqual(TradeStation.settings({ ...base, scopes: ["Trade", "openid"] }).scopes, [
      "openid",
      "offline_access",
      "Trade"
    ])
    assert.deepStrictEqual(TradeStation.settings({ ...base, scopes: [] }).scopes, [], "none is left to core to refuse")
  })

  it.effect("config reads the TRADESTATION_* variables: rotation, its lifetime, the callback URL, the secret redacted", () =>
    Effect.gen(function*() {
      const env = new Map([
        ["TRADESTATION_CLIENT_ID", "id"],
        ["TRADESTATION_CLIENT_SECRET", "ts-secret"],
        ["TRADESTATION_ENV", "live"],
        ["TRADESTATION_ROTATION", "true"],
        ["TRADESTATION_REFRESH_TOKEN_LIFETIME", "20 hours"],
        ["TRADESTATION_CALLBACK_URL", "http://localhost:3000"]
      ])
      const read = yield* Effect.withConfigProvider(TradeStation.config, ConfigProvider.fromMap(env))
      assert.isTrue(Redacted.isRedacted(read.clientSecret))
      assert.strictEqual(read.environment, "live")
      assert.isTrue(read.rotation)
      assert.strictEqual(read.callbackUrl, "http://localhost:3000")
      assert.strictEqual(Duration.toMillis(read.refreshTokenLifetime!.duration), 20 * HOUR)
      assert.deepStrictEqual(read.refreshTokenWarnings, ["12 hours", "1 hour"])
      const plain = yield* Effect.withConfigProvider(
        TradeStation.config,
        ConfigProvider.fromMap(new Map([...env].filter(([name]) => !name.includes("ROTATION"))))
      )
      assert.isFalse(plain.rotation)
      assert.isUndefined(plain.refreshTokenLifetime, "the lifetime applies with rotation only")
      const bad = yield* Effect.flip(
        Effect.withConfigProvider(TradeStation.config, ConfigProvider.fromMap(new Map([...env, ["TRADESTATION_ROTATION", "maybe"]])))
      )
      assert.include(String(bad), "TRADESTATION_ROTATION")
      assert.deepStrictEqual(
        OAuth2Provider.variables(TradeStation.definition).map((v) => v.name),
        [
          "TRADESTATION_CLIENT_ID",
          "TRADESTATION_CLIENT_SECRET",
          "TRADESTATION_ENV",
          "TRADESTATION_SCOPES",
          "TRADESTATION_SIGNIN_URL",
          "TRADESTATION_API_URL",
          "TRADESTATION_TOKEN_URL",
          "TRADESTATION_CALLBACK_URL",
          "TRADESTATION_ROTATION",
          "TRADESTATION_REFRESH_TOKEN_LIFETIME"
        ]
      )
    }))

  it.effect("sim and live share the sign-in host; the API is {api}/v3, sim by default", () =>
    Effect.gen(function*() {
      const sim = yield* OAuth2Provider.resolveHosts(TradeStation.definition, {})
      assert.strictEqual(sim.environment, "sim")
      assert.strictEqual(sim.apis.api, "https://sim-api.tradestation.com/v3")
      const live = yield* OAuth2Provider.resolveHosts(TradeStation.definition, { environment: "live" })
      assert.strictEqual(live.apis.api, "https://api.tradestation.com/v3")
      assert.deepStrictEqual(live.allowedOrigins, ["https://api.tradestation.com"])
      assert.strictEqual(sim.hosts.signin, live.hosts.signin)
    }))

  it.scoped("layerConfig: a login stored, then Brokerage.accounts through the variables", () =>
    Effect.gen(function*() {
      const s = yield* start()
      yield* s.login("demo")
      const env = new Map([
        ["TRADESTATION_CLIENT_ID", s.keys.demo.clientId],
        ["TRADESTATION_CLIENT_SECRET", s.keys.demo.clientSecret],
        ["TRADESTATION_SIGNIN_URL", s.emulator.brokerUrls.tradestation.signin],
        ["TRADESTATION_API_URL", s.emulator.brokerUrls.tradestation.api]
      ])
      const accounts = yield* Brokerage.accounts.pipe(
        Effect.provide(
          TradeStation.layerConfig().pipe(
            Layer.provide(Layer.succeed(TokenStore.TokenStore, s.store)),
            Layer.provide(Layer.succeedContext(s.http))
          )
        ),
        Effect.withConfigProvider(ConfigProvider.fromMap(env))
      )
      assert.deepStrictEqual(accounts.map((a) => a.AccountID), ["11111111"])
    }))
})

describe("TradeStation: rotation across processes", () => {
  it.scopedLive("two bots sharing one token file: each rotating refresh token is spent exactly once, none refused", () =>
    Effect.gen(function*() {
      const s = yield* start()
      const login = yield* s.login("rotating")
      const fs = yield* FileSystem.FileSystem
      const file = `${yield* fs.makeTempDirectoryScoped({ prefix: "eo2-tradestation-" })}/tokens.json`
      const fileKey = Redacted.make(Encoding.encodeBase64(randomBytes(32)))
      // Two stores on one file: what two processes of one bot have.
      const [a, b] = yield* Effect.all([0, 1].map(() => Effect.orDie(FileTokenStore.make({ path: file, key: fileKey }))))
      const key = yield* TradeStation.storeKey(s.options("rotating"))
      yield* a!.set(key, login)
      const tokensA = Context.get(yield* s.build("rotating", {}, a), TradeStation.Tokens)
      const tokensB = Context.get(yield* s.build("rotating", {}, b), TradeStation.Tokens)
      assert.strictEqual(valueOf(yield* tokensA.get), valueOf(login))
      assert.strictEqual(valueOf(yield* tokensB.get), valueOf(login))

      for (let round = 0; round < 3; round++) {
        // Both renew at once, each holding the same (soon spent) refresh token.
        const [x, y] = yield* Effect.all([tokensA.refresh, tokensB.refresh], { concurrency: 2 })
        const stored = Option.getOrThrow(yield* a!.get(key))
        assert.isTrue(
          [x, y].some((t) => valueOf(t) === valueOf(stored)),
          "the newest pair is the stored one"
        )
        assert.strictEqual(stored.refreshTokenExpiresAt, login.refreshTokenExpiresAt, "the login's 24 hours")
      }
      const refreshes = (yield* s.emulator.tokenRequests).filter((r) => r.grantType === "refresh_token")
      assert.deepStrictEqual(refreshes.filter((r) => r.status !== 200).map((r) => r.error), [], "no refresh token refused")
      assert.isAtLeast(refreshes.length, 3)
      assert.strictEqual(new Set(refreshes.map((r) => r.refreshTokenId)).size, refreshes.length, "none presented twice")
      const issued = (yield* s.emulator.tokens).filter((t) => t.kind === "refresh" && t.clientId === s.keys.rotating.clientId)
      assert.deepStrictEqual(issued.map((t) => t.uses), [...refreshes.map(() => 1), 0])
      // Both bots end on the stored pair: the next calls work from either.
      yield* Effect.asVoid(Context.get(yield* s.build("rotating", {}, b), Brokerage.Brokerage).accounts)
    }).pipe(Effect.provide(NodeContext.layer)), { timeout: 60_000 })
})
