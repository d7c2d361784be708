/**
 * `OAuth2Provider.layers` (a provider package's make / layer / layerConfig / config from its definition and one
 * function to its services) and the credential self-test (`session`, `tokenGrant`).
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as AccessTokens from "../src/AccessTokens.js"
import { InvalidConfiguration } from "../src/OAuth2Error.js"
import type * as OAuth2HttpClient from "../src/OAuth2HttpClient.js"
import * as OAuth2Provider from "../src/OAuth2Provider.js"
import * as TokenServer from "./utils/tokenServer.js"

const acme: OAuth2Provider.Definition = {
  name: "acme",
  title: "Acme",
  envPrefix: "ACME",
  environments: { sandbox: { auth: "https://auth.sandbox.acme.example" }, production: { auth: "https://auth.acme.example" } },
  defaultEnvironment: "sandbox",
  acquire: "client_credentials",
  scopes: { kind: "open", known: ["read"], default: ["read"], delimiter: " " },
  authorizationServer: { tokenUrl: "{auth}/oauth2/token", authMethod: "client_secret_post", defaultLifetime: "1 hour" },
  revocation: { url: "{auth}/oauth2/revoke", note: "Acme says a revoked token may work for a minute more." },
  introspection: { unsupported: "Acme has no introspection endpoint." },
  login: { unsupported: "Acme has no login." },
  apis: { api: "{auth}/v1" }
}

/** A package's own tags, as a provider package declares them. */
class Tokens extends Context.Tag("test/acme/Tokens")<Tokens, AccessTokens.Service>() {}
class Api extends Context.Tag("test/acme/Api")<Api, OAuth2HttpClient.Authorized>() {}

const services = (provider: OAuth2Provider.Provider) =>
  Context.make(Tokens, provider.tokens).pipe(Context.add(Api, provider.apis.api!))

/** `/oauth2/token` issues `tok-<client_id>-<n>` (client_secret_post), `/v1/me` echoes the bearer token. */
const acmeServer = Effect.gen(function*() {
  let issued = 0
  const server = yield* TokenServer.make((request) =>
    request.path === "/oauth2/token"
      ? TokenServer.json({ access_token: `tok-${request.form["client_id"]}-${issued++}`, token_type: "Bearer", expires_in: 3600 })
      : TokenServer.json({ bearer: (request.headers.authorization ?? "").replace(/^Bearer /, "") })
  )
  return { server, hosts: { auth: server.url("") } }
})

const me = (api: HttpClient.HttpClient.With<unknown>) =>
  api.get("/me").pipe(Effect.flatMap((response) => response.json), Effect.scoped)

