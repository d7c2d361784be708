import * as AccessToken from "@effect-oauth2/core/AccessToken"
import * as FileTokenStore from "@effect-oauth2/core/FileTokenStore"
import * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import type * as RefreshTokenLifetime from "@effect-oauth2/core/RefreshTokenLifetime"
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { inspect } from "node:util"
import { Saxo, Users } from "../src/index.js"
import { loginInto } from "./utils/login.js"

const confidential = Clients.saxoDemo
const pkce = Clients.saxoPkceDemo

/** The layer of `options` over `store`, against the emulator. */
const build = (emulator: Emulator.Emulator, options: Omit<Saxo.Options, "hosts">, store: TokenStore.Service) =>
  Layer.build(
    Saxo.layer({ ...options, hosts: emulator.brokerUrls.saxo }).pipe(
      Layer.provide(Layer.succeed(TokenStore.TokenStore, store)),
      Layer.provide(NodeHttpClient.layerUndici)
    )
  )

const requestsOf = (emulator: Emulator.Emulator) =>
  Effect.map(emulator.tokenRequests, (all) => all.filter((r) => r.endpoint === "saxo.token"))

const shownNowhere = (secret: string, ...values: ReadonlyArray<unknown>) => {
  for (const value of values) {
    for (const shown of [String(value), JSON.stringify(value), inspect(value, { depth: 10 })]) {
      assert.notInclude(shown, secret)
    }
  }
}

