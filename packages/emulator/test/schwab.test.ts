import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import { Clients, Emulator } from "../src/index.js"
import { basicRaw, bearer, get, HttpLive, json, location, postForm } from "./utils.js"

const demo = Clients.schwabDemo
const callback: string = demo.callbackUrl

const setup = (options?: Emulator.Options) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.make(options)
    const api = emulator.brokerUrls.schwab.api
    const authorize = (params: Record<string, string>) => get(`${api}/v1/oauth/authorize?${new URLSearchParams(params)}`)
    /** A login: the callback's raw Location and its decoded code. */
    const login = Effect.gen(function*() {
      const reply = yield* authorize({ client_id: demo.clientId, redirect_uri: callback, response_type: "code", state: "st" })
      assert.strictEqual(reply.status, 302)
      const raw = reply.headers["location"]!
      return { raw, code: location(reply).searchParams.get("code")! }
    })
    const exchange = (code: string, redirectUri = callback) =>
      postForm(`${api}/v1/oauth/token`, { grant_type: "authorization_code", code, redirect_uri: redirectUri }, basicRaw(demo.clientId, demo.clientSecret))
    const refresh = (refreshToken: string) =>
      postForm(`${api}/v1/oauth/token`, { grant_type: "refresh_token", refresh_token: refreshToken }, basicRaw(demo.clientId, demo.clientSecret))
    const loggedIn = Effect.flatMap(login, ({ code }) => Effect.map(exchange(code), json))
    return { emulator, api, authorize, login, exchange, refresh, loggedIn }
  })

