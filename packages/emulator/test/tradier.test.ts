import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import { Clients, Emulator } from "../src/index.js"
import { basicForm, bearer, get, HttpLive, json, location, postForm, type Reply } from "./utils.js"

const demo = Clients.tradierDemo
const partner = Clients.tradierPartnerDemo
const callback = "http://127.0.0.1:5555/callback"

const setup = (options?: Emulator.Options) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.make(options)
    const api = emulator.urls.tradier.api
    const authorizeUrl = (params: Record<string, string>) => `${api}/v1/oauth/authorize?${new URLSearchParams(params)}`
    const authorize = (params: Record<string, string>) => get(authorizeUrl(params))
    const client = (c: { clientId: string; clientSecret: string }) => basicForm(c.clientId, c.clientSecret)
    /** authorize, then Approve on the consent page: the callback's URL */
    const approve = (c: { clientId: string } = demo, scope = "read,trade", state = "st-1") =>
      Effect.gen(function*() {
        const first = yield* authorize({ client_id: c.clientId, scope, state, redirect_uri: callback })
        assert.strictEqual(first.status, 302)
        const txn = location(first).searchParams.get("txn")!
        const decided = yield* postForm(`${api}/oauth/consent`, { txn, decision: "approve" })
        assert.strictEqual(decided.status, 302)
        return location(decided)
      })
    const exchange = (code: string, c: { clientId: string; clientSecret: string } = demo, extra: Record<string, string> = {}) =>
      postForm(`${api}/v1/oauth/accesstoken`, { grant_type: "authorization_code", code, ...extra }, client(c))
    const codeFor = (c: { clientId: string } = demo, scope?: string) =>
      Effect.map(approve(c, scope), (u) => u.searchParams.get("code")!)
    const refresh = (refreshToken: string, c: { clientId: string; clientSecret: string } = partner, extra: Record<string, string> = {}) =>
      postForm(`${api}/v1/oauth/refreshtoken`, { grant_type: "refresh_token", refresh_token: refreshToken, ...extra }, client(c))
    const profile = (token: string, accept?: string) =>
      get(`${api}/v1/user/profile`, { ...bearer(token), ...(accept === undefined ? {} : { accept }) })
    return { emulator, api, authorize, approve, exchange, codeFor, refresh, profile }
  })

const redirectParams = (reply: Reply) => Object.fromEntries(location(reply).searchParams)