describe("OAuth2Provider.layers", () => {
  it.live("layer provides core's AccessTokens and the package's services, one token behind both", () =>
    Effect.gen(function*() {
      const { hosts } = yield* acmeServer
      const acmeLayers = OAuth2Provider.layers(acme, services)
      const context = yield* Layer.build(
        acmeLayers.layer({ clientId: "desk", clientSecret: "s3cret", hosts }).pipe(Layer.provide(NodeHttpClient.layerUndici))
      )
      const generic = yield* Context.get(context, AccessTokens.AccessTokens).get
      const own = yield* Context.get(context, Tokens).get
      assert.strictEqual(Redacted.value(generic.value), "tok-desk-0")
      assert.strictEqual(Redacted.value(own.value), "tok-desk-0")
      assert.deepStrictEqual(yield* me(Context.get(context, Api)), { bearer: "tok-desk-0" })
      assert.strictEqual(acmeLayers.definition, acme)
    }).pipe(Effect.scoped))

  it.live("layerConfig reads the documented variables by default, or the Config it is given (two accounts)", () =>
    Effect.gen(function*() {
      const { hosts } = yield* acmeServer
      const acmeLayers = OAuth2Provider.layers(acme, services)
      const env = new Map([
        ["ACME_CLIENT_ID", "main"],
        ["ACME_CLIENT_SECRET", "s1"],
        ["ACME_AUTH_URL", hosts.auth],
        ["DESK_B_ACME_CLIENT_ID", "desk-b"],
        ["DESK_B_ACME_CLIENT_SECRET", "s2"],
        ["DESK_B_ACME_AUTH_URL", hosts.auth]
      ])
      const build = <E>(layer: Layer.Layer<Tokens | AccessTokens.AccessTokens, E, HttpClient.HttpClient>) =>
        Layer.build(layer.pipe(Layer.provide(NodeHttpClient.layerUndici))).pipe(
          Effect.flatMap((context) => Context.get(context, Tokens).get),
          Effect.map((token) => Redacted.value(token.value)),
          Effect.withConfigProvider(ConfigProvider.fromMap(env, { pathDelim: "_" }))
        )
      const main = yield* build(acmeLayers.layerConfig())
      const deskB = yield* build(acmeLayers.layerConfig(Config.nested(acmeLayers.config, "DESK_B")))
      assert.match(main, /^tok-main-\d$/)
      assert.match(deskB, /^tok-desk-b-\d$/)
      // Without the variables: a ConfigError naming the first one missing.
      const missing = yield* Layer.build(acmeLayers.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici))).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map())),
        Effect.exit
      )
      assert.isTrue(Exit.isFailure(missing))
      assert.include(String(Exit.isFailure(missing) ? missing.cause : ""), "ACME_CLIENT_ID")
    }).pipe(Effect.scoped))

  it.live("a package's own config and make (an option of its own that changes its API client)", () =>
    Effect.gen(function*() {
      const { hosts } = yield* acmeServer
      interface Options extends OAuth2Provider.Settings {
        readonly tag?: string | undefined
      }
      const acmeLayers = OAuth2Provider.layers(acme, services, {
        config: Config.map(OAuth2Provider.config(acme), (settings): Options => ({ ...settings, tag: "from-config" })),
        make: (options: Options) =>
          options.tag === "refused"
            ? Effect.fail(new InvalidConfiguration({ provider: "acme", source: "configuration", description: "tag refused" }))
            : OAuth2Provider.make(acme, options)
      })
      const context = yield* Layer.build(
        acmeLayers.layer({ clientId: "own", clientSecret: "s", hosts, tag: "x" }).pipe(
          Layer.provide(NodeHttpClient.layerUndici)
        )
      )
      assert.deepStrictEqual(yield* me(Context.get(context, Api)), { bearer: "tok-own-0" })
      const refused = yield* Layer.build(
        acmeLayers.layer({ clientId: "own", clientSecret: "s", hosts, tag: "refused" }).pipe(
          Layer.provide(NodeHttpClient.layerUndici)
        )
      ).pipe(Effect.flip)
      assert.strictEqual(refused._tag, "InvalidConfiguration")
      // The package's Config is the default of its layerConfig.
      const read = yield* acmeLayers.config.pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["ACME_CLIENT_ID", "c"], ["ACME_CLIENT_SECRET", "s"]])))
      )
      assert.strictEqual(read.tag, "from-config")
    }).pipe(Effect.scoped))

  it.effect("a layer whose settings are invalid fails with InvalidConfiguration before any request", () =>
    Effect.gen(function*() {
      const error = yield* Layer.build(
        OAuth2Provider.layers(acme, services).layer({ clientId: "", clientSecret: "s" }).pipe(
          Layer.provide(NodeHttpClient.layerUndici)
        )
      ).pipe(Effect.scoped, Effect.flip)
      assert.strictEqual(error._tag, "InvalidConfiguration")
      assert.include(error.message, "clientId")
    }))
})

describe("the credential self-test", () => {
  it.live("session is what a self-test is given; tokenGrant reports the grant under the provider's name", () =>
    Effect.gen(function*() {
      const { hosts } = yield* acmeServer
      const provider = yield* OAuth2Provider.make(acme, { clientId: "who", clientSecret: "s", hosts, environment: "sandbox" })
      const session = OAuth2Provider.session(provider)
      assert.strictEqual(session.environment, "sandbox")
      assert.deepStrictEqual(session.scopes, ["read"])
      assert.deepStrictEqual(Object.keys(session.apis), ["api"])
      const test = OAuth2Provider.tokenGrant("acme", "Acme has no identity call.")
      assert.strictEqual(test.describe, "a token grant")
      const report = yield* test.run(session)
      assert.strictEqual(
        report.text,
        "acme (sandbox): credentials accepted, a token was granted with scopes read. Acme has no identity call."
      )
      assert.deepStrictEqual(report.json, { provider: "acme", environment: "sandbox", check: "token", scopes: ["read"] })
      assert.notInclude(JSON.stringify(report), "tok-who")
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)))
})
