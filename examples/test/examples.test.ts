/**
 * Each example's program, run against an emulator on loopback (or, for the test layer, against nothing at all), with
 * what it should achieve checked: calls made per token, the error branch taken, the mode chosen from the environment.
 * Console output is captured (and checked for secrets), not printed.
 */
import { AccessTokens, TokenStore } from "@effect-oauth2/core"
import { Clients, Emulator, type Faults } from "@effect-oauth2/emulator"
import { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it, vi } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Layer, Option, Redacted } from "effect"
import * as FigureMarketsExample from "../src/figure-markets.js"
import * as FigurePayExample from "../src/figure-pay.js"
import * as OpenmarketsExample from "../src/openmarkets.js"
import * as SchwabExample from "../src/schwab.js"
import * as TastytradeExample from "../src/tastytrade.js"
import * as TestingExample from "../src/testing-with-layers.js"
import * as TradierExample from "../src/tradier.js"

const secrets = [
  Clients.figureMarketsDemo.clientSecret,
  Clients.figureMarketsReadOnlyDemo.clientSecret,
  Clients.figurePayDemo.clientSecret,
  Clients.tradierDemo.clientSecret,
  Clients.tradierStaticDemo.token,
  Clients.openmarketsDemo.clientSecret,
  Clients.tastytradeDemo.clientSecret,
  Clients.tastytradeDemo.grants[0].refreshToken,
  Clients.schwabDemo.clientSecret
]

/** Captures `console.log` for the rest of the scope; `check` fails if a demo secret was printed. */
const captureConsole = Effect.acquireRelease(
  Effect.sync(() => {
    const lines: Array<string> = []
    const spy = vi.spyOn(console, "log").mockImplementation((...args: Array<unknown>) => {
      lines.push(args.map(String).join(" "))
    })
    const text = () => lines.join("\n")
    const check = () => {
      for (const secret of secrets) {
        const line = lines.find((l) => l.includes(secret))
        assert.isUndefined(line, `a secret was printed: ${line?.replaceAll(secret, "<SECRET>")}`)
      }
    }
    return { lines, text, check, spy }
  }),
  ({ spy }) => Effect.sync(() => spy.mockRestore())
)

/** No provider variables at all, whatever the machine's environment holds: the examples pick the emulator. */
const noEnvironment = ConfigProvider.fromMap(new Map())
const withEnvironment = (entries: Record<string, string>) => ConfigProvider.fromMap(new Map(Object.entries(entries)))

const startEmulator = (options?: Emulator.Options) => Effect.orDie(Emulator.make(options))
const requests = (emulator: Emulator.Emulator, endpoint: Faults.Endpoint) =>
  Effect.map(emulator.countersFor(endpoint), (c) => c.requests)
const Live = NodeHttpClient.layerUndici

