/**
 * tastytrade's partner login (authorization code) against the emulator, end to end: the authorize URL, the code
 * exchanged in a JSON body, the tokens stored where the layer reads and refreshes them without a personal grant, the
 * `error_code` errors, and the choice between the two ways to tokens.
 */
import * as AccessToken from "@effect-oauth2/core/AccessToken"
import * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import { assertNoSecrets } from "@effect-oauth2/core/provider-testing"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as http from "node:http"
import { Customer, Tastytrade } from "../src/index.js"

const demo = Clients.tastytradeDemo

/** The login's callback listener: a free port on 127.0.0.1 (the demo app registered a loopback callback). */
const CallbackServer = NodeHttpServer.layer(() => http.createServer(), { host: "127.0.0.1", port: 0 })

/** The user's browser: opens the authorize URL (the emulator approves at once) and follows one redirect back. */
const browser = (seen: Array<{ authorize: URL; callback: string | undefined }>, tamper?: (url: URL) => void) =>
(authorizeUrl: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const target = new URL(authorizeUrl)
    tamper?.(target)
    const first = yield* client.get(target.toString()).pipe(Effect.scoped)
    const callback = first.status === 302 ? first.headers["location"] : undefined
    seen.push({ authorize: new URL(authorizeUrl), callback })
    if (callback !== undefined) yield* client.get(callback).pipe(Effect.flatMap((r) => r.text), Effect.scoped)
  }).pipe(Effect.orDie)

const setup = Effect.gen(function*() {
  const emulator = yield* Effect.orDie(Emulator.make())
  const store = yield* TokenStore.makeMemory
  const settings: Tastytrade.Options = {
    clientId: demo.clientId,
    clientSecret: demo.clientSecret,
    scopes: ["read", "trade"],
    hosts: emulator.hosts.tastytrade
  }
  const seen: Array<{ authorize: URL; callback: string | undefined }> = []
  const login = (tamper?: (url: URL) => void, more: Partial<Tastytrade.Options> = {}) =>
    Tastytrade.login({ ...settings, ...more }, { onAuthorizeUrl: browser(seen, tamper) }).pipe(
      Effect.provide(CallbackServer),
      Effect.provideService(TokenStore.TokenStore, store)
    )
  const layer = (more: Partial<Tastytrade.Options> = {}) =>
    Layer.build(Tastytrade.layer({ ...settings, ...more }).pipe(Layer.provide(Layer.succeed(TokenStore.TokenStore, store))))
  return { emulator, store, settings, seen, login, layer }
}).pipe(Effect.provide(NodeHttpClient.layerUndici))

