/**
 * Turns rounds into tables: median (min–max) per metric, the ratio of each peer to ours, and whether ours met each
 * target.
 */
import { failureText, markdownCell } from "./failure.js"
import { peerByName, peers } from "./peers.js"
import type { ContenderResult, Results, WorkloadResult } from "./runner.js"
import { max, median, min } from "./stats.js"
import {
  type BotParams,
  boundaryBound,
  type BoundaryParams,
  contenderNames,
  isOurs,
  type MetricSpec,
  OURS,
  TARGETS,
  waitedThreshold
} from "./workloads.js"

export interface Summary {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly n: number
}

export const summarise = (result: ContenderResult, key: string): Summary => {
  const values = result.rounds.map((r) => r[key]).filter((v): v is number => typeof v === "number")
  return { median: median(values), min: min(values), max: max(values), n: values.length }
}

export const displayName = (contender: string): string => {
  const peer = peerByName(contender)
  return peer !== undefined ? `${peer.name} ${peer.version}` : contenderNames[contender] ?? contender
}

const cacheOf = (contender: string): string => {
  const peer = peerByName(contender)
  return peer === undefined ? (contender === "fetch" || contender.startsWith("floor:") ? "—" : "built-in") : peer.cache
}

export const formatNumber = (value: number, digits = 0): string => {
  if (Number.isNaN(value)) return "—"
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "-∞"
  if (Math.abs(value) >= 1e6 && digits === 0) return `${(value / 1e6).toFixed(2)}M`
  if (Math.abs(value) >= 1e4 && digits === 0) return `${(value / 1e3).toFixed(1)}k`
  return value.toFixed(digits)
}

