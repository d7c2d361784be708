import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { Clients, Emulator, Faults } from "../src/index.js"
import { bearer, HttpLive, json, postForm, request } from "./utils.js"

const fm = Clients.figureMarketsDemo

describe("control API", () => {
  it.scoped("describes the emulator", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const info = json(yield* request("GET", emulator.urls.control))
      assert.strictEqual(info.baseUrl, emulator.baseUrl)
      assert.deepStrictEqual(info.urls, emulator.urls)
      assert.deepStrictEqual(info.endpoints, [...Faults.endpoints])
      assert.deepStrictEqual(info.clients.figureMarkets, [fm.clientId, Clients.figureMarketsReadOnlyDemo.clientId])
      assert.isFalse(JSON.stringify(info).includes(fm.clientSecret))
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("sets, reads and clears faults over HTTP", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const control = emulator.urls.control
      const tokenUrl = `${emulator.urls.figureMarkets.main}/auth/oauth2/token`
      const token = postForm(tokenUrl, { grant_type: "client_credentials", client_id: fm.clientId, client_secret: fm.clientSecret, scope: "TRADER_READ" })

      const put = yield* request("PUT", `${control}/faults/figure-markets.token`, JSON.stringify({ failNext: { count: 1, status: 502, retryAfter: 3 }, latency: 0 }))
      assert.strictEqual(put.status, 200)
      assert.deepStrictEqual(json(put), { failNext: { count: 1, status: 502, retryAfter: 3 } })
      assert.deepStrictEqual(json(yield* request("GET", `${control}/faults`)), {
        "figure-markets.token": { failNext: { count: 1, status: 502, retryAfter: 3 } }
      })
      assert.deepStrictEqual(yield* emulator.getFaults("figure-markets.token"), { failNext: { count: 1, status: 502, retryAfter: 3 } })
      const failed = yield* token
      assert.strictEqual(failed.status, 502)
      assert.strictEqual(failed.headers["retry-after"], "3")
      assert.deepStrictEqual(json(yield* request("GET", `${control}/faults/figure-markets.token`)), {})

      yield* request("PUT", `${control}/faults/figure-pay.token`, JSON.stringify({ rateLimit: { count: 2, retryAfter: 1 } }))
      yield* request("PUT", `${control}/faults/tradier.token`, JSON.stringify({ reset: { count: 2 } }))
      assert.strictEqual((yield* request("DELETE", `${control}/faults/figure-pay.token`)).status, 200)
      assert.deepStrictEqual(yield* emulator.faults, { "tradier.token": { reset: { count: 2 } } })
      yield* request("DELETE", `${control}/faults`)
      assert.deepStrictEqual(yield* emulator.faults, {})
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("rejects bad control requests with JSON errors", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const control = emulator.urls.control
      const unknown = yield* request("PUT", `${control}/faults/no.such.endpoint`, "{}")
      assert.strictEqual(unknown.status, 404)
      assert.strictEqual(json(unknown).error, "unknown_endpoint")
      for (const body of ["not json", `{"failNext":{"count":0,"status":500}}`, `{"failNext":{"count":1,"status":404}}`, `{"latency":-1}`, `[]`]) {
        const bad = yield* request("PUT", `${control}/faults/figure-pay.token`, body)
        assert.strictEqual(bad.status, 400, body)
        assert.strictEqual(json(bad).error, "invalid_request")
      }
      const wrongMethod = yield* request("POST", `${control}/faults`, "{}")
      assert.strictEqual(wrongMethod.status, 405)
      assert.strictEqual(wrongMethod.headers["allow"], "GET, DELETE")
      assert.strictEqual((yield* request("PUT", `${control}/clock`, `{"skewMs":"soon"}`)).status, 400)
      assert.strictEqual((yield* request("PUT", `${control}/clock`, `{"skewMs":1e300}`)).status, 400)
      assert.strictEqual((yield* request("PUT", `${control}/tradier/authorization`, `{"mode":"maybe"}`)).status, 400)
      assert.strictEqual((yield* request("POST", `${control}/tokens/revoke`, `{"all":false}`)).status, 400)
      assert.strictEqual((yield* request("GET", `${control}/nothing-here`)).status, 404)
      assert.deepStrictEqual(yield* emulator.faults, {})
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("reads and resets counters", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const control = emulator.urls.control
      yield* request("GET", `${emulator.urls.figurePay.api}/profiles`)
      const all = json(yield* request("GET", `${control}/counters`))
      assert.deepStrictEqual(all["figure-pay.profiles"], { requests: 1, successes: 0, failures: { "401": 1 }, resets: 0 })
      assert.deepStrictEqual(json(yield* request("GET", `${control}/counters/figure-pay.profiles`)), all["figure-pay.profiles"])
      assert.strictEqual((yield* request("GET", `${control}/counters/nope`)).status, 404)
      assert.strictEqual((yield* request("POST", `${control}/counters/reset`)).status, 200)
      assert.deepStrictEqual(json(yield* request("GET", `${control}/counters/figure-pay.profiles`)), Faults.emptyCounters)
      yield* request("GET", `${emulator.urls.figurePay.api}/profiles`)
      assert.strictEqual((yield* request("DELETE", `${control}/counters`)).status, 200)
      assert.deepStrictEqual(yield* emulator.countersFor("figure-pay.profiles"), Faults.emptyCounters)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("lists token metadata without secrets, and revokes tokens", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const control = emulator.urls.control
      const tokenUrl = `${emulator.urls.figureMarkets.main}/auth/oauth2/token`
      const who = (t: string) => postForm(`${emulator.urls.figureMarkets.trade}/api/v1/get_who_am_i`, {}, bearer(t))
      const issue = Effect.map(
        postForm(tokenUrl, { grant_type: "client_credentials", client_id: fm.clientId, client_secret: fm.clientSecret, scope: "TRADER_READ" }),
        (r) => json(r).access_token as string
      )
      const a = yield* issue
      const b = yield* issue
      const listed = yield* request("GET", `${control}/tokens`)
      assert.isFalse(listed.body.includes(a))
      assert.isFalse(listed.body.includes(Clients.tradierStaticDemo.token))
      const fmTokens = json(listed).tokens.filter((t: any) => t.provider === "figure-markets")
      assert.strictEqual(fmTokens.length, 2)
      assert.deepStrictEqual(Object.keys(fmTokens[0]).sort(), ["clientId", "expired", "expiresAt", "id", "issuedAt", "kind", "provider", "refusals", "revoked", "scopes", "uses"])
      assert.strictEqual(fmTokens[0].expiresAt, 86399000)

      assert.deepStrictEqual(json(yield* request("POST", `${control}/tokens/revoke`, JSON.stringify({ token: a }))), { revoked: 1 })
      assert.strictEqual((yield* who(a)).status, 401)
      assert.strictEqual((yield* who(b)).status, 200)
      assert.deepStrictEqual(json(yield* request("POST", `${control}/tokens/revoke`, JSON.stringify({ all: true }))), { revoked: 3 }) // with the demo tastytrade personal grant
      assert.strictEqual((yield* who(b)).status, 401)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("skews the clock and switches Tradier's authorization mode", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const control = emulator.urls.control
      assert.deepStrictEqual(json(yield* request("GET", `${control}/clock`)), { now: 0, iso: "1970-01-01T00:00:00.000Z", skewMs: 0 })
      const skewed = json(yield* request("PUT", `${control}/clock`, JSON.stringify({ skewMs: 60000 })))
      assert.deepStrictEqual(skewed, { now: 60000, iso: "1970-01-01T00:01:00.000Z", skewMs: 60000 })
      assert.strictEqual(yield* emulator.clockSkew, 60000)

      assert.deepStrictEqual(json(yield* request("GET", `${control}/tradier/authorization`)), { mode: "consent" })
      yield* request("PUT", `${control}/tradier/authorization`, JSON.stringify({ mode: "auto-deny" }))
      assert.strictEqual(yield* emulator.authorizationMode, "auto-deny")
      const denied = yield* request("GET", `${emulator.urls.tradier.api}/v1/oauth/authorize?client_id=${Clients.tradierDemo.clientId}&scope=read&state=s`)
      assert.strictEqual(new URL(denied.headers["location"]!).searchParams.get("error"), "access_denied")
    }).pipe(Effect.provide(HttpLive)))
})
