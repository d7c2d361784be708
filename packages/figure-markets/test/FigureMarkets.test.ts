import * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import { FigureMarkets, Trader } from "../src/index.js"
import { assertNoSecret, capturingClient, loopbackServer, withLogs } from "@effect-oauth2/core/provider-testing"

const demo = Clients.figureMarketsDemo
const readOnly = Clients.figureMarketsReadOnlyDemo
const secrets = [demo.clientSecret, readOnly.clientSecret]

/** Builds the layer in the current scope, over `http` (default: undici). */
const build = (
  options: FigureMarkets.Options,
  http: Layer.Layer<HttpClient.HttpClient> = NodeHttpClient.layerUndici
) =>
  Layer.build(FigureMarkets.layer(options).pipe(Layer.provide(http)))

const start = Effect.orDie(Emulator.make())

const counter = (emulator: Emulator.Emulator, endpoint: "figure-markets.token" | "figure-markets.revoke" | "figure-markets.trade") =>
  Effect.map(emulator.countersFor(endpoint), (c) => c.requests)

/** The Figure Markets tokens the emulator issued (it also lists Tradier's static demo token). */
const fmTokens = (emulator: Emulator.Emulator) =>
  Effect.map(emulator.tokens, (all) => all.filter((t) => t.provider === "figure-markets"))

const demoOptions = (emulator: Emulator.Emulator): FigureMarkets.Options => ({
  clientId: demo.clientId,
  clientSecret: demo.clientSecret,
  hosts: emulator.hosts["figure-markets"]
})

