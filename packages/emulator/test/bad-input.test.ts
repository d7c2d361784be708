import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { Clients, Emulator } from "../src/index.js"
import { get, HttpLive, json, postForm, postText, request } from "./utils.js"

const endpoints = (e: Emulator.Emulator) => [
  { url: `${e.urls.figureMarkets.main}/auth/oauth2/token`, allow: "POST" },
  { url: `${e.urls.figureMarkets.main}/auth/oauth2/revoke`, allow: "POST" },
  { url: `${e.urls.figureMarkets.trade}/api/v1/get_who_am_i`, allow: "POST" },
  { url: `${e.urls.figurePay.api}/oauth2/token`, allow: "POST" },
  { url: `${e.urls.figurePay.api}/profiles`, allow: "GET" },
  { url: `${e.urls.tradier.api}/v1/oauth/authorize`, allow: "GET" },
  { url: `${e.urls.tradier.api}/oauth/consent`, allow: "GET, POST" },
  { url: `${e.urls.tradier.api}/v1/oauth/accesstoken`, allow: "POST" },
  { url: `${e.urls.tradier.api}/v1/oauth/refreshtoken`, allow: "POST" },
  { url: `${e.urls.tradier.api}/v1/user/profile`, allow: "GET" },
  { url: `${e.urls.openmarkets.identity}/connect/token`, allow: "POST" },
  { url: `${e.urls.openmarkets.api}/v1/market-data/quotes`, allow: "GET" },
  { url: `${e.urls.openmarkets.api}/v1/news`, allow: "GET" }
]

const tokenEndpoints = (e: Emulator.Emulator) => [
  `${e.urls.figureMarkets.main}/auth/oauth2/token`,
  `${e.urls.figureMarkets.main}/auth/oauth2/revoke`,
  `${e.urls.figurePay.api}/oauth2/token`,
  `${e.urls.tradier.api}/v1/oauth/accesstoken`,
  `${e.urls.tradier.api}/v1/oauth/refreshtoken`,
  `${e.urls.openmarkets.identity}/connect/token`
]

/** No endpoint answered 500: nothing crashed. */
const assertNoServerErrors = (e: Emulator.Emulator) =>
  Effect.gen(function*() {
    const counters = yield* e.counters
    for (const [name, c] of Object.entries(counters)) assert.isUndefined(c.failures["500"], name)
  })

