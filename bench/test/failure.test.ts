/**
 * The one-line reasons the tables show for a contender that did not finish: sanitised, whatever the text.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "effect/FastCheck"
import { crashReason, failureText, markdownCell, REASON_MAX, sanitiseReason } from "../src/failure.js"
import { SECRET } from "../src/server.js"
import { hasUnsafeCharacter } from "./fixtures/text.js"


const anyText = fc.string({ unit: "binary", maxLength: 600 })

/** What Node 20 prints when client-oauth2's default transport kills it (the tail of a real crash). */
const nodeAssertion = [
  "node:internal/errors:497",
  "    ErrorCaptureStackTrace(err);",
  "    ^",
  "",
  "Error [ERR_INTERNAL_ASSERTION]: This is caused by either a bug in Node.js or incorrect usage of Node.js internals.",
  "Please open an issue with this stack trace at https://github.com/nodejs/node/issues",
  "",
  "    at assert (node:internal/assert:14:11)",
  "    at ClientRequest.onSocket (node:_http_client:868:3)",
  "{",
  "  code: 'ERR_INTERNAL_ASSERTION'",
  "}",
  "",
  "Node.js v20.20.2",
  ""
].join("\n")

describe("failure reasons", () => {
  it.prop("any text becomes one line, without control characters, at most REASON_MAX characters", [anyText], ([text]) => {
    const reason = sanitiseReason(text)
    assert.isFalse(hasUnsafeCharacter(reason), JSON.stringify(reason))
    assert.isAtMost(Array.from(reason).length, REASON_MAX)
    assert.strictEqual(reason, reason.trim())
  }, { fastCheck: { numRuns: 500 } })

  it.prop(
    "a bearer token, an access_token field and the client secret never survive, wherever they sit",
    [fc.string({ maxLength: 80 }), fc.stringMatching(/^Z[0-9]{2}[A-Za-z0-9._~+/-]{4,40}$/), fc.string({ maxLength: 80 })],
    ([before, token, after]) => {
      for (
        const text of [
          `${before} Authorization: Bearer ${token} ${after}`,
          `${before} {"access_token":"${token}"} ${after}`,
          `${before} access_token=${token}&x=1 ${after}`,
          `${before}${SECRET}${after}`
        ]
      ) {
        const reason = sanitiseReason(text)
        assert.notInclude(reason, SECRET, text)
        if (!`${before}${after}`.includes(token)) assert.notInclude(reason, token, text)
      }
    },
    { fastCheck: { numRuns: 300 } }
  )

  it("cuts a long reason with an ellipsis, on a character boundary", () => {
    const reason = sanitiseReason("😀".repeat(REASON_MAX + 50))
    assert.strictEqual(Array.from(reason).length, REASON_MAX)
    assert.isTrue(reason.endsWith("…"))
    assert.strictEqual(Array.from(reason.slice(0, -1)).every((c) => c === "😀"), true)
  })

  it("keeps what explains: a readable message comes out as it went in", () => {
    assert.strictEqual(sanitiseReason("  timed out\tafter 600 s\n"), "timed out after 600 s")
    assert.strictEqual(sanitiseReason("\u001b[31mred\u001b[0m text"), "red text")
  })

  it("a crashed process's reason is the error line Node printed, not the stack, the excerpt or the version", () => {
    assert.strictEqual(
      crashReason(nodeAssertion),
      "Error [ERR_INTERNAL_ASSERTION]: This is caused by either a bug in Node.js or incorrect usage of Node.js internals."
    )
    // Warnings before it, and a later "[cause]" block, do not take its place.
    const noisy = `(node:1) Warning: something\n${nodeAssertion}`
    assert.include(crashReason(noisy), "ERR_INTERNAL_ASSERTION")
    // A process warning is no cause: an error line wins over it, and alone it is named for what it is.
    const warning = "(node:4688) MaxListenersExceededWarning: Possible EventEmitter memory leak detected. 11 error " +
      "listeners added to [Socket]. MaxListeners is 10. Use emitter.setMaxListeners() to increase limit"
    assert.include(crashReason(`${nodeAssertion}\n${warning}\n`), "Error [ERR_INTERNAL_ASSERTION]")
    assert.strictEqual(crashReason(`${warning}\n(Use \`node --trace-warnings ...\` to show where the warning was created)\n`), sanitiseReason(`last warning: ${warning}`))
    assert.strictEqual(crashReason(""), "")
    assert.strictEqual(crashReason("Killed\n"), "Killed")
  })

  it("a reason in a table cell cannot end the cell", () => {
    assert.strictEqual(markdownCell("a | b \\ c"), "a \\| b \\\\ c")
    assert.strictEqual(failureText({ kind: "crashed", reason: "" }), "crashed")
    assert.strictEqual(failureText({ kind: "crashed", reason: "Error: x" }), "crashed: Error: x")
  })
})