describe("figure-markets", () => {
  it.scopedLive("the bot makes every call with one token, and revokes it when the layer closes", () =>
    Effect.gen(function*() {
      const output = yield* captureConsole
      const emulator = yield* startEmulator()
      const report = yield* FigureMarketsExample.bot({ rounds: 4, pause: 0 }).pipe(
        Effect.provide(FigureMarketsExample.emulatorLayer(emulator).pipe(Layer.provide(Live)))
      )
      assert.strictEqual(report.user, "firms/demo-firm/users/fm-demo-client")
      assert.deepStrictEqual(report.rounds, ["ok", "ok", "ok", "ok"])
      assert.isUndefined(report.stoppedBy)
      assert.strictEqual(yield* requests(emulator, "figure-markets.token"), 1)
      assert.strictEqual(yield* requests(emulator, "figure-markets.trade"), 5) // whoAmI + 4 rounds
      // the layer is released once the bot is done: its token was revoked
      assert.strictEqual(yield* requests(emulator, "figure-markets.revoke"), 1)
      const issued = (yield* emulator.tokens).filter((t) => t.provider === "figure-markets")
      assert.deepStrictEqual(issued.map((t) => t.revoked), [true])
      output.check()
    }))

  it.scopedLive("a round branches on the typed error: rate limit, network, server trouble; the same token throughout", () =>
    Effect.gen(function*() {
      const output = yield* captureConsole
      const emulator = yield* startEmulator()
      const context = yield* Layer.build(FigureMarketsExample.emulatorLayer(emulator).pipe(Layer.provide(Live)))
      const roundWith = (faults: Faults.Faults) =>
        Effect.zipRight(
          emulator.setFaults("figure-markets.trade", faults),
          Effect.provide(FigureMarketsExample.round(1), context)
        )
      assert.strictEqual(yield* roundWith({}), "ok")
      assert.strictEqual(yield* roundWith({ rateLimit: { count: 1, retryAfter: 0 } }), "rate-limited")
      assert.strictEqual(yield* roundWith({ reset: { count: 1 } }), "network-error")
      assert.strictEqual(yield* roundWith({ failNext: { count: 1, status: 503 } }), "server-error")
      assert.strictEqual(yield* roundWith({ malformed: { count: 1, kind: "html", status: 502 } }), "server-error")
      assert.strictEqual(yield* roundWith({}), "ok")
      assert.strictEqual(yield* requests(emulator, "figure-markets.token"), 1)
      assert.include(output.text(), "rate limited, pausing")
      output.check()
    }))

  it.scopedLive("a read-only client asking for both scopes: the bot stops on InvalidScope, with one token request", () =>
    Effect.gen(function*() {
      const output = yield* captureConsole
      const emulator = yield* startEmulator()
      const readOnly = Clients.figureMarketsReadOnlyDemo
      const report = yield* FigureMarketsExample.bot({ pause: 0 }).pipe(
        Effect.provide(
          FigureMarketsExample.emulatorLayer(emulator, { clientId: readOnly.clientId, clientSecret: readOnly.clientSecret })
            .pipe(Layer.provide(Live))
        )
      )
      assert.strictEqual(report.stoppedBy, "InvalidScope")
      assert.isUndefined(report.user)
      assert.deepStrictEqual(report.rounds, [])
      const token = yield* emulator.countersFor("figure-markets.token")
      assert.strictEqual(token.requests, 1) // not retried: a wrong scope is not a blip
      assert.deepStrictEqual(token.failures, { "400": 1 })
      assert.strictEqual(yield* requests(emulator, "figure-markets.trade"), 0)
      assert.include(output.text(), "bot stopped: [figure-markets] The token endpoint refused the requested scopes")
      output.check()
    }))

  it.scopedLive("a wrong client secret: the bot stops on Unauthorized", () =>
    Effect.gen(function*() {
      const output = yield* captureConsole
      const emulator = yield* startEmulator()
      const report = yield* FigureMarketsExample.bot({ pause: 0 }).pipe(
        Effect.provide(
          FigureMarketsExample.emulatorLayer(emulator, { clientSecret: "not-the-secret" }).pipe(Layer.provide(Live))
        )
      )
      assert.strictEqual(report.stoppedBy, "Unauthorized")
      assert.strictEqual(yield* requests(emulator, "figure-markets.token"), 1)
      output.check()
    }))

  it.scopedLive("with no FIGURE_MARKETS_* variables, the layer starts its own emulator and says so", () =>
    Effect.gen(function*() {
      const output = yield* captureConsole
      const report = yield* FigureMarketsExample.bot({ rounds: 2, pause: 0 }).pipe(
        Effect.provide(FigureMarketsExample.layer),
        Effect.withConfigProvider(noEnvironment)
      )
      assert.deepStrictEqual(report.rounds, ["ok", "ok"])
      assert.match(output.lines[0] ?? "", /^Figure Markets: the emulator at http:\/\/127\.0\.0\.1:\d+ with its demo client/)
      output.check()
    }))

  it.scopedLive("with FIGURE_MARKETS_CLIENT_ID set, the layer uses layerConfig (here pointed at an emulator)", () =>
    Effect.gen(function*() {
      const output = yield* captureConsole
      const emulator = yield* startEmulator()
      const report = yield* FigureMarketsExample.bot({ rounds: 1, pause: 0 }).pipe(
        Effect.provide(FigureMarketsExample.layer),
        Effect.withConfigProvider(withEnvironment({
          FIGURE_MARKETS_CLIENT_ID: Clients.figureMarketsDemo.clientId,
          FIGURE_MARKETS_CLIENT_SECRET: Clients.figureMarketsDemo.clientSecret,
          FIGURE_MARKETS_MAIN_URL: emulator.urls.figureMarkets.main,
          FIGURE_MARKETS_TRADE_URL: emulator.urls.figureMarkets.trade
        }))
      )
      assert.deepStrictEqual(report.rounds, ["ok"])
      assert.strictEqual(output.lines[0], "Figure Markets: the real API (uat), credentials from FIGURE_MARKETS_*")
      assert.strictEqual(yield* requests(emulator, "figure-markets.token"), 1)
      assert.strictEqual(yield* requests(emulator, "figure-markets.revoke"), 1) // revokeOnClose on this path too
      output.check()
    }))
})

