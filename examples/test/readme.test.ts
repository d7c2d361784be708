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
const sources = fs.readdirSync(path.join(root, "examples/src/readme")).filter((f) => f.endsWith(".ts")).map((f) =>
  fs.readFileSync(path.join(root, "examples/src/readme", f), "utf8").trimEnd()
)

// A package README may also reuse a root README sample.
const packageSources = [
  ...sources,
  ...fs.readdirSync(path.join(root, "examples/src/readme/packages")).map((f) =>
    fs.readFileSync(path.join(root, "examples/src/readme/packages", f), "utf8").trimEnd()
  )
]
const packageReadmes = fs.readdirSync(path.join(root, "packages"))
  .map((name) => path.join(root, "packages", name, "README.md"))
  .filter((file) => fs.existsSync(file))

// The core-api sample targets a placeholder host: the type-check (tsc -b) is what keeps it from rotting.
describe("README", () => {
  it("every TypeScript sample is a compiled file of examples/src/readme, verbatim", () => {
    assert.isAtLeast(samples.length, 3)
    for (const sample of samples) {
      assert.isTrue(sources.includes(sample), `README sample not found verbatim in examples/src/readme:\n${sample.slice(0, 200)}`)
    }
  })

  it("every TypeScript sample of a package README is a compiled file of examples/src/readme/packages, verbatim", () => {
    let count = 0
    for (const file of packageReadmes) {
      for (const match of fs.readFileSync(file, "utf8").matchAll(/```ts\n([\s\S]*?)```/g)) {
        count++
        assert.isTrue(
          packageSources.includes(match[1]!.trimEnd()),
          `${path.relative(root, file)}: sample not found verbatim in examples/src/readme (or its packages/):\n${match[1]!.slice(0, 200)}`
        )
      }
    }
    assert.isAtLeast(count, 7)
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
