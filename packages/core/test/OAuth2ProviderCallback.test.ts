/**
 * The registered callback of a definition's login (`LoginEndpoint.callbackUrl`, `Settings.callbackUrl`,
 * `{PREFIX}_CALLBACK_URL`), and public clients (`publicClients`: the secret read as optional).
 */
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as OAuth2Provider from "../src/OAuth2Provider.js"

const acme: OAuth2Provider.Definition = {
  name: "acme",
  title: "Acme",
  envPrefix: "ACME",
  environments: { sandbox: { auth: "https://auth.sandbox.acme.example" } },
  defaultEnvironment: "sandbox",
  acquire: "stored",
  scopes: { kind: "none", known: [], default: [], delimiter: " " },
  authorizationServer: { tokenUrl: "{auth}/token", authMethod: "client_secret_basic", defaultLifetime: "1 hour" },
  revocation: { unsupported: "none" },
  introspection: { unsupported: "none" },
  login: { url: "{auth}/authorize", callbackUrl: "https://127.0.0.1:8182" },
  apis: {}
}

const read = (definition: OAuth2Provider.Definition, env: Record<string, string>) =>
  Effect.withConfigProvider(OAuth2Provider.config(definition), ConfigProvider.fromMap(new Map(Object.entries(env))))

/** A listener that never serves: only its address is read before anything is shown. */
const listenerOn = (port: number) =>
  HttpServer.make({ serve: () => Effect.never, address: { _tag: "TcpAddress", hostname: "127.0.0.1", port } })

describe("the registered callback of a login", () => {
  it.effect("ACME_CALLBACK_URL is read and listed for a definition with a login, with the definition's default", () =>
    Effect.gen(function*() {
      const settings = yield* read(acme, { ACME_CLIENT_ID: "id", ACME_CLIENT_SECRET: "s", ACME_CALLBACK_URL: "https://127.0.0.1:9000" })
      assert.strictEqual(settings.callbackUrl, "https://127.0.0.1:9000")
      const variable = OAuth2Provider.variables(acme).find((v) => v.name === "ACME_CALLBACK_URL")
      assert.strictEqual(variable?.default, "`https://127.0.0.1:8182`")
      const noLogin: OAuth2Provider.Definition = { ...acme, login: { unsupported: "no login" } }
      assert.isUndefined(OAuth2Provider.variables(noLogin).find((v) => v.name === "ACME_CALLBACK_URL"))
      const unread = yield* read(noLogin, { ACME_CLIENT_ID: "id", ACME_CLIENT_SECRET: "s", ACME_CALLBACK_URL: "x" })
      assert.isUndefined(unread.callbackUrl)
    }))

  it.effect("callbackUrl: the settings' over the definition's, checked: its scheme, a loopback host, a port, no query", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* OAuth2Provider.callbackUrl(acme, {}), { url: "https://127.0.0.1:8182", port: 8182 })
      assert.deepStrictEqual(
        yield* OAuth2Provider.callbackUrl(acme, { callbackUrl: "https://localhost:9000/cb" }),
        { url: "https://localhost:9000/cb", port: 9000 }
      )
      const withoutDefault: OAuth2Provider.Definition = { ...acme, login: { url: "{auth}/authorize" } }
      assert.isUndefined(yield* OAuth2Provider.callbackUrl(withoutDefault, {}))
      assert.deepStrictEqual(
        yield* OAuth2Provider.callbackUrl(withoutDefault, { callbackUrl: "http://127.0.0.1:8765/callback" }),
        { url: "http://127.0.0.1:8765/callback", port: 8765 }
      )
      for (
        const bad of [
          "http://127.0.0.1:8182",
          "https://example.com:8182",
          "https://127.0.0.1",
          "https://127.0.0.1:8182/?x=1",
          "https://127.0.0.1:8182#f",
          "https://u:p@127.0.0.1:8182",
          "not a url"
        ]
      ) {
        const error = yield* Effect.flip(OAuth2Provider.callbackUrl(acme, { callbackUrl: bad }))
        assert.strictEqual(error._tag, "InvalidConfiguration", bad)
        assert.include(error.message, "loopback https URL", bad)
        assert.include(error.message, "ACME_CALLBACK_URL", bad)
      }
    }))

  it.effect("login: a listener off the callback's port fails before anything is shown, naming the port", () =>
    Effect.gen(function*() {
      const shown: Array<string> = []
      const error = yield* Effect.flip(
        OAuth2Provider.login(acme, { clientId: "id", clientSecret: "s" }, {
          onAuthorizeUrl: (url) => Effect.sync(() => shown.push(url))
        }).pipe(
          Effect.provideService(HttpServer.HttpServer, listenerOn(9999)),
          Effect.provide(TokenStore.layerMemory),
          Effect.provide(NodeHttpClient.layerUndici)
        )
      )
      assert.strictEqual(error._tag, "InvalidConfiguration")
      assert.include(error.message, "listen on port 8182")
      assert.include(error.message, "--port 8182")
      assert.deepStrictEqual(shown, [])
    }))

  it.effect("loginByPaste without any registered callback: InvalidConfiguration naming the variable", () =>
    Effect.gen(function*() {
      const withoutDefault: OAuth2Provider.Definition = { ...acme, login: { url: "{auth}/authorize" } }
      const error = yield* Effect.flip(
        OAuth2Provider.loginByPaste(withoutDefault, { clientId: "id", clientSecret: "s" }, {
          onAuthorizeUrl: () => Effect.void,
          paste: Effect.succeed("")
        }).pipe(Effect.provide(TokenStore.layerMemory), Effect.provide(NodeHttpClient.layerUndici))
      )
      assert.strictEqual(error._tag, "InvalidConfiguration")
      assert.include(error.message, "ACME_CALLBACK_URL")
    }))
})

describe("public clients", () => {
  it.effect("publicClients: the secret is optional in config and listed so; otherwise a missing secret is an error", () =>
    Effect.gen(function*() {
      const open: OAuth2Provider.Definition = { ...acme, publicClients: true }
      const settings = yield* read(open, { ACME_CLIENT_ID: "app" })
      assert.strictEqual(settings.clientId, "app")
      assert.isUndefined(settings.clientSecret)
      assert.strictEqual(
        OAuth2Provider.variables(open).find((v) => v.name === "ACME_CLIENT_SECRET")?.default,
        "none: a public client (PKCE)"
      )
      const missing = yield* Effect.flip(read(acme, { ACME_CLIENT_ID: "app" }))
      assert.include(String(missing), "ACME_CLIENT_SECRET")
      // A definition with authMethod "none" reads it as optional too, and resolves without one.
      const pkce: OAuth2Provider.Definition = {
        ...acme,
        authorizationServer: { ...acme.authorizationServer, authMethod: "none" },
        login: { url: "{auth}/authorize", pkce: true }
      }
      const publicSettings = yield* read(pkce, { ACME_CLIENT_ID: "app" })
      const resolved = yield* OAuth2Provider.resolve(pkce, publicSettings)
      assert.isUndefined(resolved.credentials.clientSecret)
      // A confidential definition given no secret in code still refuses it.
      const refused = yield* Effect.flip(OAuth2Provider.resolve(acme, { clientId: "app" }))
      assert.include(refused.message, "clientSecret is empty")
    }))
})