describe("Saxo: login and the stored tokens against the emulator", () => {
  it.scopedLive("a confidential app: login without PKCE (raw Basic), tokens from the store, users/me, a refresh", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const store = yield* TokenStore.makeMemory
      const seen: Array<string> = []
      const options = { clientId: confidential.clientId, clientSecret: confidential.clientSecret }
      const token = yield* loginInto(emulator, options, store, seen).pipe(Effect.provide(NodeHttpClient.layerUndici))
      const authorize = new URL(seen[0]!)
      assert.strictEqual(authorize.pathname, "/saxo/logon/authorize")
      assert.strictEqual(authorize.searchParams.get("response_type"), "code")
      assert.strictEqual(authorize.searchParams.get("client_id"), confidential.clientId)
      assert.isNull(authorize.searchParams.get("code_challenge"))
      assert.isNull(authorize.searchParams.get("scope"))
      assert.isUndefined(token.codeVerifier)
      assert.strictEqual(token.redirectUri, authorize.searchParams.get("redirect_uri"))
      assert.isDefined(token.refreshTokenExpiresAt)
      assert.strictEqual(token.refreshTokenExpiresAt! - token.issuedAt, 3_600_000)
      assert.isNull(token.extra.base_uri) // readable: Saxo's unexplained `base_uri: null`
      const stored = yield* store.get(Saxo.storeKey({ clientId: confidential.clientId }))
      assert.isTrue(Option.isSome(stored) && AccessToken.sameValue(stored.value, token))

      const ctx = yield* build(emulator, options, store)
      const me = yield* Context.get(ctx, Users.Users).me
      assert.strictEqual(me.UserId, "demo-user")
      assert.strictEqual(me.ClientKey, "demo-user-client-key")
      const refreshed = yield* Context.get(ctx, Saxo.Tokens).refresh
      assert.notStrictEqual(Redacted.value(refreshed.refreshToken!), Redacted.value(token.refreshToken!))
      yield* Context.get(ctx, Users.Users).me
      const requests = yield* requestsOf(emulator)
      assert.deepStrictEqual(
        requests.map((r) => [r.grantType, r.clientId, r.status]),
        [["authorization_code", confidential.clientId, 200], ["refresh_token", confidential.clientId, 200]]
      )
    }))

  it.scopedLive("client_secret_post: the secret in the body, which the emulator takes too", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const store = yield* TokenStore.makeMemory
      const options: Omit<Saxo.Options, "hosts"> = {
        clientId: confidential.clientId,
        clientSecret: confidential.clientSecret,
        clientAuth: "client_secret_post"
      }
      yield* loginInto(emulator, options, store).pipe(Effect.provide(NodeHttpClient.layerUndici))
      const ctx = yield* build(emulator, options, store)
      yield* Context.get(ctx, Saxo.Tokens).get // the stored pair
      yield* Context.get(ctx, Saxo.Tokens).refresh
      const requests = yield* requestsOf(emulator)
      assert.deepStrictEqual(requests.map((r) => r.status), [200, 200])
      const wrong = yield* build(emulator, { ...options, clientSecret: "not-the-secret" }, store)
      yield* Context.get(wrong, Saxo.Tokens).get // the stored pair: no request
      const refused = yield* Effect.flip(Context.get(wrong, Saxo.Tokens).refresh)
      assert.strictEqual(refused._tag, "Unauthorized")
      shownNowhere(confidential.clientSecret, refused)
    }))

  it.scopedLive("a PKCE app: an S256 login with no secret; every refresh re-sends code_verifier and redirect_uri", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const store = yield* TokenStore.makeMemory
      const seen: Array<string> = []
      const token = yield* loginInto(emulator, { clientId: pkce.clientId }, store, seen).pipe(
        Effect.provide(NodeHttpClient.layerUndici)
      )
      const authorize = new URL(seen[0]!)
      assert.strictEqual(authorize.searchParams.get("code_challenge_method"), "S256")
      assert.isNotNull(authorize.searchParams.get("code_challenge"))
      const verifier = Redacted.value(token.codeVerifier!)
      assert.isAtLeast(verifier.length, 43)
      assert.strictEqual(token.redirectUri, authorize.searchParams.get("redirect_uri"))
      shownNowhere(verifier, token)

      const ctx = yield* build(emulator, { clientId: pkce.clientId }, store)
      const tokens = Context.get(ctx, Saxo.Tokens)
      yield* tokens.get // the stored pair
      // The emulator refuses a PKCE refresh without the login's verifier and redirect URI: three in a row succeed.
      const first = yield* tokens.refresh
      const second = yield* tokens.refresh
      const third = yield* tokens.refresh
      for (const t of [first, second, third]) assert.strictEqual(Redacted.value(t.codeVerifier!), verifier)
      yield* Context.get(ctx, Users.Users).me
      const requests = yield* requestsOf(emulator)
      assert.deepStrictEqual(
        requests.map((r) => [r.grantType, r.clientId, r.status]),
        [
          ["authorization_code", pkce.clientId, 200],
          ["refresh_token", pkce.clientId, 200],
          ["refresh_token", pkce.clientId, 200],
          ["refresh_token", pkce.clientId, 200]
        ]
      )
      // The stored pair is the newest, verifier included: another process (or a restart) refreshes from it.
      const stored = yield* store.get(Saxo.storeKey({ clientId: pkce.clientId }))
      assert.isTrue(Option.isSome(stored) && Redacted.value(stored.value.codeVerifier!) === verifier)
    }))

  it.scopedLive("a PKCE refresh without the verifier fails clearly: LoginRequired, and the server's reason", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const store = yield* TokenStore.makeMemory
      const token = yield* loginInto(emulator, { clientId: pkce.clientId }, store).pipe(
        Effect.provide(NodeHttpClient.layerUndici)
      )
      // Without the option: the definition no longer re-sends them.
      const without: OAuth2Provider.Definition = {
        ...Saxo.pkceDefinition,
        authorizationServer: { ...Saxo.pkceDefinition.authorizationServer, refreshWithPkce: false }
      }
      const http = yield* Layer.build(NodeHttpClient.layerUndici)
      const built = yield* OAuth2Provider.make(without, {
        clientId: pkce.clientId,
        clientSecret: "",
        hosts: emulator.brokerUrls.saxo
      }).pipe(Effect.provide(http), Effect.provideService(TokenStore.TokenStore, store))
      yield* built.tokens.get // the stored pair
      const refused = yield* Effect.flip(built.tokens.refresh)
      assert.strictEqual(refused._tag, "LoginRequired")
      // What the server said, through the token-endpoint client itself.
      const direct = yield* Effect.flip(
        built.client.requestToken({ _tag: "RefreshToken", refreshToken: token.refreshToken! })
      )
      assert.strictEqual(direct._tag, "Unauthorized")
      assert.include(direct.message, "code_verifier")
      // A token stored by an older version (no verifier) with the option on is refused the same way: log in again.
      const older = new AccessToken.AccessToken({ ...token, codeVerifier: undefined, expiresAt: token.issuedAt })
      const other = yield* TokenStore.makeMemory
      yield* other.set(Saxo.storeKey({ clientId: pkce.clientId }), older)
      const ctx = yield* build(emulator, { clientId: pkce.clientId }, other)
      const again = yield* Effect.flip(Context.get(ctx, Saxo.Tokens).get)
      assert.strictEqual(again._tag, "LoginRequired")
      const requests = yield* requestsOf(emulator)
      assert.deepStrictEqual(requests.map((r) => r.status), [200, 400, 400, 400])
      // Nothing was spent: the login's refresh token still works with the verifier.
      const ok = yield* build(emulator, { clientId: pkce.clientId }, store)
      yield* Context.get(ok, Saxo.Tokens).get
      yield* Context.get(ok, Saxo.Tokens).refresh
      shownNowhere(Redacted.value(token.codeVerifier!), refused, direct, again)
    }))

  it.scopedLive("an encrypted file store keeps the verifier sealed; another process's layer refreshes from it", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "eo2-saxo-" })
      const path = `${dir}/tokens.json`
      const key = Redacted.make(Encoding.encodeBase64(Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1)))
      const emulator = yield* Emulator.make()
      const store = yield* FileTokenStore.make({ path, key })
      const token = yield* loginInto(emulator, { clientId: pkce.clientId }, store).pipe(
        Effect.provide(NodeHttpClient.layerUndici)
      )
      const text = yield* fs.readFileString(path)
      for (const secret of [token.codeVerifier!, token.refreshToken!, token.value]) {
        assert.notInclude(text, Redacted.value(secret))
      }
      // A second store on the same file: what a restarted bot reads.
      const restarted = yield* FileTokenStore.make({ path, key })
      const ctx = yield* build(emulator, { clientId: pkce.clientId }, restarted)
      yield* Context.get(ctx, Saxo.Tokens).get
      const refreshed = yield* Context.get(ctx, Saxo.Tokens).refresh
      assert.strictEqual(Redacted.value(refreshed.codeVerifier!), Redacted.value(token.codeVerifier!))
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("layerConfig: SAXO_CLIENT_SECRET set is a confidential app, unset a PKCE app; SAXO_ENV picks live", () =>
    Effect.gen(function*() {
      const read = (env: Record<string, string>) =>
        Effect.withConfigProvider(Saxo.config, ConfigProvider.fromMap(new Map(Object.entries(env))))
      const app = yield* read({ SAXO_CLIENT_ID: "app", SAXO_CLIENT_SECRET: "secret", SAXO_ENV: "live" })
      assert.strictEqual(app.environment, "live")
      assert.strictEqual(Redacted.value(app.clientSecret as Redacted.Redacted<string>), "secret")
      assert.strictEqual(Saxo.definitionFor(app), Saxo.definition)
      const pub = yield* read({ SAXO_CLIENT_ID: "app" })
      assert.isUndefined(pub.clientSecret)
      assert.strictEqual(pub.environment, "sim")
      assert.strictEqual(Saxo.definitionFor(pub), Saxo.pkceDefinition)
      const post = yield* read({ SAXO_CLIENT_ID: "app", SAXO_CLIENT_SECRET: "s", SAXO_CLIENT_AUTH: "client_secret_post" })
      assert.strictEqual(Saxo.definitionFor(post).authorizationServer.authMethod, "client_secret_post")
      const bad = yield* Effect.flip(read({ SAXO_CLIENT_ID: "app", SAXO_CLIENT_AUTH: "mtls" }))
      assert.include(String(bad), "SAXO_CLIENT_AUTH")
      const resolved = yield* OAuth2Provider.resolve(Saxo.definition, { clientId: "app", clientSecret: "s", environment: "live" })
      assert.strictEqual(resolved.endpoint.tokenUrl, "https://live.logonvalidation.net/token")
      assert.strictEqual(resolved.endpoint.authorizeUrl, "https://live.logonvalidation.net/authorize")
      assert.strictEqual(resolved.apis.openapi, "https://gateway.saxobank.com/openapi")
      const sim = yield* OAuth2Provider.resolve(Saxo.pkceDefinition, { clientId: "app", clientSecret: "" })
      assert.strictEqual(sim.endpoint.tokenUrl, "https://sim.logonvalidation.net/token")
      assert.strictEqual(sim.apis.openapi, "https://gateway.saxobank.com/sim/openapi")
      assert.isUndefined(sim.credentials.clientSecret)
    }))
})

