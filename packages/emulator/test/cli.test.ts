import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Clients, Emulator } from "../src/index.js"
import * as Cli from "../src/internal/cli.js"

describe("command line: flags", () => {
  it("defaults to 127.0.0.1:4010 and the consent page", () => {
    const command = Cli.parse([])
    assert.strictEqual(command._tag, "Run")
    if (command._tag !== "Run") return
    assert.strictEqual(command.options.host, "127.0.0.1")
    assert.strictEqual(command.options.port, 4010)
    assert.strictEqual(command.options.tradierAuthorization, "consent")
    assert.isUndefined(command.options.tokenLifetime)
    assert.isUndefined(command.provider)
  })

  it("reads every flag", () => {
    const command = Cli.parse([
      "--port", "0", "--host", "0.0.0.0", "--auto-approve", "--token-lifetime", "3600", "--code-lifetime", "60",
      "--provider", "tradier"
    ])
    assert.deepStrictEqual(command, {
      _tag: "Run",
      provider: "tradier",
      options: {
        port: 0,
        host: "0.0.0.0",
        tradierAuthorization: "auto-approve",
        tokenLifetime: "3600 seconds",
        authorizationCodeLifetime: "60 seconds"
      }
    })
    const deny = Cli.parse(["--auto-deny"])
    assert.strictEqual(deny._tag === "Run" ? deny.options.tradierAuthorization : undefined, "auto-deny")
    assert.deepStrictEqual(Cli.parse(["--help"]), { _tag: "Help" })
    assert.deepStrictEqual(Cli.parse(["-h"]), { _tag: "Help" })
  })

  it("refuses bad flags", () => {
    for (
      const argv of [
        ["--bogus"],
        ["--port", "70000"],
        ["--port", "x"],
        ["--port", ""],
        ["--token-lifetime", "0"],
        ["--code-lifetime", "1.5"],
        ["--provider", "robinhood"],
        ["--auto-approve", "--auto-deny"],
        ["--host", " "],
        ["positional"]
      ]
    ) {
      assert.strictEqual(Cli.parse(argv)._tag, "Invalid", argv.join(" "))
    }
  })

  it.scoped("prints URLs and demo credentials, one provider when asked", () =>
    Effect.gen(function*() {
      const e = yield* Emulator.make()
      const all = Cli.describe(e, "127.0.0.1", "consent", undefined)
      assert.include(all, `listening on ${e.baseUrl} (loopback only)`)
      for (
        const s of [
          `${e.urls.figureMarkets.main}/auth/oauth2/token`,
          `${e.urls.figureMarkets.trade}/api/v1/get_who_am_i`,
          `${e.urls.figurePay.api}/oauth2/token`,
          `${e.urls.tradier.api}/v1/oauth/accesstoken`,
          `${e.urls.openmarkets.identity}/connect/token`,
          e.urls.control,
          `${Clients.figureMarketsDemo.clientId} / ${Clients.figureMarketsDemo.clientSecret}`,
          `${Clients.figureMarketsReadOnlyDemo.clientId} / ${Clients.figureMarketsReadOnlyDemo.clientSecret}`,
          `${Clients.figurePayDemo.clientId} / ${Clients.figurePayDemo.clientSecret}`,
          `${Clients.tradierDemo.clientId} / ${Clients.tradierDemo.clientSecret}`,
          `${Clients.tradierPartnerDemo.clientId} / ${Clients.tradierPartnerDemo.clientSecret}`,
          Clients.tradierStaticDemo.token,
          `${Clients.openmarketsDemo.clientId} / ${Clients.openmarketsDemo.clientSecret}`
        ]
      ) assert.include(all, s)
      const one = Cli.describe(e, "0.0.0.0", "auto-approve", "tradier")
      assert.include(one, "reachable beyond this machine")
      assert.include(one, "authorize mode: auto-approve")
      assert.notInclude(one, "Figure Markets")
      assert.notInclude(one, "Openmarkets")
    }))
})

describe("command line: process", () => {
  it("starts, prints, serves, and stops cleanly on SIGTERM", async () => {
    const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url))
    const cwd = fileURLToPath(new URL("..", import.meta.url))
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--conditions=source", bin, "--port", "0", "--token-lifetime", "120"],
      { cwd, stdio: ["ignore", "pipe", "pipe"], signal: AbortSignal.timeout(25_000) }
    )
    let stdout = ""
    let stderr = ""
    let expiresIn: unknown
    let asked = false
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    const exited = new Promise<number | null>((resolve) => {
      child.on("error", () => resolve(null))
      child.on("exit", (code) => resolve(code))
    })
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
      if (asked || !stdout.includes("Press Ctrl+C")) return
      asked = true
      const base = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)![1]!
      const body = new URLSearchParams({
        grant_type: "client_credentials",
        client_id: Clients.figurePayDemo.clientId,
        client_secret: Clients.figurePayDemo.clientSecret
      })
      fetch(`${base}/figure-markets/auth/oauth2/token`, {
        method: "POST",
        body: new URLSearchParams({
          grant_type: "client_credentials",
          client_id: Clients.figureMarketsDemo.clientId,
          client_secret: Clients.figureMarketsDemo.clientSecret,
          scope: "TRADER_READ"
        })
      })
        .then(async (r) => {
          expiresIn = (await r.json()).expires_in
          await fetch(`${base}/figure-pay/oauth2/token`, { method: "POST", body })
        })
        .finally(() => child.kill("SIGTERM"))
    })
    const code = await exited
    assert.strictEqual(stderr, "")
    assert.strictEqual(expiresIn, 120)
    assert.include(stdout, "(loopback only)")
    assert.include(stdout, Clients.openmarketsDemo.clientSecret)
    assert.include(stdout, "emulator stopped")
    assert.isTrue(code === 0 || code === null || code === 143, `exit code ${code}`)
  })
})