describe("Tastytrade: the partner login against the emulator", () => {
  it.scoped("login: the authorize URL at {auth}/auth.html, the code exchanged (JSON body), stored; the layer serves and refreshes it", () =>
    Effect.gen(function*() {
      const t = yield* setup
      const token = yield* t.login()
      const { authorize, callback } = t.seen[0]!
      assert.strictEqual(`${authorize.origin}${authorize.pathname}`, `${t.emulator.hosts.tastytrade.auth}/auth.html`)
      assert.strictEqual(authorize.searchParams.get("response_type"), "code")
      assert.strictEqual(authorize.searchParams.get("client_id"), demo.clientId)
      assert.strictEqual(authorize.searchParams.get("scope"), "read trade")
      assert.isTrue(authorize.searchParams.has("state"))
      assert.isFalse(authorize.searchParams.has("code_challenge"), "PKCE is undocumented: none by default")
      assert.match(authorize.searchParams.get("redirect_uri")!, /^http:\/\/127\.0\.0\.1:\d+\/callback$/)
      assert.isDefined(callback)

      assert.isDefined(token.refreshToken)
      assert.deepStrictEqual(token.scopes, ["read", "trade"])
      assert.strictEqual(token.authorizedAt, token.issuedAt, "stamped as a login")
      assert.isUndefined(token.refreshTokenExpiresAt, "no lifetime published: none assumed")
      const stored = yield* t.store.get(OAuth2Provider.storeKey(yield* OAuth2Provider.resolve(Tastytrade.partnerDefinition, t.settings)))
      assert.isTrue(Option.isSome(stored) && AccessToken.sameValue(stored.value, token))
      assert.deepStrictEqual(
        (yield* t.emulator.tokenRequests).map((r) => [r.endpoint, r.grantType, r.clientId, r.status]),
        [["tastytrade.token", "authorization_code", demo.clientId, 200]]
      )

      // No refresh token given: the layer serves the stored login, calls the API, and refreshes it like a grant.
      const context = yield* t.layer()
      const tokens = Context.get(context, Tastytrade.Tokens)
      assert.isTrue(AccessToken.sameValue(yield* tokens.get, token))
      assert.strictEqual((yield* Context.get(context, Customer.Customer).me).id, "demo-customer")
      const refreshed = yield* tokens.refresh
      assert.isFalse(AccessToken.sameValue(refreshed, token))
      assert.strictEqual(refreshed.authorizedAt, token.authorizedAt, "a refresh keeps the login")
      const requests = yield* t.emulator.tokenRequests
      assert.deepStrictEqual(requests.map((r) => [r.grantType, r.status]), [["authorization_code", 200], ["refresh_token", 200]])
      assert.strictEqual(requests[1]!.refreshTokenId !== undefined, true)
      assertNoSecrets(
        JSON.stringify(requests),
        [demo.clientSecret, Redacted.value(token.value), Redacted.value(token.refreshToken!)]
      )
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.scoped("PKCE when the definition asks for it: checked by the emulator; a refused exchange is a typed invalid_grant (error_code)", () =>
    Effect.gen(function*() {
      const t = yield* setup
      const withPkce: OAuth2Provider.Definition = {
        ...Tastytrade.partnerDefinition,
        login: { ...(Tastytrade.partnerDefinition.login as OAuth2Provider.LoginEndpoint), pkce: true }
      }
      const loginWith = (tamper?: (url: URL) => void) =>
        OAuth2Provider.login(withPkce, t.settings, { onAuthorizeUrl: browser(t.seen, tamper) }).pipe(
          Effect.provide(CallbackServer),
          Effect.provideService(TokenStore.TokenStore, t.store)
        )
      const token = yield* loginWith()
      assert.strictEqual(t.seen[0]!.authorize.searchParams.get("code_challenge_method"), "S256")
      assert.isDefined(token.refreshToken)

      // The challenge changed on its way: the verifier no longer matches, and tastytrade's error_code answer is
      // read as RFC 6749's error.
      const error = yield* Effect.flip(loginWith((url) => url.searchParams.set("code_challenge", "A".repeat(43))))
      assert.strictEqual(error._tag, "Unauthorized")
      if (error._tag === "Unauthorized") {
        assert.strictEqual(error.reason, "invalid_grant")
        assert.strictEqual(error.description, "Invalid code_verifier")
        assert.isFalse(error.retryable)
      }
      assert.deepStrictEqual(
        (yield* t.emulator.tokenRequests).map((r) => [r.grantType, r.status, r.error ?? null]),
        [["authorization_code", 200, null], ["authorization_code", 400, "invalid_grant"]]
      )
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.scoped("a refresh token given wins (the personal grant); neither a grant nor a store: InvalidConfiguration saying what to give", () =>
    Effect.gen(function*() {
      const t = yield* setup
      assert.strictEqual(Tastytrade.definitionFor(t.settings), Tastytrade.partnerDefinition)
      assert.strictEqual(Tastytrade.definitionFor({ ...t.settings, refreshToken: "x" }), Tastytrade.definition)
      const personal = yield* t.layer({ refreshToken: demo.grants[0].refreshToken })
      const token = yield* Context.get(personal, Tastytrade.Tokens).get
      assert.strictEqual(Redacted.value(token.refreshToken!), demo.grants[0].refreshToken)
      assert.deepStrictEqual((yield* t.emulator.tokenRequests).map((r) => r.grantType), ["refresh_token"])

      // A partner layer with nothing stored under its key yet (other scopes): log in first.
      const empty = yield* Effect.flip(Context.get(yield* t.layer({ scopes: ["read"] }), Tastytrade.Tokens).get)
      assert.strictEqual(empty._tag, "Expired")
      assert.include(empty.message, "log in first")

      const error = yield* Effect.flip(Layer.build(Tastytrade.layer(t.settings)))
      assert.strictEqual(error._tag, "InvalidConfiguration")
      assert.include(error.message, "TASTYTRADE_REFRESH_TOKEN")
      assert.include(error.message, "TokenStore")

      // layerConfig: without TASTYTRADE_REFRESH_TOKEN, the partner login's tokens; TASTYTRADE_AUTH_URL read.
      const env = ConfigProvider.fromMap(
        new Map([
          ["TASTYTRADE_CLIENT_ID", demo.clientId],
          ["TASTYTRADE_CLIENT_SECRET", demo.clientSecret],
          ["TASTYTRADE_AUTH_URL", t.emulator.hosts.tastytrade.auth]
        ])
      )
      const read = yield* Effect.withConfigProvider(Tastytrade.config, env)
      assert.isUndefined(read.refreshToken)
      assert.strictEqual(read.hosts?.auth, t.emulator.hosts.tastytrade.auth)
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.scoped("the emulator's login errors: an unregistered redirect, an unknown scope, a replayed or expired code (error_code)", () =>
    Effect.gen(function*() {
      const t = yield* setup
      const client = yield* HttpClient.HttpClient
      const authorizeUrl = (params: Record<string, string>) =>
        `${t.emulator.hosts.tastytrade.auth}/auth.html?${new URLSearchParams(params).toString()}`
      const base = { client_id: demo.clientId, response_type: "code", state: "s-1" }
      const page = yield* client.get(authorizeUrl({ ...base, redirect_uri: "https://attacker.example/callback" })).pipe(
        Effect.flatMap((r) => Effect.map(r.text, (text) => ({ status: r.status, text }))),
        Effect.scoped
      )
      assert.strictEqual(page.status, 400, "no redirect to a URI the app did not register")
      assert.include(page.text, "redirect_uri")
      const scoped = yield* client.get(
        authorizeUrl({ ...base, redirect_uri: "http://127.0.0.1:9/callback", scope: "read admin" })
      ).pipe(Effect.scoped)
      const location = new URL(scoped.headers["location"]!)
      assert.strictEqual(location.searchParams.get("error"), "invalid_scope")
      assert.strictEqual(location.searchParams.get("state"), "s-1")

      // The code exchange, by hand: a JSON body; a wrong redirect_uri, a replayed or an expired code is
      // `error_code: invalid_grant` (tastytrade's shape, not RFC 6749's `error`).
      const codeFor = Effect.map(
        client.get(authorizeUrl({ ...base, redirect_uri: "http://127.0.0.1:9/callback", scope: "read" })).pipe(Effect.scoped),
        (response) => new URL(response.headers["location"]!).searchParams.get("code")!
      )
      const exchange = (code: string, redirectUri = "http://127.0.0.1:9/callback") =>
        HttpClientRequest.post(`${t.emulator.hosts.tastytrade.api}/oauth/token`).pipe(
          HttpClientRequest.setHeader("user-agent", "partner-test/1.0"),
          HttpClientRequest.bodyUnsafeJson({
            grant_type: "authorization_code",
            code,
            redirect_uri: redirectUri,
            client_secret: demo.clientSecret
          }),
          client.execute,
          Effect.flatMap((r) => Effect.map(r.json, (body) => ({ status: r.status, body: body as Record<string, unknown> }))),
          Effect.scoped
        )
      const code = yield* codeFor
      const wrongRedirect = yield* exchange(code, "http://127.0.0.1:9/other")
      assert.strictEqual(wrongRedirect.status, 400)
      assert.strictEqual(wrongRedirect.body["error_code"], "invalid_grant")
      assert.isUndefined(wrongRedirect.body["error"])
      const fresh = yield* codeFor
      const ok = yield* exchange(fresh)
      assert.strictEqual(ok.status, 200)
      assert.strictEqual(ok.body["scope"], "read")
      assert.strictEqual(ok.body["token_type"], "Bearer")
      assert.isString(ok.body["refresh_token"])
      const replayed = yield* exchange(fresh)
      assert.deepStrictEqual([replayed.status, replayed.body["error_code"]], [400, "invalid_grant"])
      const late = yield* codeFor
      yield* TestClock.adjust("6 minutes")
      const expired = yield* exchange(late)
      assert.deepStrictEqual([expired.status, expired.body["error_code"]], [400, "invalid_grant"])
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))
})