describe("Schwab", () => {
  it.scoped("authorize: the exact callback gets code (ending in @, sent as %40), session and state", () =>
    Effect.gen(function*() {
      const { login } = yield* setup()
      const { code, raw } = yield* login
      assert.isTrue(raw.startsWith(`${callback}?code=`), raw)
      assert.isTrue(code.endsWith("@"))
      assert.include(raw, "%40&session=")
      const params = new URL(raw).searchParams
      assert.match(params.get("session")!, /^[0-9a-f-]{36}$/)
      assert.strictEqual(params.get("state"), "st")
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("authorize: a callback that differs in any byte is an Access Denied page, never a redirect", () =>
    Effect.gen(function*() {
      const { authorize } = yield* setup()
      for (const redirectUri of [`${callback}/`, callback.toUpperCase(), "http://127.0.0.1:8182", "https://127.0.0.1:8183", "https://127.0.0.1"]) {
        const reply = yield* authorize({ client_id: demo.clientId, redirect_uri: redirectUri, response_type: "code" })
        assert.strictEqual(reply.status, 400, redirectUri)
        assert.isUndefined(reply.headers["location"])
        assert.match(reply.headers["content-type"]!, /^text\/html/)
        assert.include(reply.body, "Access Denied")
      }
      assert.strictEqual((yield* authorize({ client_id: "unknown", redirect_uri: callback })).status, 400)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("exchange: the decoded code works once; a code still %40-encoded, replayed or 31 s old is invalid_grant", () =>
    Effect.gen(function*() {
      const { exchange, login } = yield* setup()
      const first = yield* login
      const encoded = first.code.replace(/@$/, "%40")
      const wrong = yield* exchange(encoded)
      assert.strictEqual(wrong.status, 400)
      assert.strictEqual(json(wrong).error, "invalid_grant")
      assert.include(json(wrong).error_description, "%40 is @")
      const ok = yield* exchange(first.code)
      assert.strictEqual(ok.status, 200)
      const body = json(ok)
      assert.deepStrictEqual(Object.keys(body).sort(), ["access_token", "expires_in", "id_token", "refresh_token", "scope", "token_type"])
      assert.strictEqual(body.expires_in, 1800)
      assert.strictEqual(body.scope, "api")
      assert.strictEqual(body.token_type, "Bearer")
      assert.strictEqual(ok.headers["cache-control"], "no-store")
      assert.strictEqual((yield* exchange(first.code)).status, 400)

      const late = yield* login
      yield* TestClock.adjust("29 seconds")
      assert.strictEqual((yield* exchange(late.code)).status, 200)
      const later = yield* login
      yield* TestClock.adjust("30 seconds")
      const expired = yield* exchange(later.code)
      assert.strictEqual(json(expired).error, "invalid_grant")
      assert.include(json(expired).error_description, "30 seconds")
      // The redirect_uri must be sent, and be the authorization request's.
      const again = yield* login
      assert.strictEqual(json(yield* exchange(again.code, `${callback}/`)).error, "invalid_grant")
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("the token endpoint takes only Basic base64(appKey:appSecret)", () =>
    Effect.gen(function*() {
      const { api, login } = yield* setup()
      const { code } = yield* login
      const post = yield* postForm(`${api}/v1/oauth/token`, {
        grant_type: "authorization_code",
        code,
        redirect_uri: callback,
        client_id: demo.clientId,
        client_secret: demo.clientSecret
      })
      assert.strictEqual(post.status, 401)
      assert.strictEqual(json(post).error, "invalid_client")
      const bad = yield* postForm(`${api}/v1/oauth/token`, { grant_type: "authorization_code", code, redirect_uri: callback }, basicRaw(demo.clientId, "nope"))
      assert.strictEqual(bad.status, 401)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("refresh: the same refresh token comes back; it dies 7 days after the login, however often it is used", () =>
    Effect.gen(function*() {
      const { emulator, loggedIn, refresh } = yield* setup()
      const tokens = yield* loggedIn
      // Bounded: one refresh a day for six days.
      for (let day = 1; day <= 6; day++) {
        yield* TestClock.adjust("1 days")
        const reply = yield* refresh(tokens.refresh_token)
        assert.strictEqual(reply.status, 200, `day ${day}`)
        assert.strictEqual(json(reply).refresh_token, tokens.refresh_token)
      }
      yield* TestClock.adjust("23 hours")
      assert.strictEqual((yield* refresh(tokens.refresh_token)).status, 200)
      yield* TestClock.adjust("1 hours")
      const dead = yield* refresh(tokens.refresh_token)
      assert.strictEqual(dead.status, 400)
      assert.deepStrictEqual(json(dead), { error: "invalid_client", error_description: "refresh token invalid" })
      const info = (yield* emulator.tokens).find((t) => t.provider === "schwab" && t.kind === "refresh")!
      assert.strictEqual(info.uses, 7)
      assert.strictEqual(info.refusals, 1)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("one live grant per app: a new login kills the earlier refresh token (nested JSON error)", () =>
    Effect.gen(function*() {
      const { emulator, loggedIn, refresh } = yield* setup()
      const first = yield* loggedIn
      const second = yield* loggedIn
      const killed = yield* refresh(first.refresh_token)
      assert.strictEqual(killed.status, 400)
      const body = json(killed)
      assert.strictEqual(body.error, "unsupported_token_type")
      assert.strictEqual(JSON.parse(body.error_description).error, "refresh_token_authentication_error")
      assert.strictEqual((yield* refresh(second.refresh_token)).status, 200)
      const requests = (yield* emulator.tokenRequests).filter((r) => r.endpoint === "schwab.token")
      assert.deepStrictEqual(requests.map((r) => [r.grantType, r.status, r.error]), [
        ["authorization_code", 200, undefined],
        ["authorization_code", 200, undefined],
        ["refresh_token", 400, "unsupported_token_type"],
        ["refresh_token", 200, undefined]
      ])
      assert.isTrue(requests.every((r) => r.clientId === demo.clientId))
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("options: several grants allowed; rotating refresh tokens keep the login's deadline; a longer code life", () =>
    Effect.gen(function*() {
      const { emulator, login, exchange, loggedIn, refresh } = yield* setup({
        brokers: { schwab: { oneGrantPerApp: false, refreshToken: "rotate", refreshTokenLifetime: "2 days", authorizationCodeLifetime: "5 minutes" } }
      })
      const first = yield* loggedIn
      yield* loggedIn
      yield* TestClock.adjust("1 days")
      const rotated = json(yield* refresh(first.refresh_token))
      assert.notStrictEqual(rotated.refresh_token, first.refresh_token)
      assert.strictEqual(json(yield* refresh(first.refresh_token)).error, "unsupported_token_type")
      const infos = (yield* emulator.tokens).filter((t) => t.provider === "schwab" && t.kind === "refresh")
      const grants = new Set(infos.map((t) => t.grant))
      assert.strictEqual(grants.size, 2)
      const loginOne = infos.filter((t) => t.uses === 1 || t.grant === infos.find((i) => i.uses === 1)?.grant)
      assert.strictEqual(loginOne.length, 2)
      assert.deepStrictEqual(loginOne.map((t) => [t.uses, t.refusals, t.revoked]), [[1, 1, true], [0, 0, false]])
      assert.strictEqual(loginOne[1]!.expiresAt, loginOne[0]!.expiresAt)
      yield* TestClock.adjust("1 days")
      assert.strictEqual(json(yield* refresh(rotated.refresh_token)).error, "invalid_client")
      const { code } = yield* login
      yield* TestClock.adjust("4 minutes")
      assert.strictEqual((yield* exchange(code)).status, 200)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("accounts/accountNumbers: the bearer's accounts; a bad token is 401 in Schwab's errors shape", () =>
    Effect.gen(function*() {
      const { api, loggedIn } = yield* setup()
      const tokens = yield* loggedIn
      const ok = yield* get(`${api}/trader/v1/accounts/accountNumbers`, bearer(tokens.access_token))
      assert.strictEqual(ok.status, 200)
      const accounts = json(ok)
      assert.strictEqual(accounts[0].accountNumber, "12345678")
      assert.isString(accounts[0].hashValue)
      const bad = yield* get(`${api}/trader/v1/accounts/accountNumbers`, bearer("nope"))
      assert.strictEqual(bad.status, 401)
      assert.strictEqual(json(bad).errors[0].status, 401)
      yield* TestClock.adjust("1800 seconds")
      assert.strictEqual((yield* get(`${api}/trader/v1/accounts/accountNumbers`, bearer(tokens.access_token))).status, 401)
    }).pipe(Effect.provide(HttpLive)))
})