describe("bad input", () => {
  it.scoped("unknown paths answer 404 JSON on every host", () =>
    Effect.gen(function*() {
      const e = yield* Emulator.make()
      for (
        const url of [
          `${e.baseUrl}/`,
          `${e.baseUrl}/nope`,
          `${e.urls.figureMarkets.main}/auth/oauth2/introspect`,
          `${e.urls.figureMarkets.trade}/api/v2/get_who_am_i`,
          `${e.urls.figurePay.api}/oauth2/token/extra`,
          `${e.urls.tradier.api}/v1/markets/quotes`,
          `${e.urls.openmarkets.identity}/connect/authorize`,
          `${e.urls.openmarkets.api}/v1/orders`
        ]
      ) {
        const reply = yield* get(url)
        assert.strictEqual(reply.status, 404, url)
        assert.strictEqual(reply.headers["content-type"], "application/json")
        assert.strictEqual(json(reply).error, "not_found")
      }
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("wrong methods answer 405 JSON with Allow on every endpoint", () =>
    Effect.gen(function*() {
      const e = yield* Emulator.make()
      for (const { allow, url } of endpoints(e)) {
        const method = allow.includes("GET") ? (allow.includes("POST") ? "DELETE" : "POST") : "GET"
        const reply = yield* request(method, url)
        assert.strictEqual(reply.status, 405, `${method} ${url}`)
        assert.strictEqual(reply.headers["allow"], allow, url)
        assert.strictEqual(json(reply).error, "method_not_allowed")
      }
      assert.strictEqual((yield* request("PATCH", `${e.urls.figurePay.api}/profiles`)).status, 405)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("garbage bodies get the provider's error, never a crash", () =>
    Effect.gen(function*() {
      const e = yield* Emulator.make()
      const garbage = [
        "",
        "%",
        "%E0%A4%A&&==&grant_type",
        "\u0000\u0001\u0002\ufffd binary",
        "grant_type=client_credentials&" + "x=".repeat(20_000),
        "{\"grant_type\":\"client_credentials\"}"
      ]
      for (const url of tokenEndpoints(e)) {
        for (const body of garbage) {
          for (const contentType of ["application/x-www-form-urlencoded", "text/plain", "application/json"]) {
            const reply = yield* postText(url, body, contentType)
            assert.include([400, 401], reply.status, `${url} ${contentType} ${body.slice(0, 20)}`)
            assert.isString(json(reply).error)
          }
        }
      }
      yield* assertNoServerErrors(e)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("malformed credentials and bearer headers are 401s", () =>
    Effect.gen(function*() {
      const e = yield* Emulator.make()
      const form = { grant_type: "client_credentials" }
      const omToken = `${e.urls.openmarkets.identity}/connect/token`
      for (const authorization of ["Basic", "Basic !!!", `Basic ${Buffer.from("no-colon").toString("base64")}`, "Basic Og==", "Digest abc"]) {
        const reply = yield* postForm(omToken, form, { authorization })
        assert.strictEqual(reply.status, 401, authorization)
        assert.strictEqual(reply.body, `{"error":"invalid_client"}`)
      }
      const tradierToken = `${e.urls.tradier.api}/v1/oauth/accesstoken`
      const badPercent = `Basic ${Buffer.from("%E0%A4:%zz").toString("base64")}`
      const reply = yield* postForm(tradierToken, { grant_type: "authorization_code", code: "x" }, { authorization: badPercent })
      assert.strictEqual(reply.status, 401)
      assert.strictEqual(json(reply).error, "invalid_client")

      for (const authorization of ["Bearer", "Bearer a b", "bearer ", "Basic abc", "Bearer \u00e9"]) {
        for (const url of [`${e.urls.figurePay.api}/profiles`, `${e.urls.tradier.api}/v1/user/profile`, `${e.urls.openmarkets.api}/v1/news`]) {
          const r = yield* get(url, { authorization: encodeURI(authorization) })
          assert.strictEqual(r.status, 401, `${url} ${authorization}`)
          assert.strictEqual(r.headers["www-authenticate"], `Bearer error="invalid_token"`)
        }
      }
      yield* assertNoServerErrors(e)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("odd authorize and consent requests", () =>
    Effect.gen(function*() {
      const e = yield* Emulator.make()
      const api = e.urls.tradier.api
      assert.strictEqual((yield* get(`${api}/v1/oauth/authorize`)).status, 400)
      assert.strictEqual((yield* get(`${api}/v1/oauth/authorize?client_id=%E0%A4%A&scope=read`)).status, 400)
      const weird = yield* get(`${api}/v1/oauth/authorize?client_id=${Clients.tradierDemo.clientId}&scope=%00&state=%ZZ`)
      assert.strictEqual(weird.status, 302)
      const expired = yield* get(`${api}/oauth/consent?txn=nope`)
      assert.strictEqual(expired.status, 400)
      assert.match(expired.headers["content-type"]!, /^text\/html/)
      assert.strictEqual((yield* get(`${api}/oauth/consent`)).status, 400)
      assert.strictEqual((yield* postText(`${api}/oauth/consent`, "{}", "application/json")).status, 400)
      assert.strictEqual((yield* postForm(`${api}/oauth/consent`, { txn: "nope", decision: "approve" })).status, 400)
      assert.strictEqual((yield* postForm(`${api}/oauth/consent`, { txn: "nope", decision: "maybe" })).status, 400)
      // a script in the client id is escaped on the consent page
      const evil = { clientId: "<script>x</script>", clientSecret: "s", callbackUrl: "http://127.0.0.1/cb" }
      const e2 = yield* Emulator.make({ clients: { tradier: [evil] } })
      const first = yield* get(`${e2.urls.tradier.api}/v1/oauth/authorize?${new URLSearchParams({ client_id: evil.clientId, scope: "read", state: "s" })}`)
      const page = yield* get(first.headers["location"]!)
      assert.notInclude(page.body, "<script>")
      assert.include(page.body, "&lt;script&gt;")
      yield* assertNoServerErrors(e)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("still serves after all of that", () =>
    Effect.gen(function*() {
      const e = yield* Emulator.make()
      yield* postText(`${e.urls.figurePay.api}/oauth2/token`, "\u0000".repeat(1000), "application/x-www-form-urlencoded")
      const ok = yield* postForm(`${e.urls.figurePay.api}/oauth2/token`, {
        grant_type: "client_credentials",
        client_id: Clients.figurePayDemo.clientId,
        client_secret: Clients.figurePayDemo.clientSecret
      })
      assert.strictEqual(ok.status, 200)
    }).pipe(Effect.provide(HttpLive)))
})
