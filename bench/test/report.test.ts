/**
 * The summary's verdicts: each of issue 17's targets, computed from ours and the floor or peer of the same run, as
 * a class of inputs; and what decides the run's exit status.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "effect/FastCheck"
import { allMet, table, targetsTable, verdict, within } from "../src/report.js"
import { type ContenderResult, type Results, runProblems, selectContenders, type WorkloadResult } from "../src/runner.js"
import { median } from "../src/stats.js"
import { OURS, type Round, TARGETS, workloadById, type WorkloadId } from "../src/workloads.js"

const contender = (name: string, rounds: ReadonlyArray<Round>, extra: Partial<ContenderResult> = {}): ContenderResult => ({
  contender: name,
  rounds,
  warmups: [],
  errors: [],
  ...extra
})

const crashed = (name: string, reason = "process died (exit 1): Error [ERR_INTERNAL_ASSERTION]: boom"): ContenderResult =>
  contender(name, [], { failure: { kind: "crashed", reason }, failures: [{ kind: "crashed", reason }], jobs: 1 })

const result = (id: WorkloadId, contenders: ReadonlyArray<ContenderResult>, profile: "quick" | "full" = "full"): WorkloadResult => {
  const workload = workloadById(id)!
  return { workload, params: workload.params[profile], contenders }
}

const results = (workloads: ReadonlyArray<WorkloadResult>, profile: "quick" | "full" = "full"): Results => ({
  profile,
  mode: "process",
  startedAt: new Date(0),
  finishedAt: new Date(1000),
  loadBefore: "0 0 0",
  loadAfter: "0 0 0",
  machine: { cpu: "test", cores: 2, memoryGB: 1, os: "test", node: "v20" },
  workloads
})

/** 1 to 5 positive figures (rounds). */
const figures = fc.array(fc.double({ min: 1, max: 10_000, noNaN: true }), { minLength: 1, maxLength: 5 })

