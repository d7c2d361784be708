import { Clients, Emulator } from "@effect-oauth2/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { assertNoSecrets, cli, closedPort, storeKey, tempDir } from "./utils.js"

const setup = Emulator.make({ port: 0 })

const wrongSecret = "wrong-secret-0123456789"
const demoSecrets = [
  Clients.figureMarketsDemo.clientSecret,
  Clients.figurePayDemo.clientSecret,
  Clients.tradierDemo.clientSecret,
  Clients.openmarketsDemo.clientSecret
]

describe("exit codes and messages", () => {
  it.scopedLive("a wrong secret: Unauthorized (3), the secret never printed, from a flag or the environment", () =>
    Effect.gen(function*() {
      const emulator = yield* setup
      const flag = yield* cli([
        "token", "figure-markets", "--emulator", emulator.baseUrl,
        "--client-id", Clients.figureMarketsDemo.clientId, "--client-secret", wrongSecret, "--verbose"
      ])
      assert.strictEqual(flag.code, 3, flag.stderr)
      assert.include(flag.stderr, "[figure-markets] Unauthorized (invalid_client)")
      assert.include(flag.stderr, "Check the client id and secret")
      assert.include(flag.stderr, "--client-secret leaves the secret in your shell history")
      assert.include(flag.stderr, "[Unauthorized, exit code 3, retryable: false]")
      assert.strictEqual(flag.stdout, "")
      assertNoSecrets(flag.stdout + flag.stderr, [wrongSecret], "flag")

      for (const provider of ["figure-markets", "figure-pay", "openmarkets"] as const) {
        const prefix = provider.toUpperCase().replace("-", "_")
        const env = { [`${prefix}_CLIENT_ID`]: "some-client", [`${prefix}_CLIENT_SECRET`]: wrongSecret }
        const result = yield* cli(["token", provider, "--emulator", emulator.baseUrl, "--json"], { env })
        assert.strictEqual(result.code, 3, `${provider}: ${result.stderr}`)
        assert.notInclude(result.stderr, "demo credentials")
        assert.deepInclude(JSON.parse(result.stdout), { ok: false, exitCode: 3 })
        assertNoSecrets(result.stdout + result.stderr, [wrongSecret], provider)
      }
    }))

  it.scopedLive("a scope the client may not have: InvalidScope (4)", () =>
    Effect.gen(function*() {
      const emulator = yield* setup
      const fm = yield* cli(["token", "figure-markets", "--emulator", emulator.baseUrl, "--scopes", "TRADER_ADMIN"])
      assert.strictEqual(fm.code, 4, fm.stderr)
      assert.include(fm.stderr, "refused the requested scopes: TRADER_ADMIN")
      const readOnly = yield* cli(
        ["token", "figure-markets", "--emulator", emulator.baseUrl, "--client-id", Clients.figureMarketsReadOnlyDemo.clientId],
        { env: { FIGURE_MARKETS_CLIENT_SECRET: Clients.figureMarketsReadOnlyDemo.clientSecret } }
      )
      assert.strictEqual(readOnly.code, 4, readOnly.stderr)
      const om = yield* cli(["token", "openmarkets", "--emulator", emulator.baseUrl, "--scopes", "oms-api"])
      assert.strictEqual(om.code, 4, om.stderr)
      assert.include(om.stderr, "oms-api")
      for (const result of [fm, readOnly, om]) assertNoSecrets(result.stdout + result.stderr, demoSecrets, "scope")
    }))

  it.scopedLive("the emulator down: TransportError (7)", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      for (const command of ["token", "whoami"]) {
        const result = yield* cli([command, "figure-markets", "--emulator", `http://127.0.0.1:${port}`])
        assert.strictEqual(result.code, 7, result.stderr)
        assert.include(result.stderr, "ECONNREFUSED")
        assert.include(result.stderr, "effect-oauth2 emulator")
        assertNoSecrets(result.stdout + result.stderr, demoSecrets, command)
      }
    }))

  it.scopedLive("the provider misbehaving: MalformedResponse / ProtocolError (8); rate limited (6)", () =>
    Effect.gen(function*() {
      const emulator = yield* setup
      yield* emulator.setFaults("figure-pay.token", { malformed: { count: 5, kind: "html" } })
      const malformed = yield* cli(["token", "figure-pay", "--emulator", emulator.baseUrl])
      assert.strictEqual(malformed.code, 8, malformed.stderr)
      yield* emulator.setFaults("openmarkets.token", { rateLimit: { count: 5, retryAfter: 30 } })
      const limited = yield* cli(["token", "openmarkets", "--emulator", emulator.baseUrl])
      assert.strictEqual(limited.code, 6, limited.stderr)
      assert.include(limited.stderr, "Rate limited")
    }))

  it.scopedLive("a token answer with expires_in 0: Expired (5), the token never printed as a success", () =>
    Effect.gen(function*() {
      // Lifetimes under a second go out as expires_in 0 (whole seconds).
      const emulator = yield* Emulator.make({ port: 0, tokenLifetime: "500 millis" })
      for (const flags of [[], ["--json"], ["--raw"]]) {
        const result = yield* cli(["token", "figure-markets", "--emulator", emulator.baseUrl, ...flags])
        assert.strictEqual(result.code, 5, result.stdout + result.stderr)
        assert.include(result.stderr, "never handed out once expired")
        if (flags[0] === "--json") assert.include(result.stdout, "\"ok\":false")
        else assert.strictEqual(result.stdout, "", "nothing printed as a success")
      }
    }))

  it.effect("no credentials and no --emulator: usage (2), naming the variables to set", () =>
    Effect.gen(function*() {
      const fm = yield* cli(["token", "figure-markets"])
      assert.strictEqual(fm.code, 2)
      assert.include(fm.stderr, "FIGURE_MARKETS_CLIENT_ID and FIGURE_MARKETS_CLIENT_SECRET are not set")
      const secretOnly = yield* cli(["whoami", "figure-pay"], { env: { FIGURE_PAY_CLIENT_SECRET: wrongSecret } })
      assert.strictEqual(secretOnly.code, 2)
      assert.include(secretOnly.stderr, "FIGURE_PAY_CLIENT_ID is not set")
      assertNoSecrets(secretOnly.stderr, [wrongSecret], "missing id")
      const tradier = yield* cli(["token", "tradier"])
      assert.strictEqual(tradier.code, 2)
      assert.include(tradier.stderr, "TRADIER_ACCESS_TOKEN")
      const om = yield* cli(["token", "openmarkets", "--json"])
      assert.strictEqual(om.code, 2)
      assert.include(om.stderr, "OPENMARKETS_CLIENT_ID")
      assert.deepInclude(JSON.parse(om.stdout), { ok: false, exitCode: 2 })
    }))

  it.scopedLive("bad settings: usage (2) naming what is wrong, never the value", () =>
    Effect.gen(function*() {
      const emulator = yield* setup
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, Record<string, string>, string]> = [
        [["--env", "prod"], {}, "--env must be one of uat, production"],
        [["--scopes", "TRADER_READ,TRADER_TRADE"], {}, "space-separated"],
        [[], { FIGURE_MARKETS_ENV: "staging" }, "FIGURE_MARKETS_ENV"]
      ]
      for (const [flags, env, expected] of cases) {
        const result = yield* cli(["token", "figure-markets", "--emulator", emulator.baseUrl, ...flags], { env })
        assert.strictEqual(result.code, 2, `${flags.join(" ")}: ${result.stderr}`)
        assert.include(result.stderr, expected)
      }
      const ftp = yield* cli(["token", "figure-markets", "--emulator=ftp://x"])
      assert.strictEqual(ftp.code, 2)
      assert.include(ftp.stderr, "--emulator must be an http(s) URL")
      const noScopes = yield* cli(["token", "figure-pay", "--emulator", emulator.baseUrl, "--scopes", "x"])
      assert.strictEqual(noScopes.code, 2)
      assert.include(noScopes.stderr, "Figure Pay has no scopes")
      const insecure = yield* cli(["token", "figure-markets", "--emulator", "http://example.com"])
      assert.strictEqual(insecure.code, 2, insecure.stderr)
      assert.include(insecure.stderr, "Invalid configuration")
    }))
})

