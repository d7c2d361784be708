import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import { Clients, Emulator } from "../src/index.js"
import { bearer, get, HttpLive, json, postForm, postText } from "./utils.js"

const demo = Clients.tastytradeDemo
const grant = demo.grants[0].refreshToken
const ua = { "user-agent": "my-bot/1.0" }

const setup = (options?: Emulator.Options) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.make(options)
    const api = emulator.brokerUrls.tastytrade.api
    const tokenJson = (body: Record<string, string>, headers: Record<string, string> = ua) =>
      postText(`${api}/oauth/token`, JSON.stringify(body), "application/json", headers)
    const refresh = (extra: Record<string, string> = {}, headers: Record<string, string> = ua) =>
      tokenJson({ grant_type: "refresh_token", client_secret: demo.clientSecret, refresh_token: grant, ...extra }, headers)
    const me = (token: string, headers: Record<string, string> = ua) => get(`${api}/customers/me`, { ...bearer(token), ...headers })
    return { emulator, api, tokenJson, refresh, me }
  })

describe("tastytrade", () => {
  it.scoped("a personal grant refreshes with a JSON body and no client_id; the grant is never replaced", () =>
    Effect.gen(function*() {
      const { emulator, me, refresh } = yield* setup()
      const reply = yield* refresh()
      assert.strictEqual(reply.status, 200)
      const body = json(reply)
      assert.deepStrictEqual(Object.keys(body).sort(), ["access_token", "expires_in", "token_type"])
      assert.strictEqual(body.expires_in, 900)
      const customer = yield* me(body.access_token)
      assert.strictEqual(customer.status, 200)
      assert.strictEqual(json(customer).data.id, "demo-customer")
      // Months later the grant still works, as often as asked.
      yield* TestClock.adjust("200 days")
      assert.strictEqual((yield* refresh()).status, 200)
      assert.strictEqual((yield* refresh({ client_id: demo.clientId, scope: "read" })).status, 200)
      const info = (yield* emulator.tokens).find((t) => t.provider === "tastytrade" && t.kind === "refresh")!
      assert.strictEqual(info.uses, 3)
      assert.isUndefined(info.expiresAt)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("errors carry error_code, not error: a bad grant, a bad secret, a wider scope", () =>
    Effect.gen(function*() {
      const { refresh } = yield* setup()
      const badGrant = yield* refresh({ refresh_token: "not-a-grant" })
      assert.strictEqual(badGrant.status, 400)
      assert.deepStrictEqual(json(badGrant), { error_code: "invalid_grant", error_description: "Invalid JWT" })
      const badSecret = yield* refresh({ client_secret: "nope" })
      assert.strictEqual(badSecret.status, 401)
      assert.strictEqual(json(badSecret).error_code, "invalid_client")
      assert.isUndefined(json(badSecret).error)
      assert.strictEqual(json(yield* refresh({ scope: "read admin" })).error_code, "invalid_scope")
      assert.strictEqual(json(yield* refresh({ grant_type: "client_credentials" })).error_code, "unsupported_grant_type")
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("a form body is refused (unless acceptFormBody); a User-Agent <product>/<version> is required (unless not)", () =>
    Effect.gen(function*() {
      const strict = yield* setup()
      const form = { grant_type: "refresh_token", client_secret: demo.clientSecret, refresh_token: grant }
      const formReply = yield* postForm(`${strict.api}/oauth/token`, form, ua)
      assert.strictEqual(formReply.status, 400)
      assert.strictEqual(json(formReply).error_code, "invalid_request")
      for (const agent of [{}, { "user-agent": "curl" }, { "user-agent": "" }]) {
        const reply = yield* strict.refresh({}, agent)
        assert.strictEqual(reply.status, 401, JSON.stringify(agent))
        assert.include(json(reply).error_description, "User-Agent")
      }
      const token = json(yield* strict.refresh()).access_token
      const noAgent = yield* strict.me(token, {})
      assert.strictEqual(noAgent.status, 401)
      assert.isString(json(noAgent).error.code)
      assert.strictEqual((yield* strict.me("nope")).status, 401)
      assert.deepStrictEqual(Object.keys(json(yield* strict.me("nope")).error).sort(), ["code", "message"])

      const lenient = yield* setup({ brokers: { tastytrade: { acceptFormBody: true, requireUserAgent: false, accessTokenLifetime: "60 seconds" } } })
      const accepted = yield* postForm(`${lenient.api}/oauth/token`, form)
      assert.strictEqual(accepted.status, 200)
      assert.strictEqual(json(accepted).expires_in, 60)
      assert.strictEqual((yield* lenient.me(json(accepted).access_token, {})).status, 200)
    }).pipe(Effect.provide(HttpLive)))
})