describe("figure-pay", () => {
  // TestClock: the token's lifetime is exact (the emulator answers only access_token; the package defaults to 1 hour)
  it.scoped("lists the profiles with X-FigurePay-Api-Version on the API call, and a one-hour token", () =>
    Effect.gen(function*() {
      const output = yield* captureConsole
      const emulator = yield* startEmulator()
      const sent: Array<{ readonly url: string; readonly version: string | undefined }> = []
      const recording = Layer.effect(
        HttpClient.HttpClient,
        Effect.map(HttpClient.HttpClient, (client) =>
          // `transform` sees the request as it is sent, after every `mapRequest` the package added on top
          HttpClient.transform(client, (response, request) =>
            Effect.zipRight(
              Effect.sync(() => sent.push({ url: request.url, version: request.headers["x-figurepay-api-version"] })),
              response
            )))
      ).pipe(Layer.provide(Live))
      const report = yield* FigurePayExample.program.pipe(
        Effect.provide(FigurePayExample.emulatorLayer(emulator).pipe(Layer.provide(recording)))
      )
      assert.strictEqual(report.profiles, 1)
      assert.strictEqual(Duration.toMillis(report.tokenValidFor), Duration.toMillis(Duration.hours(1)))
      assert.deepStrictEqual(sent.map((s) => [new URL(s.url).pathname, s.version]), [
        ["/figure-pay/oauth2/token", undefined],
        ["/figure-pay/profiles", FigurePayExample.apiVersion]
      ])
      assert.include(output.text(), "prf_fp-demo-client (INDIVIDUAL, ACTIVE)")
      output.check()
    }))

  it.scopedLive("with no FIGURE_PAY_* variables, main runs against its own emulator", () =>
    Effect.gen(function*() {
      const output = yield* captureConsole
      const report = yield* Effect.withConfigProvider(FigurePayExample.main, noEnvironment)
      assert.strictEqual(report.profiles, 1)
      assert.match(output.lines[0] ?? "", /^Figure Pay: the emulator at http:\/\/127\.0\.0\.1:\d+/)
      output.check()
    }))
})

describe("tradier", () => {
  it.scopedLive("static-token mode: the profile with the emulator's demo token, and no OAuth request", () =>
    Effect.gen(function*() {
      const output = yield* captureConsole
      const emulator = yield* startEmulator()
      const profile = yield* TradierExample.profile.pipe(
        Effect.provide(TradierExample.emulatorStaticLayer(emulator).pipe(Layer.provide(Live)))
      )
      assert.deepStrictEqual(profile, { id: "id-static", accounts: 1 })
      assert.strictEqual(yield* requests(emulator, "tradier.profile"), 1)
      assert.strictEqual(yield* requests(emulator, "tradier.token"), 0)
      output.check()
    }))

  it.scopedLive("with TRADIER_ACCESS_TOKEN set, static mode goes through Tradier.layerConfig", () =>
    Effect.gen(function*() {
      const output = yield* captureConsole
      const emulator = yield* startEmulator()
      const profile = yield* TradierExample.profile.pipe(
        Effect.provide(TradierExample.staticLayer),
        Effect.withConfigProvider(withEnvironment({
          TRADIER_ACCESS_TOKEN: Clients.tradierStaticDemo.token,
          TRADIER_API_URL: emulator.urls.tradier.api
        }))
      )
      assert.strictEqual(profile.id, "id-static")
      assert.strictEqual(output.lines[0], "Tradier: the real API (sandbox), static token from TRADIER_ACCESS_TOKEN")
      assert.strictEqual(yield* requests(emulator, "tradier.profile"), 1)
      output.check()
    }))

  it.scopedLive("--login: the authorize URL, the callback, one code exchange, then the profile with the stored token", () =>
    Effect.gen(function*() {
      const output = yield* captureConsole
      const emulator = yield* startEmulator({ tradierAuthorization: "auto-approve" })
      const shown: Array<string> = []
      const store = yield* TokenStore.makeMemory
      const profile = yield* TradierExample.loginAndFetch(TradierExample.emulatorApp(emulator), {
        port: 0,
        onAuthorizeUrl: (url) => Effect.zipRight(Effect.sync(() => shown.push(url)), TradierExample.emulatedBrowser(url))
      }).pipe(Effect.provideService(TokenStore.TokenStore, store), Effect.provide(Live))
      assert.deepStrictEqual(profile, { id: "id-tradier-demo-client", accounts: 1 })
      assert.strictEqual(shown.length, 1)
      assert.isTrue(shown[0]!.startsWith(`${emulator.urls.tradier.api}/v1/oauth/authorize?`))
      assert.strictEqual(yield* requests(emulator, "tradier.authorize"), 1)
      assert.strictEqual(yield* requests(emulator, "tradier.token"), 1)
      assert.strictEqual(yield* requests(emulator, "tradier.profile"), 1)
      output.check()
    }))

  it.scopedLive("main: static mode by default, the login with --login, each against its own emulator", () =>
    Effect.gen(function*() {
      const output = yield* captureConsole
      yield* Effect.withConfigProvider(TradierExample.main([]), noEnvironment)
      yield* Effect.withConfigProvider(TradierExample.main(["--login"]), noEnvironment)
      const text = output.text()
      assert.include(text, "profile id-static (Demo User): 1 account(s)")
      assert.include(text, "(auto-approve) with its demo application")
      assert.include(text, "profile id-tradier-demo-client (Demo User): 1 account(s)")
      output.check()
    }))
})

