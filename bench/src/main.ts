/**
 * `pnpm bench [--quick] [--only herd1k,cachedGet] [--contenders ours,openid-client] [--rounds 3] [--inline]
 * [--no-write]`
 *
 * Runs every workload for ours and each peer, prints the tables and, on a full run, writes `bench/RESULTS.md`.
 * `--quick` runs a few seconds of everything in one process, to prove the harness still works.
 */
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import { fileURLToPath } from "node:url"
import { markdown } from "./report.js"
import { run } from "./runner.js"

const args = process.argv.slice(2)
const flag = (name: string) => args.includes(name)
const option = (name: string): string | undefined => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const list = (name: string) => option(name)?.split(",").map((s) => s.trim()).filter((s) => s !== "")

if (flag("--help") || flag("-h")) {
  process.stdout.write(
    "pnpm bench [--quick] [--only <workload,...>] [--contenders <name,...>] [--rounds <n>] [--inline] [--no-write]\n"
  )
  process.exit(0)
}

const quick = flag("--quick")
const roundsOption = option("--rounds")
const partial = option("--only") !== undefined || option("--contenders") !== undefined || roundsOption !== undefined

const commit = (() => {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
      .trim()
  } catch {
    return undefined
  }
})()

// Inline runs load our library in this process: start loading it while the server starts.
if (quick || flag("--inline")) void import("./ours.js")

const results = await run({
  profile: quick ? "quick" : "full",
  mode: quick || flag("--inline") ? "inline" : "process",
  workloads: list("--only"),
  contenders: list("--contenders"),
  rounds: roundsOption === undefined ? undefined : Number(roundsOption),
  log: (line) => process.stderr.write(`${line}\n`)
})

const report = markdown(results, commit === undefined ? {} : { commit })
process.stdout.write(`${report}\n`)

// Only a complete full run replaces the published results.
if (!quick && !partial && !flag("--no-write") && !flag("--inline")) {
  const path = fileURLToPath(new URL("../RESULTS.md", import.meta.url))
  Fs.writeFileSync(path, report)
  process.stderr.write(`wrote ${path}\n`)
}

const failed = results.workloads.some((w) => w.contenders.some((c) => c.rounds.length === 0))
process.exit(failed ? 1 : 0)
