/**
 * `pnpm bench [--quick] [--only herd1k,cachedGet] [--contenders ours,openid-client] [--rounds 3] [--inline]
 * [--no-write] [--peers ./my-peer.ts]` · `pnpm bench --render bench/.tmp/results.json`
 *
 * Runs every workload for ours and each peer, prints the tables and, on a full run, writes `bench/RESULTS.md`.
 * `--quick` runs a few seconds of everything in one process, to prove the harness still works.
 * Exits 1 only when ours or a reference did not finish (or, in `--quick`, a peer's job threw): a peer that crashes
 * its process is reported as crashed and the run goes on.
 */
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { markdown } from "./report.js"
import { type Results, run, runProblems } from "./runner.js"
import { workloadById } from "./workloads.js"

/** A saved run, back from JSON: dates, NaN, and each workload's definition. */
const revive = (raw: any): Results => {
  const nan = (v: unknown): unknown =>
    v === "NaN" ? Number.NaN : Array.isArray(v) ? v.map(nan) : typeof v === "object" && v !== null
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, nan(x)]))
      : v
  const r = nan(raw) as any
  return {
    ...r,
    startedAt: new Date(r.startedAt),
    finishedAt: new Date(r.finishedAt),
    workloads: r.workloads.map((w: any) => ({ ...w, workload: workloadById(w.workload.id) ?? w.workload }))
  }
}

const args = process.argv.slice(2)
const flag = (name: string) => args.includes(name)
const option = (name: string): string | undefined => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const list = (name: string) => option(name)?.split(",").map((s) => s.trim()).filter((s) => s !== "")

if (flag("--help") || flag("-h")) {
  process.stdout.write(
    "pnpm bench [--quick] [--only <workload,...>] [--contenders <name,...>] [--rounds <n>] [--inline] [--no-write]\n" +
      "           [--peers <module,...>]   (modules that export `peers: ReadonlyArray<Peer>`: more libraries to measure)\n" +
      "pnpm bench --render bench/.tmp/results.json   (re-render RESULTS.md from the last full run)\n" +
      "Exits 1 only when ours or a reference did not finish (in --quick, also when a peer's job threw);\n" +
      "a peer that crashes or hangs is shown as such in its table.\n"
  )
  process.exit(0)
}

const quick = flag("--quick")
const roundsOption = option("--rounds")
const peerModules = list("--peers")?.map((p) => pathToFileURL(Path.resolve(p)).href)
const partial = option("--only") !== undefined || option("--contenders") !== undefined || roundsOption !== undefined ||
  peerModules !== undefined

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

// `--render <results.json>` re-renders a saved run (e.g. after editing ANALYSIS.md) instead of running.
const render = option("--render")
const results: Results = render !== undefined
  ? revive(JSON.parse(Fs.readFileSync(render, "utf8")))
  : await run({
    profile: quick ? "quick" : "full",
    mode: quick || flag("--inline") ? "inline" : "process",
    workloads: list("--only"),
    contenders: list("--contenders"),
    rounds: roundsOption === undefined ? undefined : Number(roundsOption),
    peerModules,
    log: (line) => process.stderr.write(`${line}\n`)
  })

const analysisPath = fileURLToPath(new URL("../ANALYSIS.md", import.meta.url))
const notes = results.profile === "full" && Fs.existsSync(analysisPath) ? Fs.readFileSync(analysisPath, "utf8").trim() : undefined
const runCommit = render === undefined ? commit : results.commit
const report = markdown(results, { ...(runCommit === undefined ? {} : { commit: runCommit }), ...(notes === undefined ? {} : { notes }) })
process.stdout.write(`${report}\n`)

// Only a complete full run (or the re-rendering of one) replaces the published results.
if (!quick && !partial && !flag("--no-write") && !flag("--inline")) {
  const path = fileURLToPath(new URL("../RESULTS.md", import.meta.url))
  Fs.writeFileSync(path, `${report}\n`)
  process.stderr.write(`wrote ${path}\n`)
  if (render === undefined) {
    const raw = fileURLToPath(new URL("../.tmp/results.json", import.meta.url))
    Fs.mkdirSync(fileURLToPath(new URL("../.tmp/", import.meta.url)), { recursive: true })
    Fs.writeFileSync(
      raw,
      JSON.stringify({ ...results, commit }, (_, v: unknown) => (typeof v === "number" && Number.isNaN(v) ? "NaN" : v))
    )
    process.stderr.write(`wrote ${raw} (re-render with --render)\n`)
  }
}

// The exit status says whether the harness and our library worked: a peer that crashes, hangs or throws is a finding,
// shown in its table, and does not fail a full run (see `runProblems`).
const problems = runProblems(results)
for (const problem of problems) process.stderr.write(`FAILED ${problem}\n`)
process.exit(problems.length > 0 ? 1 : 0)
