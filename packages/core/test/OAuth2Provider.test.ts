import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as AccessTokens from "../src/AccessTokens.js"
import * as OAuth2Client from "../src/OAuth2Client.js"
import * as OAuth2Provider from "../src/OAuth2Provider.js"
import { assertNoSecret } from "../src/testing/providerTesting.js"
import * as TokenServer from "./utils/tokenServer.js"

/** A provider of our own: two hosts, closed scopes, revocation, an API, and a check of its own. */
const acme: OAuth2Provider.Definition = {
  name: "acme",
  title: "Acme",
  envPrefix: "ACME",
  environments: {
    sandbox: { auth: "https://auth.sandbox.acme.example", api: "https://api.sandbox.acme.example" },
    production: { auth: "https://auth.acme.example" }
  },
  defaultEnvironment: "sandbox",
  acquire: "client_credentials",
  scopes: { kind: "closed", known: ["read", "write"], default: ["read"], delimiter: " " },
  authorizationServer: { tokenUrl: "{auth}/oauth2/token", authMethod: "client_secret_basic", defaultLifetime: "1 hour" },
  revocation: { url: "{auth}/oauth2/revoke" },
  introspection: { unsupported: "Acme has no introspection endpoint." },
  login: { unsupported: "Acme has no login." },
  apis: { api: "{api}/v1" },
  variables: [{ name: "ACME_REGION", meaning: "the region", default: "none" }],
  hooks: {
    check: ({ environment, scopes }) =>
      environment === "production" && scopes.includes("write") ? "write is not for production here." : undefined,
    rejectedTokenHint: ({ environment }) => `Acme refused a fresh token: is ${environment} the right environment?`
  }
}

const secret = "acme-s3cr3t-value"
const base: OAuth2Provider.Settings = { clientId: "id", clientSecret: secret }

/** A loopback Acme: `/oauth2/token` issues `tok-<client>-<n>`, `/v1/me` accepts tokens that are not `tok-bad...`. */
const acmeServer = Effect.gen(function*() {
  let issued = 0
  const server = yield* TokenServer.make((request) => {
    if (request.path === "/oauth2/token") {
      const basic = Buffer.from((request.headers.authorization ?? "").replace(/^Basic /, ""), "base64").toString()
      const client = decodeURIComponent(basic.split(":")[0] ?? "")
      return TokenServer.json({ access_token: `tok-${client}-${issued++}`, token_type: "Bearer", expires_in: 3600 })
    }
    const token = (request.headers.authorization ?? "").replace(/^Bearer /, "")
    if (token.startsWith("tok-bad")) {
      return TokenServer.reply("", { status: 401, headers: { "www-authenticate": `Bearer error="invalid_token"` } })
    }
    return TokenServer.json({ me: token.split("-")[1] })
  })
  const hosts = { auth: server.url(""), api: server.url("") }
  const tokenCalls = Effect.map(server.requests, (all) => all.filter((r) => r.path === "/oauth2/token"))
  return { server, hosts, tokenCalls }
})

/** The variables as the process environment gives them (nested paths joined with `_`). */
const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)), { pathDelim: "_" }))

