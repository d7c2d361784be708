/**
 * Schwab against the emulator: the HTTPS loopback login end to end, the paste fallback (a tampered state refused, the
 * `%40` code, a code pasted too late), the 7-day refresh-token death (warnings at each lead time under `TestClock`,
 * then `LoginRequired` with no request sent), and one live grant per app.
 */
import * as LoopbackHttps from "@effect-oauth2/node/LoopbackHttps"
import type * as AccessToken from "@effect-oauth2/core/AccessToken"
import type * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import type * as RefreshTokenLifetime from "@effect-oauth2/core/RefreshTokenLifetime"
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import { Emulator } from "@effect-oauth2/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { Accounts, Schwab } from "../src/index.js"
import { browser, demo, pasteFromBrowser, type Visit } from "./utils.js"

const HOUR = 3_600_000
const DAY = 24 * HOUR

/** The emulator, an HTTP client, a memory store, and the demo app's settings pointed at the emulator. */
const setup = (emulatorOptions: Emulator.Options = {}) =>
  Effect.gen(function*() {
    const emulator = yield* Effect.orDie(Emulator.make(emulatorOptions))
    const client = yield* Layer.build(NodeHttpClient.layerUndici)
    const store = yield* TokenStore.makeMemory
    const options: Schwab.Options = {
      clientId: demo.clientId,
      clientSecret: demo.clientSecret,
      hosts: emulator.hosts.schwab,
      callbackUrl: demo.callbackUrl
    }
    const tokenRequests = Effect.map(emulator.tokenRequests, (all) => all.filter((r) => r.provider === "schwab"))
    return { emulator, client, store, options, tokenRequests }
  })

type Setup = Effect.Effect.Success<ReturnType<typeof setup>>

/** A login by paste, the browser's landing URL through `tamper`. */
const pasteLogin = (s: Setup, tamper?: (landed: string) => string, options: Partial<Schwab.Options> = {}) =>
  Effect.flatMap(pasteFromBrowser(tamper), (ends) =>
    Schwab.loginByPaste({ ...s.options, ...options }, ends).pipe(
      Effect.provideService(TokenStore.TokenStore, s.store),
      Effect.provide(s.client)
    ))

/** Lets the service's fibers run, then waits on real time (bounded) until the emulator has answered `n` requests. */
const awaitTokenRequests = (s: Setup, n: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < 500; i++) {
      if ((yield* s.tokenRequests).length >= n) return
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 4)))
    }
    return yield* Effect.dieMessage(`the emulator never got ${n} token request(s)`)
  })

/** Waits on real time (bounded) until the service holds a token other than `previous` (a refresh has landed). */
const awaitNewToken = (tokens: AccessTokens.Service, previous: AccessToken.AccessToken) =>
  Effect.gen(function*() {
    for (let i = 0; i < 500; i++) {
      const current = yield* tokens.get
      if (Redacted.value(current.value) !== Redacted.value(previous.value)) return current
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 4)))
    }
    return yield* Effect.dieMessage("no new token")
  })

const settle = Effect.gen(function*() {
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
})

const adjustTo = (instant: number) =>
  Effect.flatMap(TestClock.currentTimeMillis, (now) => TestClock.adjust(Duration.millis(instant - now)))

