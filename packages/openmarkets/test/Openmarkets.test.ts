import * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as AccessToken from "@effect-oauth2/core/AccessToken"
import * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import type * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as http from "node:http"
import { Openmarkets } from "../src/index.js"
import { assertNoSecrets, captureLogs, errorText, loopbackServer } from "@effect-oauth2/core/provider-testing"

/** The emulator's Openmarkets hosts as this package's options: the definition's token URL over them, and the API host. */
const emulatorOptions = (emulator: Emulator.Emulator) => ({
  tokenUrl: OAuth2Provider.fillTemplate(Openmarkets.definition.authorizationServer.tokenUrl, emulator.hosts.openmarkets)!,
  hosts: { api: emulator.hosts.openmarkets.api }
})

const demo = Clients.openmarketsDemo
const Live = NodeHttpClient.layerUndici

const build = (options: Openmarkets.Options) => Layer.build(Openmarkets.layer(options))

/** A demo-client layer pointed at an emulator. */
const demoLayer = (emulator: Emulator.Emulator, extra: Partial<Openmarkets.Options> = {}) =>
  build({ ...emulatorOptions(emulator), ...demo, ...extra })

const get = (ctx: Context.Context<Openmarkets.Services>, url: string) =>
  Context.get(ctx, Openmarkets.HttpClient).get(url).pipe(
    Effect.flatMap((response) => Effect.map(response.text, (body) => ({ status: response.status, body }))),
    Effect.scoped
  )

const quotes = (ctx: Context.Context<Openmarkets.Services>) => get(ctx, "/v1/market-data/quotes?symbols=BHP")

const tokenRequests = (emulator: Emulator.Emulator) =>
  Effect.map(emulator.countersFor("openmarkets.token"), (c) => c.requests)

/** A loopback token endpoint that records each request's Authorization header and body, and issues a token. */
const recordingTokenEndpoint = Effect.gen(function*() {
  const requests: Array<{ readonly authorization: string | undefined; readonly body: string }> = []
  const server = yield* NodeHttpServer.make(() => http.createServer(), { host: "127.0.0.1", port: 0 })
  yield* server.serve(
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      requests.push({ authorization: request.headers["authorization"], body: yield* request.text })
      return HttpServerResponse.unsafeJson({ access_token: "recorded-token", expires_in: 3600, token_type: "Bearer" })
    }).pipe(Effect.orDie)
  )
  const address = server.address as HttpServer.TcpAddress
  return { tokenUrl: `http://127.0.0.1:${address.port}/connect/token`, requests }
})

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64")

describe("Openmarkets wire format", () => {
  it.scoped("raw Basic of the client id and secret, space-separated scopes, client_credentials", () =>
    Effect.gen(function*() {
      const endpoint = yield* recordingTokenEndpoint
      const raw = yield* build({ ...demo, tokenUrl: endpoint.tokenUrl, scopes: ["market-data-api", "news-api"] })
      const token = yield* Context.get(raw, Openmarkets.Tokens).get
      assert.deepStrictEqual(token.scopes, ["market-data-api", "news-api"])
      assert.strictEqual(token.expiresAt - token.issuedAt, 3600_000)
      const sent = endpoint.requests[0]!
      assert.strictEqual(sent.authorization, `Basic ${base64("om-demo-client:om+demo/secret=")}`)
      const form = new URLSearchParams(sent.body)
      assert.strictEqual(form.get("grant_type"), "client_credentials")
      assert.strictEqual(form.get("scope"), "market-data-api news-api")
      assert.isFalse(form.has("client_secret"))

      // the RFC 6749 encoding, as an option, differs for this secret
      const formEncoded = yield* build({ ...demo, tokenUrl: endpoint.tokenUrl, basicEncoding: "form" })
      yield* Context.get(formEncoded, Openmarkets.Tokens).get
      assert.strictEqual(endpoint.requests[1]!.authorization, `Basic ${base64("om-demo-client:om%2Bdemo%2Fsecret%3D")}`)
      // no scopes: no scope parameter (Openmarkets grants the plan)
      assert.isFalse(new URLSearchParams(endpoint.requests[1]!.body).has("scope"))
    }).pipe(Effect.provide(Live)))

  it.scoped("the emulator accepts the raw Basic header and refuses the form-encoded one for the same secret", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const raw = yield* demoLayer(emulator)
      assert.strictEqual((yield* Context.get(raw, Openmarkets.Tokens).get).type, "Bearer")
      const form = yield* demoLayer(emulator, { basicEncoding: "form" })
      const error = yield* Effect.flip(Context.get(form, Openmarkets.Tokens).get)
      assert.strictEqual(error._tag, "Unauthorized")
      if (error._tag === "Unauthorized") assert.strictEqual(error.reason, "invalid_client")
      assertNoSecrets(errorText(error), [demo.clientSecret, "om%2Bdemo%2Fsecret%3D"])
    }).pipe(Effect.provide(Live)))

  it.scoped("two scopes: the emulator reads both, and each API accepts the token", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const ctx = yield* demoLayer(emulator, { scopes: ["market-data-api", "news-api"] })
      assert.strictEqual((yield* quotes(ctx)).status, 200)
      assert.strictEqual((yield* get(ctx, "/v1/news")).status, 200)
      const issued = (yield* emulator.tokens).filter((info) => info.provider === "openmarkets")
      assert.strictEqual(issued.length, 1)
      assert.deepStrictEqual(issued[0]!.scopes, ["market-data-api", "news-api"])
    }).pipe(Effect.provide(Live)))
})

