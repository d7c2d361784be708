import { assert, describe, it } from "@effect/vitest"
import * as OAuth2Error from "@effect-oauth2/core/OAuth2Error"
import * as ExitCode from "../src/ExitCode.js"

describe("ExitCode", () => {
  it("LoginRequired (a dead refresh token: log in again) exits 5, like Expired, and is in the printed table", () => {
    const error = new OAuth2Error.LoginRequired({ provider: "saxo", source: "token-endpoint", refusedAt: 0 })
    assert.strictEqual(ExitCode.fromError(error), ExitCode.ExitCode.Expired)
    assert.strictEqual(ExitCode.fromError(error), 5)
    const row = ExitCode.documentation.find(([code]) => code === 5)
    assert.include(row?.[1], "LoginRequired")
  })
})