describe("Schwab login over an HTTPS loopback callback", () => {
  it.live("end to end: the registered https://127.0.0.1:<port> sent verbatim, the %40 code exchanged at once, stored", () =>
    Effect.gen(function*() {
      const certificate = yield* LoopbackHttps.makeCertificate()
      const server = yield* Layer.build(LoopbackHttps.layer({ port: 0, certificate }))
      const address = Context.get(server, HttpServer.HttpServer).address as HttpServer.TcpAddress
      const callbackUrl = `https://127.0.0.1:${address.port}`
      // The app registered with that callback, byte for byte.
      const s = yield* setup({ clients: { schwab: [{ ...demo, callbackUrl }] } })
      const visits: Array<Visit> = []
      const shown: Array<string> = []
      const token = yield* Schwab.login({ ...s.options, callbackUrl }, {
        onAuthorizeUrl: (url) => Effect.zipRight(Effect.sync(() => shown.push(url)), browser(visits, { certificate })(url))
      }).pipe(
        Effect.provideService(TokenStore.TokenStore, s.store),
        Effect.provide(s.client),
        Effect.provide(server)
      )
      assert.strictEqual(new URL(shown[0]!).searchParams.get("redirect_uri"), callbackUrl)
      assert.strictEqual(new URL(shown[0]!).searchParams.get("scope"), "api")
      // Schwab's code ends in @, which the redirect carries as %40; the listener read it and the exchange took it.
      assert.match(visits[0]!.callbackUrl!, /^https:\/\/127\.0\.0\.1:\d+\?code=[^&]+%40&session=/)
      assert.strictEqual(visits[0]!.callbackStatus, 200)
      const requests = yield* s.tokenRequests
      assert.deepStrictEqual(requests.map((r) => [r.grantType, r.status]), [["authorization_code", 200]])
      // The 7 days from the login, stamped and stored where the layer reads it.
      assert.strictEqual(token.refreshTokenExpiresAt, token.authorizedAt! + 7 * DAY)
      const stored = yield* s.store.get(yield* Schwab.storeKey(s.options))
      assert.isTrue(Option.isSome(stored))
      const context = yield* Layer.build(
        Schwab.layer(s.options).pipe(
          Layer.provide(Layer.succeed(TokenStore.TokenStore, s.store)),
          Layer.provide(Layer.succeedContext(s.client))
        )
      )
      const accounts = yield* Context.get(context, Accounts.Accounts).accountNumbers
      assert.deepStrictEqual(accounts.map((a) => a.accountNumber), ["12345678"])
      assert.isTrue(accounts[0]!.hashValue.length > 0)
      assert.strictEqual((yield* s.tokenRequests).length, 1, "the stored token served the API call")
    }).pipe(Effect.scoped))

  it.live("a callback that is not the listener's port is refused before anything is shown", () =>
    Effect.gen(function*() {
      const s = yield* setup()
      const server = yield* Layer.build(LoopbackHttps.layer({ port: 0 }))
      const shown: Array<string> = []
      const error = yield* Effect.flip(
        Schwab.login({ ...s.options, callbackUrl: "https://127.0.0.1:1" }, {
          onAuthorizeUrl: (url) => Effect.sync(() => shown.push(url))
        }).pipe(Effect.provideService(TokenStore.TokenStore, s.store), Effect.provide(s.client), Effect.provide(server))
      )
      assert.strictEqual(error._tag, "InvalidConfiguration")
      assert.include(error.message, "port 1")
      assert.deepStrictEqual(shown, [])
      const http = yield* Effect.flip(
        Schwab.login({ ...s.options, callbackUrl: "http://127.0.0.1:8182" }, { onAuthorizeUrl: () => Effect.void }).pipe(
          Effect.provideService(TokenStore.TokenStore, s.store),
          Effect.provide(s.client),
          Effect.provide(server)
        )
      )
      assert.include(http.message, "https://")
    }).pipe(Effect.scoped))
})

describe("Schwab login by pasting the redirect URL", () => {
  it.scoped("the pasted URL completes the login; a tampered state, the authorize URL or junk are refused, unsent", () =>
    Effect.gen(function*() {
      const s = yield* setup()
      const tampered = yield* Effect.flip(pasteLogin(s, (url) => url.replace(/state=[^&]+/, "state=forged")))
      assert.strictEqual(tampered._tag, "AuthorizationFailed")
      if (tampered._tag === "AuthorizationFailed") assert.strictEqual(tampered.reason, "state_mismatch")
      const noState = yield* Effect.flip(pasteLogin(s, (url) => url.replace(/&state=[^&]+/, "")))
      assert.strictEqual(noState._tag === "AuthorizationFailed" && noState.reason, "state_mismatch")
      const elsewhere = yield* Effect.flip(pasteLogin(s, (url) => url.replace("https://127.0.0.1:8182", "https://127.0.0.1:9999")))
      assert.strictEqual(elsewhere._tag === "AuthorizationFailed" && elsewhere.reason, "invalid_redirect")
      const junk = yield* Effect.flip(pasteLogin(s, () => "I logged in"))
      assert.strictEqual(junk._tag === "AuthorizationFailed" && junk.reason, "invalid_redirect")
      assert.include(junk.message, "paste the whole address")
      assert.deepStrictEqual(yield* s.tokenRequests, [], "no code of a refused paste was sent")

      // Pasted with whitespace and quotes around it, as a terminal may give it.
      const token = yield* pasteLogin(s, (url) => `  "${url}"\n`)
      assert.isTrue(Redacted.value(token.value).length > 0)
      assert.deepStrictEqual((yield* s.tokenRequests).map((r) => r.status), [200])
    }))

  it.scoped("the code's @: %40 decoded once as any query, and %2540 (encoded twice) decoded by Schwab.decodeCode", () =>
    Effect.gen(function*() {
      const s = yield* setup()
      const landed: Array<string> = []
      yield* pasteLogin(s, (url) => {
        landed.push(url)
        return url.replace(/%40(?=&)/, "%2540")
      })
      assert.match(landed[0]!, /code=[^&]+%40&/)
      assert.deepStrictEqual((yield* s.tokenRequests).map((r) => r.status), [200])
      assert.strictEqual(Schwab.decodeCode("C0.abc%40"), "C0.abc@")
      assert.strictEqual(Schwab.decodeCode("C0.abc@"), "C0.abc@")
      assert.strictEqual(Schwab.decodeCode("C0.a%40b"), "C0.a%40b", "only the trailing @ is Schwab's")
    }))

  it.scoped("a code pasted after it died (30 s): invalid_grant saying to log in again and paste faster", () =>
    Effect.gen(function*() {
      const s = yield* setup()
      const error = yield* Effect.flip(pasteLogin(s, (url) => {
        // 31 seconds pass at the emulator before the paste.
        Effect.runSync(s.emulator.skewClock(31_000))
        return url
      }))
      assert.strictEqual(error._tag, "Unauthorized")
      if (error._tag === "Unauthorized") assert.strictEqual(error.reason, "invalid_grant")
      assert.include(error.message, "schwab's authorization codes live about 30s")
      assert.include(error.message, "paste faster")
      assert.include(error.message, "Log in again")
      assert.deepStrictEqual((yield* s.tokenRequests).map((r) => r.error), ["invalid_grant"])
    }))
})