describe("FigureMarkets", () => {
  describe("resolve", () => {
    it.effect("defaults to UAT, both scopes, the documented paths, and the main and trading origins", () =>
      Effect.gen(function*() {
        const uat = yield* OAuth2Provider.resolve(FigureMarkets.definition, { clientId: "id", clientSecret: "secret" })
        assert.strictEqual(uat.environment, "uat")
        assert.strictEqual(uat.endpoint.tokenUrl, "https://www.figuremarkets.dev/auth/oauth2/token")
        assert.strictEqual(uat.endpoint.revocationUrl, "https://www.figuremarkets.dev/auth/oauth2/revoke")
        assert.strictEqual(uat.endpoint.authMethod, "client_secret_post")
        assert.strictEqual(uat.endpoint.scopeDelimiter, " ")
        assert.strictEqual(uat.endpoint.defaultTokenType, undefined)
        assert.strictEqual(Duration.toMillis(uat.endpoint.defaultLifetime), 86399 * 1000)
        assert.deepStrictEqual(uat.scopes, ["TRADER_READ", "TRADER_TRADE"])
        assert.strictEqual(uat.apis.trade, "https://trade.figuremarkets.dev/api/v1")
        assert.strictEqual(uat.apis.rest, "https://www.figuremarkets.dev/trader")
        assert.deepStrictEqual(uat.allowedOrigins, ["https://www.figuremarkets.dev", "https://trade.figuremarkets.dev"])
        assert.isTrue(Redacted.isRedacted(uat.credentials.clientSecret))

        const prod = yield* OAuth2Provider.resolve(FigureMarkets.definition, {
          clientId: "id",
          clientSecret: Redacted.make("secret"),
          environment: "production",
          scopes: ["TRADER_READ", "TRADER_READ"]
        })
        assert.strictEqual(prod.endpoint.tokenUrl, "https://www.figuremarkets.com/auth/oauth2/token")
        assert.strictEqual(prod.apis.trade, "https://trade.figuremarkets.com/api/v1")
        assert.deepStrictEqual(prod.scopes, ["TRADER_READ"])

        const regional = yield* OAuth2Provider.resolve(FigureMarkets.definition, {
          clientId: "id",
          clientSecret: "secret",
          environment: "production",
          hosts: { trade: "https://trade-eu.example.com/" }
        })
        assert.strictEqual(regional.apis.trade, "https://trade-eu.example.com/api/v1")
        assert.strictEqual(regional.endpoint.tokenUrl, "https://www.figuremarkets.com/auth/oauth2/token")
      }))

    it.effect("refuses insecure URLs, tokens on the trading host, and empty or malformed scopes", () =>
      Effect.gen(function*() {
        const base = { clientId: "id", clientSecret: "s3cr3t-value" }
        const cases: ReadonlyArray<[FigureMarkets.Options, string]> = [
          [{ ...base, hosts: { main: "http://www.figuremarkets.dev" } }, "https://"],
          [{ ...base, hosts: { trade: "http://trade.example.com" } }, "https://"],
          [{ ...base, tokenUrl: "https://trade.figuremarkets.dev/auth/oauth2/token" }, "main host"],
          [{ ...base, revocationUrl: "https://trade.figuremarkets.com/auth/oauth2/revoke" }, "main host"],
          [{ ...base, hosts: { main: "https://trade.figuremarkets.com" } }, "trading host"],
          [{ ...base, hosts: { main: "https://www.figuremarkets.dev?x=1" } }, "query"],
          [{ ...base, hosts: { main: "not a url" } }, "absolute"],
          [{ ...base, scopes: [] }, "at least one"],
          [{ ...base, scopes: ["TRADER READ"] }, "single words"],
          [{ ...base, clientId: " " }, "clientId"],
          [{ ...base, clientSecret: "" }, "clientSecret"],
          [{ ...base, environment: "staging" as FigureMarkets.Environment }, "uat, production"]
        ]
        for (const [options, expected] of cases) {
          const error = yield* Effect.flip(OAuth2Provider.resolve(FigureMarkets.definition, options))
          assert.strictEqual(error._tag, "InvalidConfiguration")
          assert.include(error.message, expected)
          assertNoSecret(error, [base.clientSecret])
        }
      }))
  })

  describe("against the emulator", () => {
    it.scoped("posts client_secret_post with space-separated scopes to the main host, the bearer only to the trading host", () =>
      Effect.gen(function*() {
        const emulator = yield* start
        const capture = yield* capturingClient
        const context = yield* build(demoOptions(emulator), capture.layer)
        const me = yield* Context.get(context, Trader.Trader).whoAmI
        const token = yield* Context.get(context, FigureMarkets.Tokens).get

        const requests = yield* capture.requests
        assert.strictEqual(requests.length, 2)
        const [tokenRequest, apiRequest] = requests
        assert.strictEqual(tokenRequest!.method, "POST")
        assert.strictEqual(tokenRequest!.url, `${emulator.urls.figureMarkets.main}/auth/oauth2/token`)
        assert.strictEqual(tokenRequest!.headers["authorization"], undefined)
        const form = tokenRequest!.form!
        assert.strictEqual(form.get("grant_type"), "client_credentials")
        assert.strictEqual(form.get("client_id"), demo.clientId)
        assert.strictEqual(form.get("client_secret"), demo.clientSecret)
        assert.strictEqual(form.get("scope"), "TRADER_READ TRADER_TRADE")
        assert.strictEqual(form.getAll("scope").length, 1)

        assert.strictEqual(apiRequest!.method, "POST")
        assert.strictEqual(apiRequest!.url, `${emulator.urls.figureMarkets.trade}/api/v1/get_who_am_i`)
        assert.strictEqual(apiRequest!.headers["authorization"], `Bearer ${Redacted.value(token.value)}`)
        assert.strictEqual(apiRequest!.headers["accept"], "application/json")

        assert.strictEqual(me.user, `firms/demo-firm/users/${demo.clientId}`)
        assert.strictEqual(me.firmId, "demo-firm")
        assert.strictEqual(me.userId, demo.clientId)
        assert.deepStrictEqual(token.scopes, ["TRADER_READ", "TRADER_TRADE"])
        assert.strictEqual(token.type, "Bearer")
        assert.strictEqual(token.expiresAt - token.issuedAt, 86399 * 1000)
      }))

    it.scoped("listAccounts and the REST client, end to end", () =>
      Effect.gen(function*() {
        const emulator = yield* start
        const capture = yield* capturingClient
        const context = yield* build(demoOptions(emulator), capture.layer)
        const accounts = yield* Context.get(context, Trader.Trader).listAccounts
        assert.deepStrictEqual(accounts.map((a) => a.id), ["demo-firm-trading", "demo-firm-margin"])
        assert.strictEqual(accounts[0]!.currency, "USD")

        // The emulator has no /trader routes: what matters is where the REST client sends the token.
        const rest = Context.get(context, FigureMarkets.RestHttpClient)
        const response = yield* rest.execute(HttpClientRequest.get("/accounts"))
        assert.strictEqual(response.status, 404)
        const last = (yield* capture.requests).at(-1)!
        assert.strictEqual(last.url, `${emulator.urls.figureMarkets.main}/trader/accounts`)
        assert.match(last.headers["authorization"]!, /^Bearer /)
        assert.strictEqual(yield* counter(emulator, "figure-markets.token"), 1)

        const trader = Context.get(context, Trader.Trader)
        const error = yield* Effect.flip(trader.call("../../auth/oauth2/token"))
        assert.strictEqual(error._tag, "InvalidConfiguration")
      }))

    it.scoped("a scope the client is not registered for is InvalidScope naming the scopes asked for", () =>
      Effect.gen(function*() {
        const emulator = yield* start
        const urls = { hosts: emulator.hosts["figure-markets"] }
        const context = yield* build({ clientId: readOnly.clientId, clientSecret: readOnly.clientSecret, ...urls })
        const { logs, result } = yield* withLogs(Context.get(context, Trader.Trader).whoAmI)
        assert.isTrue(result._tag === "Left")
        const error = result._tag === "Left" ? result.left : undefined
        assert.strictEqual(error?._tag, "InvalidScope")
        if (error?._tag === "InvalidScope") {
          assert.deepStrictEqual(error.requestedScopes, ["TRADER_READ", "TRADER_TRADE"])
          assert.strictEqual(error.source, "token-endpoint")
          assert.include(error.message, "TRADER_READ TRADER_TRADE")
          assert.isFalse(error.retryable)
        }
        assertNoSecret(error, secrets)
        assertNoSecret(logs, secrets)
        assert.strictEqual(yield* counter(emulator, "figure-markets.trade"), 0)

        // A scope the docs do not list, asked by a client that has both documented ones.
        const other = yield* build({ ...demoOptions(emulator), scopes: ["TRADER"] })
        const unknown = yield* Effect.flip(Context.get(other, FigureMarkets.Tokens).get)
        assert.strictEqual(unknown._tag, "InvalidScope")
        if (unknown._tag === "InvalidScope") assert.deepStrictEqual(unknown.requestedScopes, ["TRADER"])
      }))

    it.scoped("the read-only client reads, and a trading call is InvalidScope (403 insufficient_scope), without a new token", () =>
      Effect.gen(function*() {
        const emulator = yield* start
        const context = yield* build({
          clientId: readOnly.clientId,
          clientSecret: readOnly.clientSecret,
          scopes: ["TRADER_READ"],
          hosts: emulator.hosts["figure-markets"]
        })
        const trader = Context.get(context, Trader.Trader)
        assert.strictEqual((yield* trader.whoAmI).userId, readOnly.clientId)
        const error = yield* Effect.flip(trader.call("place_order", { market: "BTC-USD", side: "BUY", quantity: "1" }))
        assert.strictEqual(error._tag, "InvalidScope")
        if (error._tag === "InvalidScope") {
          assert.strictEqual(error.source, "resource-server")
          assert.strictEqual(error.status, 403)
          assert.deepStrictEqual(error.requestedScopes, ["TRADER_READ"])
        }
        assert.strictEqual(yield* counter(emulator, "figure-markets.token"), 1)
      }))

    it.scoped("wrong credentials are Unauthorized (invalid_client), and neither errors nor logs carry a secret", () =>
      Effect.gen(function*() {
        const emulator = yield* start
        for (const options of [
          { ...demoOptions(emulator), clientSecret: "wrong-secret-value" },
          { ...demoOptions(emulator), clientId: "no-such-client" }
        ]) {
          const context = yield* build(options)
          const { logs, result } = yield* withLogs(Context.get(context, Trader.Trader).whoAmI)
          const error = result._tag === "Left" ? result.left : undefined
          assert.strictEqual(error?._tag, "Unauthorized")
          if (error?._tag === "Unauthorized") {
            assert.strictEqual(error.reason, "invalid_client")
            assert.strictEqual(error.source, "token-endpoint")
          }
          assertNoSecret(error, [...secrets, "wrong-secret-value"])
          assertNoSecret(logs, [...secrets, "wrong-secret-value"])
        }
        assert.strictEqual(yield* counter(emulator, "figure-markets.trade"), 0)
      }))

    it.scoped("a token from another environment is replayed once, then Unauthorized (rejected-token)", () =>
      Effect.gen(function*() {
        const issuer = yield* start
        const other = yield* start
        const context = yield* build({
          clientId: demo.clientId,
          clientSecret: demo.clientSecret,
          hosts: { main: issuer.urls.figureMarkets.main, trade: other.urls.figureMarkets.trade }
        })
        const { logs, result } = yield* withLogs(Context.get(context, Trader.Trader).whoAmI)
        const error = result._tag === "Left" ? result.left : undefined
        assert.strictEqual(error?._tag, "Unauthorized")
        if (error?._tag === "Unauthorized") {
          assert.strictEqual(error.reason, "rejected-token")
          assert.strictEqual(error.source, "resource-server")
        }
        assert.strictEqual(yield* counter(issuer, "figure-markets.token"), 2)
        assert.deepStrictEqual((yield* other.countersFor("figure-markets.trade")).failures, { "401": 2 })
        const issued = (yield* issuer.tokens).filter((t) => t.provider === "figure-markets")
        assert.strictEqual(issued.length, 2)
        assertNoSecret(error, secrets)
        assertNoSecret(logs, secrets)
      }))

    it.scoped("revoke: RFC 7009 with client_secret_post; the emulator marks the token revoked; the next call gets a new one", () =>
      Effect.gen(function*() {
        const emulator = yield* start
        const capture = yield* capturingClient
        const context = yield* build(demoOptions(emulator), capture.layer)
        const tokens = Context.get(context, FigureMarkets.Tokens)
        const trader = Context.get(context, Trader.Trader)
        const first = yield* tokens.get
        yield* trader.whoAmI
        yield* tokens.revoke

        const revoke = (yield* capture.requests).find((r) => r.url.endsWith("/auth/oauth2/revoke"))!
        assert.strictEqual(revoke.url, `${emulator.urls.figureMarkets.main}/auth/oauth2/revoke`)
        assert.strictEqual(revoke.headers["authorization"], undefined)
        assert.strictEqual(revoke.form!.get("client_id"), demo.clientId)
        assert.strictEqual(revoke.form!.get("client_secret"), demo.clientSecret)
        assert.strictEqual(revoke.form!.get("token"), Redacted.value(first.value))
        assert.strictEqual(revoke.form!.get("token_type_hint"), "access_token")

        const issued = yield* fmTokens(emulator)
        assert.strictEqual(issued.length, 1)
        assert.isTrue(issued[0]!.revoked)
        assert.isTrue(Option.isNone(yield* tokens.current))

        yield* trader.whoAmI
        const second = yield* tokens.get
        assert.notStrictEqual(Redacted.value(second.value), Redacted.value(first.value))
        assert.strictEqual(yield* counter(emulator, "figure-markets.token"), 2)
        // The revoked token went to the trading host once, before the revocation, never after.
        assert.deepStrictEqual((yield* emulator.countersFor("figure-markets.trade")).failures, {})
      }))

    it.scoped("revokeOnClose revokes the token when the layer is released", () =>
      Effect.gen(function*() {
        const emulator = yield* start
        const scope = yield* Scope.make()
        const context = yield* build({ ...demoOptions(emulator), revokeOnClose: true }).pipe(Scope.extend(scope))
        yield* Context.get(context, Trader.Trader).whoAmI
        assert.isFalse((yield* fmTokens(emulator))[0]!.revoked)
        yield* Scope.close(scope, Exit.void)
        assert.isTrue((yield* fmTokens(emulator))[0]!.revoked)
        assert.strictEqual(yield* counter(emulator, "figure-markets.revoke"), 1)
      }))

    it.scoped("a token past its lifetime is replaced (TestClock drives the emulator and the cache)", () =>
      Effect.gen(function*() {
        const emulator = yield* start
        // No skew: the background refresh and the expiry fall on the same instant, so that the clock never runs on
        // while a token request is in flight (core's request timeout follows the Clock too).
        const context = yield* build({ ...demoOptions(emulator), refreshSkew: 0 })
        const tokens = Context.get(context, FigureMarkets.Tokens)
        const first = yield* tokens.get
        assert.strictEqual(first.expiresAt - first.issuedAt, 86399 * 1000)
        yield* TestClock.adjust("86399 seconds")
        const second = yield* tokens.get
        assert.notStrictEqual(Redacted.value(second.value), Redacted.value(first.value))
        assert.isAbove(second.expiresAt, first.expiresAt)
        assert.strictEqual(yield* counter(emulator, "figure-markets.token"), 2)
        yield* Context.get(context, Trader.Trader).whoAmI
        const issued = yield* fmTokens(emulator)
        assert.deepStrictEqual(issued.map((t) => t.expired), [true, false])
      }))

    it.scoped("API failures map to typed errors: 429 with Retry-After, 5xx retryable, non-JSON malformed", () =>
      Effect.gen(function*() {
        const emulator = yield* start
        const trader = Context.get(yield* build(demoOptions(emulator)), Trader.Trader)
        yield* emulator.setFaults("figure-markets.trade", { rateLimit: { count: 1, retryAfter: 7 } })
        const limited = yield* Effect.flip(trader.whoAmI)
        assert.strictEqual(limited._tag, "RateLimited")
        if (limited._tag === "RateLimited") {
          assert.strictEqual(limited.retryAfterMillis, 7000)
          assert.strictEqual(limited.source, "resource-server")
        }

        yield* emulator.setFaults("figure-markets.trade", { failNext: { count: 1, status: 502 } })
        const failing = yield* Effect.flip(trader.whoAmI)
        assert.strictEqual(failing._tag, "ProtocolError")
        assert.isTrue(failing.retryable)

        yield* emulator.setFaults("figure-markets.trade", { malformed: { count: 1, kind: "html" } })
        const malformed = yield* Effect.flip(trader.whoAmI)
        assert.strictEqual(malformed._tag, "MalformedResponse")

        // Still one token: none of these is a token problem.
        assert.strictEqual(yield* counter(emulator, "figure-markets.token"), 1)
        assert.strictEqual((yield* trader.whoAmI).userId, demo.clientId)
      }))

    it.scoped("the token never follows a redirect to another origin", () =>
      Effect.gen(function*() {
        const emulator = yield* start
        const elsewhere = yield* loopbackServer(() => ({ status: 200, body: `{"user":"firms/x/users/y"}` }))
        const trade = yield* loopbackServer(() => ({
          status: 307,
          headers: { location: `${elsewhere.url}/collect` }
        }))
        const context = yield* build({
          clientId: demo.clientId,
          clientSecret: demo.clientSecret,
          hosts: { main: emulator.urls.figureMarkets.main, trade: trade.url }
        })
        const error = yield* Effect.flip(Context.get(context, Trader.Trader).whoAmI)
        assert.strictEqual(error._tag, "MalformedResponse")
        const received = yield* trade.received
        assert.strictEqual(received.length, 1)
        assert.match(String(received[0]!.headers["authorization"]), /^Bearer /)
        assert.deepStrictEqual(yield* elsewhere.received, [])
      }))
  })

  it.scopedLive("API calls are bounded: a trading host that never answers times out, an oversized answer is refused", () =>
    Effect.gen(function*() {
      const emulator = yield* start
      const silent = yield* loopbackServer(() => ({ status: 200, hang: true }))
      const huge = yield* loopbackServer(() => ({ status: 200, body: `{"user":"${"x".repeat(4096)}"}` }))
      const whoAmI = (tradeUrl: string) =>
        build({
          clientId: demo.clientId,
          clientSecret: demo.clientSecret,
          hosts: { main: emulator.urls.figureMarkets.main, trade: tradeUrl },
          apiRequestTimeout: "200 millis",
          apiMaxResponseBytes: 1024
        }).pipe(Effect.flatMap((context) => Effect.flip(Context.get(context, Trader.Trader).whoAmI)))
      const timedOut = yield* whoAmI(silent.url)
      assert.strictEqual(timedOut._tag, "TransportError")
      if (timedOut._tag === "TransportError") assert.strictEqual(timedOut.reason, "Timeout")
      assert.strictEqual((yield* silent.received).length, 1)
      const tooLarge = yield* whoAmI(huge.url)
      assert.strictEqual(tooLarge._tag, "MalformedResponse")
      assert.include(tooLarge.message, "1024-byte limit")
    }))

  describe("layerConfig", () => {
    const env = (emulator: Emulator.Emulator, extra: Record<string, string> = {}) =>
      ConfigProvider.fromMap(
        new Map(Object.entries({
          FIGURE_MARKETS_CLIENT_ID: readOnly.clientId,
          FIGURE_MARKETS_CLIENT_SECRET: readOnly.clientSecret,
          FIGURE_MARKETS_ENV: "uat",
          FIGURE_MARKETS_SCOPES: "TRADER_READ",
          FIGURE_MARKETS_MAIN_URL: emulator.urls.figureMarkets.main,
          FIGURE_MARKETS_TRADE_URL: emulator.urls.figureMarkets.trade,
          ...extra
        }))
      )
    const buildConfig = (provider: ConfigProvider.ConfigProvider) =>
      Layer.build(FigureMarkets.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici))).pipe(
        Effect.withConfigProvider(provider)
      )

    it.scoped("reads the documented variables", () =>
      Effect.gen(function*() {
        const emulator = yield* start
        const context = yield* buildConfig(env(emulator))
        const me = yield* Context.get(context, Trader.Trader).whoAmI
        assert.strictEqual(me.userId, readOnly.clientId)
        const token = yield* Context.get(context, FigureMarkets.Tokens).get
        assert.deepStrictEqual(token.scopes, ["TRADER_READ"])
      }))

    it.scoped("a bad or missing value is a ConfigError naming the variable", () =>
      Effect.gen(function*() {
        const emulator = yield* start
        const cases: ReadonlyArray<[Record<string, string>, ReadonlyArray<string>]> = [
          [{ FIGURE_MARKETS_ENV: "staging" }, ["FIGURE_MARKETS_ENV", "uat, production"]],
          [{ FIGURE_MARKETS_SCOPES: "TRADER_READ,TRADER_TRADE" }, ["FIGURE_MARKETS_SCOPES", "space-separated"]],
          [{ FIGURE_MARKETS_SCOPES: "  " }, ["FIGURE_MARKETS_SCOPES"]],
          [{ FIGURE_MARKETS_MAIN_URL: "http://www.figuremarkets.dev" }, ["FIGURE_MARKETS_MAIN_URL", "https://"]],
          [{ FIGURE_MARKETS_TRADE_URL: "trade.figuremarkets.dev" }, ["FIGURE_MARKETS_TRADE_URL"]],
          [{ FIGURE_MARKETS_CLIENT_ID: "" }, ["FIGURE_MARKETS_CLIENT_ID"]]
        ]
        for (const [extra, expected] of cases) {
          const error = yield* Effect.flip(buildConfig(env(emulator, extra)))
          assert.isTrue(ConfigError.isConfigError(error), String(error))
          for (const text of expected) assert.include(String(error), text)
          assertNoSecret(error, secrets)
        }
        const missing = yield* Effect.flip(buildConfig(ConfigProvider.fromMap(new Map())))
        assert.isTrue(ConfigError.isConfigError(missing))
        assert.include(String(missing), "FIGURE_MARKETS_CLIENT_ID")
        assert.include(String(missing), "FIGURE_MARKETS_CLIENT_SECRET")

        // URLs are checked again by the layer: a trading host as the main host is an InvalidConfiguration.
        const wrongHost = yield* Effect.flip(buildConfig(env(emulator, { FIGURE_MARKETS_MAIN_URL: "https://trade.figuremarkets.dev" })))
        assert.isFalse(ConfigError.isConfigError(wrongHost))
        assert.strictEqual((wrongHost as { _tag?: string })._tag, "InvalidConfiguration")
      }))

    it.scoped("two accounts in one program: layerConfig under two Config prefixes, each with its own token", () =>
      Effect.gen(function*() {
        const emulator = yield* start
        class DeskA extends Context.Tag("test/DeskA")<DeskA, { trader: Trader.Service; tokens: FigureMarkets.Tokens["Type"] }>() {}
        class DeskB extends Context.Tag("test/DeskB")<DeskB, { trader: Trader.Service; tokens: FigureMarkets.Tokens["Type"] }>() {}
        const desk = <I>(tag: Context.Tag<I, DeskA["Type"]>, prefix: string) =>
          Layer.effect(tag, Effect.all({ trader: Trader.Trader, tokens: FigureMarkets.Tokens })).pipe(
            Layer.provide(FigureMarkets.layerConfig(Config.nested(FigureMarkets.config, prefix)))
          )
        const variables = (prefix: string, client: { clientId: string; clientSecret: string }, scopes: string) => ({
          [`${prefix}_FIGURE_MARKETS_CLIENT_ID`]: client.clientId,
          [`${prefix}_FIGURE_MARKETS_CLIENT_SECRET`]: client.clientSecret,
          [`${prefix}_FIGURE_MARKETS_SCOPES`]: scopes,
          [`${prefix}_FIGURE_MARKETS_MAIN_URL`]: emulator.urls.figureMarkets.main,
          [`${prefix}_FIGURE_MARKETS_TRADE_URL`]: emulator.urls.figureMarkets.trade
        })
        // As the process environment gives them: a nested path is joined with "_" (DESK_A_FIGURE_MARKETS_CLIENT_ID).
        const env = ConfigProvider.fromMap(
          new Map(Object.entries({
            ...variables("DESK_A", demo, "TRADER_READ TRADER_TRADE"),
            ...variables("DESK_B", readOnly, "TRADER_READ")
          })),
          { pathDelim: "_" }
        )
        const context = yield* Layer.build(
          Layer.merge(desk(DeskA, "DESK_A"), desk(DeskB, "DESK_B")).pipe(Layer.provide(NodeHttpClient.layerUndici))
        ).pipe(Effect.withConfigProvider(env))
        const a = Context.get(context, DeskA)
        const b = Context.get(context, DeskB)
        assert.strictEqual((yield* a.trader.whoAmI).userId, demo.clientId)
        assert.strictEqual((yield* b.trader.whoAmI).userId, readOnly.clientId)
        const [tokenA, tokenB] = [yield* a.tokens.get, yield* b.tokens.get]
        assert.notStrictEqual(Redacted.value(tokenA.value), Redacted.value(tokenB.value))
        assert.deepStrictEqual(tokenB.scopes, ["TRADER_READ"])
        const issued = yield* fmTokens(emulator)
        assert.deepStrictEqual(issued.map((t) => t.clientId).sort(), [demo.clientId, readOnly.clientId].sort())
        assert.strictEqual(yield* counter(emulator, "figure-markets.token"), 2)
      }))

    it.effect("defaults to UAT when FIGURE_MARKETS_ENV is unset, and accepts production", () =>
      Effect.gen(function*() {
        const read = (map: Record<string, string>) =>
          FigureMarkets.config.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(map)))))
        const base = { FIGURE_MARKETS_CLIENT_ID: "id", FIGURE_MARKETS_CLIENT_SECRET: "secret" }
        const unset = yield* read(base)
        assert.strictEqual(unset.environment, "uat")
        assert.strictEqual(unset.scopes, undefined)
        assert.isTrue(Redacted.isRedacted(unset.clientSecret))
        assert.strictEqual((yield* read({ ...base, FIGURE_MARKETS_ENV: "production" })).environment, "production")
        assert.deepStrictEqual(
          (yield* read({ ...base, FIGURE_MARKETS_SCOPES: " TRADER_READ  TRADER_TRADE " })).scopes,
          ["TRADER_READ", "TRADER_TRADE"]
        )
      }))
  })
})
