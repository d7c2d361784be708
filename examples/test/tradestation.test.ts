/**
 * The TradeStation example, offline: the login against the emulator's rotating key, the token stored, then the bot's
 * `brokerage/accounts` from the stored login, with the refresh token's death announced. No secret printed.
 */
import { Clients } from "@effect-oauth2/emulator"
import { assert, describe, it, vi } from "@effect/vitest"
import { Effect } from "effect"
import * as TradeStationExample from "../src/tradestation.js"

describe("tradestation", () => {
  it.scopedLive("logs in (audience, offline_access, the key's callback URL), then the bot lists the accounts", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      yield* Effect.acquireRelease(
        Effect.sync(() => vi.spyOn(console, "log").mockImplementation((...args) => void lines.push(args.map(String).join(" ")))),
        (spy) => Effect.sync(() => spy.mockRestore())
      )
      const report = yield* TradeStationExample.main
      assert.deepStrictEqual(report.accounts, ["11111111"])
      assert.strictEqual(report.events.length, 1)
      assert.match(report.events[0]!, /^The tradestation \(sim\) refresh token dies at /)
      const text = lines.join("\n")
      assert.include(text, "logged in: openid offline_access MarketData ReadAccount Trade; the refresh token dies at ")
      assert.include(text, "TradeStation accounts: 11111111 (Margin)")
      assert.notInclude(text, Clients.tradestationRotatingDemo.clientSecret)
    }))
})
