import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as QuickStart from "../src/readme/quick-start.js"
import * as Testing from "../src/readme/testing.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const readme = fs.readFileSync(path.join(root, "README.md"), "utf8")
const samples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!.trimEnd())
const sources = fs.readdirSync(path.join(root, "examples/src/readme")).map((f) =>
  fs.readFileSync(path.join(root, "examples/src/readme", f), "utf8").trimEnd()
)

// The core-api sample targets a placeholder host: the type-check (tsc -b) is what keeps it from rotting.
describe("README", () => {
  it("every TypeScript sample is a compiled file of examples/src/readme, verbatim", () => {
    assert.isAtLeast(samples.length, 3)
    for (const sample of samples) {
      assert.isTrue(sources.includes(sample), `README sample not found verbatim in examples/src/readme:\n${sample.slice(0, 200)}`)
    }
  })

  it("has the quick start: install and demo, install and test", () => {
    const quick = /## Quick start\n+```sh\n([\s\S]*?)```/.exec(readme)
    assert.isNotNull(quick)
    const lines = quick![1]!.trim().split("\n")
    assert.deepStrictEqual(lines, [
      "npx -y pnpm@10 install && npx -y pnpm@10 demo",
      "npx -y pnpm@10 install && npx -y pnpm@10 test"
    ])
  })

  it.live("the quick-start sample runs against the emulator", () => QuickStart.program)

  it.effect("the testing sample recovers from a scripted failure with no HTTP", () =>
    Effect.map(Testing.test, (length) => assert.strictEqual(length, "scripted-token".length)))
})
