/**
 * RFC 9207 on the authorization callback: `iss` checked against the endpoint's issuer before the code is used.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as fc from "effect/FastCheck"
import * as AuthorizationCode from "../src/AuthorizationCode.js"
import * as Endpoint from "../src/Endpoint.js"

const ISSUER = "https://auth.example.com/tenant-1"

const endpointOf = (options: Partial<Endpoint.Options> = {}) =>
  Effect.runSync(Endpoint.make({ provider: "p", tokenUrl: `${ISSUER}/token`, issuer: ISSUER, ...options }))

const reasonOf = (exit: Exit.Exit<void, { readonly reason: string }>): string | undefined =>
  Exit.isSuccess(exit) ? undefined : exit.cause._tag === "Fail" ? exit.cause.error.reason : "defect"

const check = (endpoint: Endpoint.Endpoint, params: URLSearchParams | Record<string, string | undefined>) =>
  Effect.runSync(Effect.exit(AuthorizationCode.validateIssuer(endpoint, params)))

describe("AuthorizationCode.validateIssuer (RFC 9207)", () => {
  it("the exact issuer passes, as a query or a record, advertised or not", () => {
    for (const advertised of [true, false]) {
      const endpoint = endpointOf({ authorizationResponseIssParameterSupported: advertised })
      assert.isUndefined(reasonOf(check(endpoint, new URLSearchParams({ code: "c", state: "s", iss: ISSUER }))))
      assert.isUndefined(reasonOf(check(endpoint, { code: "c", iss: ISSUER })))
    }
  })

  it.prop(
    "any other iss is issuer_mismatch, whether the server advertises iss or not; the message says what was expected",
    {
      iss: fc.oneof(
        fc.string(),
        fc.constantFrom(`${ISSUER}/`, ISSUER.toUpperCase(), "https://auth.example.com", `${ISSUER}?x=1`, ` ${ISSUER}`)
      ),
      advertised: fc.boolean()
    },
    ({ advertised, iss }) => {
      fc.pre(iss !== ISSUER)
      const endpoint = endpointOf({ authorizationResponseIssParameterSupported: advertised })
      const exit = check(endpoint, new URLSearchParams([["code", "c"], ["iss", iss]]))
      assert.strictEqual(reasonOf(exit), "issuer_mismatch")
      if (Exit.isFailure(exit) && exit.cause._tag === "Fail") {
        const message = exit.cause.error.message
        assert.include(message, ISSUER)
        assert.include(message, "the code was not used")
        assert.notMatch(message, /\p{Cc}/u)
        assert.isBelow(message.length, 800)
      }
    },
    { fastCheck: { numRuns: 300 } }
  )

  it("a repeated iss is issuer_mismatch, even when one of them is right", () => {
    const params = new URLSearchParams([["iss", ISSUER], ["iss", "https://attacker.example"]])
    assert.strictEqual(reasonOf(check(endpointOf(), params)), "issuer_mismatch")
  })

  it("no iss: missing_issuer when the server says it always sends one; accepted otherwise (RFC 9207 §2.4)", () => {
    const params = new URLSearchParams({ code: "c", state: "s" })
    assert.strictEqual(
      reasonOf(check(endpointOf({ authorizationResponseIssParameterSupported: true }), params)),
      "missing_issuer"
    )
    assert.isUndefined(reasonOf(check(endpointOf(), params)))
  })

  it("an endpoint with no known issuer checks nothing (there is nothing to compare with)", () => {
    const endpoint = endpointOf({ issuer: undefined, authorizationResponseIssParameterSupported: true })
    assert.isUndefined(reasonOf(check(endpoint, new URLSearchParams({ iss: "https://anyone.example" }))))
  })
})
