import { Clients, Emulator } from "@effect-oauth2/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { assertNoSecrets, plain, spawnCli } from "./utils.js"

const wrongSecret = "wrong-secret-in-a-real-process"

describe("the real executable", () => {
  it.scopedLive("exit codes and streams as a shell sees them", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ port: 0 })

      const help = yield* spawnCli(["token", "--help"])
      assert.strictEqual(help.code, 0, help.stderr)
      assert.include(plain(help.stdout), "EXIT CODES")

      const raw = yield* spawnCli(["token", "figure-markets", "--emulator", emulator.baseUrl, "--raw"])
      assert.strictEqual(raw.code, 0, raw.stderr)
      assert.match(raw.stdout, /^\S+\n$/, "standard output holds the token alone")
      assert.include(raw.stderr, "demo credentials")
      assert.deepStrictEqual(
        (yield* emulator.tokens).filter((t) => t.provider === "figure-markets").map((t) => t.revoked),
        [false]
      )

      const refused = yield* spawnCli(["token", "figure-markets", "--emulator", emulator.baseUrl], {
        env: { FIGURE_MARKETS_CLIENT_ID: Clients.figureMarketsDemo.clientId, FIGURE_MARKETS_CLIENT_SECRET: wrongSecret }
      })
      assert.strictEqual(refused.code, 3, refused.stderr)
      assert.include(refused.stderr, "Unauthorized (invalid_client)")
      assertNoSecrets(refused.stdout + refused.stderr, [wrongSecret], "refused")

      const revoked = yield* spawnCli(["revoke", "figure-markets", "--emulator", emulator.baseUrl, "--token-stdin"], {
        stdin: raw.stdout
      })
      assert.strictEqual(revoked.code, 0, revoked.stderr)
      assert.deepStrictEqual(
        (yield* emulator.tokens).filter((t) => t.provider === "figure-markets").map((t) => t.revoked),
        [true]
      )

      const unsupported = yield* spawnCli(["revoke", "openmarkets"])
      assert.strictEqual(unsupported.code, 9, unsupported.stderr)

      const usage = yield* spawnCli(["token", "figure-pay"])
      assert.strictEqual(usage.code, 2, usage.stderr)
      assert.include(usage.stderr, "FIGURE_PAY_CLIENT_ID")
    }), { timeout: 120_000 })
})