describe("config file", () => {
  const write = (dir: string, content: unknown, mode: number) => {
    const file = path.join(dir, "effect-oauth2.json")
    fs.writeFileSync(file, JSON.stringify(content), { mode })
    fs.chmodSync(file, mode)
    return file
  }

  it.scopedLive("credentials from the file; the environment wins over it, and flags over both", () =>
    Effect.gen(function*() {
      const emulator = yield* setup
      const dir = yield* tempDir
      const good = write(dir, {
        "figure-markets": { ...Clients.figureMarketsDemo, environment: "production", scopes: ["TRADER_READ"] }
      }, 0o600)
      const fromFile = yield* cli(["token", "figure-markets", "--emulator", emulator.baseUrl, "--config", good])
      assert.strictEqual(fromFile.code, 0, fromFile.stderr)
      assert.include(fromFile.stdout, "figure-markets (production), scopes TRADER_READ,")
      assert.notInclude(fromFile.stderr, "demo credentials")

      const overridden = yield* cli(
        ["token", "figure-markets", "--emulator", emulator.baseUrl, "--config", good, "--env", "uat"],
        { env: { FIGURE_MARKETS_CLIENT_SECRET: wrongSecret, FIGURE_MARKETS_ENV: "production" } }
      )
      assert.strictEqual(overridden.code, 3, "the environment's secret wins over the file's")
      assertNoSecrets(overridden.stdout + overridden.stderr, [wrongSecret, Clients.figureMarketsDemo.clientSecret], "env")

      const flagWins = yield* cli(
        ["token", "figure-markets", "--emulator", emulator.baseUrl, "--config", good, "--client-secret", Clients.figureMarketsDemo.clientSecret, "--env", "uat"],
        { env: { FIGURE_MARKETS_CLIENT_SECRET: wrongSecret, FIGURE_MARKETS_ENV: "production" } }
      )
      assert.strictEqual(flagWins.code, 0, flagWins.stderr)
      assert.include(flagWins.stdout, "figure-markets (uat)")
    }))

  it.scopedLive("refused when it holds a secret that other users can read, or is malformed", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const open = write(dir, { "figure-pay": Clients.figurePayDemo }, 0o644)
      const result = yield* cli(["token", "figure-pay", "--config", open])
      assert.strictEqual(result.code, 2)
      assert.include(result.stderr, `chmod 600 ${open}`)
      assertNoSecrets(result.stderr, [Clients.figurePayDemo.clientSecret], "open file")

      for (const [content, expected] of [
        [{ "figure-pay": { client_id: "x" } }, "unknown member \"figure-pay.client_id\""],
        [{ robinhood: {} }, "unknown member \"robinhood\""],
        [[1, 2], "expected a JSON object"]
      ] as const) {
        const file = write(dir, content, 0o600)
        const bad = yield* cli(["token", "figure-pay", "--config", file])
        assert.strictEqual(bad.code, 2)
        assert.include(bad.stderr, expected)
      }
      const missing = yield* cli(["token", "figure-pay", "--config", path.join(dir, "nope.json")])
      assert.strictEqual(missing.code, 2)
      assert.include(missing.stderr, "cannot read the config file")
    }))
})