describe("OAuth2Provider.resolve", () => {
  it.effect("fills the templates from the environment's hosts, with the overrides", () =>
    Effect.gen(function*() {
      const sandbox = yield* OAuth2Provider.resolve(acme, base)
      assert.strictEqual(sandbox.environment, "sandbox")
      assert.strictEqual(sandbox.endpoint.provider, "acme")
      assert.strictEqual(sandbox.endpoint.tokenUrl, "https://auth.sandbox.acme.example/oauth2/token")
      assert.strictEqual(sandbox.endpoint.revocationUrl, "https://auth.sandbox.acme.example/oauth2/revoke")
      assert.strictEqual(sandbox.endpoint.introspectionUrl, undefined)
      assert.strictEqual(sandbox.endpoint.introspectionUnsupportedHint, "Acme has no introspection endpoint.")
      assert.strictEqual(sandbox.endpoint.authMethod, "client_secret_basic")
      assert.strictEqual(Duration.toMillis(sandbox.endpoint.defaultLifetime), 3600_000)
      assert.deepStrictEqual(sandbox.scopes, ["read"])
      assert.deepStrictEqual(sandbox.apis, { api: "https://api.sandbox.acme.example/v1" })
      assert.deepStrictEqual(sandbox.allowedOrigins, ["https://api.sandbox.acme.example"])
      assert.isTrue(Redacted.isRedacted(sandbox.credentials.clientSecret))

      const moved = yield* OAuth2Provider.resolve(acme, {
        ...base,
        environment: "production",
        scopes: ["read", "read"],
        hosts: { api: "https://api.eu.acme.example/", auth: undefined }
      })
      assert.strictEqual(moved.endpoint.tokenUrl, "https://auth.acme.example/oauth2/token")
      assert.deepStrictEqual(moved.apis, { api: "https://api.eu.acme.example/v1" })
      assert.deepStrictEqual(moved.scopes, ["read"])

      // production documents no API host: the API is unknown, the tokens are not
      const bare = yield* OAuth2Provider.resolve(acme, { ...base, environment: "production" })
      assert.deepStrictEqual(bare.apis, { api: undefined })
      assert.deepStrictEqual(bare.allowedOrigins, [])
    }))

  it.effect("one rule per failure, each an InvalidConfiguration naming what to fix, never the secret", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<[OAuth2Provider.Settings, string]> = [
        [{ ...base, clientId: " " }, "clientId"],
        [{ ...base, clientSecret: "" }, "clientSecret"],
        [{ ...base, environment: "staging" }, "sandbox, production"],
        [{ ...base, hosts: { auth: "http://auth.acme.example" } }, "https://"],
        [{ ...base, hosts: { api: "https://api.acme.example?x=1" } }, "query"],
        [{ ...base, hosts: { elsewhere: "https://x.example" } }, "not a host of Acme"],
        [{ ...base, tokenUrl: "http://auth.acme.example/token" }, "https://"],
        [{ ...base, scopes: ["admin"] }, "unknown scope"],
        [{ ...base, scopes: ["read write"] }, "single words"],
        [{ ...base, environment: "production", scopes: ["write"] }, "not for production"]
      ]
      for (const [settings, expected] of cases) {
        const error = yield* Effect.flip(OAuth2Provider.resolve(acme, settings))
        assert.strictEqual(error._tag, "InvalidConfiguration")
        assert.include(error.message, expected)
        assertNoSecret(error, [secret])
      }
    }))

  it.effect("scopes: required, or none at all", () =>
    Effect.gen(function*() {
      const required = { ...acme, scopes: { ...acme.scopes, kind: "open" as const, required: true } }
      assert.include((yield* Effect.flip(OAuth2Provider.resolve(required, { ...base, scopes: [] }))).message, "at least one")
      assert.deepStrictEqual((yield* OAuth2Provider.resolve(required, { ...base, scopes: ["custom"] })).scopes, ["custom"])
      const none = { ...acme, scopes: { kind: "none" as const, known: [], default: [], delimiter: " " } }
      assert.deepStrictEqual((yield* OAuth2Provider.resolve(none, base)).scopes, [])
      assert.include((yield* Effect.flip(OAuth2Provider.resolve(none, { ...base, scopes: ["x"] }))).message, "no scope")
    }))
})