describe("verdicts against the floor or peer of the same run", () => {
  it.prop(
    "herd: met exactly when ours' median is within 1.2× the floor's and every round made 1 token request, failing none",
    {
      ours: figures,
      floor: figures,
      requests: fc.array(fc.constantFrom(1, 1, 1, 2, 3), { minLength: 5, maxLength: 5 }),
      failures: fc.constantFrom(0, 0, 0, 7)
    },
    ({ failures, floor, ours, requests }) => {
      for (const id of ["herd1k", "herd10k"] as const) {
        const w = result(id, [
          contender(OURS, ours.map((ms, i) => ({ ms, tokenRequests: requests[i]!, failures }))),
          contender("floor:herd", floor.map((ms) => ({ ms, tokenRequests: 0, failures: 0 })))
        ])
        const v = verdict(w)
        const ratio = median(ours) / median(floor)
        const oneRequest = ours.every((_, i) => requests[i] === 1) && failures === 0
        assert.strictEqual(v.met, ratio <= TARGETS.herdFloorRatio && oneRequest)
        assert.strictEqual(v.ratio, `${ratio.toFixed(2)}× floor`)
      }
    }
  )

  it("herd: the issue's figures (102 ms against a 60 ms floor) are not met; 70 against 60 is", () => {
    const herd = (oursMs: number, floorMs: number) =>
      verdict(result("herd1k", [
        contender(OURS, [{ ms: oursMs, tokenRequests: 1, failures: 0 }]),
        contender("floor:herd", [{ ms: floorMs, tokenRequests: 0, failures: 0 }])
      ]))
    assert.deepStrictEqual(herd(102, 60), {
      met: false,
      ours: "102.0 ms, token requests 1, failed calls 0",
      reference: "reference: Effect.all of n Deferred.await (no library): 60.0 ms",
      ratio: "1.70× floor"
    })
    assert.strictEqual(herd(70, 60).met, true)
    assert.strictEqual(herd(72, 60).met, true)
  })

  it("herd: the floor with the token request is shown beside the floor, and does not change the verdict", () => {
    const v = verdict(result("herd1k", [
      contender(OURS, [{ ms: 80, tokenRequests: 1, failures: 0 }]),
      contender("floor:herd", [{ ms: 50, tokenRequests: 0, failures: 0 }]),
      contender("floor:herdRequest", [{ ms: 76, tokenRequests: 1, failures: 0 }])
    ]))
    assert.strictEqual(v.met, false)
    assert.strictEqual(v.ratio, "1.60× floor; 1.05× the floor with the token request")
    assert.include(v.reference, "with the token request (one HttpClient POST on a new connection, no library): 76.0 ms")
    const failed = verdict(result("herd1k", [
      contender(OURS, [{ ms: 55, tokenRequests: 1, failures: 0 }]),
      contender("floor:herd", [{ ms: 50, tokenRequests: 0, failures: 0 }]),
      crashed("floor:herdRequest", "boom")
    ]))
    assert.strictEqual(failed.met, true)
    assert.strictEqual(failed.ratio, "1.10× floor")
    assert.include(failed.reference, "crashed: boom")
  })

  it("a floor that did not run leaves the verdict open (n/a) and says why, in one line", () => {
    const v = verdict(result("herd1k", [
      contender(OURS, [{ ms: 50, tokenRequests: 1, failures: 0 }]),
      crashed("floor:herd", "process died (exit 1): Error: x | y")
    ]))
    assert.isUndefined(v.met)
    assert.include(v.reference, "crashed: process died")
    const summary = targetsTable(results([result("herd1k", [contender(OURS, [{ ms: 50, tokenRequests: 1, failures: 0 }])])]))
    assert.include(summary, "did not run")
    assert.include(summary, "| n/a |")
    // A pipe in a reason is escaped: the row keeps its 7 cell borders.
    const row = targetsTable(results([result("herd1k", [
      contender(OURS, [{ ms: 50, tokenRequests: 1, failures: 0 }]),
      crashed("floor:herd", "a | b")
    ])])).split("\n")[2]!
    assert.strictEqual(row.split(/(?<!\\)\|/).length - 2, 6)
  })

  it.prop(
    "cold start: met exactly when ours' median of fresh processes is within 1.1× the Effect reference's",
    { ours: figures, floor: figures },
    ({ floor, ours }) => {
      const v = verdict(result("coldStart", [
        contender(OURS, ours.map((ms) => ({ ms, processMs: ms + 900 }))),
        contender("floor:effectHttp", floor.map((ms) => ({ ms, processMs: ms + 800 })))
      ]))
      assert.strictEqual(v.met, median(ours) / median(floor) <= TARGETS.coldStartRatio)
      assert.include(v.ratio, `${(median(ours) / median(floor)).toFixed(2)}× reference`)
      assert.include(v.ratio, `from process start: ${((median(ours) + 900) / (median(floor) + 800)).toFixed(2)}×`)
    }
  )

  it.prop(
    "authorised request: met exactly when both the throughput ratio and the CPU ratio are at least 0.97",
    { ratio: fc.double({ min: 0.8, max: 1.1, noNaN: true }), cpu: fc.double({ min: 0.8, max: 1.1, noNaN: true }) },
    ({ cpu, ratio }) => {
      const v = verdict(result("overhead", [
        contender(OURS, [{ ratio, cpuRatio: cpu, authRps: 100, bareRps: 100, authCpuUs: 1, bareCpuUs: 1, failures: 0 }])
      ]))
      assert.strictEqual(v.met, ratio >= 0.97 && cpu >= 0.97)
    }
  )

  it("authorised request: the issue's 0.943 (CPU 0.894) is not met; 0.98 with CPU 0.96 is not met either", () => {
    const overhead = (ratio: number, cpuRatio: number) =>
      verdict(result("overhead", [
        contender(OURS, [{ ratio, cpuRatio, authRps: 100, bareRps: 100, authCpuUs: 1, bareCpuUs: 1, failures: 0 }])
      ])).met
    assert.isFalse(overhead(0.943, 0.894))
    assert.isFalse(overhead(0.98, 0.96))
    assert.isTrue(overhead(0.97, 0.99))
  })

  it("authorised request: the bare request bounded by Effect.timeout is shown beside bare, and does not change the verdict", () => {
    const figures = (ratio: number, cpuRatio: number) => ({
      ratio,
      cpuRatio,
      authRps: 100,
      bareRps: 100,
      authCpuUs: 1,
      bareCpuUs: 1,
      failures: 0
    })
    const v = verdict(result("overhead", [contender(OURS, [figures(0.77, 0.74)]), contender("floor:bounded", [figures(0.742, 0.691)])]))
    assert.isFalse(v.met)
    assert.include(v.reference, "the bare request bounded by Effect.timeout ÷ bare: 0.742 (req/s), 0.691 (CPU)")
    assert.strictEqual(v.ratio, "0.770 (req/s), 0.740 (CPU)")
  })

  it.prop(
    "cached get: met exactly when ours is at least 1.5× the best peer that ran; a crashed peer is not the best",
    { ours: figures, a: figures, b: figures },
    ({ a, b, ours }) => {
      const v = verdict(result("cachedGet", [
        contender(OURS, ours.map((opsPerSec) => ({ opsPerSec, nsPerGet: 1e9 / opsPerSec }))),
        contender("openid-client", a.map((opsPerSec) => ({ opsPerSec, nsPerGet: 1e9 / opsPerSec }))),
        contender("simple-oauth2", b.map((opsPerSec) => ({ opsPerSec, nsPerGet: 1e9 / opsPerSec }))),
        crashed("client-oauth2")
      ]))
      const best = Math.max(median(a), median(b))
      assert.strictEqual(v.met, median(ours) / best >= TARGETS.cachedGetPeerRatio)
      assert.include(v.reference, median(a) >= median(b) ? "openid-client" : "simple-oauth2")
    }
  )

  it("the issue's cached get (17.5M/s against 11.1M/s, 1.58×) is met", () => {
    const v = verdict(result("cachedGet", [
      contender(OURS, [{ opsPerSec: 17.5e6, nsPerGet: 57 }]),
      contender("@badgateway/oauth2-client", [{ opsPerSec: 11.1e6, nsPerGet: 90 }])
    ]))
    assert.isTrue(v.met)
    assert.include(v.ratio, "1.58× best peer")
  })

  it("cached get: the floor's own ratio to the best peer is shown (a ceiling no Effect get can pass)", () => {
    const v = verdict(result("cachedGet", [
      contender(OURS, [{ opsPerSec: 12.75e6, nsPerGet: 78 }]),
      contender("floor:succeed", [{ opsPerSec: 14.02e6, nsPerGet: 71 }]),
      contender("openid-client", [{ opsPerSec: 9.87e6, nsPerGet: 101 }])
    ]))
    assert.isFalse(v.met)
    assert.strictEqual(v.ratio, "1.29× best peer; 0.91× floor (the floor itself: 1.42× best peer)")
  })

  it.prop(
    "bot: met exactly when no 401 reached the server, no call failed and the token requests are within the bound",
    { server401: fc.constantFrom(0, 0, 3), failed: fc.constantFrom(0, 0, 1), tokenRequests: fc.integer({ min: 0, max: 90 }) },
    ({ failed, server401, tokenRequests }) => {
      const round: Round = {
        tokenRequests,
        server401,
        expiredTokenSent: server401,
        failed,
        calls: 1000,
        addedP50: 0.1,
        addedP99: 0.4,
        authP50: 2,
        authP99: 5,
        bareP50: 1.9,
        bareP99: 4.6,
        authRps: 100,
        bareRps: 100,
        bareFailed: 0
      }
      const v = verdict(result("bot", [contender(OURS, [round])]))
      // 1 s tokens, skew clamped to half: one per 0.5 s of the 30 s run, and the first.
      assert.strictEqual(v.met, server401 === 0 && failed === 0 && tokenRequests <= 61)
      assert.include(v.ours, "added latency p50 0.10 ms, p99 0.40 ms")
      assert.include(v.reference, "p50 1.90 ms, p99 4.60 ms")
    }
  )

  it.prop("within and allMet: a missing figure is unknown, a failed check wins", [
    fc.array(fc.constantFrom(true, false, undefined), { maxLength: 4 })
  ], ([checks]) => {
    const expected = checks.includes(false) ? false : checks.includes(undefined) ? undefined : true
    assert.strictEqual(allMet(...checks), expected)
    assert.isUndefined(within(Number.NaN, "≤", 1))
    assert.isTrue(within(1, "≤", 1))
    assert.isTrue(within(1, "≥", 1))
  })
})

