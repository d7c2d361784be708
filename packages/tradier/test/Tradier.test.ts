import * as AccessToken from "@effect-oauth2/core/AccessToken"
import * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Deferred from "effect/Deferred"
import * as Fiber from "effect/Fiber"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { Tradier } from "../src/index.js"
import { assertNoSecrets, captureLogs, errorText, loopbackServer } from "@effect-oauth2/core/provider-testing"
import { awaitSleepers, browser, CallbackServer, type Visit } from "./utils.js"

const demo = Clients.tradierDemo
const partner = Clients.tradierPartnerDemo
const staticToken = Clients.tradierStaticDemo.token

type App = { readonly clientId: string; readonly clientSecret: string }

/**
 * The app's credentials alone: the tests' callback listener is on a free port, so the emulator apps' registered
 * `callbackUrl` (which a login would insist on) is left out.
 */
const credentials = (app: App): App => ({ clientId: app.clientId, clientSecret: app.clientSecret })

/** An emulator in auto-approve mode, a memory token store, and the package's layers and login pointed at both. */
const setup = (options: Emulator.Options = {}) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.make({ tradierAuthorization: "auto-approve", ...options })
    const urls = { hosts: { api: emulator.hosts.tradier.api } }
    const store = yield* TokenStore.makeMemory
    const visits: Array<Visit> = []
    const login = (app: App, extra: Partial<Tradier.LoginOptions<never, HttpClient.HttpClient>> = {}) =>
      Tradier.login({ ...urls, ...credentials(app), onAuthorizeUrl: browser(visits), ...extra }).pipe(
        Effect.provide(CallbackServer),
        Effect.provideService(TokenStore.TokenStore, store)
      )
    /** Builds a layer in the test's scope and returns its services. */
    const build = <E, R>(layer: Layer.Layer<Tradier.Services, E, R>) => Layer.build(layer)
    const oauth = (app: App, extra: Partial<Tradier.Options> = {}) =>
      build(Tradier.layer({ ...urls, ...app, ...extra }).pipe(Layer.provide(Layer.succeed(TokenStore.TokenStore, store))))
    const counter = (endpoint: "tradier.token" | "tradier.refresh" | "tradier.profile") =>
      Effect.map(emulator.countersFor(endpoint), (c) => c.requests)
    return { emulator, urls, store, visits, login, build, oauth, counter }
  })

const profile = (ctx: Context.Context<Tradier.Services>, request = HttpClientRequest.get("/v1/user/profile")) =>
  Context.get(ctx, Tradier.HttpClient).execute(request).pipe(
    Effect.flatMap((response) =>
      Effect.map(response.text, (body) => ({
        status: response.status,
        contentType: response.headers["content-type"] ?? "",
        body
      }))
    ),
    Effect.scoped
  )

const Live = NodeHttpClient.layerUndici