describe("OAuth2Provider.config and variables", () => {
  it("lists the documented variables in order, the definition's own last", () => {
    assert.deepStrictEqual(OAuth2Provider.variables(acme).map((v) => v.name), [
      "ACME_CLIENT_ID",
      "ACME_CLIENT_SECRET",
      "ACME_ENV",
      "ACME_SCOPES",
      "ACME_AUTH_URL",
      "ACME_API_URL",
      "ACME_TOKEN_URL",
      "ACME_REGION"
    ])
    assert.deepStrictEqual(OAuth2Provider.hostNames(acme), ["auth", "api"])
    const none = { ...acme, scopes: { kind: "none" as const, known: [], default: [], delimiter: " " } }
    assert.notInclude(OAuth2Provider.variables(none).map((v) => v.name), "ACME_SCOPES")
  })

  it.effect("reads them, and says which one is wrong", () =>
    Effect.gen(function*() {
      const read = (env: Record<string, string>) => OAuth2Provider.config(acme).pipe(withEnv(env))
      const ok = yield* read({
        ACME_CLIENT_ID: "id",
        ACME_CLIENT_SECRET: secret,
        ACME_ENV: "Production",
        ACME_SCOPES: " read  write ",
        ACME_API_URL: "https://api.eu.acme.example"
      })
      assert.strictEqual(ok.environment, "production")
      assert.deepStrictEqual(ok.scopes, ["read", "write"])
      assert.deepStrictEqual(ok.hosts, { api: "https://api.eu.acme.example" })
      assert.strictEqual(ok.tokenUrl, undefined)
      assert.isTrue(Redacted.isRedacted(ok.clientSecret))
      const creds = { ACME_CLIENT_ID: "id", ACME_CLIENT_SECRET: secret }
      const cases: ReadonlyArray<[Record<string, string>, ReadonlyArray<string>]> = [
        [{ ...creds, ACME_ENV: "staging" }, ["ACME_ENV", "sandbox, production"]],
        [{ ...creds, ACME_SCOPES: "read,write" }, ["ACME_SCOPES", "space-separated"]],
        [{ ...creds, ACME_SCOPES: "  " }, ["ACME_SCOPES", "names no scope"]],
        [{ ...creds, ACME_AUTH_URL: "http://auth.acme.example" }, ["ACME_AUTH_URL", "https://"]],
        [{ ACME_CLIENT_ID: "id" }, ["ACME_CLIENT_SECRET"]]
      ]
      for (const [env, expected] of cases) {
        const error = yield* Effect.flip(read(env))
        assert.isTrue(ConfigError.isConfigError(error))
        for (const text of expected) assert.include(String(error), text)
        assert.notInclude(String(error), secret)
      }
      // where the authorize URL takes commas, so does the variable
      const commas = { ...acme, scopes: { ...acme.scopes, authorizeDelimiter: "," } }
      const withCommas = yield* OAuth2Provider.config(commas).pipe(withEnv({ ...creds, ACME_SCOPES: "read,write" }))
      assert.deepStrictEqual(withCommas.scopes, ["read", "write"])
    }))
})

describe("OAuth2Provider.make", () => {
  it.live("tokens from the token endpoint, and an authorised client per API, based at its URL", () =>
    Effect.gen(function*() {
      const { hosts, server, tokenCalls } = yield* acmeServer
      const provider = yield* OAuth2Provider.make(acme, { ...base, hosts })
      const answer = yield* provider.apis.api!.get("/me").pipe(Effect.flatMap((r) => r.json), Effect.scoped)
      assert.deepStrictEqual(answer, { me: "id" })
      const calls = yield* server.requests
      assert.deepStrictEqual(calls.map((r) => r.path), ["/oauth2/token", "/v1/me"])
      assert.strictEqual(calls[0]!.form.scope, "read")
      assert.strictEqual(calls[1]!.headers.authorization, "Bearer tok-id-0")
      assert.strictEqual((yield* tokenCalls).length, 1)
      assert.strictEqual(provider.tokens.provider, "acme")
      assert.strictEqual(provider.client.endpoint.tokenUrl, `${hosts.auth}/oauth2/token`)
      // an absolute URL elsewhere is refused: the token goes to the API origin only
      const elsewhere = yield* Effect.flip(provider.apis.api!.get("https://elsewhere.example/v1/me"))
      assert.strictEqual(elsewhere._tag, "InvalidConfiguration")
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)))

  it.live("an API whose host is unknown refuses every request and sends the token nowhere", () =>
    Effect.gen(function*() {
      const { hosts, tokenCalls } = yield* acmeServer
      const provider = yield* OAuth2Provider.make(acme, {
        ...base,
        environment: "production",
        hosts: { auth: hosts.auth }
      })
      const error = yield* Effect.flip(provider.apis.api!.get("/me"))
      assert.strictEqual(error._tag, "InvalidConfiguration")
      assert.include(error.message, "ACME_API_URL")
      assert.strictEqual((yield* tokenCalls).length, 0)
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)))

  it.live("a fresh token rejected too: Unauthorized with the definition's hint; the user's transformClient applies", () =>
    Effect.gen(function*() {
      const { hosts, server, tokenCalls } = yield* acmeServer
      const provider = yield* OAuth2Provider.make(acme, {
        ...base,
        clientId: "bad",
        hosts,
        transformClient: HttpClient.mapRequest(HttpClientRequest.setHeader("x-acme-trace", "on"))
      })
      const error = yield* Effect.flip(provider.apis.api!.get("/me"))
      assert.strictEqual(error._tag, "Unauthorized")
      if (error._tag === "Unauthorized") {
        assert.strictEqual(error.reason, "rejected-token")
        assert.include(error.hint ?? "", "is sandbox the right environment?")
      }
      assert.strictEqual((yield* tokenCalls).length, 2)
      const apiCalls = (yield* server.requests).filter((r) => r.path === "/v1/me")
      assert.strictEqual(apiCalls.length, 2)
      for (const call of apiCalls) assert.strictEqual(call.headers["x-acme-trace"], "on")
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)))
})