describe("openmarkets", () => {
  it.scopedLive("quotes with a market-data-api token; a scope outside the plan is InvalidScope", () =>
    Effect.gen(function*() {
      const output = yield* captureConsole
      const emulator = yield* startEmulator()
      const report = yield* OpenmarketsExample.program(OpenmarketsExample.emulatorSettings(emulator)).pipe(
        Effect.provide(Live)
      )
      assert.deepStrictEqual(report.quotes.map((q) => q.symbol), ["BHP", "CBA"])
      assert.strictEqual(report.outsideThePlan, "InvalidScope")
      const token = yield* emulator.countersFor("openmarkets.token")
      assert.strictEqual(token.requests, 2) // one per scope set; the InvalidScope one not retried
      assert.deepStrictEqual(token.failures, { "400": 1 })
      assert.strictEqual(yield* requests(emulator, "openmarkets.api"), 1)
      const issued = (yield* emulator.tokens).filter((t) => t.provider === "openmarkets")
      assert.deepStrictEqual(issued.map((t) => t.scopes), [["market-data-api"]])
      output.check()
    }))

  it.scopedLive("a plan that covers oms-api: the token is granted", () =>
    Effect.gen(function*() {
      const output = yield* captureConsole
      const emulator = yield* startEmulator({
        clients: { openmarkets: [{ ...Clients.openmarketsDemo, plan: ["market-data-api", "news-api", "oms-api"] }] }
      })
      const report = yield* OpenmarketsExample.program(OpenmarketsExample.emulatorSettings(emulator)).pipe(
        Effect.provide(Live)
      )
      assert.strictEqual(report.outsideThePlan, "granted")
      output.check()
    }))

  it.scopedLive("settings: OPENMARKETS_* when set (here pointed at an emulator), else an emulator of its own", () =>
    Effect.gen(function*() {
      const output = yield* captureConsole
      const emulator = yield* startEmulator()
      const fromEnv = yield* OpenmarketsExample.settings.pipe(
        Effect.withConfigProvider(withEnvironment({
          OPENMARKETS_CLIENT_ID: Clients.openmarketsDemo.clientId,
          OPENMARKETS_CLIENT_SECRET: Clients.openmarketsDemo.clientSecret,
          OPENMARKETS_TOKEN_URL: `${emulator.urls.openmarkets.identity}/connect/token`,
          OPENMARKETS_API_URL: emulator.urls.openmarkets.api
        }))
      )
      assert.isTrue(Redacted.isRedacted(fromEnv.clientSecret))
      const report = yield* Effect.provide(OpenmarketsExample.program(fromEnv), Live)
      assert.strictEqual(report.quotes.length, 2)
      assert.strictEqual(yield* requests(emulator, "openmarkets.api"), 1)
      assert.strictEqual(output.lines[0], "Openmarkets: the real API (stage), client from OPENMARKETS_*")

      const own = yield* Effect.withConfigProvider(OpenmarketsExample.main, noEnvironment)
      assert.strictEqual(own.outsideThePlan, "InvalidScope")
      assert.include(output.text(), "Openmarkets: the emulator at http://127.0.0.1:")
      output.check()
    }))
})