describe("Tradier authorize", () => {
  it.scoped("302s to a consent page; Approve sends code and state to the loopback callback", () =>
    Effect.gen(function*() {
      const { api, authorize } = yield* setup()
      const first = yield* authorize({ client_id: demo.clientId, scope: "read,trade", state: "xyz", redirect_uri: callback })
      assert.strictEqual(first.status, 302)
      assert.strictEqual(first.headers["content-length"], "0")
      const consentUrl = location(first)
      assert.strictEqual(consentUrl.origin + consentUrl.pathname, `${api}/oauth/consent`)

      const page = yield* get(consentUrl.toString())
      assert.strictEqual(page.status, 200)
      assert.match(page.headers["content-type"]!, /^text\/html/)
      assert.include(page.body, `value="approve"`)
      assert.include(page.body, `value="deny"`)
      assert.include(page.body, "<code>read</code>, <code>trade</code>")

      const txn = consentUrl.searchParams.get("txn")!
      const approved = yield* postForm(`${api}/oauth/consent`, { txn, decision: "approve" })
      assert.strictEqual(approved.status, 302)
      const back = location(approved)
      assert.strictEqual(back.origin + back.pathname, callback)
      assert.strictEqual(back.searchParams.get("state"), "xyz")
      assert.match(back.searchParams.get("code")!, /^[A-Za-z0-9_-]+$/)

      // the consent request is single-use
      const again = yield* postForm(`${api}/oauth/consent`, { txn, decision: "approve" })
      assert.strictEqual(again.status, 400)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("Deny sends error=access_denied with the state", () =>
    Effect.gen(function*() {
      const { api, authorize } = yield* setup()
      const first = yield* authorize({ client_id: demo.clientId, scope: "read", state: "s2" })
      const denied = yield* postForm(`${api}/oauth/consent`, { txn: location(first).searchParams.get("txn")!, decision: "deny" })
      assert.strictEqual(denied.status, 302)
      const back = location(denied)
      // no redirect_uri: the registered callback
      assert.strictEqual(back.origin + back.pathname, demo.callbackUrl)
      assert.strictEqual(back.searchParams.get("error"), "access_denied")
      assert.strictEqual(back.searchParams.get("state"), "s2")
      assert.isNull(back.searchParams.get("code"))
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("auto-approve and auto-deny modes skip the consent page; the mode changes while running", () =>
    Effect.gen(function*() {
      const { authorize, emulator } = yield* setup({ tradierAuthorization: "auto-approve" })
      const params = { client_id: demo.clientId, scope: "read", state: "s3", redirect_uri: callback }
      const approved = redirectParams(yield* authorize(params))
      assert.strictEqual(approved.state, "s3")
      assert.isString(approved.code)
      yield* emulator.setAuthorizationMode("auto-deny")
      assert.strictEqual(yield* emulator.authorizationMode, "auto-deny")
      assert.deepStrictEqual(redirectParams(yield* authorize(params)), {
        error: "access_denied",
        error_description: "The user denied access",
        state: "s3"
      })
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("accepts a redirect_uri that differs only in the loopback port, else uses the registered callback", () =>
    Effect.gen(function*() {
      const { authorize } = yield* setup({ tradierAuthorization: "auto-approve" })
      const to = (redirect_uri: string) =>
        Effect.map(authorize({ client_id: demo.clientId, scope: "read", state: "s", redirect_uri }), (r) => {
          const u = location(r)
          return u.origin + u.pathname
        })
      assert.strictEqual(yield* to("http://127.0.0.1:40000/callback"), "http://127.0.0.1:40000/callback")
      assert.strictEqual(yield* to(demo.callbackUrl), demo.callbackUrl)
      assert.strictEqual(yield* to("http://127.0.0.1:40000/elsewhere"), demo.callbackUrl)
      assert.strictEqual(yield* to("http://localhost:40000/callback"), demo.callbackUrl)
      assert.strictEqual(yield* to("https://attacker.example/callback"), demo.callbackUrl)
      assert.strictEqual(yield* to("not a url"), demo.callbackUrl)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("reports bad authorize requests: to the callback when the client is known, here otherwise", () =>
    Effect.gen(function*() {
      const { authorize } = yield* setup({ tradierAuthorization: "auto-approve" })
      const unknown = yield* authorize({ client_id: "nobody", scope: "read", state: "s" })
      assert.strictEqual(unknown.status, 400)
      assert.strictEqual(json(unknown).error, "invalid_request")
      assert.strictEqual(unknown.headers["location"], undefined)

      const noState = redirectParams(yield* authorize({ client_id: demo.clientId, scope: "read" }))
      assert.strictEqual(noState.error, "invalid_request")
      const badScope = redirectParams(yield* authorize({ client_id: demo.clientId, scope: "read,admin", state: "s" }))
      assert.strictEqual(badScope.error, "invalid_scope")
      assert.strictEqual(badScope.state, "s")
      const spaces = redirectParams(yield* authorize({ client_id: demo.clientId, scope: "read trade", state: "s" }))
      assert.strictEqual(spaces.error, "invalid_scope")
      const blanks = redirectParams(yield* authorize({ client_id: demo.clientId, scope: "read, trade", state: "s" }))
      assert.isString(blanks.code)
      const noScope = redirectParams(yield* authorize({ client_id: demo.clientId, state: "s" }))
      assert.strictEqual(noScope.error, "invalid_request")
      const implicit = redirectParams(yield* authorize({ client_id: demo.clientId, scope: "read", state: "s", response_type: "token" }))
      assert.strictEqual(implicit.error, "unsupported_response_type")
    }).pipe(Effect.provide(HttpLive)))
})

describe("Tradier token exchange", () => {
  it.scoped("answers access_token, expires_in, issued_at, scope (spaces) and status, without token_type", () =>
    Effect.gen(function*() {
      const { codeFor, exchange } = yield* setup()
      const code = yield* codeFor(demo, "read,trade,market")
      const reply = yield* exchange(code)
      assert.strictEqual(reply.status, 200)
      assert.strictEqual(reply.headers["cache-control"], "no-store")
      const body = json(reply)
      assert.deepStrictEqual(Object.keys(body), ["access_token", "expires_in", "issued_at", "scope", "status"])
      assert.strictEqual(body.expires_in, 86399)
      assert.strictEqual(body.issued_at, "1970-01-01T00:00:00.000Z") // the TestClock's epoch
      assert.strictEqual(body.scope, "read trade market")
      assert.strictEqual(body.status, "approved")
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("codes are single-use; a replay revokes the token the code produced", () =>
    Effect.gen(function*() {
      const { codeFor, exchange, profile } = yield* setup()
      const code = yield* codeFor()
      const token = json(yield* exchange(code)).access_token
      assert.strictEqual((yield* profile(token)).status, 200)
      const replay = yield* exchange(code)
      assert.strictEqual(replay.status, 400)
      assert.deepStrictEqual(json(replay), { error: "invalid_grant", error_description: "The authorization code was already used" })
      assert.strictEqual((yield* profile(token)).status, 401)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("codes die after 10 minutes", () =>
    Effect.gen(function*() {
      const { codeFor, exchange } = yield* setup()
      const early = yield* codeFor()
      const late = yield* codeFor()
      yield* TestClock.adjust("599 seconds")
      assert.strictEqual((yield* exchange(early)).status, 200)
      yield* TestClock.adjust("1 second")
      const expired = yield* exchange(late)
      assert.strictEqual(expired.status, 400)
      assert.deepStrictEqual(json(expired), { error: "invalid_grant", error_description: "The authorization code expired" })
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("checks the client: Basic only, its own codes, its secret", () =>
    Effect.gen(function*() {
      const { api, codeFor, exchange } = yield* setup()
      const code = yield* codeFor(demo)
      const other = yield* exchange(code, partner)
      assert.strictEqual(other.status, 400)
      assert.strictEqual(json(other).error, "invalid_grant")

      const wrong = yield* exchange(code, { clientId: demo.clientId, clientSecret: "nope" })
      assert.strictEqual(wrong.status, 401)
      assert.strictEqual(json(wrong).error, "invalid_client")
      assert.strictEqual(wrong.headers["www-authenticate"], `Basic realm="tradier"`)

      const url = `${api}/v1/oauth/accesstoken`
      const inBody = yield* postForm(url, { grant_type: "authorization_code", code, client_id: demo.clientId, client_secret: demo.clientSecret })
      assert.strictEqual(inBody.status, 401)
      assert.strictEqual(inBody.headers["www-authenticate"], `Basic realm="tradier"`)
      const both = yield* postForm(url, { grant_type: "authorization_code", code, client_secret: demo.clientSecret }, basicForm(demo.clientId, demo.clientSecret))
      assert.strictEqual(both.status, 400)
      assert.strictEqual(json(both).error, "invalid_request")
      const refreshGrant = yield* exchange(code, demo, { grant_type: "refresh_token" })
      assert.strictEqual(json(refreshGrant).error, "unsupported_grant_type")
      const noCode = yield* postForm(url, { grant_type: "authorization_code" }, basicForm(demo.clientId, demo.clientSecret))
      assert.strictEqual(json(noCode).error, "invalid_request")
      const wrongRedirect = yield* exchange(code, demo, { redirect_uri: "http://127.0.0.1:1/other" })
      assert.strictEqual(json(wrongRedirect).error, "invalid_grant")
      // the checks above did not burn the code
      assert.strictEqual((yield* exchange(code, demo, { redirect_uri: callback })).status, 200)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("form-decodes Basic credentials (RFC 6749 §2.3.1)", () =>
    Effect.gen(function*() {
      const special = { clientId: "app id", clientSecret: "s+e/c=r%t", callbackUrl: "http://127.0.0.1/cb" }
      const { codeFor, exchange } = yield* setup({ clients: { tradier: [special] } })
      const reply = yield* exchange(yield* codeFor(special, "read"), special)
      assert.strictEqual(reply.status, 200)
    }).pipe(Effect.provide(HttpLive)))
})

describe("Tradier refresh", () => {
  it.scoped("partners get a refresh token; refreshing answers a new access token and the same refresh token", () =>
    Effect.gen(function*() {
      const { codeFor, exchange, profile, refresh } = yield* setup()
      const first = json(yield* exchange(yield* codeFor(partner, "read,trade"), partner))
      assert.deepStrictEqual(Object.keys(first), ["access_token", "expires_in", "issued_at", "scope", "status", "refresh_token"])
      yield* TestClock.adjust("86399 seconds")
      assert.strictEqual((yield* profile(first.access_token)).status, 401)
      const second = yield* refresh(first.refresh_token)
      assert.strictEqual(second.status, 200)
      const body = json(second)
      assert.notStrictEqual(body.access_token, first.access_token)
      assert.strictEqual(body.refresh_token, first.refresh_token)
      assert.strictEqual(body.scope, "read trade")
      assert.strictEqual(body.issued_at, "1970-01-01T23:59:59.000Z")
      assert.strictEqual((yield* profile(body.access_token)).status, 200)
      const narrower = yield* refresh(first.refresh_token, partner, { scope: "read" })
      assert.strictEqual(json(narrower).scope, "read")
      const wider = yield* refresh(first.refresh_token, partner, { scope: "read stream" })
      assert.strictEqual(json(wider).error, "invalid_scope")
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("non-partners get no refresh token and may not refresh; unknown refresh tokens are invalid_grant", () =>
    Effect.gen(function*() {
      const { codeFor, exchange, refresh } = yield* setup()
      const plain = json(yield* exchange(yield* codeFor(demo)))
      assert.isUndefined(plain.refresh_token)
      const refused = yield* refresh("anything", demo)
      assert.strictEqual(refused.status, 400)
      assert.strictEqual(json(refused).error, "unauthorized_client")
      const unknown = yield* refresh("not-a-refresh-token")
      assert.strictEqual(json(unknown).error, "invalid_grant")
      // an access token is not a refresh token
      const partnerTokens = json(yield* exchange(yield* codeFor(partner), partner))
      assert.strictEqual(json(yield* refresh(partnerTokens.access_token)).error, "invalid_grant")
      assert.strictEqual(json(yield* refresh(partnerTokens.refresh_token, partner, { grant_type: "authorization_code" })).error, "unsupported_grant_type")
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("rotates refresh tokens, or leaves them out, when told to", () =>
    Effect.gen(function*() {
      const rotating = yield* setup({ tradierRefreshToken: "rotate" })
      const first = json(yield* rotating.exchange(yield* rotating.codeFor(partner), partner))
      const rotated = json(yield* rotating.refresh(first.refresh_token))
      assert.notStrictEqual(rotated.refresh_token, first.refresh_token)
      assert.strictEqual(json(yield* rotating.refresh(first.refresh_token)).error, "invalid_grant")
      assert.strictEqual((yield* rotating.refresh(rotated.refresh_token)).status, 200)

      const omitting = yield* setup({ tradierRefreshToken: "none" })
      const tokens = json(yield* omitting.exchange(yield* omitting.codeFor(partner), partner))
      const refreshed = json(yield* omitting.refresh(tokens.refresh_token))
      assert.isString(refreshed.access_token)
      assert.isUndefined(refreshed.refresh_token)
      assert.strictEqual((yield* omitting.refresh(tokens.refresh_token)).status, 200)
    }).pipe(Effect.provide(HttpLive)))
})

describe("Tradier profile", () => {
  it.scoped("answers XML unless the request accepts JSON", () =>
    Effect.gen(function*() {
      const { codeFor, exchange, profile } = yield* setup()
      const token = json(yield* exchange(yield* codeFor())).access_token
      const xml = yield* profile(token)
      assert.strictEqual(xml.status, 200)
      assert.strictEqual(xml.headers["content-type"], "application/xml")
      assert.isTrue(xml.body.startsWith(`<?xml version="1.0" encoding="UTF-8"?>\n<profile><id>id-${demo.clientId}</id>`))
      const asJson = yield* profile(token, "application/json")
      assert.strictEqual(asJson.headers["content-type"], "application/json")
      assert.strictEqual(json(asJson).profile.id, `id-${demo.clientId}`)
      assert.strictEqual(json(asJson).profile.account.account_number, "VA00000001")
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("401 for bad tokens, 403 without the read scope, static tokens accepted", () =>
    Effect.gen(function*() {
      const { codeFor, exchange, profile } = yield* setup()
      const bad = yield* profile("nope")
      assert.strictEqual(bad.status, 401)
      assert.strictEqual(bad.body, "Invalid Access Token")
      assert.strictEqual(bad.headers["www-authenticate"], `Bearer error="invalid_token"`)
      const marketOnly = json(yield* exchange(yield* codeFor(demo, "market"))).access_token
      const forbidden = yield* profile(marketOnly)
      assert.strictEqual(forbidden.status, 403)
      assert.strictEqual(forbidden.headers["www-authenticate"], `Bearer error="insufficient_scope"`)
      assert.strictEqual((yield* profile(Clients.tradierStaticDemo.token, "application/json")).status, 200)
      yield* TestClock.adjust("3650 days")
      assert.strictEqual((yield* profile(Clients.tradierStaticDemo.token)).status, 200)
    }).pipe(Effect.provide(HttpLive)))
})