describe("OAuth2Provider.layerConfig", () => {
  it.live("two accounts of one provider side by side, each under its own Config prefix, each with its own token", () =>
    Effect.gen(function*() {
      const { hosts, tokenCalls } = yield* acmeServer
      class Alpha extends Context.Tag("test/Alpha")<Alpha, AccessTokens.Service>() {}
      class Beta extends Context.Tag("test/Beta")<Beta, AccessTokens.Service>() {}
      const account = <I>(tag: Context.Tag<I, AccessTokens.Service>, prefix: string) =>
        Layer.effect(tag, AccessTokens.AccessTokens).pipe(
          Layer.provide(OAuth2Provider.layerConfig(acme, Config.nested(OAuth2Provider.config(acme), prefix)))
        )
      const env = (prefix: string, id: string) => ({
        [`${prefix}_ACME_CLIENT_ID`]: id,
        [`${prefix}_ACME_CLIENT_SECRET`]: `${secret}-${id}`,
        [`${prefix}_ACME_AUTH_URL`]: hosts.auth,
        [`${prefix}_ACME_API_URL`]: hosts.api
      })
      const context = yield* Layer.build(
        Layer.mergeAll(account(Alpha, "ALPHA"), account(Beta, "BETA")).pipe(Layer.provide(NodeHttpClient.layerUndici))
      ).pipe(withEnv({ ...env("ALPHA", "alpha"), ...env("BETA", "beta") }))
      const alpha = yield* Context.get(context, Alpha).get
      const beta = yield* Context.get(context, Beta).get
      assert.strictEqual(Redacted.value(alpha.value), "tok-alpha-0")
      assert.strictEqual(Redacted.value(beta.value), "tok-beta-1")
      const calls = yield* tokenCalls
      assert.deepStrictEqual(
        calls.map((r) => Buffer.from(r.headers.authorization!.slice(6), "base64").toString()).sort(),
        [`alpha:${secret}-alpha`, `beta:${secret}-beta`]
      )
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)))

  it.live("provides core's AccessTokens and OAuth2Client; the default Config is the documented variables", () =>
    Effect.gen(function*() {
      const { hosts } = yield* acmeServer
      const context = yield* Layer.build(
        OAuth2Provider.layerConfig(acme).pipe(Layer.provide(NodeHttpClient.layerUndici))
      ).pipe(withEnv({ ACME_CLIENT_ID: "env", ACME_CLIENT_SECRET: secret, ACME_AUTH_URL: hosts.auth }))
      const token = yield* Context.get(context, AccessTokens.AccessTokens).get
      assert.strictEqual(Redacted.value(token.value), "tok-env-0")
      assert.strictEqual(Context.get(context, OAuth2Client.OAuth2Client).clientId, "env")
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)))
})