describe("tastytrade", () => {
  it.scopedLive("customers/me with a token from the personal grant; a refused grant is reported, not retried", () =>
    Effect.gen(function*() {
      const output = yield* captureConsole
      const emulator = yield* startEmulator()
      const settings = TastytradeExample.emulatorSettings(emulator)
      const report = yield* Effect.provide(TastytradeExample.program(settings), Live)
      assert.deepStrictEqual(report, { _tag: "Customer", id: "demo-customer" })
      assert.strictEqual(yield* requests(emulator, "tastytrade.token"), 1)
      assert.strictEqual(yield* requests(emulator, "tastytrade.customer"), 1)
      const refused = yield* Effect.provide(TastytradeExample.program({ ...settings, refreshToken: "deleted-grant" }), Live)
      assert.deepStrictEqual(refused, { _tag: "GrantRefused" })
      assert.strictEqual(yield* requests(emulator, "tastytrade.token"), 2)
      assert.strictEqual(yield* requests(emulator, "tastytrade.customer"), 1)
      assert.include(output.text(), "create a new one and set TASTYTRADE_REFRESH_TOKEN")
      output.check()
    }))

  it.scopedLive("settings: TASTYTRADE_* when set (here pointed at an emulator), else an emulator of its own", () =>
    Effect.gen(function*() {
      const output = yield* captureConsole
      const emulator = yield* startEmulator()
      const fromEnv = yield* TastytradeExample.settings.pipe(
        Effect.withConfigProvider(withEnvironment({
          TASTYTRADE_CLIENT_ID: Clients.tastytradeDemo.clientId,
          TASTYTRADE_CLIENT_SECRET: Clients.tastytradeDemo.clientSecret,
          TASTYTRADE_REFRESH_TOKEN: Clients.tastytradeDemo.grants[0].refreshToken,
          TASTYTRADE_API_URL: emulator.brokerUrls.tastytrade.api
        }))
      )
      assert.isTrue(Redacted.isRedacted(fromEnv.refreshToken))
      assert.deepStrictEqual(yield* Effect.provide(TastytradeExample.program(fromEnv), Live), {
        _tag: "Customer",
        id: "demo-customer"
      })
      assert.strictEqual(output.lines[0], "tastytrade: the real API (sandbox), app and grant from TASTYTRADE_*")
      const own = yield* Effect.withConfigProvider(TastytradeExample.main, noEnvironment)
      assert.deepStrictEqual(own, { _tag: "Customer", id: "demo-customer" })
      assert.include(output.text(), "tastytrade: the emulator at http://127.0.0.1:")
      output.check()
    }))
})

describe("tastytrade --login", () => {
  it.scopedLive("a partner login against its own emulator, then customers/me on the stored login, no grant given", () =>
    Effect.gen(function*() {
      const output = yield* captureConsole
      const report = yield* Effect.withConfigProvider(TastytradeExample.loginMain, noEnvironment)
      assert.deepStrictEqual(report, { _tag: "Customer", id: "demo-customer" })
      const text = output.text()
      assert.include(text, "tastytrade: the emulator at http://127.0.0.1:")
      assert.match(text, /authorize URL .*\n {2}http:\/\/127\.0\.0\.1:\d+\/tastytrade\/my\/auth\.html\?/)
      assert.include(text, "logged in (with a refresh token)")
      assert.include(text, "tastytrade customer demo-customer")
      output.check()
    }))
})

