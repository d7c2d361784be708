import { Clients, Emulator } from "@effect-oauth2/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as path from "node:path"
import { assertNoSecrets, cli, plain, storeKey, tempDir } from "./utils.js"

const setup = Emulator.make({ port: 0, tradierAuthorization: "auto-approve" })

const summary = {
  "figure-markets": /^Bearer token for figure-markets \(uat\), scopes TRADER_READ TRADER_TRADE, expires in 23h 59m 5\ds\n$/,
  "figure-pay": /^Bearer token for figure-pay \(sandbox\), no scopes stated, expires in (59m 5\ds|1h 0m 0s)\n$/,
  openmarkets: /^Bearer token for openmarkets \(stage\), no scopes stated, expires in (59m 5\ds|1h 0m 0s)\n$/
} as const

const tradierStatic = { TRADIER_ACCESS_TOKEN: Clients.tradierStaticDemo.token }

describe("token", () => {
  for (const provider of ["figure-markets", "figure-pay", "openmarkets"] as const) {
    it.scopedLive(`${provider}: summary, --show, --raw, --json`, () =>
      Effect.gen(function*() {
        const emulator = yield* setup
        const base = ["token", provider, "--emulator", emulator.baseUrl]

        const plainRun = yield* cli(base)
        assert.strictEqual(plainRun.code, 0, plainRun.stderr)
        assert.match(plainRun.stdout, summary[provider])
        assert.include(plainRun.stderr, "demo credentials")

        const shown = yield* cli([...base, "--show"])
        assert.strictEqual(shown.code, 0, shown.stderr)
        const [line, token, rest] = shown.stdout.split("\n")
        assert.match(`${line}\n`, summary[provider])
        assert.isAbove(token!.length, 10)
        assert.strictEqual(rest, "")

        const raw = yield* cli([...base, "--raw"])
        assert.strictEqual(raw.code, 0, raw.stderr)
        assert.match(raw.stdout, /^\S+\n$/, "only the token")
        assert.notInclude(raw.stderr, raw.stdout.trim())

        const json = yield* cli([...base, "--json"])
        assert.strictEqual(json.code, 0, json.stderr)
        const parsed = JSON.parse(json.stdout) as Record<string, unknown>
        assert.strictEqual(parsed["ok"], true)
        assert.strictEqual(parsed["provider"], provider)
        assert.strictEqual(parsed["type"], "Bearer")
        assert.isNumber(parsed["expiresInSeconds"])
        assert.notProperty(parsed, "token")
        // Each run is a new process in spirit: a new token each time, none of them printed without being asked.
        assertNoSecrets(plainRun.stdout + plainRun.stderr + json.stdout + json.stderr, [token!, raw.stdout.trim()], provider)

        const jsonShown = yield* cli([...base, "--json", "--show"])
        const withToken = JSON.parse(jsonShown.stdout) as Record<string, unknown>
        assert.isString(withToken["token"])

        const both = yield* cli([...base, "--json", "--raw"])
        assert.strictEqual(both.code, 2)
        assert.include(both.stderr, "--raw and --json exclude each other")
      }))
  }

  it.scopedLive("figure-markets: --scopes narrows the request; --emulator takes a port or host:port too", () =>
    Effect.gen(function*() {
      const emulator = yield* setup
      const result = yield* cli(["token", "figure-markets", "--emulator", emulator.baseUrl, "--scopes", "TRADER_READ"])
      assert.strictEqual(result.code, 0, result.stderr)
      assert.include(result.stdout, "scopes TRADER_READ, expires in")
      // --emulator also takes a bare port or host:port
      const port = new URL(emulator.baseUrl).port
      for (const target of [port, `127.0.0.1:${port}`]) {
        const short = yield* cli(["token", "figure-markets", "--emulator", target, "--scopes", "TRADER_READ"])
        assert.strictEqual(short.code, 0, short.stderr)
      }
    }))

  it.scopedLive("tradier: a static API token, from the environment", () =>
    Effect.gen(function*() {
      const emulator = yield* setup
      const base = ["token", "tradier", "--emulator", emulator.baseUrl]
      const result = yield* cli(base, { env: tradierStatic })
      assert.strictEqual(result.code, 0, result.stderr)
      assert.strictEqual(
        result.stdout,
        "Bearer token for tradier (sandbox), scopes read write market trade stream, never expires (static API token)\n"
      )
      assertNoSecrets(result.stdout + result.stderr, [Clients.tradierStaticDemo.token], "summary")
      const raw = yield* cli([...base, "--raw"], { env: tradierStatic })
      assert.strictEqual(raw.stdout, `${Clients.tradierStaticDemo.token}\n`)
      const json = yield* cli([...base, "--json"], { env: tradierStatic })
      const parsed = JSON.parse(json.stdout) as Record<string, unknown>
      assert.strictEqual(parsed["expiresAt"], null)
      assert.notProperty(parsed, "token")
    }))

  it.scopedLive("tradier OAuth without a login: Expired (5), saying to log in", () =>
    Effect.gen(function*() {
      const emulator = yield* setup
      const dir = yield* tempDir
      const result = yield* cli(
        ["token", "tradier", "--emulator", emulator.baseUrl, "--store", path.join(dir, "tokens.json")],
        { env: { EFFECT_OAUTH2_STORE_KEY: storeKey() } }
      )
      assert.strictEqual(result.code, 5, result.stderr)
      assert.include(result.stderr, "effect-oauth2 login tradier")
      assert.strictEqual(result.stdout, "")
    }))

  it.scopedLive("a token file for client-credentials providers with --store: the next run reuses the token", () =>
    Effect.gen(function*() {
      const emulator = yield* setup
      const dir = yield* tempDir
      const env = { EFFECT_OAUTH2_STORE_KEY: storeKey() }
      const base = ["token", "figure-markets", "--emulator", emulator.baseUrl, "--store", path.join(dir, "t.json"), "--raw"]
      const first = yield* cli(base, { env })
      const second = yield* cli(base, { env })
      assert.strictEqual(first.code, 0, first.stderr)
      assert.strictEqual(second.stdout, first.stdout)
      assert.strictEqual((yield* emulator.countersFor("figure-markets.token")).successes, 1)
    }))
})

