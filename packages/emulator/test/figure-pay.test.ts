import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import { Clients, Emulator } from "../src/index.js"
import { basicForm, bearer, get, HttpLive, json, postForm } from "./utils.js"

const demo = Clients.figurePayDemo

const setup = Effect.gen(function*() {
  const emulator = yield* Emulator.make()
  const tokenUrl = `${emulator.urls.figurePay.api}/oauth2/token`
  const profilesUrl = `${emulator.urls.figurePay.api}/profiles`
  const token = (extra: Record<string, string> = {}) =>
    postForm(tokenUrl, { grant_type: "client_credentials", client_id: demo.clientId, client_secret: demo.clientSecret, ...extra })
  return { emulator, tokenUrl, profilesUrl, token }
})

describe("Figure Pay", () => {
  it.scoped("answers a token response that carries only access_token", () =>
    Effect.gen(function*() {
      const { token } = yield* setup
      const reply = yield* token()
      assert.strictEqual(reply.status, 200)
      assert.strictEqual(reply.headers["cache-control"], "no-store")
      const body = json(reply)
      assert.deepStrictEqual(Object.keys(body), ["access_token"])
      assert.match(body.access_token, /^[A-Za-z0-9_-]{32}$/)
      // no scopes at Figure Pay: a scope parameter is ignored
      assert.deepStrictEqual(Object.keys(json(yield* token({ scope: "anything" }))), ["access_token"])
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("protects /profiles; tokens live one hour", () =>
    Effect.gen(function*() {
      const { profilesUrl, token } = yield* setup
      const accessToken = json(yield* token()).access_token
      const ok = yield* get(profilesUrl, bearer(accessToken))
      assert.strictEqual(ok.status, 200)
      assert.strictEqual(json(ok).data[0].id, `prf_${demo.clientId}`)

      const missing = yield* get(profilesUrl)
      assert.strictEqual(missing.status, 401)
      assert.strictEqual(missing.headers["www-authenticate"], `Bearer error="invalid_token"`)
      assert.strictEqual(json(missing).error, "invalid_token")

      yield* TestClock.adjust("3599 seconds")
      assert.strictEqual((yield* get(profilesUrl, bearer(accessToken))).status, 200)
      yield* TestClock.adjust("1 second")
      const expired = yield* get(profilesUrl, bearer(accessToken))
      assert.strictEqual(expired.status, 401)
      assert.strictEqual(json(expired).error_description, "The access token expired")
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("rejects bad clients and grants, and tokens of another provider", () =>
    Effect.gen(function*() {
      const { emulator, profilesUrl, token, tokenUrl } = yield* setup
      const bad = yield* token({ client_secret: "wrong" })
      assert.strictEqual(bad.status, 401)
      assert.strictEqual(json(bad).error, "invalid_client")
      const basic = yield* postForm(tokenUrl, { grant_type: "client_credentials" }, basicForm(demo.clientId, demo.clientSecret))
      assert.strictEqual(basic.status, 401)
      assert.strictEqual(basic.headers["www-authenticate"], `Basic realm="figure-pay"`)
      const grant = yield* token({ grant_type: "authorization_code" })
      assert.strictEqual(grant.status, 400)
      assert.strictEqual(json(grant).error, "unsupported_grant_type")
      assert.strictEqual((yield* postForm(profilesUrl, {})).status, 405)

      const fm = yield* postForm(`${emulator.urls.figureMarkets.main}/auth/oauth2/token`, {
        grant_type: "client_credentials",
        client_id: Clients.figureMarketsDemo.clientId,
        client_secret: Clients.figureMarketsDemo.clientSecret,
        scope: "TRADER_READ"
      })
      assert.strictEqual((yield* get(profilesUrl, bearer(json(fm).access_token))).status, 401)
    }).pipe(Effect.provide(HttpLive)))
})
