import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import { Clients, Emulator } from "../src/index.js"
import { basicForm, basicRaw, bearer, get, HttpLive, json, postForm } from "./utils.js"

const demo = Clients.openmarketsDemo

const setup = Effect.gen(function*() {
  const emulator = yield* Emulator.make()
  const tokenUrl = `${emulator.urls.openmarkets.identity}/connect/token`
  const quotesUrl = `${emulator.urls.openmarkets.api}/v1/market-data/quotes?symbols=BHP`
  const newsUrl = `${emulator.urls.openmarkets.api}/v1/news`
  const token = (form: Record<string, string>, headers = basicRaw(demo.clientId, demo.clientSecret)) =>
    postForm(tokenUrl, { grant_type: "client_credentials", ...form }, headers)
  return { emulator, tokenUrl, quotesUrl, newsUrl, token }
})

describe("Openmarkets", () => {
  it.scoped("accepts raw Basic credentials and answers access_token, expires_in, token_type", () =>
    Effect.gen(function*() {
      const { quotesUrl, token } = yield* setup
      const reply = yield* token({ scope: "market-data-api news-api" })
      assert.strictEqual(reply.status, 200)
      const body = json(reply)
      assert.deepStrictEqual(Object.keys(body), ["access_token", "expires_in", "token_type"])
      assert.strictEqual(body.expires_in, 3600)
      assert.strictEqual(body.token_type, "Bearer")
      const quotes = yield* get(quotesUrl, bearer(body.access_token))
      assert.strictEqual(quotes.status, 200)
      assert.strictEqual(json(quotes).quotes[0].symbol, "BHP")
      yield* TestClock.adjust("3600 seconds")
      const expired = yield* get(quotesUrl, bearer(body.access_token))
      assert.strictEqual(expired.status, 401)
      assert.strictEqual(expired.body, "")
      assert.strictEqual(expired.headers["www-authenticate"], `Bearer error="invalid_token"`)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("rejects the form-encoded Basic header of a secret with special characters", () =>
    Effect.gen(function*() {
      const { token } = yield* setup
      const encoded = basicForm(demo.clientId, demo.clientSecret)
      assert.notStrictEqual(encoded.authorization, basicRaw(demo.clientId, demo.clientSecret).authorization)
      const reply = yield* token({}, encoded)
      assert.strictEqual(reply.status, 401)
      assert.strictEqual(reply.body, `{"error":"invalid_client"}`)
      assert.strictEqual(reply.headers["www-authenticate"], `Basic realm="openmarkets"`)
      const bodyCredentials = yield* token({ client_id: demo.clientId, client_secret: demo.clientSecret }, {} as any)
      assert.strictEqual(bodyCredentials.status, 401)
      assert.strictEqual(bodyCredentials.body, `{"error":"invalid_client"}`)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("answers exactly {\"error\":\"invalid_scope\"} for a scope outside the plan", () =>
    Effect.gen(function*() {
      const { token } = yield* setup
      const reply = yield* token({ scope: "market-data-api oms-api" })
      assert.strictEqual(reply.status, 400)
      assert.strictEqual(reply.body, `{"error":"invalid_scope"}`)
      assert.strictEqual(reply.headers["content-type"], "application/json")
      const unknown = yield* token({ scope: "no-such-api" })
      assert.strictEqual(unknown.body, `{"error":"invalid_scope"}`)
      const grant = yield* token({ grant_type: "password" })
      assert.strictEqual(grant.body, `{"error":"unsupported_grant_type"}`)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("grants the whole plan without scope, and checks each API's scope", () =>
    Effect.gen(function*() {
      const { emulator, newsUrl, quotesUrl, token } = yield* setup
      const all = json(yield* token({})).access_token
      assert.strictEqual((yield* get(quotesUrl, bearer(all))).status, 200)
      assert.strictEqual((yield* get(newsUrl, bearer(all))).status, 200)

      const newsOnly = json(yield* token({ scope: "news-api" })).access_token
      const forbidden = yield* get(quotesUrl, bearer(newsOnly))
      assert.strictEqual(forbidden.status, 403)
      assert.strictEqual(forbidden.body, "")
      assert.strictEqual(forbidden.headers["www-authenticate"], `Bearer error="insufficient_scope"`)

      const noSymbols = yield* get(`${emulator.urls.openmarkets.api}/v1/market-data/quotes`, bearer(all))
      assert.strictEqual(noSymbols.status, 400)
      assert.strictEqual((yield* get(quotesUrl)).status, 401)
    }).pipe(Effect.provide(HttpLive)))
})