describe("Tradier login and OAuth layer", () => {
  it.scoped("login end to end: comma-separated scopes, Basic exchange, stored under the layer's key; profile in JSON", () => {
    const lines: Array<string> = []
    return Effect.gen(function*() {
      const t = yield* setup()
      const token = yield* t.login(demo, { scopes: ["read", "market"] })

      // the authorize URL: Tradier's parameters, comma-separated scopes, the loopback callback, no PKCE
      const visit = t.visits[0]!
      const authorize = new URL(visit.authorizeUrl)
      assert.strictEqual(authorize.origin + authorize.pathname, `${t.urls.hosts.api}/v1/oauth/authorize`)
      assert.strictEqual(authorize.searchParams.get("client_id"), demo.clientId)
      assert.strictEqual(authorize.searchParams.get("scope"), "read,market")
      assert.match(authorize.searchParams.get("redirect_uri")!, /^http:\/\/127\.0\.0\.1:\d+\/callback$/)
      assert.isFalse(authorize.searchParams.has("code_challenge"))
      assert.isAtLeast(authorize.searchParams.get("state")!.length, 43)
      assert.strictEqual(visit.callbackStatus, 200)

      // the token: Bearer by default, Tradier's extra members kept, no refresh token for a non-partner
      assert.strictEqual(token.type, "Bearer")
      assert.deepStrictEqual(token.scopes, ["read", "market"])
      assert.strictEqual(token.expiresAt - token.issuedAt, 86399_000)
      assert.strictEqual(token.extra.status, "approved")
      assert.isString(token.extra.issued_at)
      assert.isUndefined(token.refreshToken)
      assert.strictEqual(yield* t.counter("tradier.token"), 1)

      // stored where the layer reads it
      const key = Tradier.storeKey({ clientId: demo.clientId, scopes: ["read", "market"] })
      assert.deepStrictEqual(key, {
        provider: "tradier",
        environment: "sandbox",
        clientId: demo.clientId,
        scopes: ["read", "market"]
      })
      const stored = yield* t.store.get(key)
      assert.isTrue(Option.isSome(stored) && AccessToken.sameValue(stored.value, token))

      const ctx = yield* t.oauth(demo, { scopes: ["read", "market"] })
      const tokens = Context.get(ctx, Tradier.Tokens)
      assert.strictEqual(Context.get(ctx, AccessTokens.AccessTokens), tokens)
      assert.isTrue(AccessToken.sameValue(yield* tokens.get, token))

      // Accept: application/json is added, so Tradier answers JSON rather than XML
      const answer = yield* profile(ctx)
      assert.strictEqual(answer.status, 200)
      assert.match(answer.contentType, /^application\/json/)
      assert.strictEqual(JSON.parse(answer.body).profile.id, `id-${demo.clientId}`)
      // ...unless the caller asks for another type
      const xml = yield* profile(ctx, HttpClientRequest.get("/v1/user/profile").pipe(HttpClientRequest.accept("application/xml")))
      assert.match(xml.contentType, /^application\/xml/)
      assert.strictEqual(yield* t.counter("tradier.token"), 1)

      const callback = new URL(visit.callbackUrl!)
      assertNoSecrets(lines.join("\n"), [
        demo.clientSecret,
        callback.searchParams.get("code")!,
        callback.searchParams.get("state")!,
        Redacted.value(token.value)
      ])
    }).pipe(Effect.provide(Layer.merge(Live, captureLogs(lines))))
  })

  it.scoped("a partner's token is refreshed through /v1/oauth/refreshtoken when it expires", () =>
    Effect.gen(function*() {
      const t = yield* setup()
      const first = yield* t.login(partner)
      assert.isDefined(first.refreshToken)
      // No skew: the renewal starts at expiry, inside the clock jump below. With the default skew it would start
      // 60 s earlier, and the jump would also pass its 30 s request timeout (all time is Clock time), making a
      // retry and a second refresh request.
      const ctx = yield* t.oauth(partner, { refreshSkew: 0 })
      const tokens = Context.get(ctx, Tradier.Tokens)
      assert.strictEqual((yield* profile(ctx)).status, 200)

      yield* TestClock.adjust("86400 seconds")
      const second = yield* tokens.get
      assert.isFalse(AccessToken.sameValue(second, first))
      assert.strictEqual(yield* t.counter("tradier.refresh"), 1)
      assert.strictEqual(yield* t.counter("tradier.token"), 1)
      assert.strictEqual((yield* profile(ctx)).status, 200)
      // the renewed token is stored for the next process
      const stored = yield* t.store.get(Tradier.storeKey({ clientId: partner.clientId }))
      assert.isTrue(Option.isSome(stored) && AccessToken.sameValue(stored.value, second))
    }).pipe(Effect.provide(Live)))

  it.scoped("Tradier.login stamps the refresh token's anchors and the rule's death, and stores them", () =>
    Effect.gen(function*() {
      const t = yield* setup()
      const plain = yield* t.login(partner)
      assert.strictEqual(plain.authorizedAt, plain.issuedAt)
      assert.strictEqual(plain.refreshTokenIssuedAt, plain.issuedAt)
      const ruled = yield* t.login(partner, { refreshTokenLifetime: { duration: "3 days", from: "login" } })
      assert.strictEqual(ruled.refreshTokenExpiresAt, ruled.authorizedAt! + 3 * 86_400_000)
      const stored = yield* t.store.get(Tradier.storeKey({ clientId: partner.clientId }))
      assert.isTrue(Option.isSome(stored))
      assert.strictEqual(Option.getOrThrow(stored).refreshTokenExpiresAt, ruled.refreshTokenExpiresAt)
    }).pipe(Effect.provide(Live)))

  it.scoped("a partner's access token refused by the API: refreshed with the refresh token, the call replayed once", () =>
    Effect.gen(function*() {
      const t = yield* setup()
      const first = yield* t.login(partner)
      const ctx = yield* t.oauth(partner)
      assert.isTrue(yield* t.emulator.revokeToken(Redacted.value(first.value)))
      const answer = yield* profile(ctx)
      assert.strictEqual(answer.status, 200)
      assert.strictEqual(yield* t.counter("tradier.refresh"), 1)
      assert.strictEqual(yield* t.counter("tradier.profile"), 2)
      const current = yield* Context.get(ctx, Tradier.Tokens).current
      assert.isTrue(Option.isSome(current) && !AccessToken.sameValue(current.value, first))
      assert.isTrue(Option.isSome(current) && current.value.refreshToken !== undefined)
    }).pipe(Effect.provide(Live)))

  it.scoped("a non-partner's token expires: Expired, saying to log in again; the refresh endpoint is never called", () =>
    Effect.gen(function*() {
      const t = yield* setup()
      yield* t.login(demo)
      const ctx = yield* t.oauth(demo)
      const tokens = Context.get(ctx, Tradier.Tokens)
      yield* tokens.get

      yield* TestClock.adjust("86400 seconds")
      const error = yield* Effect.flip(tokens.get)
      assert.strictEqual(error._tag, "Expired")
      assert.include(error.message, "log in again")
      const again = yield* Effect.flip(Context.get(ctx, Tradier.HttpClient).get("/v1/user/profile"))
      assert.strictEqual(again._tag, "Expired")
      assert.strictEqual(yield* t.counter("tradier.refresh"), 0)
      assert.strictEqual(yield* t.counter("tradier.profile"), 0)
    }).pipe(Effect.provide(Live)))

  it.scoped("a non-partner's token is served until it expires, not refreshSkew earlier", () =>
    Effect.gen(function*() {
      const t = yield* setup()
      const token = yield* t.login(demo)
      const ctx = yield* t.oauth(demo)
      const tokens = Context.get(ctx, Tradier.Tokens)
      yield* tokens.get
      // 30 seconds before expiry, inside the 60-second refresh skew: nothing can renew it, but it is still valid
      yield* TestClock.adjust("86369 seconds")
      assert.isTrue(AccessToken.sameValue(yield* tokens.get, token))
      assert.isTrue(AccessToken.sameValue(yield* Context.get(ctx, AccessTokens.AccessTokens).get, token))
      assert.strictEqual((yield* profile(ctx)).status, 200)
      yield* TestClock.adjust("31 seconds")
      assert.strictEqual((yield* Effect.flip(tokens.get))._tag, "Expired")
    }).pipe(Effect.provide(Live)))

  it.scoped("refreshTokens: false keeps a partner's refresh token out of the store", () =>
    Effect.gen(function*() {
      const t = yield* setup()
      const token = yield* t.login(partner, { refreshTokens: false })
      assert.isUndefined(token.refreshToken)
      const stored = yield* t.store.get(Tradier.storeKey({ clientId: partner.clientId }))
      assert.isTrue(Option.isSome(stored) && stored.value.refreshToken === undefined)
    }).pipe(Effect.provide(Live)))

  it.scoped("before any login: Expired, saying to log in first", () =>
    Effect.gen(function*() {
      const t = yield* setup()
      const ctx = yield* t.oauth(demo)
      const error = yield* Effect.flip(Context.get(ctx, Tradier.Tokens).get)
      assert.strictEqual(error._tag, "Expired")
      assert.include(error.message, "log in first")
      assert.strictEqual(yield* t.counter("tradier.token"), 0)
    }).pipe(Effect.provide(Live)))

  it.scoped("the user refuses (auto-deny): AuthorizationFailed access_denied, nothing exchanged or stored", () => {
    const lines: Array<string> = []
    return Effect.gen(function*() {
      const t = yield* setup({ tradierAuthorization: "auto-deny" })
      const error = yield* Effect.flip(t.login(demo))
      assert.strictEqual(error._tag, "AuthorizationFailed")
      if (error._tag === "AuthorizationFailed") assert.strictEqual(error.reason, "access_denied")
      assert.strictEqual(yield* t.counter("tradier.token"), 0)
      assert.isTrue(Option.isNone(yield* t.store.get(Tradier.storeKey({ clientId: demo.clientId }))))
      const state = new URL(t.visits[0]!.authorizeUrl).searchParams.get("state")!
      assertNoSecrets(errorText(error), [state, demo.clientSecret])
      assertNoSecrets(lines.join("\n"), [state, demo.clientSecret])
      assert.isTrue(lines.some((line) => line.includes("login failed")))
    }).pipe(Effect.provide(Layer.merge(Live, captureLogs(lines))))
  })

  it.scoped("nobody logs in: AuthorizationFailed timeout after 10 minutes, and the listener stops", () =>
    Effect.gen(function*() {
      const t = yield* setup()
      const shown = yield* Deferred.make<string>()
      const fiber = yield* Effect.fork(t.login(demo, { onAuthorizeUrl: (url) => Deferred.succeed(shown, url) }))
      yield* Deferred.await(shown)
      yield* awaitSleepers(1)
      yield* TestClock.adjust("10 minutes")
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "AuthorizationFailed")
      if (error._tag === "AuthorizationFailed") assert.strictEqual(error.reason, "timeout")
      assert.strictEqual(yield* t.counter("tradier.token"), 0)
    }).pipe(Effect.provide(Live)))

  it.scoped("a callback whose state differs does not end the login: it gets a 400, its code is never exchanged, and the genuine callback then logs in", () => {
    const lines: Array<string> = []
    return Effect.gen(function*() {
      const t = yield* setup()
      const forged = "forged-state-value-0123456789"
      yield* t.login(demo, {
        onAuthorizeUrl: (url) =>
          Effect.zipRight(
            browser(t.visits, (target) => target.searchParams.set("state", forged))(url),
            browser(t.visits)(url)
          )
      })
      assert.strictEqual(t.visits[0]!.callbackStatus, 400)
      assert.strictEqual(t.visits[1]!.callbackStatus, 200)
      assert.strictEqual(yield* t.counter("tradier.token"), 1)
      assert.isTrue(Option.isSome(yield* t.store.get(Tradier.storeKey({ clientId: demo.clientId }))))
      const secrets = [
        new URL(t.visits[0]!.authorizeUrl).searchParams.get("state")!,
        forged,
        new URL(t.visits[0]!.callbackUrl!).searchParams.get("code")!,
        new URL(t.visits[1]!.callbackUrl!).searchParams.get("code")!
      ]
      assertNoSecrets(lines.join("\n"), secrets)
    }).pipe(Effect.provide(Layer.merge(Live, captureLogs(lines))))
  })

  it.scoped("a wrong client secret: Unauthorized invalid_client, with no secret in the error or the logs", () => {
    const lines: Array<string> = []
    return Effect.gen(function*() {
      const t = yield* setup()
      const wrong = "wrong+secret/value="
      const error = yield* Effect.flip(t.login({ clientId: demo.clientId, clientSecret: wrong }))
      assert.strictEqual(error._tag, "Unauthorized")
      if (error._tag === "Unauthorized") assert.strictEqual(error.reason, "invalid_client")
      const code = new URL(t.visits[0]!.callbackUrl!).searchParams.get("code")!
      assertNoSecrets(errorText(error), [wrong, demo.clientSecret, code])
      assertNoSecrets(lines.join("\n"), [wrong, demo.clientSecret, code])
    }).pipe(Effect.provide(Layer.merge(Live, captureLogs(lines))))
  })

  it.scoped("a token sent to another environment: one replay, then Unauthorized naming the environment", () => {
    const lines: Array<string> = []
    return Effect.gen(function*() {
      const t = yield* setup()
      const token = yield* t.login(demo)
      // the API of another environment (a second emulator) knows nothing of this token
      const other = yield* Emulator.make()
      const ctx = yield* t.build(
        Tradier.layer({ ...demo, hosts: { api: other.urls.tradier.api } }).pipe(
          Layer.provide(Layer.succeed(TokenStore.TokenStore, t.store))
        )
      )
      const error = yield* Effect.flip(profile(ctx))
      assert.strictEqual(error._tag, "Unauthorized")
      if (error._tag === "Unauthorized") assert.strictEqual(error.reason, "rejected-token")
      assert.include(error.message, "sandbox")
      assert.include(error.message, "environment")
      assert.strictEqual((yield* other.countersFor("tradier.profile")).requests, 2)
      assertNoSecrets(errorText(error), [Redacted.value(token.value), demo.clientSecret])
      assertNoSecrets(lines.join("\n"), [Redacted.value(token.value), demo.clientSecret])
    }).pipe(Effect.provide(Layer.merge(Live, captureLogs(lines))))
  })

  it.scoped("the token goes to the API origin only", () =>
    Effect.gen(function*() {
      const t = yield* setup()
      yield* t.login(demo)
      const ctx = yield* t.oauth(demo)
      const error = yield* Effect.flip(Context.get(ctx, Tradier.HttpClient).get("https://example.com/v1/user/profile"))
      assert.strictEqual(error._tag, "InvalidConfiguration")
    }).pipe(Effect.provide(Live)))
})