describe("OAuth2Client.layerConfig (the generic path)", () => {
  it.live("reads the endpoint and the credentials from Config; a bad URL is InvalidConfiguration", () =>
    Effect.gen(function*() {
      const { hosts, server } = yield* acmeServer
      const layer = OAuth2Client.layerConfig({
        endpoint: {
          provider: Config.succeed("generic"),
          tokenUrl: Config.string("GENERIC_TOKEN_URL"),
          authMethod: Config.succeed("client_secret_basic" as const)
        },
        credentials: { clientId: Config.string("GENERIC_CLIENT_ID"), clientSecret: Config.redacted("GENERIC_CLIENT_SECRET") }
      })
      const env = { GENERIC_CLIENT_ID: "generic", GENERIC_CLIENT_SECRET: secret }
      const context = yield* Layer.build(layer).pipe(
        withEnv({ ...env, GENERIC_TOKEN_URL: `${hosts.auth}/oauth2/token` })
      )
      const token = yield* Effect.flatMap(AccessTokens.make(), (tokens) => tokens.get).pipe(
        Effect.provideService(OAuth2Client.OAuth2Client, Context.get(context, OAuth2Client.OAuth2Client))
      )
      assert.strictEqual(Redacted.value(token.value), "tok-generic-0")
      assert.strictEqual((yield* server.requests)[0]!.form.grant_type, "client_credentials")
      const missing = yield* Effect.flip(Layer.build(layer).pipe(withEnv(env)))
      assert.isTrue(ConfigError.isConfigError(missing))
      assert.include(String(missing), "GENERIC_TOKEN_URL")
      const insecure = yield* Effect.flip(
        Layer.build(layer).pipe(withEnv({ ...env, GENERIC_TOKEN_URL: "http://auth.example/token" }))
      )
      assert.strictEqual((insecure as { _tag?: string })._tag, "InvalidConfiguration")
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)))
})

