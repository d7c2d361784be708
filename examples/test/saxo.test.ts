import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as SaxoExample from "../src/saxo.js"

describe("saxo example", () => {
  it.live("logs in with the PKCE app, calls users/me and renews the pair twice, the verifier kept", () =>
    Effect.map(SaxoExample.program, (report) => {
      assert.strictEqual(report.userId, "demo-user")
      assert.strictEqual(report.refreshes, 2)
      assert.isTrue(report.verifierKept)
    }))
})