describe("Schwab's 7-day refresh token", () => {
  it.scoped(
    "warned at 48 h, 12 h and 1 h; Died at 7 days; then LoginRequired with no token request made after it",
    () =>
      Effect.gen(function*() {
        // Access tokens of 3 days, so that the week has two refreshes; the refresh token's life stays Schwab's.
        const s = yield* setup({ brokers: { schwab: { accessTokenLifetime: "3 days" } } })
        const login = yield* pasteLogin(s)
        const D = login.authorizedAt! + 7 * DAY
        const heard: Array<string> = []
        const context = yield* Layer.build(
          Schwab.layer({
            ...s.options,
            onRefreshTokenEvent: (event: RefreshTokenLifetime.Event) =>
              Effect.sync(() =>
                void heard.push(
                  event._tag === "Warning"
                    ? `Warning ${Duration.format(event.leadTime)} at ${event.diesAt - Duration.toMillis(event.leadTime) === D - Duration.toMillis(event.leadTime) ? "its instant" : "?"}`
                    : event._tag === "Died"
                    ? `Died ${event.reason}`
                    : `Scheduled ${event.diesAt === D ? "D" : event.diesAt}`
                )
              )
          }).pipe(Layer.provide(Layer.succeed(TokenStore.TokenStore, s.store)), Layer.provide(Layer.succeedContext(s.client)))
        )
        const tokens = Context.get(context, Schwab.Tokens)
        yield* tokens.get
        yield* settle
        assert.deepStrictEqual(heard, ["Scheduled D"])

        // The first refresh (a minute before the 3-day expiry) keeps the login's death. The clock moves on only once
        // the client holds the new token, so that no request is in flight (its timeout on this clock) when it jumps.
        yield* adjustTo(login.issuedAt + 3 * DAY - 60_000)
        const first = yield* awaitNewToken(tokens, login)
        yield* adjustTo(D - 48 * HOUR - 1)
        yield* settle
        assert.deepStrictEqual(heard, ["Scheduled D"])
        yield* adjustTo(D - 48 * HOUR)
        yield* settle
        assert.deepStrictEqual(heard, ["Scheduled D", "Warning 2d at its instant"])
        assert.strictEqual((yield* tokens.get).refreshTokenExpiresAt, D, "a refresh never extends it")

        // The second refresh, a minute before the first refreshed token expires.
        yield* adjustTo(first.expiresAt - 60_000)
        yield* awaitNewToken(tokens, first)
        yield* adjustTo(D - 12 * HOUR)
        yield* settle
        yield* adjustTo(D - HOUR - 1)
        yield* settle
        assert.deepStrictEqual(heard.slice(2), ["Warning 12h at its instant"])
        yield* adjustTo(D - HOUR)
        yield* settle
        assert.deepStrictEqual(heard.slice(3), ["Warning 1h at its instant"])

        const before = (yield* s.tokenRequests).length
        assert.strictEqual(before, 3, "the login and two refreshes")
        yield* adjustTo(D)
        yield* settle
        assert.deepStrictEqual(heard.slice(4), ["Died expired"])
        // The access token (refreshed at about 6 days) is valid until about 9 days: after that, log in again.
        yield* adjustTo(D + 2 * DAY + 1)
        yield* settle
        const error = yield* Effect.flip(tokens.get)
        assert.strictEqual(error._tag, "LoginRequired")
        assert.include(error.message, "log in again")
        yield* Effect.flip(tokens.get)
        yield* adjustTo(D + 30 * DAY)
        yield* settle
        yield* Effect.flip(tokens.get)
        assert.strictEqual((yield* s.tokenRequests).length, before, "no token request after the death")
      })
  )

  it.scoped("a second login kills the first grant (one live grant per app): the first gets LoginRequired", () =>
    Effect.gen(function*() {
      const s = yield* setup()
      yield* pasteLogin(s)
      const died: Array<string> = []
      const first = yield* Layer.build(
        Schwab.layer({
          ...s.options,
          onRefreshTokenEvent: (event: RefreshTokenLifetime.Event) =>
            Effect.sync(() => {
              if (event._tag === "Died") died.push(event.reason)
            })
        }).pipe(
          Layer.provide(Layer.succeed(TokenStore.TokenStore, s.store)),
          Layer.provide(Layer.succeedContext(s.client))
        )
      )
      const tokens = Context.get(first, Schwab.Tokens)
      yield* tokens.get
      // Another machine logs in with the same app (its own store).
      const elsewhere = yield* TokenStore.makeMemory
      yield* pasteLogin({ ...s, store: elsewhere })
      // The background refresh (a minute before the 30-minute access token expires) is refused, Schwab's nested error
      // read as invalid_grant. The clock stands still until the refusal has landed: moving it past the request's own
      // deadline while the request is in flight would time it out (and retry it) on a loaded machine.
      yield* TestClock.adjust("29 minutes")
      yield* awaitTokenRequests(s, 3)
      for (let i = 0; i < 500 && died.length === 0; i++) {
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 4)))
      }
      assert.deepStrictEqual(died, ["refused"])
      // The access token expires.
      yield* TestClock.adjust("2 minutes")
      yield* settle
      const error = yield* Effect.flip(tokens.get)
      assert.strictEqual(error._tag, "LoginRequired")
      if (error._tag === "LoginRequired") assert.isDefined(error.refusedAt)
      const requests = yield* s.tokenRequests
      const shown = requests.map((r) => `${r.grantType} ${r.status} ${r.error ?? ""}`).join("; ")
      // The dead refresh token is sent once (the background refresh), never again: later gets and time send nothing.
      assert.strictEqual(requests.length, 3, shown)
      assert.deepStrictEqual(
        [requests[2]!.grantType, requests[2]!.status, requests[2]!.error],
        ["refresh_token", 400, "unsupported_token_type"]
      )
      for (let i = 0; i < 5; i++) {
        assert.strictEqual((yield* Effect.flip(tokens.get))._tag, "LoginRequired")
        assert.strictEqual((yield* Effect.flip(tokens.refresh))._tag, "LoginRequired")
        yield* TestClock.adjust("10 minutes")
        yield* settle
      }
      assert.strictEqual((yield* s.tokenRequests).length, 3, "no request with the dead refresh token after its refusal")
      // A login into the store this process shares is picked up: the new grant serves it again.
      const again = yield* pasteLogin(s)
      const token = yield* tokens.get
      assert.strictEqual(Redacted.value(token.refreshToken!), Redacted.value(again.refreshToken!))
      yield* Context.get(first, Accounts.Accounts).accountNumbers
    }))
})

