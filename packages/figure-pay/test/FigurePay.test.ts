import { Clients, Emulator } from "@effect-oauth2/emulator"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { Banking, FigurePay } from "../src/index.js"
import { assertNoSecret, capturingClient, loopbackServer, withLogs } from "@effect-oauth2/core/provider-testing"

const demo = Clients.figurePayDemo
const secrets = [demo.clientSecret]

/** Builds the layer in the current scope, over `http` (default: undici). */
const build = (
  options: FigurePay.Options,
  http: Layer.Layer<HttpClient.HttpClient> = NodeHttpClient.layerUndici
) => Layer.build(FigurePay.layer(options).pipe(Layer.provide(http)))

const start = Effect.orDie(Emulator.make())

const counter = (emulator: Emulator.Emulator, endpoint: "figure-pay.token" | "figure-pay.profiles") =>
  Effect.map(emulator.countersFor(endpoint), (c) => c.requests)

const demoOptions = (emulator: Emulator.Emulator): FigurePay.Options => ({
  clientId: demo.clientId,
  clientSecret: demo.clientSecret,
  hosts: emulator.hosts["figure-pay"]
})

const profilesBody = JSON.stringify({ data: [{ id: "prf_gateway", type: "INDIVIDUAL", first_name: "Ada" }] })

/**
 * A stand-in for the Banking API host that answers by `X-FigurePay-Api-Version` (the emulator does not version):
 * `2020-01-01` is removed (410), `2023-06-01` is deprecated (`Deprecation` and `Sunset`), anything else is current.
 * Tokens come from the emulator; this host only checks that one is there.
 */
const gateway = loopbackServer((request) => {
  if (!String(request.headers["authorization"] ?? "").startsWith("Bearer ")) {
    return { status: 401, headers: { "www-authenticate": `Bearer error="invalid_token"` }, body: `{"error":"invalid_token"}` }
  }
  switch (request.headers["x-figurepay-api-version"]) {
    case "2020-01-01":
      return { status: 410, body: `{"error":"gone"}` }
    case "2023-06-01":
      return {
        status: 200,
        headers: { deprecation: "@1717200000", sunset: "Wed, 31 Dec 2025 23:59:59 GMT" },
        body: profilesBody
      }
    default:
      return { status: 200, body: profilesBody }
  }
})

