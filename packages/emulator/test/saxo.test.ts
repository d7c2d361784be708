import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import { createHash } from "node:crypto"
import { Clients, Emulator } from "../src/index.js"
import { basicRaw, bearer, get, HttpLive, json, location, postForm } from "./utils.js"

const demo = Clients.saxoDemo
const pkce = Clients.saxoPkceDemo
const callback: string = demo.callbackUrl
const verifier = "a-verifier-that-is-long-enough-for-rfc-7636-xyz"
const challenge = createHash("sha256").update(verifier).digest("base64url")

const setup = (options?: Emulator.Options) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.make(options)
    const { logon, openapi } = emulator.brokerUrls.saxo
    const authorize = (params: Record<string, string>) => get(`${logon}/authorize?${new URLSearchParams(params)}`)
    const codeFor = (clientId: string = demo.clientId, extra: Record<string, string> = {}, redirectUri = callback) =>
      Effect.map(authorize({ response_type: "code", client_id: clientId, state: "st", redirect_uri: redirectUri, ...extra }), (reply) => {
        assert.strictEqual(reply.status, 302, reply.body)
        assert.strictEqual(location(reply).searchParams.get("state"), "st")
        return location(reply).searchParams.get("code")!
      })
    const basic = basicRaw(demo.clientId, demo.clientSecret)
    const login = Effect.flatMap(codeFor(), (code) =>
      Effect.map(postForm(`${logon}/token`, { grant_type: "authorization_code", code, redirect_uri: callback }, basic), json))
    const refresh = (refreshToken: string) =>
      postForm(`${logon}/token`, { grant_type: "refresh_token", refresh_token: refreshToken, redirect_uri: callback }, basic)
    return { emulator, logon, openapi, authorize, codeFor, login, refresh, basic }
  })