describe("Tradier static API token", () => {
  const staticLayer = (emulator: Emulator.Emulator) =>
    Layer.build(
      Tradier.layerStaticToken({ token: Redacted.make(staticToken), hosts: { api: emulator.hosts.tradier.api } })
    )

  it.scoped("calls the profile with the token; it never expires; refresh and revoke are Unsupported", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const ctx = yield* staticLayer(emulator)
      const answer = yield* profile(ctx)
      assert.strictEqual(answer.status, 200)
      assert.strictEqual(JSON.parse(answer.body).profile.id, "id-static")
      const tokens = Context.get(ctx, Tradier.Tokens)
      yield* TestClock.adjust("3650 days")
      assert.strictEqual(Redacted.value((yield* tokens.get).value), staticToken)
      assert.strictEqual((yield* Effect.flip(tokens.refresh))._tag, "Unsupported")
      assert.strictEqual((yield* Effect.flip(tokens.revoke))._tag, "Unsupported")
      assert.strictEqual((yield* profile(ctx)).status, 200)
    }).pipe(Effect.provide(Live)))

  it.scoped("a revoked static token: Unauthorized saying to check the token in Tradier's settings, after one request", () => {
    const lines: Array<string> = []
    return Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const ctx = yield* staticLayer(emulator)
      assert.isTrue(yield* emulator.revokeToken(staticToken))
      const error = yield* Effect.flip(profile(ctx))
      assert.strictEqual(error._tag, "Unauthorized")
      if (error._tag === "Unauthorized") {
        assert.strictEqual(error.reason, "rejected-token")
        assert.strictEqual(error.status, 401)
      }
      assert.include(error.message, "Tradier account settings")
      assert.strictEqual((yield* emulator.countersFor("tradier.profile")).requests, 1)
      assertNoSecrets(errorText(error), [staticToken])
      assertNoSecrets(lines.join("\n"), [staticToken])
    }).pipe(Effect.provide(Layer.merge(Live, captureLogs(lines))))
  })
})