describe("Schwab.errorBody", () => {
  const read = Schwab.errorBody()
  it("unwraps the nested JSON and reads a refused refresh token as invalid_grant", () => {
    const nested = read({
      error: "unsupported_token_type",
      error_description: JSON.stringify({
        error_description: "Exception while authenticating refresh token [...], reason: Authentication failed",
        error: "refresh_token_authentication_error"
      })
    })
    assert.strictEqual(nested.error, "invalid_grant")
    assert.include(String(nested.error_description), "refresh_token_authentication_error")
    assert.strictEqual(read({ error: "invalid_client", error_description: "refresh token invalid" }).error, "invalid_grant")
  })
  it("leaves a wrong secret, other errors and junk alone", () => {
    const wrong = { error: "invalid_client", error_description: "Client authentication failed" }
    assert.strictEqual(read(wrong), wrong)
    assert.deepStrictEqual(read({ error: "invalid_request", error_description: "{\"error\":\"server_error\"}" }), {
      error: "server_error",
      error_description: undefined
    })
    const junk = { error: "invalid_request", error_description: "{not json" }
    assert.strictEqual(read(junk), junk)
    const none = { message: "Access Denied" }
    assert.strictEqual(read(none), none)
    assert.strictEqual(Schwab.errorBody({ refreshTokenErrors: [] })({ error: "unsupported_token_type" }).error, "unsupported_token_type")
  })
})