describe("testing-with-layers", () => {
  it.scoped("over the test layer: the first scripted token is refused, the call replayed once with the next", () =>
    Effect.gen(function*() {
      const output = yield* captureConsole
      const context = yield* Layer.build(TestingExample.testLayer(["revoked-token", TestingExample.acceptedToken]))
      const report = yield* Effect.provide(TestingExample.bot, context)
      assert.deepStrictEqual(report, {
        user: "firms/test-firm/users/test-bot",
        accounts: ["test-account-1", "test-account-2"]
      })
      const current = yield* Effect.flatMap(AccessTokens.AccessTokens, (t) => t.current).pipe(Effect.provide(context))
      assert.strictEqual(Option.map(current, (t) => Redacted.value(t.value)).pipe(Option.getOrUndefined), "good-token")
      assert.strictEqual(output.lines.filter((l) => l.includes("→ 401")).length, 1)
    }))

  it.effect("over the test layer: a scripted token-endpoint refusal reaches the bot as Unauthorized", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.provide(TestingExample.bot, TestingExample.testLayer([TestingExample.wrongSecret])))
      assert.strictEqual(error._tag, "Unauthorized")
      assert.strictEqual(error._tag === "Unauthorized" ? error.reason : undefined, "invalid_client")
    }))

  it.scoped("over the test layer: a host that refuses every token gets one replay, then rejected-token", () =>
    Effect.gen(function*() {
      const output = yield* captureConsole
      const error = yield* Effect.flip(Effect.provide(TestingExample.bot, TestingExample.testLayer(["revoked-token"])))
      assert.strictEqual(error._tag === "Unauthorized" ? error.reason : error._tag, "rejected-token")
      assert.strictEqual(output.lines.filter((l) => l.includes("→ 401")).length, 2)
    }))

  it.scopedLive("main: the same bot over the test layer and over the emulator", () =>
    Effect.gen(function*() {
      const output = yield* captureConsole
      const runs = yield* TestingExample.main
      assert.strictEqual(runs.testLayer.user, "firms/test-firm/users/test-bot")
      assert.strictEqual(runs.testLayerError._tag, "Unauthorized")
      assert.deepStrictEqual(runs.emulator, {
        user: "firms/demo-firm/users/fm-demo-client",
        accounts: ["demo-firm-trading", "demo-firm-margin"]
      })
      output.check()
    }))
})

describe("schwab", () => {
  it.scopedLive("a login by paste, then the accounts; the death 7 days after the login announced", () =>
    Effect.gen(function*() {
      const output = yield* captureConsole
      const emulator = yield* startEmulator()
      const settings = SchwabExample.emulatorSettings(emulator)
      const store = yield* TokenStore.makeMemory
      const login = yield* SchwabExample.emulatorLogin(settings).pipe(
        Effect.provideService(TokenStore.TokenStore, store),
        Effect.provide(Live)
      )
      const report = yield* SchwabExample.program(settings).pipe(
        Effect.provideService(TokenStore.TokenStore, store),
        Effect.provide(Live)
      )
      assert.deepStrictEqual(report, {
        _tag: "Accounts",
        accounts: ["12345678"],
        refreshTokenDiesAt: login.authorizedAt! + 7 * 86_400_000
      })
      assert.strictEqual(yield* requests(emulator, "schwab.token"), 1, "the login's exchange, no more")
      assert.include(output.text(), "(7 days after the login)")
      output.check()
    }))

  it.scopedLive("a login elsewhere killed the grant: LoginRequired, reported with what to do", () =>
    Effect.gen(function*() {
      const output = yield* captureConsole
      // Access tokens of a second: the program's first call must refresh, with a grant a later login killed.
      const emulator = yield* startEmulator({ brokers: { schwab: { accessTokenLifetime: "1 second" } } })
      const settings = SchwabExample.emulatorSettings(emulator)
      const store = yield* TokenStore.makeMemory
      yield* SchwabExample.emulatorLogin(settings).pipe(Effect.provideService(TokenStore.TokenStore, store), Effect.provide(Live))
      const elsewhere = yield* TokenStore.makeMemory
      yield* SchwabExample.emulatorLogin(settings).pipe(Effect.provideService(TokenStore.TokenStore, elsewhere), Effect.provide(Live))
      // The first login's access token expires (a second), so the program must refresh.
      yield* Effect.sleep("1100 millis")
      const report = yield* SchwabExample.program(settings).pipe(
        Effect.provideService(TokenStore.TokenStore, store),
        Effect.provide(Live)
      )
      assert.deepStrictEqual(report, { _tag: "LoginRequired" })
      assert.include(output.text(), "effect-oauth2 login schwab")
      output.check()
    }))
})
