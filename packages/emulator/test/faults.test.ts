import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import { Clients, Emulator, Faults } from "../src/index.js"
import { awaitSleepers, basicForm, bearer, get, HttpLive, json, postForm } from "./utils.js"

const fm = Clients.figureMarketsDemo

const setup = (options?: Emulator.Options) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.make(options)
    const tokenUrl = `${emulator.urls.figureMarkets.main}/auth/oauth2/token`
    const token = postForm(tokenUrl, {
      grant_type: "client_credentials",
      client_id: fm.clientId,
      client_secret: fm.clientSecret,
      scope: "TRADER_READ"
    })
    return { emulator, token }
  })

describe("faults", () => {
  it.scoped("failNext answers 500/502/503 for the next N requests, with Retry-After when asked", () =>
    Effect.gen(function*() {
      const { emulator, token } = yield* setup()
      yield* emulator.setFaults("figure-markets.token", { failNext: { count: 2, status: 503, retryAfter: 7 } })
      const first = yield* token
      assert.strictEqual(first.status, 503)
      assert.strictEqual(first.headers["retry-after"], "7")
      assert.deepStrictEqual(json(first), { error: "temporarily_unavailable", error_description: "Injected 503" })
      assert.deepStrictEqual(yield* emulator.getFaults("figure-markets.token"), {
        failNext: { count: 1, status: 503, retryAfter: 7 }
      })
      assert.strictEqual((yield* token).status, 503)
      assert.strictEqual((yield* token).status, 200)
      assert.deepStrictEqual(yield* emulator.getFaults("figure-markets.token"), {})

      for (const status of [500, 502] as const) {
        yield* emulator.setFaults("figure-markets.token", { failNext: { count: 1, status } })
        const reply = yield* token
        assert.strictEqual(reply.status, status)
        assert.strictEqual(reply.headers["retry-after"], undefined)
        assert.strictEqual(json(reply).error, "server_error")
      }
      assert.deepStrictEqual(yield* emulator.countersFor("figure-markets.token"), {
        requests: 5,
        successes: 1,
        failures: { "500": 1, "502": 1, "503": 2 },
        resets: 0
      })
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("rateLimit answers 429 with Retry-After", () =>
    Effect.gen(function*() {
      const { emulator, token } = yield* setup()
      yield* emulator.setFaults("figure-markets.token", { rateLimit: { count: 3, retryAfter: 30 } })
      for (let i = 0; i < 3; i++) {
        const reply = yield* token
        assert.strictEqual(reply.status, 429)
        assert.strictEqual(reply.headers["retry-after"], "30")
      }
      assert.strictEqual((yield* token).status, 200)
      assert.deepStrictEqual((yield* emulator.countersFor("figure-markets.token")).failures, { "429": 3 })
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("reset destroys the connection: the client sees a transport error", () =>
    Effect.gen(function*() {
      const { emulator, token } = yield* setup()
      yield* emulator.setFaults("figure-markets.token", { reset: { count: 1 }, rateLimit: { count: 1, retryAfter: 1 } })
      const failed = yield* Effect.flip(token)
      assert.strictEqual(failed._tag, "RequestError")
      assert.strictEqual(failed._tag === "RequestError" ? failed.reason : undefined, "Transport")
      // one counted fault per request: the reset went first, the rate limit is next
      assert.strictEqual((yield* token).status, 429)
      assert.strictEqual((yield* token).status, 200)
      assert.deepStrictEqual(yield* emulator.countersFor("figure-markets.token"), {
        requests: 3,
        successes: 1,
        failures: { "429": 1 },
        resets: 1
      })
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("malformed answers an HTML page, broken JSON or an empty body", () =>
    Effect.gen(function*() {
      const { emulator, token } = yield* setup()
      yield* emulator.setFaults("figure-markets.token", { malformed: { count: 1, kind: "html" } })
      const html = yield* token
      assert.strictEqual(html.status, 200)
      assert.match(html.headers["content-type"]!, /^text\/html/)
      assert.isTrue(html.body.startsWith("<!DOCTYPE html>"))

      yield* emulator.setFaults("figure-markets.token", { malformed: { count: 1, kind: "html", status: 502 } })
      assert.strictEqual((yield* token).status, 502)

      yield* emulator.setFaults("figure-markets.token", { malformed: { count: 1, kind: "broken-json" } })
      const broken = yield* token
      assert.strictEqual(broken.status, 200)
      assert.strictEqual(broken.headers["content-type"], "application/json")
      assert.throws(() => JSON.parse(broken.body))

      yield* emulator.setFaults("figure-markets.token", { malformed: { count: 1, kind: "empty" } })
      const empty = yield* token
      assert.strictEqual(empty.status, 200)
      assert.strictEqual(empty.body, "")
      assert.strictEqual((yield* token).status, 200)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("latency delays every request on the emulator's Clock (TestClock here)", () =>
    Effect.gen(function*() {
      const { emulator, token } = yield* setup()
      yield* emulator.setFaults("figure-markets.token", { latency: 5000 })
      const fiber = yield* Effect.fork(token)
      yield* awaitSleepers(1)
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust("4999 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust("1 millis")
      assert.strictEqual((yield* Fiber.join(fiber)).status, 200)
      // latency stays until cleared
      assert.deepStrictEqual(yield* emulator.getFaults("figure-markets.token"), { latency: 5000 })
      yield* emulator.clearFaults("figure-markets.token")
      assert.strictEqual((yield* token).status, 200)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("faults apply per endpoint, can be set from the start, and clear", () =>
    Effect.gen(function*() {
      const { emulator, token } = yield* setup({
        faults: {
          "figure-pay.token": { failNext: { count: 1, status: 500 } },
          "openmarkets.api": {}
        }
      })
      assert.deepStrictEqual(yield* emulator.faults, { "figure-pay.token": { failNext: { count: 1, status: 500 } } })
      assert.strictEqual((yield* token).status, 200)
      const fp = yield* postForm(`${emulator.urls.figurePay.api}/oauth2/token`, {
        grant_type: "client_credentials",
        client_id: Clients.figurePayDemo.clientId,
        client_secret: Clients.figurePayDemo.clientSecret
      })
      assert.strictEqual(fp.status, 500)
      yield* emulator.setFaults("tradier.profile", { failNext: { count: 5, status: 502 } })
      yield* emulator.setFaults("openmarkets.token", { rateLimit: { count: 5, retryAfter: 1 } })
      yield* emulator.clearFaults()
      assert.deepStrictEqual(yield* emulator.faults, {})
      const om = yield* postForm(
        `${emulator.urls.openmarkets.identity}/connect/token`,
        { grant_type: "client_credentials" },
        basicForm("x", "y")
      )
      assert.strictEqual(om.status, 401)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("invalid faults from code are a defect", () =>
    Effect.gen(function*() {
      const { emulator } = yield* setup()
      const exit = yield* Effect.exit(emulator.setFaults("figure-markets.token", { failNext: { count: 0, status: 500 } }))
      assert.isTrue(Exit.isFailure(exit))
      assert.deepStrictEqual(yield* emulator.faults, {})
    }).pipe(Effect.provide(HttpLive)))
})

describe("tokens and clock", () => {
  it.scoped("revokes one token or every token early", () =>
    Effect.gen(function*() {
      const { emulator, token } = yield* setup()
      const who = (t: string) => postForm(`${emulator.urls.figureMarkets.trade}/api/v1/get_who_am_i`, {}, bearer(t))
      const a = json(yield* token).access_token
      const b = json(yield* token).access_token
      assert.isTrue(yield* emulator.revokeToken(a))
      assert.isFalse(yield* emulator.revokeToken(a))
      assert.isFalse(yield* emulator.revokeToken("unknown"))
      assert.strictEqual((yield* who(a)).status, 401)
      assert.strictEqual((yield* who(b)).status, 200)
      // b, the static Tradier token and the demo tastytrade personal grant
      assert.strictEqual(yield* emulator.revokeAllTokens, 3)
      assert.strictEqual((yield* who(b)).status, 401)
      const infos = yield* emulator.tokens
      assert.strictEqual(infos.length, 4)
      assert.isTrue(infos.every((i) => i.revoked))
      assert.isFalse(JSON.stringify(infos).includes(a))
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("a skewed clock ages tokens, stamps issued_at and the Date header", () =>
    Effect.gen(function*() {
      const { emulator, token } = yield* setup()
      const who = (t: string) => postForm(`${emulator.urls.figureMarkets.trade}/api/v1/get_who_am_i`, {}, bearer(t))
      const a = json(yield* token).access_token
      yield* emulator.skewClock(86399 * 1000)
      assert.strictEqual(yield* emulator.clockSkew, 86399000)
      assert.strictEqual(yield* emulator.now, 86399000)
      const expired = yield* who(a)
      assert.strictEqual(expired.status, 401)
      assert.strictEqual(expired.headers["date"], new Date(86399000).toUTCString())
      yield* emulator.skewClock(0)
      assert.strictEqual((yield* who(a)).status, 200)

      yield* emulator.skewClock(-1000)
      yield* emulator.setAuthorizationMode("auto-approve")
      const api = emulator.urls.tradier.api
      const authorized = yield* get(
        `${api}/v1/oauth/authorize?client_id=${Clients.tradierDemo.clientId}&scope=read&state=s`
      )
      const code = new URL(authorized.headers["location"]!).searchParams.get("code")!
      const exchanged = yield* postForm(
        `${api}/v1/oauth/accesstoken`,
        { grant_type: "authorization_code", code },
        basicForm(Clients.tradierDemo.clientId, Clients.tradierDemo.clientSecret)
      )
      assert.strictEqual(json(exchanged).issued_at, "1969-12-31T23:59:59.000Z")
    }).pipe(Effect.provide(HttpLive)))
})

describe("counters", () => {
  it.scoped("count requests, successes and failures by status per endpoint, and reset", () =>
    Effect.gen(function*() {
      const { emulator, token } = yield* setup()
      yield* token
      yield* get(`${emulator.urls.figurePay.api}/profiles`)
      yield* get(`${emulator.urls.figurePay.api}/profiles`)
      yield* get(`${emulator.baseUrl}/not-an-endpoint`)
      const counters = yield* emulator.counters
      assert.deepStrictEqual(Object.keys(counters), [...Faults.endpoints])
      assert.deepStrictEqual(counters["figure-markets.token"], { requests: 1, successes: 1, failures: {}, resets: 0 })
      assert.deepStrictEqual(counters["figure-pay.profiles"], { requests: 2, successes: 0, failures: { "401": 2 }, resets: 0 })
      assert.strictEqual(Faults.totalFailures(counters["figure-pay.profiles"]), 2)
      assert.deepStrictEqual(counters["tradier.token"], Faults.emptyCounters)
      yield* emulator.resetCounters
      assert.deepStrictEqual(yield* emulator.countersFor("figure-pay.profiles"), Faults.emptyCounters)
    }).pipe(Effect.provide(HttpLive)))
})