describe("Saxo: the refresh token's death (refresh_token_expires_in), under TestClock", () => {
  it.scoped("warned about at 15 and 5 minutes, then Died; get fails with LoginRequired and sends no request", () =>
    Effect.gen(function*() {
      // The access token outlives the refresh token (2 h against 1 h): nothing renews the pair in between, as when
      // every refresh failed for an hour.
      const emulator = yield* Emulator.make({
        brokers: { saxo: { accessTokenLifetime: "2 hours", refreshTokenLifetime: "1 hour" } }
      })
      const store = yield* TokenStore.makeMemory
      const token = yield* loginInto(emulator, { clientId: pkce.clientId }, store).pipe(
        Effect.provide(NodeHttpClient.layerUndici)
      )
      const events: Array<RefreshTokenLifetime.Event> = []
      const ctx = yield* build(emulator, {
        clientId: pkce.clientId,
        onRefreshTokenEvent: (event) => Effect.sync(() => events.push(event))
      }, store)
      const tokens = Context.get(ctx, Saxo.Tokens)
      yield* tokens.get
      const settle = Effect.gen(function*() {
        for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
      })
      const after = (n: number) => Effect.map(settle, () => events.slice(n).map((e) => e._tag))
      assert.deepStrictEqual(yield* after(0), ["Scheduled"])
      yield* TestClock.adjust(Duration.minutes(46))
      assert.deepStrictEqual(yield* after(1), ["Warning"])
      yield* TestClock.adjust(Duration.minutes(10))
      assert.deepStrictEqual(yield* after(1), ["Warning", "Warning"])
      yield* TestClock.adjust(Duration.minutes(5))
      assert.deepStrictEqual(yield* after(1), ["Warning", "Warning", "Died"])
      const before = (yield* requestsOf(emulator)).length
      // The access token is still valid: it is served; once it expires, no refresh is sent with the dead token.
      yield* tokens.get
      yield* TestClock.adjust(Duration.hours(1))
      const error = yield* Effect.flip(tokens.get)
      assert.strictEqual(error._tag, "LoginRequired")
      if (error._tag === "LoginRequired") assert.strictEqual(error.refreshTokenExpiredAt, token.refreshTokenExpiresAt)
      assert.isFalse(error.retryable)
      assert.strictEqual((yield* requestsOf(emulator)).length, before)
      assert.strictEqual(before, 1) // the login's exchange alone
    }))
})
