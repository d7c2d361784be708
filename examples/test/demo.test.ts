import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { demo } from "../src/demo.js"

describe("pnpm demo", () => {
  it.live("rides out every scripted event with no failure seen by the bot", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const summary = yield* demo({ scale: 0.5, print: (line) => lines.push(line) })
      const timeline = lines.join("\n")
      // No failure reached the bot: the refresh, the revocation and the outage were all absorbed.
      assert.strictEqual(summary.botFailures, 0)
      assert.isAbove(summary.apiCalls, 10)
      assert.isTrue(summary.invalidScopeHandled)
      // The outage refused exactly the three injected requests, and the refresh then succeeded.
      assert.strictEqual(summary.refusedTokenRequests, 3)
      assert.include(timeline, "access token renewed")
      assert.include(timeline, "replaying once with a new token")
      assert.include(timeline, "token revoked")
      // One token per life, plus the revocation's replacement, the read-only client's and the refused ones.
      assert.isAtMost(summary.tokenRequests, 9)
      assert.isAtLeast(summary.revocations, 3)
      // The demo's credentials never show up on the timeline.
      assert.notInclude(timeline, "fm-demo-secret")
    }), { timeout: 60_000 })
})
