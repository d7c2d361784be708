/**
 * A peer that kills its process (as client-oauth2's default transport does on Node 20) is reported as crashed, with
 * a clean one-line reason, and the run goes on and succeeds: the harness's real child processes, a fake peer that
 * crashes on purpose. Behaviour only: never a timing.
 */
import { assert, describe, it } from "@effect/vitest"
import { createRequire } from "node:module"
import { pathToFileURL } from "node:url"
import { markdown, table } from "../src/report.js"
import { type ContenderResult, run, runInChild, runProblems } from "../src/runner.js"
import * as Server from "../src/server.js"
import { CRASH_MESSAGE } from "./fixtures/fakePeers.js"
import { hasUnsafeCharacter } from "./fixtures/text.js"

const fakePeers = new URL("./fixtures/fakePeers.ts", import.meta.url).href

/** The child processes' Node flags: the tsx loader, as `pnpm bench` runs under it (vitest does not). */
const execArgv = [
  "--import",
  pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href,
  "--conditions=source"
]


const byName = (contenders: ReadonlyArray<ContenderResult>, name: string) => {
  const found = contenders.find((c) => c.contender === name)
  assert.isDefined(found, name)
  return found!
}

describe("a peer that crashes its process", () => {
  it("is reported as crashed with a sanitised one-line reason; the next contender runs; the run succeeds", async () => {
    for (const profile of ["quick", "full"] as const) {
      const results = await run({
        profile,
        mode: "process",
        workloads: ["herd1k"],
        contenders: ["fake-crash", "fake-ok"],
        rounds: 1,
        peerModules: [fakePeers],
        execArgv
      })
      const [herd] = results.workloads
      const crashed = byName(herd!.contenders, "fake-crash")
      assert.strictEqual(crashed.rounds.length, 0)
      assert.strictEqual(crashed.failure?.kind, "crashed")
      const reason = crashed.failure!.reason
      assert.include(reason, "fake transport assertion")
      assert.include(reason, "process died (exit 1)")
      assert.isFalse(hasUnsafeCharacter(reason), JSON.stringify(reason))
      assert.notInclude(reason, "tok-123.abc")
      assert.notInclude(reason, Server.SECRET)
      assert.notInclude(reason, "second line")
      // The contender after it ran in a process of its own, untouched.
      const ok = byName(herd!.contenders, "fake-ok")
      assert.isUndefined(ok.failure)
      assert.strictEqual(ok.rounds.length, 1)
      assert.strictEqual(ok.rounds[0]!.failures, 0)
      // A peer's crash does not fail the run.
      assert.deepStrictEqual(runProblems(results), [], profile)
      // The table says so on the peer's own row, on one line, the cell intact.
      const row = table(herd!).split("\n").find((line) => line.startsWith("| fake-crash "))
      assert.isDefined(row)
      assert.include(row!, "| crashed: process died (exit 1): Error: fake transport assertion \\| sent Bearer <redacted>")
      assert.notInclude(markdown(results), CRASH_MESSAGE.split("\n")[0]!)
    }
  }, 180_000)

  it("a run without child processes (--quick) skips it, says so on its row, and succeeds", async () => {
    const results = await run({
      profile: "quick",
      mode: "inline",
      workloads: ["herd1k"],
      contenders: ["fake-crash", "fake-ok"],
      peerModules: [fakePeers]
    })
    const crashed = byName(results.workloads[0]!.contenders, "fake-crash")
    assert.strictEqual(crashed.failure?.kind, "skipped")
    assert.strictEqual(byName(results.workloads[0]!.contenders, "fake-ok").rounds.length, 1)
    assert.deepStrictEqual(runProblems(results), [])
    assert.include(table(results.workloads[0]!), "| fake-crash 0.0.0 | hand-written | skipped: crashes its process")
  })

  it("a job that never answers is killed at the harness's limit and reported as timed out", async () => {
    const server = await Server.start()
    try {
      const result = await runInChild({
        workload: "herd1k",
        contender: "fake-hang",
        profile: "quick",
        base: server.url,
        rounds: 1,
        warmup: false,
        runId: "hang",
        peerModules: [new URL("./fixtures/hangingPeer.ts", import.meta.url).href]
      }, { execArgv, timeoutMs: 1_500 })
      assert.strictEqual(result.rounds.length, 0)
      assert.strictEqual(result.failure?.kind, "timed out")
      assert.include(result.failure!.reason, "process killed")
    } finally {
      await server.close()
    }
  }, 60_000)
})