describe("tables", () => {
  it("each of ours' rows is shown ÷ the floor of the same run; peers are not", () => {
    const text = table(result("herd1k", [
      contender(OURS, [{ ms: 120, tokenRequests: 1, failures: 0 }]),
      contender("ours:forEach", [{ ms: 90, tokenRequests: 1, failures: 0 }]),
      contender("floor:herd", [{ ms: 60, tokenRequests: 0, failures: 0 }]),
      contender("openid-client", [{ ms: 30, tokenRequests: 1000, failures: 0 }])
    ]))
    const row = (name: string) => text.split("\n").find((l) => l.startsWith(`| ${name} |`))!.split(" | ").at(-1)
    assert.include(text, "wall ms: ÷ floor")
    assert.strictEqual(row("effect-oauth2"), "2.00 |")
    assert.strictEqual(row("effect-oauth2 (Effect.forEach, discard)"), "1.50 |")
    assert.strictEqual(row("reference: Effect.all of n Deferred.await (no library)"), "1 |")
    assert.strictEqual(row("openid-client 6.9.0"), "— |")
  })

  it("a contender with some rounds and one crashed process shows its figures and says so", () => {
    const failure = { kind: "crashed" as const, reason: "x" }
    const text = table(result("coldStart", [
      contender(OURS, [{ ms: 50, processMs: 900 }]),
      contender("openid-client", [{ ms: 40, processMs: 800 }], { failure, failures: [failure], jobs: 9 })
    ]))
    assert.include(text, "| openid-client 6.9.0 (crashed in 1 of 9 processes; see Errors) | hand-written | 40.0 |")
  })
})

