import * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { readFileSync } from "node:fs"
import { Customer, Tastytrade } from "../src/index.js"

const demo = Clients.tastytradeDemo
const grant = demo.grants[0].refreshToken
const secrets = [demo.clientSecret, grant]

const noSecretIn = (value: unknown) => {
  const text = [String(value), JSON.stringify(value)].join("\n")
  for (const secret of secrets) assert.notInclude(text, secret)
}

/** The package's layer against a fresh emulator. */
const start = (settings: Partial<Tastytrade.Options> = {}) =>
  Effect.gen(function*() {
    const emulator = yield* Effect.orDie(Emulator.make())
    const options: Tastytrade.Options = {
      clientId: demo.clientId,
      clientSecret: demo.clientSecret,
      refreshToken: grant,
      hosts: emulator.brokerUrls.tastytrade,
      ...settings
    }
    const context = yield* Layer.build(Tastytrade.layer(options).pipe(Layer.provide(NodeHttpClient.layerUndici))).pipe(
      Effect.orDie
    )
    return { emulator, context, options }
  })

describe("Tastytrade: the personal grant against the emulator", () => {
  it.scoped("tokens come from refreshing the grant (JSON body, User-Agent, no client_id); customers/me is typed", () =>
    Effect.gen(function*() {
      // The emulator refuses a form body and a request without a <product>/<version> User-Agent.
      const { context, emulator } = yield* start()
      const token = yield* Context.get(context, Tastytrade.Tokens).get
      assert.strictEqual(token.type, "Bearer")
      assert.strictEqual(token.expiresAt - token.issuedAt <= 900_000, true)
      assert.deepStrictEqual(token.scopes, []) // none asked, none named: the grant's own
      assert.strictEqual(Redacted.value(token.refreshToken!), grant)
      const me = yield* Context.get(context, Customer.Customer).me
      assert.strictEqual(me.id, "demo-customer")
      assert.strictEqual(me.firstName, "Demo")
      assert.strictEqual(me.lastName, "Customer")
      assert.strictEqual(me["has-industry-affiliation"], false)
      const requests = yield* emulator.tokenRequests
      assert.deepStrictEqual(
        requests.map((r) => [r.endpoint, r.grantType, r.clientId, r.status]),
        [["tastytrade.token", "refresh_token", demo.clientId, 200]]
      )
    }))

  it.scoped("the emulator refuses a form body and a User-Agent without a version: what the definition's options fix", () =>
    Effect.gen(function*() {
      const form: OAuth2Provider.Definition = {
        ...Tastytrade.definition,
        authorizationServer: { ...Tastytrade.definition.authorizationServer, bodyFormat: "form" }
      }
      const { options } = yield* start()
      const http = yield* Layer.build(NodeHttpClient.layerUndici)
      const formBody = yield* OAuth2Provider.make(form, options).pipe(Effect.provide(http))
      const refused = yield* Effect.flip(formBody.tokens.get)
      assert.include(refused.message, "application/json")
      const { context: agentContext } = yield* start({ userAgent: "bot" })
      const noVersion = yield* Effect.flip(Context.get(agentContext, Tastytrade.Tokens).get)
      assert.include(noVersion.message, "User-Agent")
      noSecretIn(refused)
      noSecretIn(noVersion)
    }))

  it.scoped("error_code is read as RFC 6749's error: a refused grant is LoginRequired (never sent again), a bad client Unauthorized", () =>
    Effect.gen(function*() {
      const { context: deadGrant, emulator } = yield* start({ refreshToken: "not-a-grant" })
      const tokens = Context.get(deadGrant, Tastytrade.Tokens)
      // tastytrade's error_code read as invalid_grant: the given refresh token is dead, and only a new one helps.
      const refused = yield* Effect.flip(tokens.get)
      assert.strictEqual(refused._tag, "LoginRequired")
      if (refused._tag === "LoginRequired") assert.isDefined(refused.refusedAt)
      assert.isFalse(refused.retryable)
      assert.include(refused.message, "log in again")
      for (let i = 0; i < 3; i++) assert.strictEqual((yield* Effect.flip(tokens.get))._tag, "LoginRequired")
      assert.deepStrictEqual((yield* emulator.tokenRequests).map((r) => [r.status, r.error]), [[400, "invalid_grant"]])

      const { context: badClient } = yield* start({ clientSecret: "wrong-secret" })
      const wrong = yield* Effect.flip(Context.get(badClient, Tastytrade.Tokens).get)
      assert.strictEqual(wrong._tag, "Unauthorized")
      if (wrong._tag === "Unauthorized") assert.strictEqual(wrong.reason, "invalid_client")
      noSecretIn(refused)
      noSecretIn(wrong)
    }))

  it.scoped("scopes narrow the grant on every refresh; one beyond it is InvalidScope", () =>
    Effect.gen(function*() {
      const { context } = yield* start({ scopes: ["read"] })
      const tokens = Context.get(context, Tastytrade.Tokens)
      assert.deepStrictEqual((yield* tokens.get).scopes, ["read"])
      assert.deepStrictEqual((yield* tokens.refresh).scopes, ["read"])
      const { context: wide } = yield* start({ scopes: ["read", "admin"] })
      const error = yield* Effect.flip(Context.get(wide, Tastytrade.Tokens).get)
      assert.strictEqual(error._tag, "InvalidScope")
    }))

  it.scoped("layerConfig reads the TASTYTRADE_* variables, the grant redacted", () =>
    Effect.gen(function*() {
      const emulator = yield* Effect.orDie(Emulator.make())
      const env = new Map([
        ["TASTYTRADE_CLIENT_ID", demo.clientId],
        ["TASTYTRADE_CLIENT_SECRET", demo.clientSecret],
        ["TASTYTRADE_REFRESH_TOKEN", grant],
        ["TASTYTRADE_API_URL", emulator.brokerUrls.tastytrade.api],
        ["TASTYTRADE_USER_AGENT", "desk-bot/3.1"]
      ])
      const read = yield* Effect.withConfigProvider(Tastytrade.config, ConfigProvider.fromMap(env))
      assert.isTrue(Redacted.isRedacted(read.refreshToken))
      assert.strictEqual(read.userAgent, "desk-bot/3.1")
      const me = yield* Customer.me.pipe(
        Effect.provide(Tastytrade.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici))),
        Effect.withConfigProvider(ConfigProvider.fromMap(env))
      )
      assert.strictEqual(me.id, "demo-customer")
      // Without the grant, the settings are a partner login's; with no TokenStore to read one from, the layer says
      // what to give.
      const withoutGrant = ConfigProvider.fromMap(new Map([...env].slice(0, 2)))
      const partner = yield* Effect.withConfigProvider(Tastytrade.config, withoutGrant)
      assert.isUndefined(partner.refreshToken)
      const missing = yield* Effect.flip(
        Layer.build(Tastytrade.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici))).pipe(
          Effect.withConfigProvider(withoutGrant)
        )
      )
      assert.include(String(missing), "TASTYTRADE_REFRESH_TOKEN")
    }))

  it("the default User-Agent names the library and this package's version", () => {
    const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
    assert.strictEqual(Tastytrade.version, manifest.version)
    assert.strictEqual(Tastytrade.definition.userAgent, `effect-oauth2-tastytrade/${manifest.version}`)
    assert.deepStrictEqual(
      OAuth2Provider.variables(Tastytrade.definition).map((v) => v.name),
      [
        "TASTYTRADE_CLIENT_ID",
        "TASTYTRADE_CLIENT_SECRET",
        "TASTYTRADE_REFRESH_TOKEN",
        "TASTYTRADE_ENV",
        "TASTYTRADE_SCOPES",
        "TASTYTRADE_API_URL",
        "TASTYTRADE_AUTH_URL",
        "TASTYTRADE_TOKEN_URL",
        "TASTYTRADE_USER_AGENT"
      ]
    )
  })
})
