import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import { createHash } from "node:crypto"
import { Clients, Emulator } from "../src/index.js"
import { basicForm, bearer, get, HttpLive, json, location, postForm, postText } from "./utils.js"

const demo = Clients.tradestationDemo
const rotating = Clients.tradestationRotatingDemo
const audience = "https://api.tradestation.com"
const callback = "http://localhost:31022"

type Key = { readonly clientId: string; readonly clientSecret?: string | undefined }

const setup = (options?: Emulator.Options) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.make(options)
    const { signin, api } = emulator.brokerUrls.tradestation
    const authorize = (params: Record<string, string>) => get(`${signin}/authorize?${new URLSearchParams(params)}`)
    const codeFor = (key: Key = demo, extra: Record<string, string> = {}) =>
      Effect.map(
        authorize({
          response_type: "code",
          client_id: key.clientId,
          redirect_uri: callback,
          audience,
          scope: "openid offline_access profile MarketData ReadAccount Trade",
          state: "s1",
          ...extra
        }),
        (reply) => {
          assert.strictEqual(reply.status, 302, reply.body)
          return location(reply).searchParams.get("code")!
        }
      )
    const secretOf = (key: Key) => (key.clientSecret === undefined ? {} : { client_secret: key.clientSecret })
    const exchange = (code: string, key: Key = demo, extra: Record<string, string> = {}) =>
      postForm(`${signin}/oauth/token`, {
        grant_type: "authorization_code",
        client_id: key.clientId,
        ...secretOf(key),
        code,
        redirect_uri: callback,
        ...extra
      })
    const refresh = (refreshToken: string, key: Key = demo) =>
      postForm(`${signin}/oauth/token`, { grant_type: "refresh_token", client_id: key.clientId, ...secretOf(key), refresh_token: refreshToken })
    const login = (key: Key = demo, extra: Record<string, string> = {}) =>
      Effect.flatMap(codeFor(key, extra), (code) => Effect.map(exchange(code, key), json))
    const accounts = (token: string) => get(`${api}/v3/brokerage/accounts`, bearer(token))
    return { emulator, signin, api, authorize, codeFor, exchange, refresh, login, accounts }
  })