const cell = (s: Summary, spec: MetricSpec): string => {
  if (s.n === 0) return "—"
  const f = (v: number) => formatNumber(v, spec.digits ?? 0)
  if (s.n === 1 || f(s.min) === f(s.max)) return f(s.median)
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`
}

const contenderOf = (w: WorkloadResult, contender: string) => w.contenders.find((c) => c.contender === contender)

/** Peer ÷ ours on the workload's ratio metric. */
export const ratio = (w: WorkloadResult, contender: string): number => {
  const key = w.workload.ratioOf
  const ours = contenderOf(w, OURS)
  const other = contenderOf(w, contender)
  if (key === undefined || ours === undefined || other === undefined) return Number.NaN
  return summarise(other, key).median / summarise(ours, key).median
}

export interface Verdict {
  /** Met, not met, or `undefined` when it cannot be told (ours or its comparison did not run). */
  readonly met: boolean | undefined
  /** Ours' figures the verdict rests on. */
  readonly ours: string
  /** The floor or peer ours is compared with, measured in the same run ("—" when none). */
  readonly reference: string
  /** Ours ÷ the reference, as the target states it ("—" when none). */
  readonly ratio: string
}

/** `value` against a bound: `undefined` when the value is not a number (something did not run). */
export const within = (value: number, op: "≤" | "≥", limit: number): boolean | undefined =>
  Number.isNaN(value) ? undefined : op === "≤" ? value <= limit : value >= limit

/** All of `checks` met, any not met, or unknown when none fails and one is unknown. */
export const allMet = (...checks: ReadonlyArray<boolean | undefined>): boolean | undefined =>
  checks.some((c) => c === false) ? false : checks.some((c) => c === undefined) ? undefined : true

const times = (r: number, of: string) => (Number.isNaN(r) ? "—" : `${formatNumber(r, 2)}× ${of}`)
const range = (s: Summary) => (s.min === s.max ? formatNumber(s.max) : `${formatNumber(s.min)}–${formatNumber(s.max)}`)
const processes = (n: number) => `${n} ${n === 1 ? "process" : "processes"}`
const notRun = (c: ContenderResult | undefined, name: string) =>
  c === undefined ? `${name}: did not run` : `${name}: ${c.failure === undefined ? "no rounds" : failureText(c.failure)}`

/** Whether ours met the workload's target, against the floor or peer measured in the same run. */
export const verdict = (w: WorkloadResult): Verdict => {
  const ours = contenderOf(w, OURS)
  if (ours === undefined || ours.rounds.length === 0) {
    return { met: undefined, ours: notRun(ours, "ours"), reference: "—", ratio: "—" }
  }
  const s = (c: ContenderResult, key: string) => summarise(c, key)
  const ran = (c: ContenderResult | undefined): c is ContenderResult => c !== undefined && c.rounds.length > 0
  const floor = w.workload.floor === undefined ? undefined : contenderOf(w, w.workload.floor)
  const floorName = w.workload.floor === undefined ? "" : displayName(w.workload.floor)
  const peerResults = w.contenders.filter((c) => peerByName(c.contender) !== undefined && ran(c))
  switch (w.workload.id) {
    case "herd1k":
    case "herd10k": {
      const requests = s(ours, "tokenRequests")
      const failures = s(ours, "failures").max
      const oursMs = s(ours, "ms").median
      const floorMs = ran(floor) ? s(floor, "ms").median : Number.NaN
      const r = oursMs / floorMs
      const withRequest = contenderOf(w, "floor:herdRequest")
      const withRequestMs = ran(withRequest) ? s(withRequest, "ms").median : Number.NaN
      return {
        met: allMet(requests.min === 1 && requests.max === 1 && failures === 0, within(r, "≤", TARGETS.herdFloorRatio)),
        ours: `${formatNumber(oursMs, 1)} ms, token requests ${range(requests)}, failed calls ${failures}`,
        reference: `${ran(floor) ? `${floorName}: ${formatNumber(floorMs, 1)} ms` : notRun(floor, floorName)}${
          withRequest === undefined
            ? ""
            : ran(withRequest)
            ? `; with the token request (one HttpClient POST on a new connection, no library): ${
              formatNumber(withRequestMs, 1)
            } ms`
            : `; ${notRun(withRequest, displayName("floor:herdRequest"))}`
        }`,
        ratio: `${times(r, "floor")}${
          ran(withRequest) ? `; ${times(oursMs / withRequestMs, "the floor with the token request")}` : ""
        }`
      }
    }
    case "cachedGet": {
      const oursOps = s(ours, "opsPerSec").median
      const best = peerResults.map((c) => ({ name: displayName(c.contender), ops: s(c, "opsPerSec").median }))
        .sort((a, b) => b.ops - a.ops)[0]
      const floorOps = ran(floor) ? s(floor, "opsPerSec").median : Number.NaN
      const r = best === undefined ? Number.NaN : oursOps / best.ops
      return {
        met: within(r, "≥", TARGETS.cachedGetPeerRatio),
        ours: `${formatNumber(oursOps)} gets/s`,
        reference: `${best === undefined ? "no peer ran" : `best peer ${best.name}: ${formatNumber(best.ops)} gets/s`}; ${
          ran(floor) ? `${floorName}: ${formatNumber(floorOps)} gets/s` : notRun(floor, floorName)
        }`,
        ratio: `${times(r, "best peer")}; ${times(oursOps / floorOps, "floor")} (the floor itself: ${
          times(best === undefined ? Number.NaN : floorOps / best.ops, "best peer")
        })`
      }
    }
    case "overhead": {
      const r = s(ours, "ratio").median
      const cpu = s(ours, "cpuRatio").median
      const bounded = contenderOf(w, "floor:bounded")
      return {
        met: allMet(within(r, "≥", TARGETS.overheadRatio), within(cpu, "≥", TARGETS.overheadRatio)),
        ours: `${formatNumber(s(ours, "authRps").median)} req/s, ${formatNumber(s(ours, "authCpuUs").median, 1)} µs CPU/req`,
        reference: `bare client, same process: ${formatNumber(s(ours, "bareRps").median)} req/s, ${
          formatNumber(s(ours, "bareCpuUs").median, 1)
        } µs CPU/req${
          bounded === undefined
            ? ""
            : ran(bounded)
            ? `; the bare request bounded by Effect.timeout ÷ bare: ${formatNumber(s(bounded, "ratio").median, 3)} (req/s), ${
              formatNumber(s(bounded, "cpuRatio").median, 3)
            } (CPU)`
            : `; ${notRun(bounded, displayName("floor:bounded"))}`
        }`,
        ratio: `${formatNumber(r, 3)} (req/s), ${formatNumber(cpu, 3)} (CPU)`
      }
    }
    case "boundary": {
      const params = w.params as BoundaryParams
      const bound = boundaryBound(params)
      const waited = s(ours, "waited").max
      const expired = s(ours, "expiredTokenSent").max
      const server401 = s(ours, "server401").max
      const app401 = s(ours, "app401").max
      const errors = s(ours, "errors").max
      const requests = s(ours, "tokenRequests").max
      return {
        met: waited === 0 && expired === 0 && server401 === 0 && app401 === 0 && errors === 0 && requests <= bound,
        ours: `worst round: waited ${waited} (≥ ${waitedThreshold(params.latencyMs)} ms), expired sent ${expired}, ` +
          `401 at server ${server401}, 401 to app ${app401}, errors ${errors}, token requests ${requests} ` +
          `(bound ${bound} = 1 + ⌈${params.durationMs / 1000} s ÷ (${params.lifetimeSec} s − ${
            Math.min(60, params.lifetimeSec / 2)
          } s)⌉)`,
        reference: "—",
        ratio: "—"
      }
    }
    case "missingExpiry": {
      const failed = s(ours, "failed").max
      return { met: failed === 0, ours: `worst round: ${failed} failed of ${s(ours, "calls").max}`, reference: "—", ratio: "—" }
    }
    case "longRun": {
      const growth = s(ours, "heapGrowthMB").max
      const retained = s(ours, "heapRetainedMB").max
      const fibers = s(ours, "fibersLeft").max
      return {
        met: growth < 5 && retained < 5 && fibers === 0,
        ours: `heap growth ${formatNumber(growth, 2)} MB, retained after close ${formatNumber(retained, 2)} MB, ` +
          `fibers left ${fibers}, handles left ${s(ours, "handlesLeft").max}`,
        reference: "—",
        ratio: "—"
      }
    }
    case "coldStart": {
      const oursMs = s(ours, "ms").median
      const floorMs = ran(floor) ? s(floor, "ms").median : Number.NaN
      const r = oursMs / floorMs
      const processRatio = s(ours, "processMs").median / (ran(floor) ? s(floor, "processMs").median : Number.NaN)
      return {
        met: within(r, "≤", TARGETS.coldStartRatio),
        ours: `${formatNumber(oursMs, 1)} ms (median of ${processes(ours.rounds.length)})`,
        reference: ran(floor)
          ? `${floorName}: ${formatNumber(floorMs, 1)} ms (median of ${processes(floor.rounds.length)})`
          : notRun(floor, floorName),
        ratio: `${times(r, "reference")} (from process start: ${times(processRatio, "reference")})`
      }
    }
    case "bot": {
      const params = w.params as BotParams
      const bound = boundaryBound(params)
      const requests = s(ours, "tokenRequests").max
      const server401 = s(ours, "server401").max
      const failed = s(ours, "failed").max
      const p50 = s(ours, "addedP50").median
      const p99 = s(ours, "addedP99").median
      return {
        met: allMet(server401 === 0, failed === 0, requests <= bound),
        ours: `token requests ${requests} (bound ${bound}), 401 at server ${server401}, failed ${failed} of ${
          formatNumber(s(ours, "calls").median)
        }; added latency p50 ${formatNumber(p50, 2)} ms, p99 ${formatNumber(p99, 2)} ms`,
        reference: `bare client, same load: p50 ${formatNumber(s(ours, "bareP50").median, 2)} ms, p99 ${
          formatNumber(s(ours, "bareP99").median, 2)
        } ms`,
        ratio: `p50 ${times(s(ours, "authP50").median / s(ours, "bareP50").median, "bare")}, p99 ${
          times(s(ours, "authP99").median / s(ours, "bareP99").median, "bare")
        }`
      }
    }
  }
}

const metText = (v: Verdict) => (v.met === undefined ? "n/a" : v.met ? "**met**" : "**NOT met**")

/** The table of one workload, in markdown. */
export const table = (w: WorkloadResult): string => {
  const specs = w.workload.metrics
  const hasWarmup = w.contenders.some((c) => c.warmups.length > 0)
  const ratioKey = w.workload.ratioOf
  const floorKey = w.workload.floor
  const floor = floorKey === undefined ? undefined : contenderOf(w, floorKey)
  const floorMedian = floor === undefined || ratioKey === undefined ? Number.NaN : summarise(floor, ratioKey).median
  const header = [
    "library",
    "cache",
    ...specs.map((m) => m.label),
    ...(hasWarmup ? ["first round"] : []),
    ...(ratioKey === undefined ? [] : [`${specs.find((m) => m.key === ratioKey)?.label ?? ratioKey}: ÷ ours`]),
    ...(ratioKey === undefined || floorKey === undefined
      ? []
      : [`${specs.find((m) => m.key === ratioKey)?.label ?? ratioKey}: ÷ floor`])
  ]
  const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`]
  for (const c of w.contenders) {
    const row = [
      displayName(c.contender),
      cacheOf(c.contender),
      ...specs.map((m) => cell(summarise(c, m.key), m)),
      ...(hasWarmup
        ? [
          c.warmups.length === 0
            ? "—"
            : formatNumber(median(c.warmups.map((r) => r[specs[0]!.key] ?? Number.NaN)), specs[0]!.digits ?? 0)
        ]
        : []),
      ...(ratioKey === undefined ? [] : [c.contender === OURS ? "1" : formatNumber(ratio(w, c.contender), 2)]),
      ...(ratioKey === undefined || floorKey === undefined
        ? []
        : [
          c.contender === floorKey
            ? "1"
            : isOurs(c.contender)
            ? formatNumber(summarise(c, ratioKey).median / floorMedian, 2)
            : "—"
        ])
    ]
    const failures = c.failures ?? (c.failure === undefined ? [] : [c.failure])
    if (c.rounds.length === 0) {
      const failure = c.failure ?? failures[0] ?? { kind: "failed", reason: (c.error ?? "no rounds").split("\n")[0]! }
      row[2] = markdownCell(failureText(failure))
      for (let i = 3; i < row.length; i++) row[i] = "—"
    } else if (failures.length > 0) {
      row[0] = `${row[0]} (${failures[0]!.kind} in ${failures.length} of ${c.jobs ?? failures.length} ${
        (c.jobs ?? 0) > 1 ? "processes" : "process"
      }; see Errors)`
    }
    lines.push(`| ${row.join(" | ")} |`)
  }
  return lines.join("\n")
}