describe("FigurePay", () => {
  describe("resolve", () => {
    it.effect("defaults to the sandbox, client_secret_post, Bearer and 1 hour for what the response leaves out", () =>
      Effect.gen(function*() {
        const sandbox = yield* FigurePay.resolve({ clientId: "id", clientSecret: "secret" })
        assert.strictEqual(sandbox.environment, "sandbox")
        assert.strictEqual(sandbox.hosts.api, "https://api.test.figurepay.com")
        assert.strictEqual(sandbox.endpoint.tokenUrl, "https://api.test.figurepay.com/oauth2/token")
        assert.strictEqual(sandbox.endpoint.revocationUrl, undefined)
        assert.strictEqual(sandbox.endpoint.authMethod, "client_secret_post")
        assert.strictEqual(sandbox.endpoint.defaultTokenType, "Bearer")
        assert.strictEqual(Duration.toMillis(sandbox.endpoint.defaultLifetime), 3_600_000)
        assert.deepStrictEqual(sandbox.allowedOrigins, ["https://api.test.figurepay.com"])
        assert.strictEqual(sandbox.apiVersion, undefined)

        const production = yield* FigurePay.resolve({ clientId: "id", clientSecret: "secret", environment: "production" })
        assert.strictEqual(production.endpoint.tokenUrl, "https://api.figurepay.com/oauth2/token")

        const legacy = yield* FigurePay.resolve({
          clientId: "id",
          clientSecret: "secret",
          hosts: { api: FigurePay.legacySandboxUrl },
          apiVersion: "2024-02-29"
        })
        assert.strictEqual(legacy.endpoint.tokenUrl, "https://api.pay.test.figure.com/oauth2/token")
        assert.strictEqual(legacy.apiVersion, "2024-02-29")
      }))

    it.effect("refuses insecure URLs and API versions that are not YYYY-MM-DD dates", () =>
      Effect.gen(function*() {
        const base = { clientId: "id", clientSecret: "s3cr3t-value" }
        const cases: ReadonlyArray<[FigurePay.Options, string]> = [
          [{ ...base, hosts: { api: "http://api.figurepay.com" } }, "https://"],
          [{ ...base, tokenUrl: "http://api.figurepay.com/oauth2/token" }, "https://"],
          [{ ...base, hosts: { api: "https://api.figurepay.com/#x" } }, "query"],
          [{ ...base, apiVersion: "2024-13-01" }, "YYYY-MM-DD"],
          [{ ...base, apiVersion: "2023-02-29" }, "YYYY-MM-DD"],
          [{ ...base, apiVersion: "24-01-15" }, "YYYY-MM-DD"],
          [{ ...base, clientSecret: Redacted.make("") }, "clientSecret"],
          [{ ...base, apiVersion: "2024-01-15\r\nX-Evil: 1" }, "YYYY-MM-DD"],
          [{ ...base, environment: "staging" as FigurePay.Environment }, "sandbox, production"]
        ]
        for (const [options, expected] of cases) {
          const error = yield* Effect.flip(FigurePay.resolve(options))
          assert.strictEqual(error._tag, "InvalidConfiguration")
          assert.include(error.message, expected)
          assertNoSecret(error, [base.clientSecret])
        }
      }))
  })

  describe("against the emulator", () => {
    it.scoped("posts client_secret_post without a scope; a bare access_token is a Bearer token for 1 hour", () =>
      Effect.gen(function*() {
        const emulator = yield* start
        const capture = yield* capturingClient
        const context = yield* build({ ...demoOptions(emulator), apiVersion: "2024-01-15" }, capture.layer)
        const profiles = yield* Context.get(context, Banking.Banking).listProfiles
        assert.deepStrictEqual(profiles.map((p) => p.id), [`prf_${demo.clientId}`])
        assert.strictEqual(profiles[0]!.status, "ACTIVE")

        const token = yield* Context.get(context, FigurePay.Tokens).get
        assert.strictEqual(token.type, "Bearer")
        assert.strictEqual(token.expiresAt - token.issuedAt, 3_600_000)
        assert.deepStrictEqual(token.scopes, [])

        const [tokenRequest, apiRequest, ...rest] = yield* capture.requests
        assert.strictEqual(rest.length, 0)
        assert.strictEqual(tokenRequest!.url, `${emulator.urls.figurePay.api}/oauth2/token`)
        assert.strictEqual(tokenRequest!.headers["authorization"], undefined)
        assert.strictEqual(tokenRequest!.headers["x-figurepay-api-version"], undefined)
        const form = tokenRequest!.form!
        assert.deepStrictEqual([...form.keys()].sort(), ["client_id", "client_secret", "grant_type"])
        assert.strictEqual(form.get("client_id"), demo.clientId)
        assert.strictEqual(form.get("client_secret"), demo.clientSecret)
        assert.isFalse(form.has("scope"))

        assert.strictEqual(apiRequest!.method, "GET")
        assert.strictEqual(apiRequest!.url, `${emulator.urls.figurePay.api}/profiles`)
        assert.strictEqual(apiRequest!.headers["authorization"], `Bearer ${Redacted.value(token.value)}`)
        assert.strictEqual(apiRequest!.headers["x-figurepay-api-version"], "2024-01-15")
      }))

    it.scoped("wrong credentials are Unauthorized (invalid_client); neither errors nor logs carry a secret", () =>
      Effect.gen(function*() {
        const emulator = yield* start
        const context = yield* build({ ...demoOptions(emulator), clientSecret: "wrong-secret-value" })
        const { logs, result } = yield* withLogs(Context.get(context, Banking.Banking).listProfiles)
        const error = result._tag === "Left" ? result.left : undefined
        assert.strictEqual(error?._tag, "Unauthorized")
        if (error?._tag === "Unauthorized") assert.strictEqual(error.reason, "invalid_client")
        assertNoSecret(error, [...secrets, "wrong-secret-value"])
        assertNoSecret(logs, [...secrets, "wrong-secret-value"])
        assert.strictEqual(yield* counter(emulator, "figure-pay.profiles"), 0)
      }))

    it.scoped("a token from another environment is replayed once, then Unauthorized (rejected-token)", () =>
      Effect.gen(function*() {
        const issuer = yield* start
        const other = yield* start
        const context = yield* build({
          clientId: demo.clientId,
          clientSecret: demo.clientSecret,
          hosts: { api: other.urls.figurePay.api },
          tokenUrl: `${issuer.urls.figurePay.api}/oauth2/token`
        })
        const tokens = Context.get(context, FigurePay.Tokens)
        const { logs, result } = yield* withLogs(Context.get(context, Banking.Banking).listProfiles)
        const error = result._tag === "Left" ? result.left : undefined
        assert.strictEqual(error?._tag, "Unauthorized")
        if (error?._tag === "Unauthorized") assert.strictEqual(error.reason, "rejected-token")
        assert.strictEqual(yield* counter(issuer, "figure-pay.token"), 2)
        assert.deepStrictEqual((yield* other.countersFor("figure-pay.profiles")).failures, { "401": 2 })
        const token = Option.getOrThrow(yield* tokens.current)
        assertNoSecret(error, [...secrets, Redacted.value(token.value)])
        assertNoSecret(logs, [...secrets, Redacted.value(token.value)])
      }))

    it.scoped("revoke is Unsupported, pointing at Figure Pay support, and the token is kept", () =>
      Effect.gen(function*() {
        const emulator = yield* start
        const context = yield* build(demoOptions(emulator))
        const tokens = Context.get(context, FigurePay.Tokens)
        const token = yield* tokens.get
        const error = yield* Effect.flip(tokens.revoke)
        assert.strictEqual(error._tag, "Unsupported")
        if (error._tag === "Unsupported") {
          assert.strictEqual(error.operation, "revocation")
          assert.include(error.hint ?? "", "contact Figure Pay support")
        }
        assert.isTrue(Option.isSome(yield* tokens.current))
        assert.strictEqual(Redacted.value((yield* tokens.get).value), Redacted.value(token.value))
        yield* Context.get(context, Banking.Banking).listProfiles
        assert.strictEqual(yield* counter(emulator, "figure-pay.token"), 1)
      }))

    it.scoped("a token past its hour is replaced (TestClock drives the emulator and the cache)", () =>
      Effect.gen(function*() {
        const emulator = yield* start
        // No skew: refresh and expiry fall on the same instant, so the clock never runs on during a token request.
        const context = yield* build({ ...demoOptions(emulator), refreshSkew: 0 })
        const tokens = Context.get(context, FigurePay.Tokens)
        const first = yield* tokens.get
        yield* TestClock.adjust("1 hour")
        const second = yield* tokens.get
        assert.notStrictEqual(Redacted.value(second.value), Redacted.value(first.value))
        assert.strictEqual(second.expiresAt, first.expiresAt + 3_600_000)
        assert.strictEqual(yield* counter(emulator, "figure-pay.token"), 2)
        yield* Context.get(context, Banking.Banking).listProfiles
        assert.deepStrictEqual((yield* emulator.countersFor("figure-pay.profiles")).failures, {})
      }))

    it.scoped("API failures map to typed errors: 429 with Retry-After, 5xx retryable, non-JSON malformed", () =>
      Effect.gen(function*() {
        const emulator = yield* start
        const banking = Context.get(yield* build(demoOptions(emulator)), Banking.Banking)
        yield* emulator.setFaults("figure-pay.profiles", { rateLimit: { count: 1, retryAfter: 3 } })
        const limited = yield* Effect.flip(banking.listProfiles)
        assert.strictEqual(limited._tag, "RateLimited")
        if (limited._tag === "RateLimited") assert.strictEqual(limited.retryAfterMillis, 3000)
        yield* emulator.setFaults("figure-pay.profiles", { failNext: { count: 1, status: 500 } })
        const failing = yield* Effect.flip(banking.listProfiles)
        assert.strictEqual(failing._tag, "ProtocolError")
        assert.isTrue(failing.retryable)
        yield* emulator.setFaults("figure-pay.profiles", { malformed: { count: 1, kind: "broken-json" } })
        assert.strictEqual((yield* Effect.flip(banking.listProfiles))._tag, "MalformedResponse")
        assert.strictEqual(yield* counter(emulator, "figure-pay.token"), 1)
      }))
  })

  it.scopedLive("API calls are bounded: an API host that never answers times out, an oversized answer is refused", () =>
    Effect.gen(function*() {
      const emulator = yield* start
      const silent = yield* loopbackServer(() => ({ status: 200, hang: true }))
      const huge = yield* loopbackServer(() => ({ status: 200, body: JSON.stringify({ data: [{ id: "x".repeat(4096) }] }) }))
      const listProfiles = (apiUrl: string) =>
        build({
          clientId: demo.clientId,
          clientSecret: demo.clientSecret,
          hosts: { api: apiUrl },
          tokenUrl: `${emulator.urls.figurePay.api}/oauth2/token`,
          apiRequestTimeout: "200 millis",
          apiMaxResponseBytes: 1024
        }).pipe(Effect.flatMap((context) => Effect.flip(Context.get(context, Banking.Banking).listProfiles)))
      const timedOut = yield* listProfiles(silent.url)
      assert.strictEqual(timedOut._tag, "TransportError")
      if (timedOut._tag === "TransportError") assert.strictEqual(timedOut.reason, "Timeout")
      assert.strictEqual((yield* silent.received).length, 1)
      const tooLarge = yield* listProfiles(huge.url)
      assert.strictEqual(tooLarge._tag, "MalformedResponse")
      assert.include(tooLarge.message, "1024-byte limit")
    }))

  it.scoped("the token goes only to the API origin: a redirect elsewhere is not followed", () =>
    Effect.gen(function*() {
      const emulator = yield* start
      const elsewhere = yield* loopbackServer(() => ({ status: 200, body: profilesBody }))
      const api = yield* loopbackServer(() => ({ status: 302, headers: { location: `${elsewhere.url}/profiles` } }))
      const context = yield* build({
        clientId: demo.clientId,
        clientSecret: demo.clientSecret,
        hosts: { api: api.url },
        tokenUrl: `${emulator.urls.figurePay.api}/oauth2/token`
      })
      const error = yield* Effect.flip(Context.get(context, Banking.Banking).listProfiles)
      assert.strictEqual(error._tag, "MalformedResponse")
      assert.match(String((yield* api.received)[0]!.headers["authorization"]), /^Bearer /)
      assert.deepStrictEqual(yield* elsewhere.received, [])
    }))

  describe("API versions", () => {
    const versioned = (apiVersion: string | undefined) =>
      Effect.gen(function*() {
        const emulator = yield* start
        const api = yield* gateway
        const context = yield* build({
          clientId: demo.clientId,
          clientSecret: demo.clientSecret,
          hosts: { api: api.url },
          tokenUrl: `${emulator.urls.figurePay.api}/oauth2/token`,
          apiVersion
        })
        return { api, context, emulator }
      })

    it.scoped("sends the version header on API calls only", () =>
      Effect.gen(function*() {
        const { api, context } = yield* versioned("2024-01-15")
        const profiles = yield* Context.get(context, Banking.Banking).listProfiles
        assert.deepStrictEqual(profiles.map((p) => p.id), ["prf_gateway"])
        const received = yield* api.received
        assert.strictEqual(received.length, 1)
        assert.strictEqual(received[0]!.headers["x-figurepay-api-version"], "2024-01-15")

        const { api: other, context: unversioned } = yield* versioned(undefined)
        yield* Context.get(unversioned, Banking.Banking).listProfiles
        assert.strictEqual((yield* other.received)[0]!.headers["x-figurepay-api-version"], undefined)
      }))

    it.scoped("Deprecation and Sunset are logged as a warning naming both values, never the token", () =>
      Effect.gen(function*() {
        const { context } = yield* versioned("2023-06-01")
        const { logs, result } = yield* withLogs(Context.get(context, FigurePay.HttpClient).get("/profiles"))
        assert.strictEqual(result._tag, "Right")
        const warnings = logs.filter((line) => line.includes("level=WARN"))
        assert.strictEqual(warnings.length, 1)
        assert.include(warnings[0]!, "Deprecation: @1717200000")
        assert.include(warnings[0]!, "Sunset: Wed, 31 Dec 2025 23:59:59 GMT")
        assert.include(warnings[0]!, "2023-06-01")
        assert.include(warnings[0]!, "GET /profiles")
        const token = yield* Context.get(context, FigurePay.Tokens).get
        assertNoSecret(logs, [...secrets, Redacted.value(token.value)])

        const current = yield* versioned("2024-01-15")
        const quiet = yield* withLogs(Context.get(current.context, Banking.Banking).listProfiles)
        assert.strictEqual(quiet.logs.filter((line) => line.includes("level=WARN")).length, 0)
      }))

    it.scoped("410 is a ProtocolError saying the version was removed, without a new token", () =>
      Effect.gen(function*() {
        const { context, emulator } = yield* versioned("2020-01-01")
        const error = yield* Effect.flip(Context.get(context, Banking.Banking).listProfiles)
        assert.strictEqual(error._tag, "ProtocolError")
        if (error._tag === "ProtocolError") {
          assert.strictEqual(error.status, 410)
          assert.include(error.message, "2020-01-01")
          assert.include(error.message, "removed")
          assert.isFalse(error.retryable)
        }
        assert.strictEqual(yield* counter(emulator, "figure-pay.token"), 1)
      }))
  })

  describe("layerConfig", () => {
    const env = (emulator: Emulator.Emulator, extra: Record<string, string> = {}) =>
      ConfigProvider.fromMap(
        new Map(Object.entries({
          FIGURE_PAY_CLIENT_ID: demo.clientId,
          FIGURE_PAY_CLIENT_SECRET: demo.clientSecret,
          FIGURE_PAY_ENV: "sandbox",
          FIGURE_PAY_API_URL: emulator.urls.figurePay.api,
          FIGURE_PAY_API_VERSION: "2024-01-15",
          ...extra
        }))
      )
    const buildConfig = (provider: ConfigProvider.ConfigProvider) =>
      Layer.build(FigurePay.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici))).pipe(
        Effect.withConfigProvider(provider)
      )

    it.scoped("reads the documented variables", () =>
      Effect.gen(function*() {
        const emulator = yield* start
        const context = yield* buildConfig(env(emulator))
        const profiles = yield* Context.get(context, Banking.Banking).listProfiles
        assert.strictEqual(profiles[0]!.id, `prf_${demo.clientId}`)
      }))

    it.scoped("a bad or missing value is a ConfigError naming the variable", () =>
      Effect.gen(function*() {
        const emulator = yield* start
        const cases: ReadonlyArray<[Record<string, string>, ReadonlyArray<string>]> = [
          [{ FIGURE_PAY_ENV: "staging" }, ["FIGURE_PAY_ENV", "sandbox, production"]],
          [{ FIGURE_PAY_API_VERSION: "2024-1-15" }, ["FIGURE_PAY_API_VERSION", "YYYY-MM-DD"]],
          [{ FIGURE_PAY_API_URL: "http://api.figurepay.com" }, ["FIGURE_PAY_API_URL", "https://"]],
          [{ FIGURE_PAY_CLIENT_SECRET: "" }, ["FIGURE_PAY_CLIENT_SECRET"]]
        ]
        for (const [extra, expected] of cases) {
          const error = yield* Effect.flip(buildConfig(env(emulator, extra)))
          assert.isTrue(ConfigError.isConfigError(error), String(error))
          for (const text of expected) assert.include(String(error), text)
          assertNoSecret(error, secrets)
        }
        const missing = yield* Effect.flip(buildConfig(ConfigProvider.fromMap(new Map())))
        assert.include(String(missing), "FIGURE_PAY_CLIENT_ID")
        assert.include(String(missing), "FIGURE_PAY_CLIENT_SECRET")
      }))

    it.effect("defaults to the sandbox when FIGURE_PAY_ENV is unset, and accepts production", () =>
      Effect.gen(function*() {
        const read = (map: Record<string, string>) =>
          FigurePay.config.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(map)))))
        const base = { FIGURE_PAY_CLIENT_ID: "id", FIGURE_PAY_CLIENT_SECRET: "secret" }
        const unset = yield* read(base)
        assert.strictEqual(unset.environment, "sandbox")
        assert.strictEqual(unset.hosts?.api, undefined)
        assert.strictEqual(unset.apiVersion, undefined)
        assert.isTrue(Redacted.isRedacted(unset.clientSecret))
        assert.strictEqual((yield* read({ ...base, FIGURE_PAY_ENV: "PRODUCTION" })).environment, "production")
      }))
  })
})