describe("revoke", () => {
  it.scopedLive("figure-markets: the token from standard input is revoked at the emulator", () =>
    Effect.gen(function*() {
      const emulator = yield* setup
      const token = yield* cli(["token", "figure-markets", "--emulator", emulator.baseUrl, "--raw"])
      assert.strictEqual(token.code, 0, token.stderr)
      const before = (yield* emulator.tokens).filter((t) => t.provider === "figure-markets")
      assert.strictEqual(before.length, 1)
      assert.isFalse(before[0]!.revoked)

      const result = yield* cli(["revoke", "figure-markets", "--emulator", emulator.baseUrl, "--token-stdin"], {
        stdin: token.stdout
      })
      assert.strictEqual(result.code, 0, result.stderr)
      assert.strictEqual(result.stdout, "Revoked the figure-markets access token (uat).\n")
      // The definition's revocation note (`revocation.note`), said after the revocation.
      assert.include(result.stderr, "note: Figure Markets says a revoked token can take a few minutes")
      assertNoSecrets(result.stdout + result.stderr, [token.stdout.trim()], "revoke")
      const after = (yield* emulator.tokens).filter((t) => t.provider === "figure-markets")
      assert.deepStrictEqual(after.map((t) => t.revoked), [true])
    }))

  it.scopedLive("figure-markets: the token in the --store file, revoked and removed from it", () =>
    Effect.gen(function*() {
      const emulator = yield* setup
      const dir = yield* tempDir
      const env = { EFFECT_OAUTH2_STORE_KEY: storeKey() }
      const store = ["--emulator", emulator.baseUrl, "--store", path.join(dir, "t.json")]
      assert.strictEqual((yield* cli(["token", "figure-markets", ...store], { env })).code, 0)
      const result = yield* cli(["revoke", "figure-markets", ...store, "--json"], { env })
      assert.strictEqual(result.code, 0, result.stderr)
      assert.deepInclude(JSON.parse(result.stdout), { revoked: true, removedFromStore: true })
      assert.deepStrictEqual((yield* emulator.tokens).filter((t) => t.provider === "figure-markets").map((t) => t.revoked), [true])
      const again = yield* cli(["revoke", "figure-markets", ...store], { env })
      assert.strictEqual(again.code, 0)
      assert.include(again.stderr, "nothing to revoke")
    }))

  it.scopedLive("figure-markets without a token to act on: usage (2), saying how to give one", () =>
    Effect.gen(function*() {
      const emulator = yield* setup
      const result = yield* cli(["revoke", "figure-markets", "--emulator", emulator.baseUrl])
      assert.strictEqual(result.code, 2)
      assert.include(result.stderr, "--token-stdin")
      assert.strictEqual((yield* emulator.countersFor("figure-markets.revoke")).requests, 0)
    }))

  for (const provider of ["figure-pay", "openmarkets", "tradier"] as const) {
    it.scopedLive(`${provider}: Unsupported (9), with what to do instead, before asking for credentials`, () =>
      Effect.gen(function*() {
        const emulator = yield* setup
        const withEmulator = yield* cli(["revoke", provider, "--emulator", emulator.baseUrl])
        const without = yield* cli(["revoke", provider])
        for (const result of [withEmulator, without]) {
          assert.strictEqual(result.code, 9, result.stderr)
          assert.include(result.stderr, `[${provider}] Token revocation is not supported by this provider.`)
          assert.include(result.stderr, "documents no revocation endpoint")
          assert.strictEqual(result.stdout, "")
        }
      }))
  }
})