describe("Openmarkets errors", () => {
  it.scoped("a scope outside the plan: InvalidScope naming the scopes asked for, not retried", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const ctx = yield* demoLayer(emulator, { scopes: ["market-data-api", "oms-api"] })
      const error = yield* Effect.flip(Context.get(ctx, Openmarkets.Tokens).get)
      assert.strictEqual(error._tag, "InvalidScope")
      if (error._tag === "InvalidScope") assert.deepStrictEqual(error.requestedScopes, ["market-data-api", "oms-api"])
      assert.include(error.message, "market-data-api oms-api")
      assert.isFalse(error.retryable)
      assert.strictEqual(yield* tokenRequests(emulator), 1)
      // the API call fails the same way, without reaching the API
      assert.strictEqual((yield* Effect.flip(quotes(ctx)))._tag, "InvalidScope")
      assert.strictEqual((yield* emulator.countersFor("openmarkets.api")).requests, 0)
    }).pipe(Effect.provide(Live)))

  it.scoped("wrong credentials: Unauthorized invalid_client, with no secret in the error or the logs", () => {
    const lines: Array<string> = []
    return Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const wrong = "not+the/secret="
      const ctx = yield* demoLayer(emulator, { clientSecret: Redacted.make(wrong) })
      const error = yield* Effect.flip(quotes(ctx))
      assert.strictEqual(error._tag, "Unauthorized")
      if (error._tag === "Unauthorized") assert.strictEqual(error.reason, "invalid_client")
      assert.isFalse((error as { retryable: boolean }).retryable)
      const secrets = [wrong, demo.clientSecret, base64(`${demo.clientId}:${wrong}`)]
      assertNoSecrets(errorText(error), secrets)
      assertNoSecrets(lines.join("\n"), secrets)
      assert.isTrue(lines.some((line) => line.includes("token request failed")))
    }).pipe(Effect.provide(Layer.merge(Live, captureLogs(lines))))
  })

  it.scoped("stage credentials at production's token endpoint: Unauthorized invalid_client", () =>
    Effect.gen(function*() {
      const production = yield* Emulator.make({
        clients: { openmarkets: [{ clientId: "om-prod-client", clientSecret: "om-prod-secret", plan: ["market-data-api"] }] }
      })
      const ctx = yield* demoLayer(production, { environment: "production" })
      const error = yield* Effect.flip(Context.get(ctx, Openmarkets.Tokens).get)
      assert.strictEqual(error._tag, "Unauthorized")
      if (error._tag === "Unauthorized") assert.strictEqual(error.reason, "invalid_client")
      assert.include(error.message, "environment")
    }).pipe(Effect.provide(Live)))

  it.scoped("a token from one environment at another's API: one replay, then Unauthorized naming the environment", () =>
    Effect.gen(function*() {
      const stage = yield* Emulator.make()
      const production = yield* Emulator.make()
      const ctx = yield* demoLayer(stage, { hosts: { api: production.urls.openmarkets.api } })
      const error = yield* Effect.flip(quotes(ctx))
      assert.strictEqual(error._tag, "Unauthorized")
      if (error._tag === "Unauthorized") assert.strictEqual(error.reason, "rejected-token")
      assert.include(error.message, "stage")
      assert.include(error.message, "environment")
      assert.strictEqual((yield* production.countersFor("openmarkets.api")).requests, 2)
      assert.strictEqual(yield* tokenRequests(stage), 2)
    }).pipe(Effect.provide(Live)))

  it.scoped("the token goes to the API origin only", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const ctx = yield* demoLayer(emulator)
      const error = yield* Effect.flip(get(ctx, "https://example.com/v1/market-data/quotes?symbols=BHP"))
      assert.strictEqual(error._tag, "InvalidConfiguration")
      assert.strictEqual(yield* tokenRequests(emulator), 0)
    }).pipe(Effect.provide(Live)))

  it.scoped("no apiUrl: the HttpClient refuses every request and sends the token nowhere; Tokens still works", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const { tokenUrl } = emulatorOptions(emulator)
      const ctx = yield* build({ ...demo, tokenUrl })
      const error = yield* Effect.flip(quotes(ctx))
      assert.strictEqual(error._tag, "InvalidConfiguration")
      assert.include(error.message, "OPENMARKETS_API_URL")
      assert.strictEqual(yield* tokenRequests(emulator), 0)
      assert.strictEqual((yield* Context.get(ctx, Openmarkets.Tokens).get).type, "Bearer")
    }).pipe(Effect.provide(Live)))
})

