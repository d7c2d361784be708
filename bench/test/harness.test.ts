/**
 * One tiny round of every workload, ours only, through the same harness code `pnpm bench` runs. Behaviour only:
 * never a timing.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { markdown } from "../src/report.js"
import type { Results } from "../src/runner.js"
import * as Server from "../src/server.js"
import { type Job, type JobResult, runJob } from "../src/worker.js"
import {
  boundaryBound,
  type BoundaryParams,
  overheadOrder,
  overheadRound,
  type ParamsById,
  type Round,
  workloadById,
  type WorkloadId
} from "../src/workloads.js"

let server: Server.Server
const results: Array<{ readonly workload: WorkloadId; readonly params: unknown; readonly result: JobResult }> = []

beforeAll(async () => {
  server = await Server.start()
})
afterAll(async () => {
  await server.close()
})

/** One round of `workload` for ours with `params`; fails the test on a harness error. */
const once = async <Id extends WorkloadId>(workload: Id, params: ParamsById[Id]): Promise<Round> => {
  const job: Job = {
    workload,
    contender: "ours",
    profile: "quick",
    base: server.url,
    rounds: 1,
    warmup: false,
    runId: `test${Math.random().toString(36).slice(2, 8)}`,
    params
  }
  const result = await runJob(job)
  results.push({ workload, params, result })
  assert.isUndefined(result.error, result.error)
  assert.strictEqual(result.rounds.length, 1)
  return result.rounds[0]!
}

describe("bench harness, ours only", () => {
  it("herd: every caller gets a token from exactly one token request", async () => {
    for (const id of ["herd1k", "herd10k"] as const) {
      const round = await once(id, { n: 300, latencyMs: 20 })
      assert.strictEqual(round.tokenRequests, 1, id)
      assert.strictEqual(round.failures, 0, id)
    }
  })

  it("cached get: the loop runs on the cached token", async () => {
    const round = await once("cachedGet", { n: 10_000, warmup: 1_000 })
    assert.isAbove(round.opsPerSec!, 0)
  })

  it("authorised requests: every request answered 200, bare and authorised", async () => {
    const round = await once("overhead", { concurrency: 5, segmentMs: 50, segments: 2, warmupMs: 20 })
    assert.strictEqual(round.failures, 0)
    assert.isAbove(round.authRps!, 0)
    assert.isAbove(round.bareRps!, 0)
  })

  it("authorised requests: segments alternate ABBA BAAB, each side as often, starting side by round parity", () => {
    const text = (order: ReadonlyArray<boolean>) => order.map((auth) => (auth ? "A" : "B")).join("")
    assert.strictEqual(text(overheadOrder(4, 0)), "BAABABBA")
    assert.strictEqual(text(overheadOrder(4, 1)), "ABBABAAB")
    assert.strictEqual(text(overheadOrder(1, 0)), "BA")
    const round = overheadRound(overheadOrder(2, 0), [
      { rps: 100, cpuUsPerRequest: 10, failures: 0 },
      { rps: 90, cpuUsPerRequest: 12, failures: 1 },
      { rps: 80, cpuUsPerRequest: 12, failures: 0 },
      { rps: 120, cpuUsPerRequest: 10, failures: 0 }
    ])
    // B A A B: bare 100 and 120, authorised 90 and 80.
    assert.strictEqual(round.bareRps, 110)
    assert.strictEqual(round.authRps, 85)
    assert.strictEqual(round.ratio, 85 / 110)
    assert.strictEqual(round.cpuRatio, 10 / 12)
    assert.strictEqual(round.failures, 1)
  })

  it("refresh boundary: refreshed in the background, no expired token sent, no 401", async () => {
    const params: BoundaryParams = { lifetimeSec: 2, workers: 5, durationMs: 1_500, pauseMs: 10, latencyMs: 20 }
    const round = await once("boundary", params)
    assert.strictEqual(round.expiredTokenSent, 0)
    assert.strictEqual(round.server401, 0)
    assert.strictEqual(round.app401, 0)
    assert.strictEqual(round.errors, 0)
    // The refresh point (1 s) falls inside the run: one background refresh, within the bound.
    assert.isAtLeast(round.tokenRequests!, 1)
    assert.isAtMost(round.tokenRequests!, boundaryBound(params))
  })

  it("missing expires_in: no failure, renewed through the default lifetime", async () => {
    const round = await once("missingExpiry", { lifetimeSec: 1, calls: 12, intervalMs: 100, latencyMs: 20 })
    assert.strictEqual(round.failed, 0)
    assert.strictEqual(round.server401, 0)
    assert.isAtLeast(round.tokenRequests!, 2)
  })

  it("long run: one token request per cycle, no fiber or timer left after the scope closes", async () => {
    const params = { gets: 2_000, cycles: 20, warmupCycles: 2, lifetimeSec: 3600 }
    const round = await once("longRun", params)
    assert.strictEqual(round.tokenRequests, 1 + params.warmupCycles + params.cycles)
    assert.strictEqual(round.fibersLeft, 0)
    assert.strictEqual(round.timersLeft, 0)
  })

  it("cold start: a first token", async () => {
    const round = await once("coldStart", { latencyMs: 20 })
    assert.isAbove(round.ms!, 0)
  })

  it("realistic bot: every authorised and bare call answered 200, no token request on a valid token", async () => {
    // Tokens of an hour: the run is far from any refresh, so the server must see no token request and no 401.
    const round = await once("bot", {
      lifetimeSec: 3600,
      workers: 2,
      concurrency: 3,
      durationMs: 300,
      bareMs: 200,
      warmupMs: 0,
      latencyMs: 20
    })
    assert.isAbove(round.calls!, 0)
    assert.strictEqual(round.failed, 0)
    assert.strictEqual(round.app401, 0)
    assert.strictEqual(round.server401, 0)
    assert.strictEqual(round.tokenRequests, 0)
    assert.strictEqual(round.bareFailed, 0)
    assert.isFalse(Number.isNaN(round.addedP50!))
    assert.isFalse(Number.isNaN(round.addedP99!))
  })

  it("the report renders every workload's table", () => {
    const now = new Date()
    const report: Results = {
      profile: "quick",
      mode: "inline",
      startedAt: now,
      finishedAt: now,
      loadBefore: "0 0 0",
      loadAfter: "0 0 0",
      machine: { cpu: "test", cores: 1, memoryGB: 1, os: "test", node: process.version },
      workloads: results.map(({ params, result, workload }) => ({
        workload: workloadById(workload)!,
        params,
        contenders: [{ contender: "ours", ...result, warmups: [], errors: [] }]
      }))
    }
    const text = markdown(report)
    for (const { workload } of results) assert.include(text, `## ${workloadById(workload)!.title}`)
    assert.include(text, "## Targets")
  })
})