describe("Tradier API calls", () => {
  it.scopedLive("are bounded: an API host that never answers times out, an oversized answer is refused", () =>
    Effect.gen(function*() {
      const silent = yield* loopbackServer(() => ({ status: 200, hang: true }))
      const huge = yield* loopbackServer(() => ({ status: 200, body: JSON.stringify({ profile: "x".repeat(4096) }) }))
      const profile = (apiUrl: string) =>
        Layer.build(
          Tradier.layerStaticToken({
            token: Redacted.make(staticToken),
            hosts: { api: apiUrl },
            apiRequestTimeout: "200 millis",
            apiMaxResponseBytes: 1024
          }).pipe(Layer.provide(NodeHttpClient.layerUndici))
        ).pipe(
          Effect.flatMap((ctx) => Context.get(ctx, Tradier.HttpClient).get("/v1/user/profile")),
          Effect.flatMap((response) => response.text),
          Effect.flip
        )
      const timedOut = yield* profile(silent.url)
      assert.strictEqual(timedOut._tag, "TransportError")
      if (timedOut._tag === "TransportError") assert.strictEqual(timedOut.reason, "Timeout")
      const tooLarge = yield* profile(huge.url)
      // Read through the platform's API: a ResponseError whose cause is the family's error, naming the limit.
      assert.strictEqual(tooLarge._tag, "ResponseError")
      if (tooLarge._tag === "ResponseError") {
        assert.strictEqual((tooLarge.cause as { readonly _tag?: string })._tag, "MalformedResponse")
        assert.include(tooLarge.message, "1024-byte limit")
      }
      assertNoSecrets(errorText(tooLarge), [staticToken])
    }))
})