describe("Openmarkets market data", () => {
  it.scoped("end to end: one token for its lifetime, a new one (client credentials again) after it expires", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      // No skew: the renewal falls at expiry, inside the clock jump below, so the jump cannot also pass the request's
      // timeout (all time is Clock time) and cause a retry.
      const ctx = yield* demoLayer(emulator, { scopes: ["market-data-api"], refreshSkew: 0 })
      const tokens = Context.get(ctx, Openmarkets.Tokens)
      assert.strictEqual(Context.get(ctx, AccessTokens.AccessTokens), tokens)
      const answer = yield* quotes(ctx)
      assert.strictEqual(answer.status, 200)
      const body = JSON.parse(answer.body)
      assert.strictEqual(body.quotes[0].symbol, "BHP")
      assert.strictEqual(body.quotes[0].exchange, "ASX")
      yield* Effect.all([quotes(ctx), quotes(ctx), quotes(ctx)], { concurrency: "unbounded" })
      assert.strictEqual(yield* tokenRequests(emulator), 1)
      const first = yield* tokens.get

      yield* TestClock.adjust("3600 seconds")
      assert.strictEqual((yield* quotes(ctx)).status, 200)
      assert.strictEqual(yield* tokenRequests(emulator), 2)
      assert.isFalse(AccessToken.sameValue(yield* tokens.get, first))
      // no refresh token, no revocation endpoint
      assert.isUndefined(first.refreshToken)
      assert.strictEqual((yield* Effect.flip(tokens.revoke))._tag, "Unsupported")
    }).pipe(Effect.provide(Live)))
})

describe("Openmarkets token endpoint rate limit", () => {
  it.scoped("a 429 is RateLimited, and the endpoint is not asked again before its Retry-After", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      yield* emulator.setFaults("openmarkets.token", { rateLimit: { count: 1, retryAfter: 30 } })
      const ctx = yield* demoLayer(emulator)
      const tokens = Context.get(ctx, Openmarkets.Tokens)
      const error = yield* Effect.flip(tokens.get)
      assert.strictEqual(error._tag, "RateLimited")
      if (error._tag === "RateLimited") assert.strictEqual(error.retryAfterMillis, 30_000)
      assert.strictEqual((yield* Effect.flip(quotes(ctx)))._tag, "RateLimited")
      assert.strictEqual(yield* tokenRequests(emulator), 1)
      yield* TestClock.adjust("30 seconds")
      assert.strictEqual((yield* quotes(ctx)).status, 200)
      assert.strictEqual(yield* tokenRequests(emulator), 2)
    }).pipe(Effect.provide(Live)))
})