describe("OAuth2Provider: tokens from a given refresh token, and a User-Agent", () => {
  const GRANT = "personal-grant-r3fresh"
  const grantDefinition: OAuth2Provider.Definition = {
    ...acme,
    name: "granted",
    envPrefix: "GRANTED",
    acquire: "refresh_token",
    userAgent: "effect-oauth2/test",
    scopes: { kind: "open", known: ["read", "trade"], default: [], delimiter: " " },
    authorizationServer: {
      tokenUrl: "{auth}/oauth2/token",
      authMethod: "client_secret_post",
      bodyFormat: "json",
      sendClientId: false,
      defaultLifetime: "15 minutes"
    },
    variables: [],
    hooks: {}
  }
  /** Refreshes `GRANT` (and a rotated `rot-<n>` once, when `rotate`); `/v1/me` answers the User-Agent it got. */
  const grantServer = (rotate: boolean) =>
    Effect.gen(function*() {
      let issued = 0
      const server = yield* TokenServer.make((request) => {
        if (request.path === "/oauth2/token") {
          const body = JSON.parse(request.body) as Record<string, string>
          if (body.refresh_token !== GRANT) return TokenServer.oauthError("invalid_grant")
          issued++
          return TokenServer.json({
            access_token: `at-${issued}`,
            token_type: "Bearer",
            expires_in: 900,
            ...(rotate ? { refresh_token: `rot-${issued}` } : {})
          })
        }
        return TokenServer.json({ agent: request.headers["user-agent"] })
      })
      const tokenCalls = Effect.map(server.requests, (all) => all.filter((r) => r.path === "/oauth2/token"))
      return { server, hosts: { auth: server.url(""), api: server.url("") }, tokenCalls }
    })

  it.scoped("the first token refreshes the given one; the User-Agent goes to the token endpoint and the API", () =>
    Effect.gen(function*() {
      const { hosts, tokenCalls } = yield* grantServer(false)
      const built = yield* OAuth2Provider.make(grantDefinition, { ...base, refreshToken: GRANT, hosts, scopes: ["read"] })
      const token = yield* built.tokens.get
      assert.strictEqual(Redacted.value(token.value), "at-1")
      const renewed = yield* built.tokens.refresh
      assert.strictEqual(Redacted.value(renewed.value), "at-2")
      const calls = yield* tokenCalls
      for (const call of calls) {
        assert.deepStrictEqual(JSON.parse(call.body), {
          grant_type: "refresh_token",
          refresh_token: GRANT,
          scope: "read",
          client_secret: secret
        })
        assert.strictEqual(call.headers["user-agent"], "effect-oauth2/test")
      }
      const me = yield* built.apis.api!.get("/me").pipe(Effect.flatMap((r) => r.json))
      assert.deepStrictEqual(me, { agent: "effect-oauth2/test" })
      const own = yield* OAuth2Provider.make(grantDefinition, { ...base, refreshToken: GRANT, hosts, userAgent: "my-bot/2.1" })
      assert.deepStrictEqual(yield* own.apis.api!.get("/me").pipe(Effect.flatMap((r) => r.json)), { agent: "my-bot/2.1" })
      // A request's own User-Agent wins.
      const mine = yield* own.apis.api!.get("/me", { headers: { "user-agent": "one-off/1" } }).pipe(
        Effect.flatMap((r) => r.json)
      )
      assert.deepStrictEqual(mine, { agent: "one-off/1" })
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.scoped("a rotated refresh token the server refuses falls back to the given one; the given one refused is final", () =>
    Effect.gen(function*() {
      const { hosts, tokenCalls } = yield* grantServer(true)
      const built = yield* OAuth2Provider.make(grantDefinition, { ...base, refreshToken: GRANT, hosts })
      yield* built.tokens.get
      const renewed = yield* built.tokens.refresh // rot-1 refused, then GRANT
      assert.strictEqual(Redacted.value(renewed.value), "at-2")
      assert.deepStrictEqual((yield* tokenCalls).map((c) => JSON.parse(c.body).refresh_token), [GRANT, "rot-1", GRANT])

      const bad = yield* OAuth2Provider.make(grantDefinition, { ...base, refreshToken: "revoked-grant", hosts })
      const error = yield* Effect.flip(bad.tokens.get)
      assert.strictEqual(error._tag, "LoginRequired")
      assert.isFalse(error.retryable)
      assert.notInclude(JSON.stringify(error), "revoked-grant")
      // The refused refresh token is dead: never sent again, whatever the callers and the clock do.
      const sent = (yield* tokenCalls).length
      for (let i = 0; i < 5; i++) {
        assert.strictEqual((yield* Effect.flip(bad.tokens.get))._tag, "LoginRequired")
        assert.strictEqual((yield* Effect.flip(bad.tokens.refresh))._tag, "LoginRequired")
        yield* TestClock.adjust("2 minutes")
      }
      assert.strictEqual((yield* tokenCalls).length, sent)
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.effect("config reads {PREFIX}_REFRESH_TOKEN (required, redacted) and {PREFIX}_USER_AGENT; variables list them", () =>
    Effect.gen(function*() {
      const env = { GRANTED_CLIENT_ID: "id", GRANTED_CLIENT_SECRET: "s" }
      const missing = yield* Effect.flip(withEnv(env)(OAuth2Provider.config(grantDefinition)))
      assert.include(String(missing), "GRANTED_REFRESH_TOKEN")
      const read = yield* withEnv({ ...env, GRANTED_REFRESH_TOKEN: GRANT, GRANTED_USER_AGENT: "desk/3" })(
        OAuth2Provider.config(grantDefinition)
      )
      assert.isTrue(Redacted.isRedacted(read.refreshToken))
      assert.strictEqual(read.userAgent, "desk/3")
      const names = OAuth2Provider.variables(grantDefinition).map((v) => v.name)
      assert.includeMembers(names, ["GRANTED_REFRESH_TOKEN", "GRANTED_USER_AGENT"])
      assert.notInclude(OAuth2Provider.variables(acme).map((v) => v.name).join(" "), "REFRESH_TOKEN")
      const bad = yield* Effect.flip(OAuth2Provider.resolve(grantDefinition, { ...base, refreshToken: GRANT, userAgent: "a\r\nb" }))
      assert.include(bad.message, "userAgent")
      const none = yield* Effect.flip(OAuth2Provider.resolve(grantDefinition, base))
      assert.include(none.message, "GRANTED_REFRESH_TOKEN")
    }))
})
