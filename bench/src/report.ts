/**
 * Turns rounds into tables: median (min–max) per metric, the ratio of each peer to ours, and whether ours met each
 * target.
 */
import { peerByName, peers } from "./peers.js"
import type { ContenderResult, Results, WorkloadResult } from "./runner.js"
import { max, median, min } from "./stats.js"
import {
  boundaryBound,
  type BoundaryParams,
  contenderNames,
  type MetricSpec,
  OURS,
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
  readonly met: boolean | undefined
  readonly detail: string
}

/** Whether ours met the workload's target, with the figures it rests on. */
export const verdict = (w: WorkloadResult): Verdict => {
  const ours = contenderOf(w, OURS)
  if (ours === undefined || ours.rounds.length === 0) return { met: undefined, detail: "ours did not run" }
  const s = (c: ContenderResult, key: string) => summarise(c, key)
  const peerResults = w.contenders.filter((c) => peerByName(c.contender) !== undefined && c.rounds.length > 0)
  switch (w.workload.id) {
    case "herd1k":
    case "herd10k": {
      const requests = s(ours, "tokenRequests")
      const failures = s(ours, "failures").max
      const badgateway = contenderOf(w, "@badgateway/oauth2-client")
      const oursMs = s(ours, "ms").median
      const bgMs = badgateway === undefined ? Number.NaN : s(badgateway, "ms").median
      const oneRequest = requests.min === 1 && requests.max === 1 && failures === 0
      const fast = !Number.isNaN(bgMs) && oursMs <= bgMs
      return {
        met: oneRequest && (Number.isNaN(bgMs) ? undefined : fast),
        detail: `token requests ${requests.min === requests.max ? requests.max : `${requests.min}–${requests.max}`}, ` +
          `failures ${failures}; ${formatNumber(oursMs, 1)} ms vs @badgateway ${formatNumber(bgMs, 1)} ms ` +
          `(ours ÷ @badgateway = ${formatNumber(oursMs / bgMs, 2)})`
      }
    }
    case "cachedGet": {
      const oursOps = s(ours, "opsPerSec").median
      const best = peerResults.map((c) => ({ name: c.contender, ops: s(c, "opsPerSec").median }))
        .sort((a, b) => b.ops - a.ops)[0]
      if (best === undefined) return { met: undefined, detail: "no peer ran" }
      return {
        met: oursOps > best.ops,
        detail: `${formatNumber(oursOps)} gets/s vs best peer ${best.name} ${formatNumber(best.ops)} ` +
          `(ours ÷ best = ${formatNumber(oursOps / best.ops, 2)})`
      }
    }
    case "overhead": {
      const r = s(ours, "ratio").median
      const cpu = s(ours, "cpuRatio").median
      return {
        met: r >= 0.97,
        detail: `authorised ÷ bare = ${formatNumber(r, 3)} (req/s), ${formatNumber(cpu, 3)} (client CPU per request)`
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
        detail: `worst round: waited ${waited} (≥ ${waitedThreshold(params.latencyMs)} ms), expired sent ${expired}, ` +
          `401 at server ${server401}, 401 to app ${app401}, errors ${errors}, token requests ${requests} ` +
          `(bound ${bound} = 1 + ⌈${params.durationMs / 1000} s ÷ (${params.lifetimeSec} s − ${
            Math.min(60, params.lifetimeSec / 2)
          } s)⌉)`
      }
    }
    case "missingExpiry": {
      const failed = s(ours, "failed").max
      return { met: failed === 0, detail: `worst round: ${failed} failed of ${s(ours, "calls").max}` }
    }
    case "longRun": {
      const growth = s(ours, "heapGrowthMB").max
      const retained = s(ours, "heapRetainedMB").max
      const fibers = s(ours, "fibersLeft").max
      return {
        met: growth < 5 && retained < 5 && fibers === 0,
        detail: `heap growth ${formatNumber(growth, 2)} MB, retained after close ${formatNumber(retained, 2)} MB, ` +
          `fibers left ${fibers}, handles left ${s(ours, "handlesLeft").max}`
      }
    }
    case "coldStart": {
      const fetch = contenderOf(w, "fetch")
      const oursMs = s(ours, "ms").median
      const fetchMs = fetch === undefined ? Number.NaN : s(fetch, "ms").median
      return {
        met: Number.isNaN(fetchMs) ? undefined : oursMs <= 1.2 * fetchMs,
        detail: `${formatNumber(oursMs, 1)} ms vs fetch ${formatNumber(fetchMs, 1)} ms (ours ÷ fetch = ${
          formatNumber(oursMs / fetchMs, 2)
        })`
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
  const header = [
    "library",
    "cache",
    ...specs.map((m) => m.label),
    ...(hasWarmup ? ["first round"] : []),
    ...(ratioKey === undefined ? [] : [`${specs.find((m) => m.key === ratioKey)?.label ?? ratioKey}: ÷ ours`])
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
      ...(ratioKey === undefined ? [] : [c.contender === OURS ? "1" : formatNumber(ratio(w, c.contender), 2)])
    ]
    if (c.rounds.length === 0) row[2] = `failed: ${(c.error ?? "no rounds").split("\n")[0]}`
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
  const lines = ["| workload | target | ours | verdict |", "|---|---|---|---|"]
  for (const w of results.workloads) {
    const v = verdict(w)
    lines.push(`| ${w.workload.title} | ${w.workload.target} | ${v.detail} | ${metText(v)} |`)
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
        "contenders that crash their process left out. These figures only prove the harness runs; they measure nothing."
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