describe("Tradier.layerConfig", () => {
  const withEnv = (env: Record<string, string>) => Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
  const Store = TokenStore.layerMemory

  it.scoped("TRADIER_ACCESS_TOKEN selects the static-token mode", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const ctx = yield* Layer.build(Tradier.layerConfig().pipe(Layer.provide(Store))).pipe(
        withEnv({ TRADIER_ACCESS_TOKEN: staticToken, TRADIER_API_URL: emulator.urls.tradier.api })
      )
      assert.strictEqual((yield* profile(ctx)).status, 200)
    }).pipe(Effect.provide(Live)))

  it.scoped("client id and secret select the OAuth mode, which reads the store", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const ctx = yield* Layer.build(Tradier.layerConfig().pipe(Layer.provide(Store))).pipe(
        withEnv({
          TRADIER_CLIENT_ID: demo.clientId,
          TRADIER_CLIENT_SECRET: demo.clientSecret,
          TRADIER_ENV: "production",
          TRADIER_API_URL: emulator.urls.tradier.api
        })
      )
      const error = yield* Effect.flip(Context.get(ctx, Tradier.Tokens).get)
      assert.strictEqual(error._tag, "Expired")
      assert.strictEqual(Context.get(ctx, Tradier.Tokens).provider, "tradier")
    }).pipe(Effect.provide(Live)))

  it.scoped("a bad TRADIER_ENV is a ConfigError naming the variable and the allowed values", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Layer.build(Tradier.layerConfig().pipe(Layer.provide(Store))).pipe(
          withEnv({ TRADIER_ENV: "prod", TRADIER_ACCESS_TOKEN: staticToken })
        )
      )
      const text = String(error)
      assert.include(text, "TRADIER_ENV")
      assert.include(text, "sandbox")
      assert.include(text, "production")
      assert.notInclude(text, staticToken)
    }).pipe(Effect.provide(Live)))

  it.scoped("OAuth mode without a client secret is a ConfigError naming it", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Layer.build(Tradier.layerConfig().pipe(Layer.provide(Store))).pipe(withEnv({ TRADIER_CLIENT_ID: demo.clientId }))
      )
      assert.include(String(error), "TRADIER_CLIENT_SECRET")
    }).pipe(Effect.provide(Live)))

  it.scoped("a TRADIER_API_URL that is plain http off loopback is a ConfigError naming the variable", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Layer.build(Tradier.layerConfig().pipe(Layer.provide(Store))).pipe(
          withEnv({ TRADIER_ACCESS_TOKEN: staticToken, TRADIER_API_URL: "http://api.tradier.example" })
        )
      )
      assert.isTrue(ConfigError.isConfigError(error))
      assert.include(String(error), "TRADIER_API_URL")
      assert.include(String(error), "https://")
      assert.notInclude(errorText(error), staticToken)
    }).pipe(Effect.provide(Live)))
})