describe("the run's exit status", () => {
  it("peers that crashed, hung or threw do not fail a full run; ours or a reference that did not finish does", () => {
    const ok = contender(OURS, [{ ms: 1, tokenRequests: 1, failures: 0 }])
    const threw = contender("openid-client", [], { failure: { kind: "failed", reason: "TypeError: x" } })
    const hung = contender("simple-oauth2", [], { failure: { kind: "timed out", reason: "no result" } })
    const skipped = contender("client-oauth2", [], { failure: { kind: "skipped", reason: "crashes" } })
    const peersOnly = [result("herd1k", [ok, crashed("client-oauth2+fetch"), threw, hung, skipped])]
    assert.deepStrictEqual(runProblems(results(peersOnly)), [])
    // A quick run proves the harness works: a peer's job that threw fails it; a crash or a hang still does not.
    assert.deepStrictEqual(runProblems(results(peersOnly, "quick")), ["herd1k / openid-client: failed: TypeError: x"])
    for (const name of [OURS, "floor:herd", "ours:fork"]) {
      const contenders = name === OURS ? [crashed(name)] : [ok, crashed(name)]
      assert.deepStrictEqual(runProblems(results([result("herd1k", contenders)])), [
        `herd1k / ${name}: crashed: process died (exit 1): Error [ERR_INTERNAL_ASSERTION]: boom`
      ])
    }
    assert.deepStrictEqual(runProblems(results([result("coldStart", [ok, contender("fetch", [])])])), [
      "coldStart / fetch: failed: no rounds"
    ])
  })

  it("asking for ours alone still runs the floor beside it (a ratio is only taken within one run)", () => {
    const herd = workloadById("herd1k")!
    assert.deepStrictEqual(selectContenders(herd, [OURS]), [OURS, "floor:herd"])
    assert.deepStrictEqual(selectContenders(workloadById("coldStart")!, [OURS, "fetch"]), [OURS, "floor:effectHttp", "fetch"])
    assert.deepStrictEqual(selectContenders(herd, ["openid-client"]), ["openid-client"])
    assert.deepStrictEqual(selectContenders(workloadById("overhead")!, [OURS]), [OURS])
  })
})