const paramsText = (params: unknown): string =>
  Object.entries(params as Record<string, unknown>).map(([k, v]) => `${k} ${String(v)}`).join(", ")

/** Errors of any contender, in full (stack traces), for the end of a report. */
const errorsText = (results: Results): Array<string> =>
  results.workloads.flatMap((w) =>
    w.contenders.flatMap((c) => c.errors.map((e) => `- ${w.workload.id} / ${displayName(c.contender)}: ${e.split("\n").slice(0, 4).join(" ⏎ ")}`))
  )

/** The targets at a glance. */
export const targetsTable = (results: Results): string => {
  const lines = [
    "| workload | target | ours | floor / peer (same run) | ratio | met? |",
    "|---|---|---|---|---|---|"
  ]
  for (const w of results.workloads) {
    const v = verdict(w)
    const cells = [w.workload.title, w.workload.target, v.ours, v.reference, v.ratio].map(markdownCell)
    lines.push(`| ${cells.join(" | ")} | ${metText(v)} |`)
  }
  return lines.join("\n")
}

/** The whole report, in markdown: machine, targets, then each workload's table and method. */
export const markdown = (results: Results, options: { readonly commit?: string; readonly notes?: string } = {}): string => {
  const m = results.machine
  const seconds = (results.finishedAt.getTime() - results.startedAt.getTime()) / 1000
  const parts = [
    "# Benchmarks",
    "",
    `\`pnpm bench${results.profile === "quick" ? " --quick" : ""}\`, ${results.startedAt.toISOString()} (${
      seconds.toFixed(0)
    } s)${options.commit === undefined ? "" : `, commit ${options.commit}`}.`,
    "",
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGB} GB, ${m.os}; Node ${m.node}.`,
    `- Load average (1, 5, 15 min): ${results.loadBefore} at the start, ${results.loadAfter} at the end.` +
    " The machine is shared: other work ran during the measurements, so figures are noisy; compare ratios taken in " +
    "the same run rather than absolute figures across runs.",
    results.mode === "inline"
      ? "- Mode: **quick** (or inline): everything in one process, the contenders of time-bound workloads at once, " +
        "contenders that crash their process skipped. These figures only prove the harness runs; they measure nothing."
      : "- Mode: the server in a process of its own; each contender's rounds in a fresh child process " +
        "(one per round for the long run and cold start), one after the other.",
    "- Cells: median of the rounds, (min–max) when they differ. *÷ ours*: the peer's median divided by ours " +
    "(for times, above 1 means the peer is slower; for rates, above 1 means the peer is faster).",
    "",
    "## Targets",
    "",
    targetsTable(results),
    ""
  ]
  parts.push(
    "## How each library is used",
    "",
    "- effect-oauth2 (ours): `AccessTokens.layer()` over `OAuth2Client.layer` over `NodeHttpClient.layerUndici`; " +
    "`yield* tokens.get`; `OAuth2HttpClient.withAccessToken(client, tokens)` for requests. Defaults everywhere " +
    "(refresh skew 60 s, clamped to half the lifetime); logging off.",
    ...peers.map((p) => `- ${p.name} ${p.version} (${p.cache} cache): ${p.usage}.`),
    ""
  )
  if (options.notes !== undefined) parts.push(options.notes, "")
  for (const w of results.workloads) {
    parts.push(`## ${w.workload.title}`, "", w.workload.method, "", `Parameters: ${paramsText(w.params)}.`, "", table(w), "")
  }
  const errors = errorsText(results)
  if (errors.length > 0) parts.push("## Errors", "", ...errors, "")
  return parts.join("\n")
}