describe("introspect", () => {
  it.scopedLive("every provider: Unsupported (9), naming the reason and whoami", () =>
    Effect.gen(function*() {
      const emulator = yield* setup
      for (const provider of ["figure-markets", "figure-pay", "tradier", "openmarkets"]) {
        const result = yield* cli(["introspect", provider, "--emulator", emulator.baseUrl, "--json"])
        assert.strictEqual(result.code, 9, provider)
        assert.include(result.stderr, "Token introspection is not supported")
        assert.include(result.stderr, "effect-oauth2 whoami")
        const parsed = JSON.parse(result.stdout) as { readonly exitCode: number; readonly error: { readonly tag: string } }
        assert.strictEqual(parsed.exitCode, 9)
        assert.strictEqual(parsed.error.tag, "Unsupported")
      }
    }))
})

describe("whoami", () => {
  it.scopedLive("figure-markets: firm and user from get_who_am_i", () =>
    Effect.gen(function*() {
      const emulator = yield* setup
      const result = yield* cli(["whoami", "figure-markets", "--emulator", emulator.baseUrl])
      assert.strictEqual(result.code, 0, result.stderr)
      assert.strictEqual(
        result.stdout,
        "figure-markets (uat): firm demo-firm, user fm-demo-client (firms/demo-firm/users/fm-demo-client)\n"
      )
      const json = yield* cli(["whoami", "figure-markets", "--emulator", emulator.baseUrl, "--json"])
      assert.deepInclude(JSON.parse(json.stdout), { firmId: "demo-firm", userId: "fm-demo-client" })
    }))

  it.scopedLive("figure-pay, openmarkets, tradier: each one's self-test", () =>
    Effect.gen(function*() {
      const emulator = yield* setup
      const pay = yield* cli(["whoami", "figure-pay", "--emulator", emulator.baseUrl])
      assert.strictEqual(pay.code, 0, pay.stderr)
      assert.strictEqual(pay.stdout, "figure-pay (sandbox): credentials accepted; 1 profile(s): prf_fp-demo-client\n")
      const om = yield* cli(["whoami", "openmarkets", "--emulator", emulator.baseUrl, "--json"])
      assert.strictEqual(om.code, 0, om.stderr)
      assert.deepInclude(JSON.parse(om.stdout), { provider: "openmarkets", check: "token" })
      const tradier = yield* cli(["whoami", "tradier", "--emulator", emulator.baseUrl], { env: tradierStatic })
      assert.strictEqual(tradier.code, 0, tradier.stderr)
      assert.strictEqual(tradier.stdout, "tradier (sandbox): user id-static (Demo User)\n")
      assertNoSecrets(tradier.stdout + tradier.stderr, [Clients.tradierStaticDemo.token], "whoami")
    }))
})