describe("Openmarkets API calls", () => {
  it.scopedLive("are bounded: an API host that never answers times out, an oversized answer is refused", () =>
    Effect.gen(function*() {
      const emulator = yield* Effect.orDie(Emulator.make())
      const silent = yield* loopbackServer(() => ({ status: 200, hang: true }))
      const huge = yield* loopbackServer(() => ({ status: 200, body: JSON.stringify({ quotes: "x".repeat(4096) }) }))
      const { tokenUrl } = emulatorOptions(emulator)
      const quote = (apiUrl: string) =>
        build({ ...demo, tokenUrl, hosts: { api: apiUrl }, apiRequestTimeout: "200 millis", apiMaxResponseBytes: 1024 }).pipe(
          Effect.flatMap((ctx) => get(ctx, "/v1/market-data/quotes?symbols=BHP")),
          Effect.flip
        )
      const timedOut = yield* quote(silent.url)
      assert.strictEqual(timedOut._tag, "TransportError")
      if (timedOut._tag === "TransportError") assert.strictEqual(timedOut.reason, "Timeout")
      const tooLarge = yield* quote(huge.url)
      assert.strictEqual(tooLarge._tag, "ResponseError")
      if (tooLarge._tag === "ResponseError") {
        assert.strictEqual((tooLarge.cause as { readonly _tag?: string })._tag, "MalformedResponse")
        assert.include(tooLarge.message, "1024-byte limit")
      }
    }).pipe(Effect.provide(Live)))
})

describe("Openmarkets.layerConfig", () => {
  const withEnv = (env: Record<string, string>) =>
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

  it.scoped("from the environment: id, secret, environment, scopes, token and API URLs", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const urls = emulatorOptions(emulator)
      const ctx = yield* Layer.build(Openmarkets.layerConfig()).pipe(
        withEnv({
          OPENMARKETS_CLIENT_ID: demo.clientId,
          OPENMARKETS_CLIENT_SECRET: demo.clientSecret,
          OPENMARKETS_ENV: "production",
          OPENMARKETS_SCOPES: " market-data-api  news-api ",
          OPENMARKETS_TOKEN_URL: urls.tokenUrl,
          OPENMARKETS_API_URL: urls.hosts.api
        })
      )
      assert.strictEqual((yield* quotes(ctx)).status, 200)
      const issued = (yield* emulator.tokens).filter((info) => info.provider === "openmarkets")
      assert.deepStrictEqual(issued.map((info) => info.scopes), [["market-data-api", "news-api"]])
    }).pipe(Effect.provide(Live)))

  it.scoped("a bad OPENMARKETS_ENV is a ConfigError naming the variable and the allowed values", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Layer.build(Openmarkets.layerConfig()).pipe(
          withEnv({
            OPENMARKETS_CLIENT_ID: demo.clientId,
            OPENMARKETS_CLIENT_SECRET: demo.clientSecret,
            OPENMARKETS_ENV: "staging"
          })
        )
      )
      const text = String(error)
      assert.include(text, "OPENMARKETS_ENV")
      assert.include(text, "stage")
      assert.include(text, "production")
      assert.notInclude(text, demo.clientSecret)
    }).pipe(Effect.provide(Live)))

  it.scoped("a missing secret is a ConfigError naming it", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Layer.build(Openmarkets.layerConfig()).pipe(withEnv({ OPENMARKETS_CLIENT_ID: demo.clientId }))
      )
      assert.include(String(error), "OPENMARKETS_CLIENT_SECRET")
    }).pipe(Effect.provide(Live)))

  it.scoped("a plain-http token URL off loopback is a ConfigError naming the variable", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Layer.build(Openmarkets.layerConfig()).pipe(
          withEnv({
            OPENMARKETS_CLIENT_ID: demo.clientId,
            OPENMARKETS_CLIENT_SECRET: demo.clientSecret,
            OPENMARKETS_TOKEN_URL: "http://identity.openmarkets.example/connect/token"
          })
        )
      )
      assert.isTrue(ConfigError.isConfigError(error))
      assert.include(String(error), "OPENMARKETS_TOKEN_URL")
      assert.include(String(error), "https://")
      assert.notInclude(errorText(error), demo.clientSecret)
    }).pipe(Effect.provide(Live)))
})
