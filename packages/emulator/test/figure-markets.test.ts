import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import { Clients, Emulator } from "../src/index.js"
import { basicForm, bearer, get, HttpLive, json, postForm, postText } from "./utils.js"

const demo = Clients.figureMarketsDemo
const readOnly = Clients.figureMarketsReadOnlyDemo

const setup = (options?: Emulator.Options) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.make(options)
    const tokenUrl = `${emulator.urls.figureMarkets.main}/auth/oauth2/token`
    const revokeUrl = `${emulator.urls.figureMarkets.main}/auth/oauth2/revoke`
    const op = (name: string) => `${emulator.urls.figureMarkets.trade}/api/v1/${name}`
    const token = (client: { clientId: string; clientSecret: string } = demo, scope = "TRADER_READ TRADER_TRADE") =>
      postForm(tokenUrl, {
        grant_type: "client_credentials",
        client_id: client.clientId,
        client_secret: client.clientSecret,
        scope
      })
    const accessToken = (client?: { clientId: string; clientSecret: string }, scope?: string) =>
      Effect.map(token(client, scope), (r) => json(r).access_token as string)
    return { emulator, tokenUrl, revokeUrl, op, token, accessToken }
  })

describe("Figure Markets", () => {
  it.scoped("issues an opaque bearer token for client_secret_post with the asked scope", () =>
    Effect.gen(function*() {
      const { token } = yield* setup()
      const reply = yield* token()
      assert.strictEqual(reply.status, 200)
      assert.strictEqual(reply.headers["content-type"], "application/json")
      assert.strictEqual(reply.headers["cache-control"], "no-store")
      assert.strictEqual(reply.headers["pragma"], "no-cache")
      const body = json(reply)
      assert.deepStrictEqual(Object.keys(body), ["access_token", "scope", "token_type", "expires_in"])
      assert.match(body.access_token, /^[A-Za-z0-9_-]{128}$/)
      assert.strictEqual(body.scope, "TRADER_READ TRADER_TRADE")
      assert.strictEqual(body.token_type, "Bearer")
      assert.strictEqual(body.expires_in, 86399)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("rejects scopes the client may not have, and a missing scope", () =>
    Effect.gen(function*() {
      const { token, tokenUrl } = yield* setup()
      const narrow = yield* token(readOnly, "TRADER_READ TRADER_TRADE")
      assert.strictEqual(narrow.status, 400)
      assert.strictEqual(json(narrow).error, "invalid_scope")
      assert.strictEqual(typeof json(narrow).error_description, "string")
      const commas = yield* token(demo, "TRADER_READ,TRADER_TRADE")
      assert.strictEqual(json(commas).error, "invalid_scope")
      const unknown = yield* token(demo, "TRADER")
      assert.strictEqual(unknown.status, 400)
      assert.strictEqual(json(unknown).error, "invalid_scope")
      const missing = yield* postForm(tokenUrl, {
        grant_type: "client_credentials",
        client_id: demo.clientId,
        client_secret: demo.clientSecret
      })
      assert.strictEqual(missing.status, 400)
      assert.strictEqual(json(missing).error, "invalid_request")
      const ok = yield* token(readOnly, "TRADER_READ")
      assert.strictEqual(json(ok).scope, "TRADER_READ")
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("answers RFC 6749 errors for bad clients, grants and bodies", () =>
    Effect.gen(function*() {
      const { tokenUrl } = yield* setup()
      const form = { grant_type: "client_credentials", client_id: demo.clientId, client_secret: "wrong", scope: "TRADER_READ" }
      const wrongSecret = yield* postForm(tokenUrl, form)
      assert.strictEqual(wrongSecret.status, 401)
      assert.deepStrictEqual(json(wrongSecret), { error: "invalid_client", error_description: "Client authentication failed" })
      assert.strictEqual(wrongSecret.headers["www-authenticate"], undefined)

      const basicOnly = yield* postForm(tokenUrl, { grant_type: "client_credentials", scope: "TRADER_READ" }, basicForm(demo.clientId, demo.clientSecret))
      assert.strictEqual(basicOnly.status, 401)
      assert.strictEqual(json(basicOnly).error, "invalid_client")
      assert.strictEqual(basicOnly.headers["www-authenticate"], `Basic realm="figure-markets"`)

      const both = yield* postForm(tokenUrl, { ...form, client_secret: demo.clientSecret }, basicForm(demo.clientId, demo.clientSecret))
      assert.strictEqual(both.status, 400)
      assert.strictEqual(json(both).error, "invalid_request")

      const noGrant = yield* postForm(tokenUrl, { client_id: demo.clientId, client_secret: demo.clientSecret, scope: "TRADER_READ" })
      assert.strictEqual(noGrant.status, 400)
      assert.strictEqual(json(noGrant).error, "invalid_request")

      const password = yield* postForm(tokenUrl, { ...form, client_secret: demo.clientSecret, grant_type: "password" })
      assert.strictEqual(password.status, 400)
      assert.strictEqual(json(password).error, "unsupported_grant_type")

      const asJson = yield* postText(tokenUrl, JSON.stringify({ ...form, client_secret: demo.clientSecret }), "application/json")
      assert.strictEqual(asJson.status, 400)
      assert.strictEqual(json(asJson).error, "invalid_request")

      const twice = yield* postText(
        tokenUrl,
        `grant_type=client_credentials&client_id=${demo.clientId}&client_secret=${demo.clientSecret}&scope=TRADER_READ&scope=TRADER_TRADE`,
        "application/x-www-form-urlencoded"
      )
      assert.strictEqual(twice.status, 400)
      assert.strictEqual(json(twice).error, "invalid_request")

      const wrongMethod = yield* get(tokenUrl)
      assert.strictEqual(wrongMethod.status, 405)
      assert.strictEqual(wrongMethod.headers["allow"], "POST")
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("serves the trading host: get_who_am_i, list_accounts, place_order by scope", () =>
    Effect.gen(function*() {
      const { accessToken, op } = yield* setup()
      const full = yield* accessToken()
      const who = yield* postText(op("get_who_am_i"), "", "application/json", bearer(full))
      assert.strictEqual(who.status, 200)
      assert.deepStrictEqual(json(who), { user: `firms/demo-firm/users/${demo.clientId}` })
      const accounts = yield* postText(op("list_accounts"), "", "application/json", bearer(full))
      assert.strictEqual(accounts.status, 200)
      assert.strictEqual(json(accounts).accounts.length, 2)
      const order = yield* postText(op("place_order"), "{}", "application/json", bearer(full))
      assert.strictEqual(order.status, 200)
      assert.strictEqual(json(order).status, "ACCEPTED")

      const read = yield* accessToken(readOnly, "TRADER_READ")
      assert.strictEqual((yield* postText(op("list_accounts"), "", "application/json", bearer(read))).status, 200)
      const forbidden = yield* postText(op("place_order"), "{}", "application/json", bearer(read))
      assert.strictEqual(forbidden.status, 403)
      assert.strictEqual(forbidden.headers["www-authenticate"], `Bearer error="insufficient_scope"`)
      assert.strictEqual(json(forbidden).error, "insufficient_scope")

      const trade = yield* accessToken(demo, "TRADER_TRADE")
      assert.strictEqual((yield* postText(op("list_accounts"), "", "application/json", bearer(trade))).status, 200)

      const unknownOp = yield* postText(op("no_such_operation"), "", "application/json", bearer(full))
      assert.strictEqual(unknownOp.status, 404)
      assert.strictEqual(json(unknownOp).error, "not_found")
      assert.strictEqual((yield* get(op("get_who_am_i"), bearer(full))).status, 405)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("answers 401 invalid_token for missing, unknown and expired tokens", () =>
    Effect.gen(function*() {
      const { accessToken, op } = yield* setup()
      const missing = yield* postText(op("get_who_am_i"), "", "application/json")
      assert.strictEqual(missing.status, 401)
      assert.strictEqual(missing.headers["www-authenticate"], `Bearer error="invalid_token"`)
      assert.deepStrictEqual(json(missing), { error: "invalid_token", error_description: "The access token is missing" })
      const unknown = yield* postText(op("get_who_am_i"), "", "application/json", bearer("not-a-token"))
      assert.strictEqual(unknown.status, 401)
      assert.strictEqual(unknown.headers["www-authenticate"], `Bearer error="invalid_token"`)

      const token = yield* accessToken()
      yield* TestClock.adjust("86398 seconds")
      assert.strictEqual((yield* postText(op("get_who_am_i"), "", "application/json", bearer(token))).status, 200)
      yield* TestClock.adjust("1 second")
      const expired = yield* postText(op("get_who_am_i"), "", "application/json", bearer(token))
      assert.strictEqual(expired.status, 401)
      assert.strictEqual(json(expired).error_description, "The access token expired")
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("takes token lifetimes from the options and from the client", () =>
    Effect.gen(function*() {
      const short = { clientId: "short", clientSecret: "s", scopes: ["TRADER_READ"], tokenLifetime: "5 seconds" } as const
      const { op, token } = yield* setup({ tokenLifetimes: { figureMarkets: "60 seconds" }, clients: { figureMarkets: [demo, short] } })
      assert.strictEqual(json(yield* token()).expires_in, 60)
      const shortReply = yield* token(short, "TRADER_READ")
      assert.strictEqual(json(shortReply).expires_in, 5)
      yield* TestClock.adjust("5 seconds")
      assert.strictEqual((yield* postText(op("get_who_am_i"), "", "application/json", bearer(json(shortReply).access_token))).status, 401)
      // the demo list was replaced: the read-only demo client is unknown here
      assert.strictEqual((yield* token(readOnly, "TRADER_READ")).status, 401)
    }).pipe(Effect.provide(HttpLive)))

  it.scoped("revokes tokens (RFC 7009): 200 always, and a revoked token stops working", () =>
    Effect.gen(function*() {
      const { accessToken, op, revokeUrl } = yield* setup()
      const creds = { client_id: demo.clientId, client_secret: demo.clientSecret }
      const token = yield* accessToken()
      const other = yield* accessToken(readOnly, "TRADER_READ")

      const revoked = yield* postForm(revokeUrl, { ...creds, token, token_type_hint: "access_token" })
      assert.strictEqual(revoked.status, 200)
      assert.strictEqual(revoked.body, "")
      const after = yield* postText(op("get_who_am_i"), "", "application/json", bearer(token))
      assert.strictEqual(after.status, 401)
      assert.strictEqual(json(after).error_description, "The access token was revoked")

      assert.strictEqual((yield* postForm(revokeUrl, { ...creds, token: "unknown" })).status, 200)
      // another client's token: 200, but left alone
      assert.strictEqual((yield* postForm(revokeUrl, { ...creds, token: other })).status, 200)
      assert.strictEqual((yield* postText(op("get_who_am_i"), "", "application/json", bearer(other))).status, 200)

      const noToken = yield* postForm(revokeUrl, creds)
      assert.strictEqual(noToken.status, 400)
      assert.strictEqual(json(noToken).error, "invalid_request")
      const badClient = yield* postForm(revokeUrl, { ...creds, client_secret: "nope", token: other })
      assert.strictEqual(badClient.status, 401)
      assert.strictEqual(json(badClient).error, "invalid_client")
    }).pipe(Effect.provide(HttpLive)))
})
