import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { Clients, Emulator } from "../src/index.js"
import { bearer, HttpLive, json, postForm } from "./utils.js"

const fm = Clients.figureMarketsDemo
const fmForm = { grant_type: "client_credentials", client_id: fm.clientId, client_secret: fm.clientSecret, scope: "TRADER_READ" }

describe("lifecycle", () => {
  it.scoped("listens on 127.0.0.1 and a free port by default, and tells its URLs", () =>
    Effect.gen(function*() {
      const e = yield* Emulator.make()
      assert.match(e.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.deepStrictEqual(e.urls, {
        figureMarkets: { main: `${e.baseUrl}/figure-markets`, trade: `${e.baseUrl}/figure-markets/trade` },
        figurePay: { api: `${e.baseUrl}/figure-pay` },
        tradier: { api: `${e.baseUrl}/tradier` },
        openmarkets: { identity: `${e.baseUrl}/openmarkets/identity`, api: `${e.baseUrl}/openmarkets/api` },
        control: `${e.baseUrl}/_emulator`
      })
      assert.deepStrictEqual(e.brokerUrls, {
        schwab: { api: `${e.baseUrl}/schwab` },
        tradestation: { signin: `${e.baseUrl}/tradestation/signin`, api: `${e.baseUrl}/tradestation/api` },
        tastytrade: { api: `${e.baseUrl}/tastytrade`, auth: `${e.baseUrl}/tastytrade/my` },
        saxo: { logon: `${e.baseUrl}/saxo/logon`, openapi: `${e.baseUrl}/saxo/openapi` }
      })
      assert.deepStrictEqual(e.clients, Clients.demo)
    }))

  it.scoped("hands out each provider's hosts by provider name and host name, the same as hostsAt(baseUrl)", () =>
    Effect.gen(function*() {
      const e = yield* Emulator.make()
      assert.deepStrictEqual(e.hosts, {
        "figure-markets": { main: `${e.baseUrl}/figure-markets`, trade: `${e.baseUrl}/figure-markets/trade` },
        "figure-pay": { api: `${e.baseUrl}/figure-pay` },
        tradier: { api: `${e.baseUrl}/tradier` },
        openmarkets: { identity: `${e.baseUrl}/openmarkets/identity`, api: `${e.baseUrl}/openmarkets/api` },
        schwab: { api: `${e.baseUrl}/schwab` },
        tradestation: { signin: `${e.baseUrl}/tradestation/signin`, api: `${e.baseUrl}/tradestation/api` },
        tastytrade: { api: `${e.baseUrl}/tastytrade`, auth: `${e.baseUrl}/tastytrade/my` },
        saxo: { logon: `${e.baseUrl}/saxo/logon`, openapi: `${e.baseUrl}/saxo/openapi` }
      })
      assert.deepStrictEqual(Emulator.hostsAt(e.baseUrl), e.hosts)
      assert.deepStrictEqual(Emulator.hostsAt(`${e.baseUrl}//`), e.hosts)
      assert.strictEqual(e.hosts["schwab-unknown"], undefined)
      for (const provider of Clients.providers) {
        assert.isDefined(e.hosts[provider], provider)
        assert.isDefined(Clients.demoCredentials[provider], provider)
      }
      const token = json(yield* postForm(`${e.hosts["figure-markets"].main}/auth/oauth2/token`, fmForm)).access_token
      assert.strictEqual((yield* postForm(`${e.hosts["figure-markets"].trade}/api/v1/get_who_am_i`, {}, bearer(token))).status, 200)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("two instances are independent: tokens, faults, counters", () =>
    Effect.gen(function*() {
      const a = yield* Emulator.make()
      const b = yield* Emulator.make()
      assert.notStrictEqual(a.baseUrl, b.baseUrl)
      const token = json(yield* postForm(`${a.urls.figureMarkets.main}/auth/oauth2/token`, fmForm)).access_token
      const whoA = yield* postForm(`${a.urls.figureMarkets.trade}/api/v1/get_who_am_i`, {}, bearer(token))
      const whoB = yield* postForm(`${b.urls.figureMarkets.trade}/api/v1/get_who_am_i`, {}, bearer(token))
      assert.strictEqual(whoA.status, 200)
      assert.strictEqual(whoB.status, 401) // a token from the "wrong environment"

      yield* a.setFaults("figure-markets.token", { failNext: { count: 1, status: 503 } })
      assert.strictEqual((yield* postForm(`${b.urls.figureMarkets.main}/auth/oauth2/token`, fmForm)).status, 200)
      assert.strictEqual((yield* postForm(`${a.urls.figureMarkets.main}/auth/oauth2/token`, fmForm)).status, 503)
      assert.strictEqual((yield* a.countersFor("figure-markets.token")).requests, 2)
      assert.strictEqual((yield* b.countersFor("figure-markets.token")).requests, 1)
      yield* a.skewClock(1000)
      assert.strictEqual(yield* b.clockSkew, 0)
    }).pipe(Effect.provide(HttpLive)))

  it.effect("runs as a scoped Layer", () =>
    Effect.gen(function*() {
      const e = yield* Emulator.Emulator
      const reply = yield* postForm(`${e.urls.figureMarkets.main}/auth/oauth2/token`, fmForm)
      assert.strictEqual(reply.status, 200)
    }).pipe(Effect.provide([Emulator.layer({ tokenLifetime: "30 seconds" }), HttpLive])))

  it.effect("fails to start on a port that is taken", () =>
    Effect.gen(function*() {
      const first = yield* Emulator.make()
      const port = Number(new URL(first.baseUrl).port)
      const error = yield* Effect.flip(Emulator.make({ port }))
      assert.strictEqual(error._tag, "ServeError")
    }).pipe(Effect.scoped))
})

describe("start / stop (Promise API, live clock)", () => {
  it("starts, answers, is controlled, and stops", async () => {
    const emulator = await Emulator.start({ tokenLifetime: "1 hour" })
    try {
      const tokenUrl = `${emulator.urls.figureMarkets.main}/auth/oauth2/token`
      const body = new URLSearchParams(fmForm)
      const ok = await fetch(tokenUrl, { method: "POST", body })
      assert.strictEqual(ok.status, 200)
      assert.strictEqual((await ok.json()).expires_in, 3600)

      await emulator.setFaults("figure-markets.token", { rateLimit: { count: 1, retryAfter: 2 } })
      assert.deepStrictEqual(await emulator.getFaults("figure-markets.token"), { rateLimit: { count: 1, retryAfter: 2 } })
      const limited = await fetch(tokenUrl, { method: "POST", body })
      assert.strictEqual(limited.status, 429)
      await limited.text()
      assert.deepStrictEqual(await emulator.countersFor("figure-markets.token"), {
        requests: 2,
        successes: 1,
        failures: { "429": 1 },
        resets: 0
      })
      await emulator.resetCounters()
      assert.strictEqual((await emulator.counters())["figure-markets.token"].requests, 0)
      let rejected = false
      await emulator.setFaults("figure-markets.token", { reset: { count: -1 } }).catch(() => {
        rejected = true
      })
      assert.isTrue(rejected)
      assert.strictEqual((await emulator.tokens()).filter((t) => t.provider === "figure-markets").length, 1)
      // the token, the static Tradier token and the demo tastytrade personal grant
      assert.strictEqual(await emulator.revokeAllTokens(), 3)
    } finally {
      await emulator.stop()
    }
    await emulator.stop() // twice is fine
    let refused = false
    await fetch(emulator.baseUrl).catch(() => {
      refused = true
    })
    assert.isTrue(refused)
  })

  it("stops promptly while a request is held by latency", async () => {
    const emulator = await Emulator.start({ faults: { "figure-pay.profiles": { latency: 600_000 } } })
    const pending = fetch(`${emulator.urls.figurePay.api}/profiles`).then(
      (r) => r.status,
      () => "transport error"
    )
    for (let i = 0; i < 1000 && (await emulator.countersFor("figure-pay.profiles")).requests === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
    assert.strictEqual((await emulator.countersFor("figure-pay.profiles")).requests, 1)
    await emulator.stop()
    assert.strictEqual(await pending, "transport error")
  })
})