describe("token store", () => {
  it.scopedLive("tradier without a store key: usage (2), naming the variables", () =>
    Effect.gen(function*() {
      const emulator = yield* setup
      const dir = yield* tempDir
      const result = yield* cli(["token", "tradier", "--emulator", emulator.baseUrl, "--store", path.join(dir, "t.json")])
      assert.strictEqual(result.code, 2)
      assert.include(result.stderr, "EFFECT_OAUTH2_STORE_KEY")
      assert.include(result.stderr, "EFFECT_OAUTH2_STORE_PASSPHRASE")
    }))

  it.scopedLive("a token file written with another key: usage (2), the file left as it is", () =>
    Effect.gen(function*() {
      const emulator = yield* setup
      const dir = yield* tempDir
      const file = path.join(dir, "t.json")
      const first = { EFFECT_OAUTH2_STORE_KEY: storeKey() }
      assert.strictEqual((yield* cli(["token", "figure-markets", "--emulator", emulator.baseUrl, "--store", file], { env: first })).code, 0)
      const before = fs.readFileSync(file, "utf8")
      const other = { EFFECT_OAUTH2_STORE_KEY: storeKey() }
      const result = yield* cli(["token", "tradier", "--emulator", emulator.baseUrl, "--store", file], { env: other })
      assert.strictEqual(result.code, 2, result.stderr)
      assert.include(result.stderr, "written with another key")
      assert.strictEqual(fs.readFileSync(file, "utf8"), before)
      assertNoSecrets(result.stderr, [first.EFFECT_OAUTH2_STORE_KEY, other.EFFECT_OAUTH2_STORE_KEY], "store")
    }))
})
