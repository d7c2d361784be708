/**
 * `login tradestation` and `whoami tradestation` against the emulator: the default login of the definition, sent back
 * to the key's Allowed Callback URL (`TRADESTATION_CALLBACK_URL`), then the stored token read by `token` and `whoami`.
 */
import { Clients, Emulator } from "@effect-oauth2/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as path from "node:path"
import { assertNoSecrets, cli, closedPort, storeKey, tempDir } from "./utils.js"

/** The user's browser: the authorize URL (the emulator redirects at once), then the callback, `localhost` dialled as 127.0.0.1. */
const browser = (visits: Array<string>) => (authorizeUrl: string) =>
  Effect.promise(async () => {
    visits.push(authorizeUrl)
    const first = await fetch(authorizeUrl, { redirect: "manual" })
    await first.text()
    const location = first.headers.get("location")
    if (first.status !== 302 || location === null) return
    const callback = new URL(location)
    callback.hostname = "127.0.0.1"
    await fetch(callback, { redirect: "manual" }).then((r) => r.text(), () => "")
  })

describe("login tradestation", () => {
  it.scopedLive("logs in at the key's callback URL with the audience; token and whoami read the stored token", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const callbackUrl = `http://localhost:${port}`
      const demo = Clients.tradestationDemo
      const emulator = yield* Emulator.make({
        port: 0,
        clients: { tradestation: [{ ...demo, callbackUrls: [...demo.callbackUrls, callbackUrl] }] }
      })
      const dir = yield* tempDir
      const file = path.join(dir, "tokens.json")
      const env = { EFFECT_OAUTH2_STORE_KEY: storeKey(), TRADESTATION_CALLBACK_URL: callbackUrl }
      const target = ["--emulator", emulator.baseUrl, "--store", file]
      const visits: Array<string> = []
      const login = yield* cli(["login", "tradestation", ...target, "--port", String(port), "--open"], {
        env,
        openUrl: browser(visits)
      })
      assert.strictEqual(login.code, 0, login.stderr)
      const authorize = new URL(visits[0]!)
      assert.strictEqual(authorize.searchParams.get("audience"), "https://api.tradestation.com")
      assert.strictEqual(authorize.searchParams.get("redirect_uri"), callbackUrl)
      assert.strictEqual(authorize.searchParams.get("scope"), "openid offline_access MarketData ReadAccount Trade")
      assert.match(login.stdout, /^Logged in\. Bearer token for tradestation \(sim\), /)

      const whoami = yield* cli(["whoami", "tradestation", ...target], { env })
      assert.strictEqual(whoami.code, 0, whoami.stderr)
      assert.strictEqual(whoami.stdout, "tradestation (sim): 1 account(s): 11111111\n")
      const token = yield* cli(["token", "tradestation", ...target, "--json"], { env })
      assert.strictEqual(token.code, 0, token.stderr)
      assert.deepInclude(JSON.parse(token.stdout), { provider: "tradestation", environment: "sim" })
      assert.strictEqual((yield* emulator.countersFor("tradestation.token")).requests, 1, "one code exchange, no more")
      assertNoSecrets(login.stdout + whoami.stdout + whoami.stderr + token.stdout, [demo.clientSecret], "output")
    }))

  it.scopedLive("a --port other than the callback URL's: a configuration error naming the port to use", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ port: 0 })
      const dir = yield* tempDir
      const port = yield* closedPort
      const result = yield* cli(
        ["login", "tradestation", "--emulator", emulator.baseUrl, "--store", path.join(dir, "t.json"), "--port", String(port)],
        { env: { EFFECT_OAUTH2_STORE_KEY: storeKey() } }
      )
      assert.notStrictEqual(result.code, 0)
      assert.include(result.stderr, "--port 31022")
      assert.notInclude(result.stderr, "Open this URL", "nothing shown before the check")
    }))
})