describe("Saxo", () => {
  it.scoped("code flow with Basic: refresh_token_expires_in, base_uri null, a JWT access token; users/me", () =>
    Effect.gen(function*() {
      const { login, openapi } = yield* setup()
      const tokens = yield* login
      assert.deepStrictEqual(Object.keys(tokens).sort(), ["access_token", "base_uri", "expires_in", "refresh_token", "refresh_token_expires_in", "token_type"])
      assert.strictEqual(tokens.expires_in, 1200)
      assert.strictEqual(tokens.refresh_token_expires_in, 3600)
      assert.isNull(tokens.base_uri)
      assert.strictEqual(tokens.access_token.split(".").length, 3)
      const me = yield* get(`${openapi}/port/v1/users/me`, bearer(tokens.access_token))
      assert.strictEqual(me.status, 200)
      assert.strictEqual(json(me).UserId, "demo-user")
      const bad = yield* get(`${openapi}/port/v1/users/me`, bearer("nope"))
      assert.strictEqual(bad.status, 401)
      assert.strictEqual(bad.body, "")
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("rotation: each refresh answers a new refresh token and the used one is refused; counted per token", () =>
    Effect.gen(function*() {
      const { emulator, login, refresh } = yield* setup()
      let current = (yield* login).refresh_token as string
      const used: Array<string> = []
      for (let i = 0; i < 5; i++) {
        yield* TestClock.adjust("10 minutes")
        const reply = json(yield* refresh(current))
        assert.notStrictEqual(reply.refresh_token, current)
        used.push(current)
        current = reply.refresh_token
      }
      const replay = yield* refresh(used[2]!)
      assert.strictEqual(replay.status, 400)
      assert.strictEqual(json(replay).error, "invalid_grant")
      const refreshTokens = (yield* emulator.tokens).filter((t) => t.provider === "saxo" && t.kind === "refresh")
      assert.deepStrictEqual(refreshTokens.map((t) => t.uses), [1, 1, 1, 1, 1, 0])
      assert.deepStrictEqual(refreshTokens.map((t) => t.refusals), [0, 0, 1, 0, 0, 0])
      const requests = (yield* emulator.tokenRequests).filter((r) => r.grantType === "refresh_token")
      assert.strictEqual(requests.length, 6)
      assert.deepStrictEqual(requests.map((r) => r.error), [undefined, undefined, undefined, undefined, undefined, "invalid_grant"])
      assert.strictEqual(requests[5]!.refreshTokenId, refreshTokens[2]!.id)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("a refresh token lives an hour from its issue; concurrent uses of one token: exactly one wins", () =>
    Effect.gen(function*() {
      const { login, refresh } = yield* setup()
      const tokens = yield* login
      yield* TestClock.adjust("3600 seconds")
      assert.strictEqual(json(yield* refresh(tokens.refresh_token)).error, "invalid_grant")
      const next = yield* login
      const replies = yield* Effect.forEach(Array.from({ length: 10 }), () => refresh(next.refresh_token), { concurrency: "unbounded" })
      assert.strictEqual(replies.filter((r) => r.status === 200).length, 1)
      assert.strictEqual(replies.filter((r) => r.status === 400).length, 9)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("options: spent refresh tokens valid until expiry; other lifetimes", () =>
    Effect.gen(function*() {
      const { login, refresh } = yield* setup({
        brokers: { saxo: { spentRefreshTokens: "valid-until-expiry", refreshTokenLifetime: "120 seconds", accessTokenLifetime: "60 seconds" } }
      })
      const tokens = yield* login
      assert.strictEqual(tokens.refresh_token_expires_in, 120)
      assert.strictEqual(tokens.expires_in, 60)
      assert.strictEqual((yield* refresh(tokens.refresh_token)).status, 200)
      assert.strictEqual((yield* refresh(tokens.refresh_token)).status, 200)
      yield* TestClock.adjust("120 seconds")
      assert.strictEqual((yield* refresh(tokens.refresh_token)).status, 400)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("PKCE app: S256 challenge, no secret; its refresh must re-send code_verifier and redirect_uri", () =>
    Effect.gen(function*() {
      const { emulator, authorize, codeFor, logon } = yield* setup()
      const noChallenge = yield* authorize({ response_type: "code", client_id: pkce.clientId, redirect_uri: callback })
      assert.strictEqual(location(noChallenge).searchParams.get("error"), "invalid_request")
      // Any loopback port (the default): the registered AppUrl with another port.
      const otherPort = "http://127.0.0.1:9999/callback"
      const code = yield* codeFor(pkce.clientId, { code_challenge: challenge, code_challenge_method: "S256" }, otherPort)
      const wrong = yield* postForm(`${logon}/token`, { grant_type: "authorization_code", client_id: pkce.clientId, code, redirect_uri: otherPort, code_verifier: "x".repeat(43) })
      assert.strictEqual(json(wrong).error, "invalid_grant")
      const code2 = yield* codeFor(pkce.clientId, { code_challenge: challenge, code_challenge_method: "S256" }, otherPort)
      const tokens = json(yield* postForm(`${logon}/token`, { grant_type: "authorization_code", client_id: pkce.clientId, code: code2, redirect_uri: otherPort, code_verifier: verifier }))
      assert.isString(tokens.refresh_token)
      const bare = yield* postForm(`${logon}/token`, { grant_type: "refresh_token", client_id: pkce.clientId, refresh_token: tokens.refresh_token })
      assert.strictEqual(json(bare).error, "invalid_grant")
      assert.include(json(bare).error_description, "code_verifier")
      // Refused before the token is spent: it still works with the verifier and redirect_uri.
      const ok = yield* postForm(`${logon}/token`, {
        grant_type: "refresh_token",
        client_id: pkce.clientId,
        refresh_token: tokens.refresh_token,
        code_verifier: verifier,
        redirect_uri: otherPort
      })
      assert.strictEqual(ok.status, 200)
      const spent = (yield* emulator.tokens).filter((t) => t.provider === "saxo" && t.kind === "refresh" && t.uses > 0)
      assert.strictEqual(spent.length, 1)
      const secretSent = yield* postForm(`${logon}/token`, { grant_type: "refresh_token", client_id: pkce.clientId, client_secret: "x", refresh_token: json(ok).refresh_token })
      assert.strictEqual(secretSent.status, 400)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("the AppUrl: another path or host is an error page; anyLoopbackPort: false wants the exact URL", () =>
    Effect.gen(function*() {
      const { authorize } = yield* setup({ brokers: { saxo: { anyLoopbackPort: false } } })
      for (const redirectUri of ["http://127.0.0.1:9999/callback", "http://127.0.0.1:8765/other", "http://evil.example/saxo/callback"]) {
        const reply = yield* authorize({ response_type: "code", client_id: demo.clientId, redirect_uri: redirectUri })
        assert.strictEqual(reply.status, 400, redirectUri)
        assert.isUndefined(reply.headers["location"])
      }
    }).pipe(Effect.provide(HttpLive)))
})