describe("tastytrade, from its definition and a registry entry", () => {
  it.scopedLive("token and whoami from the demo client's personal grant (a refresh token), which is never shown", () =>
    Effect.gen(function*() {
      const emulator = yield* setup
      const grant = Clients.demoCredentials.tastytrade!.refreshToken!
      const token = yield* cli(["token", "tastytrade", "--emulator", emulator.baseUrl])
      assert.strictEqual(token.code, 0, token.stderr)
      assert.match(token.stdout, /^Bearer token for tastytrade \(sandbox\), /)
      const me = yield* cli(["whoami", "tastytrade", "--emulator", emulator.baseUrl])
      assert.strictEqual(me.code, 0, me.stderr)
      assert.match(me.stdout, /^tastytrade \(sandbox\): customer \S+/)
      const json = yield* cli(["whoami", "tastytrade", "--emulator", emulator.baseUrl, "--json"])
      assert.deepInclude(JSON.parse(json.stdout), { provider: "tastytrade", environment: "sandbox" })
      assertNoSecrets(token.stdout + token.stderr + me.stdout + me.stderr + json.stdout, [grant], "tastytrade")
      // Without the grant (and not on the emulator), tokens would come from a partner login in the token store: the
      // command says both ways, naming the grant's variable.
      const missing = yield* cli(["token", "tastytrade"], {
        env: { TASTYTRADE_CLIENT_ID: "id", TASTYTRADE_CLIENT_SECRET: "secret" }
      })
      assert.strictEqual(missing.code, 2)
      assert.include(missing.stderr, "TASTYTRADE_REFRESH_TOKEN")
      assert.include(missing.stderr, "effect-oauth2 login tastytrade")
    }))
})

describe("login", () => {
  it.scopedLive("anything but tradier: Unsupported (9), saying that `token` needs no login", () =>
    Effect.gen(function*() {
      const result = yield* cli(["login", "figure-markets"])
      assert.strictEqual(result.code, 9)
      assert.include(result.stderr, "effect-oauth2 token figure-markets")
    }))
})

describe("emulator", () => {
  it.scopedLive("starts the emulator, prints its URLs and demo credentials, serves until interrupted", () =>
    Effect.gen(function*() {
      const listening = yield* Deferred.make<string>()
      let printed = ""
      const fiber = yield* Effect.fork(cli(["emulator", "--port", "0", "--token-lifetime", "120"], {
        onStdout: (text) => {
          printed += text
          const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1]
          if (url !== undefined) Deferred.unsafeDone(listening, Effect.succeed(url))
        }
      }))
      const url = yield* Deferred.await(listening)
      // Every provider it serves, each with its demo clients: the brokers too, so that any demo runs offline.
      for (const [title, id] of [
        ["Schwab", Clients.schwabDemo.clientId],
        ["TradeStation", Clients.tradestationDemo.clientId],
        ["tastytrade", Clients.tastytradeDemo.clientId],
        ["Saxo", Clients.saxoDemo.clientId]
      ] as const) {
        assert.include(printed, `\n${title} (`)
        assert.include(printed, id)
      }
      assert.include(printed, `${url}/tastytrade/my/auth.html`)
      const token = yield* cli(["token", "figure-markets", "--emulator", url])
      assert.strictEqual(token.code, 0, token.stderr)
      assert.match(token.stdout, /expires in (2m 0s|1m 5\ds)/)
      yield* Fiber.interrupt(fiber)
    }))

  it.scopedLive("prints the demo credentials (emulator secrets, on purpose) and refuses a busy port", () =>
    Effect.gen(function*() {
      const emulator = yield* setup
      const port = new URL(emulator.baseUrl).port
      const busy = yield* cli(["emulator", "--port", port])
      assert.strictEqual(busy.code, 2)
      assert.include(busy.stderr, `Cannot listen on 127.0.0.1:${port}`)
      const bad = yield* cli(["emulator", "--port", "70000"])
      assert.strictEqual(bad.code, 2)
    }))
})

describe("--help", () => {
  it.effect("every command: exit 0, the exit codes and the credential precedence", () =>
    Effect.gen(function*() {
      for (const args of [[], ["token"], ["revoke"], ["introspect"], ["whoami"], ["login"], ["emulator"]]) {
        const result = yield* cli([...args, "--help"])
        const text = plain(result.stdout)
        assert.strictEqual(result.code, 0, args.join(" "))
        assert.include(text, "EXIT CODES", args.join(" "))
        assert.include(text, "3 Unauthorized", args.join(" "))
        assert.include(text, "10 AuthorizationFailed", args.join(" "))
        assert.include(text, "Flags win over environment variables, which win over the --config file")
        if (args.length > 0) assert.include(text, `$ ${args[0]}`)
      }
    }))

  it.effect("no command, or an unknown one: usage (2)", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* cli([])).code, 2)
      assert.strictEqual((yield* cli(["tokens"])).code, 2)
      assert.strictEqual((yield* cli(["token", "robinhood"])).code, 2)
      assert.strictEqual((yield* cli(["token", "figure-markets", "--bogus"])).code, 2)
      assert.strictEqual((yield* cli(["--version"])).code, 0)
    }))
})