describe("TradeStation", () => {
  it.scoped("authorize: only an Allowed Callback URL, openid required, state echoed", () =>
    Effect.gen(function*() {
      const { authorize } = yield* setup()
      const base = { response_type: "code", client_id: demo.clientId, audience, scope: "openid", state: "s1" }
      const mismatch = yield* authorize({ ...base, redirect_uri: "http://localhost:9999" })
      assert.strictEqual(mismatch.status, 400)
      assert.isUndefined(mismatch.headers["location"])
      assert.include(mismatch.body, "Callback URL mismatch")
      const noOpenid = yield* authorize({ ...base, redirect_uri: callback, scope: "ReadAccount" })
      assert.strictEqual(noOpenid.status, 302)
      assert.strictEqual(location(noOpenid).searchParams.get("error"), "invalid_scope")
      assert.strictEqual(location(noOpenid).searchParams.get("state"), "s1")
      const ok = yield* authorize({ ...base, redirect_uri: "http://localhost:3000" })
      assert.strictEqual(location(ok).origin, "http://localhost:3000")
      assert.isString(location(ok).searchParams.get("code"))
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("exchange: client_secret_post only; a refresh token only with offline_access; id_token; 1200 s", () =>
    Effect.gen(function*() {
      const { codeFor, exchange, signin } = yield* setup()
      const body = json(yield* exchange(yield* codeFor()))
      assert.strictEqual(body.expires_in, 1200)
      assert.strictEqual(body.token_type, "Bearer")
      assert.isString(body.refresh_token)
      assert.isString(body.id_token)
      const noOffline = json(yield* exchange(yield* codeFor(demo, { scope: "openid ReadAccount" })))
      assert.isUndefined(noOffline.refresh_token)
      assert.strictEqual(noOffline.scope, "openid ReadAccount")
      const basic = yield* postForm(`${signin}/oauth/token`, { grant_type: "authorization_code", code: yield* codeFor(), redirect_uri: callback }, basicForm(demo.clientId, demo.clientSecret))
      assert.strictEqual(basic.status, 401)
      assert.strictEqual(json(basic).error, "invalid_client")
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("audience: a token asked for without it (or for another) is refused by the API", () =>
    Effect.gen(function*() {
      const { accounts, login } = yield* setup()
      const good = yield* login()
      const ok = yield* accounts(good.access_token)
      assert.strictEqual(ok.status, 200)
      assert.strictEqual(json(ok).Accounts[0].AccountID, "11111111")
      const noAudience = yield* login(demo, { audience: "" })
      const refused = yield* accounts(noAudience.access_token)
      assert.strictEqual(refused.status, 401)
      assert.include(json(refused).Message, audience)
      const other = yield* login(demo, { audience: "https://example.invalid" })
      assert.strictEqual((yield* accounts(other.access_token)).status, 401)
      const readless = yield* login(demo, { scope: "openid MarketData" })
      assert.strictEqual((yield* accounts(readless.access_token)).status, 403)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("default refresh tokens never expire and are never replaced: no refresh_token in the answer", () =>
    Effect.gen(function*() {
      const { emulator, login, refresh } = yield* setup()
      const tokens = yield* login()
      for (let i = 0; i < 3; i++) {
        yield* TestClock.adjust("100 days")
        const reply = yield* refresh(tokens.refresh_token)
        assert.strictEqual(reply.status, 200)
        assert.deepStrictEqual(Object.keys(json(reply)).sort(), ["access_token", "expires_in", "id_token", "scope", "token_type"])
      }
      const info = (yield* emulator.tokens).find((t) => t.provider === "tradestation" && t.kind === "refresh")!
      assert.strictEqual(info.uses, 3)
      assert.isUndefined(info.expiresAt)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("rotation: a new refresh token each time, the old one refused (403 invalid_grant); 30 min idle; 24 h absolute", () =>
    Effect.gen(function*() {
      const { emulator, login, refresh } = yield* setup()
      const first = yield* login(rotating)
      const second = json(yield* refresh(first.refresh_token, rotating))
      assert.notStrictEqual(second.refresh_token, first.refresh_token)
      const reused = yield* refresh(first.refresh_token, rotating)
      assert.strictEqual(reused.status, 403)
      assert.deepStrictEqual(json(reused), { error: "invalid_grant", error_description: "Unknown or invalid refresh token." })
      // Idle: unused for 30 minutes, it is dead.
      yield* TestClock.adjust("30 minutes")
      assert.strictEqual((yield* refresh(second.refresh_token, rotating)).status, 403)

      // Absolute: refreshed every 20 minutes, a login's refresh tokens all die 24 h after it. Bounded: 80 rounds.
      let current = (yield* login(rotating)).refresh_token as string
      let refreshes = 0
      for (let i = 0; i < 80; i++) {
        yield* TestClock.adjust("20 minutes")
        const reply = yield* refresh(current, rotating)
        if (reply.status !== 200) {
          assert.strictEqual(reply.status, 403)
          break
        }
        refreshes++
        current = json(reply).refresh_token
      }
      assert.strictEqual(refreshes, 71, "24 h / 20 min = 72: the 72nd refresh, at 24 h, is refused")
      const spentTwice = (yield* emulator.tokens).filter((t) => t.provider === "tradestation" && t.kind === "refresh" && t.uses > 1)
      assert.deepStrictEqual(spentTwice, [])
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("options: a 40-minute idle life and a 2-hour absolute one", () =>
    Effect.gen(function*() {
      const { login, refresh } = yield* setup({
        brokers: { tradestation: { rotatingRefreshIdleLifetime: "40 minutes", rotatingRefreshAbsoluteLifetime: "2 hours" } }
      })
      const first = yield* login(rotating)
      yield* TestClock.adjust("39 minutes")
      const second = json(yield* refresh(first.refresh_token, rotating))
      assert.isString(second.refresh_token)
      yield* TestClock.adjust("39 minutes")
      const third = json(yield* refresh(second.refresh_token, rotating))
      yield* TestClock.adjust("39 minutes")
      assert.strictEqual((yield* refresh(third.refresh_token, rotating)).status, 200)
      const fresh = yield* login(rotating)
      yield* TestClock.adjust("2 hours")
      assert.strictEqual((yield* refresh(fresh.refresh_token, rotating)).status, 403)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("revoke (JSON body, token) revokes every refresh token of the key", () =>
    Effect.gen(function*() {
      const { login, refresh, signin } = yield* setup()
      const one = yield* login()
      const two = yield* login()
      const reply = yield* postText(
        `${signin}/oauth/revoke`,
        JSON.stringify({ client_id: demo.clientId, client_secret: demo.clientSecret, token: one.refresh_token }),
        "application/json"
      )
      assert.strictEqual(reply.status, 200)
      assert.strictEqual((yield* refresh(one.refresh_token)).status, 403)
      assert.strictEqual((yield* refresh(two.refresh_token)).status, 403)
      const badClient = yield* postForm(`${signin}/oauth/revoke`, { client_id: demo.clientId, client_secret: "x", refresh_token: "y" })
      assert.strictEqual(badClient.status, 401)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("a key without a secret must use PKCE, and the verifier must match", () =>
    Effect.gen(function*() {
      const pkceKey: Clients.TradeStationClient = { clientId: "ts-spa", callbackUrls: [callback] }
      const { authorize, codeFor, exchange } = yield* setup({ clients: { tradestation: [pkceKey] } })
      const noChallenge = yield* authorize({ response_type: "code", client_id: pkceKey.clientId, redirect_uri: callback, scope: "openid" })
      assert.strictEqual(location(noChallenge).searchParams.get("error"), "invalid_request")
      const verifier = "v".repeat(43)
      const challenge = createHash("sha256").update(verifier).digest("base64url")
      const extra = { code_challenge: challenge, code_challenge_method: "S256" }
      const wrong = yield* exchange(yield* codeFor(pkceKey, extra), pkceKey, { code_verifier: "w".repeat(43) })
      assert.strictEqual(json(wrong).error, "invalid_grant")
      const ok = yield* exchange(yield* codeFor(pkceKey, extra), pkceKey, { code_verifier: verifier })
      assert.strictEqual(ok.status, 200)
    }).pipe(Effect.provide(HttpLive)))
})
