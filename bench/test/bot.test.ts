/**
 * The realistic-bot row's accounting: its figures from the phases' calls and the server's counters, as a class of
 * inputs, and against a fake peer that keeps its own count of what it did to a real bench server. Behaviour only:
 * never a timing.
 */
import { afterAll, assert, beforeAll, beforeEach, describe, it } from "@effect/vitest"
import * as fc from "effect/FastCheck"
import * as Server from "../src/server.js"
import { percentile } from "../src/stats.js"
import { runJob } from "../src/worker.js"
import { botAccount, type BotParams, botRound, type LoadResult } from "../src/workloads.js"
import { accounting, resetAccounting } from "./fixtures/fakePeers.js"

const latencies = fc.array(fc.double({ min: 0, max: 5_000, noNaN: true }), { minLength: 1, maxLength: 200 })
const phase: fc.Arbitrary<LoadResult> = fc.record({
  latencies,
  ok: fc.nat(10_000),
  failed: fc.nat(100),
  ms: fc.double({ min: 1, max: 60_000, noNaN: true })
}).chain((p) => fc.nat(p.failed).map((app401) => ({ ...p, app401 })))

const counters = fc.record({
  tokenRequests: fc.nat(1_000),
  maxConcurrentTokenRequests: fc.nat(10),
  resourceRequests: fc.nat(100_000),
  resourceOk: fc.nat(100_000),
  expiredTokenSent: fc.nat(1_000)
}).filter((c) => c.resourceOk <= c.resourceRequests)

let server: Server.Server
beforeAll(async () => {
  server = await Server.start()
})
afterAll(async () => {
  await server.close()
})

describe("bot row: accounting", () => {
  it.prop(
    "added latency is the authorised percentile minus the bare one (both bare halves pooled); counts pass through",
    { auth: phase, bare1: phase, bare2: phase, tokenRequests: fc.nat(100), server401: fc.nat(100), expired: fc.nat(100) },
    ({ auth, bare1, bare2, expired, server401, tokenRequests }) => {
      const round = botRound({ auth, bare: [bare1, bare2], tokenRequests, server401, expiredTokenSent: expired })
      const bare = [...bare1.latencies, ...bare2.latencies]
      assert.strictEqual(round.addedP50, percentile(auth.latencies, 50) - percentile(bare, 50))
      assert.strictEqual(round.addedP99, percentile(auth.latencies, 99) - percentile(bare, 99))
      assert.strictEqual(round.bareP99, percentile(bare, 99))
      assert.strictEqual(round.calls, auth.ok + auth.failed)
      assert.strictEqual(round.failed, auth.failed)
      assert.strictEqual(round.app401, auth.app401)
      assert.strictEqual(round.bareFailed, bare1.failed + bare2.failed)
      assert.strictEqual(round.tokenRequests, tokenRequests)
      assert.strictEqual(round.server401, server401)
      assert.strictEqual(round.expiredTokenSent, expired)
      assert.strictEqual(round.bareRps, ((bare1.ok + bare2.ok) / (bare1.ms + bare2.ms)) * 1000)
    }
  )

  it.prop("the server's counts are taken over the authorised phase only (after − before)", [counters, counters], ([a, b]) => {
    const account = botAccount(a, b)
    assert.strictEqual(account.tokenRequests, b.tokenRequests - a.tokenRequests)
    assert.strictEqual(account.server401, (b.resourceRequests - b.resourceOk) - (a.resourceRequests - a.resourceOk))
    assert.strictEqual(account.expiredTokenSent, b.expiredTokenSent - a.expiredTokenSent)
  })

  beforeEach(() => resetAccounting())

  it("a real run's figures match what the peer itself did: its token requests, its 401s, its calls", async () => {
    // Tokens live 0 s: each 4th call of `fake-accounting` asks for a new token, sends it and gets a 401; the other
    // calls send a never-expiring token. The bare phases send a never-expiring token too (never a 401). Before the
    // phases, the peer made a token request and got a 401 of its own, which the figures must leave out.
    const params: BotParams = { lifetimeSec: 0, workers: 2, concurrency: 3, durationMs: 300, bareMs: 100, warmupMs: 0, latencyMs: 0 }
    const result = await runJob({
      workload: "bot",
      contender: "fake-accounting",
      profile: "quick",
      base: server.url,
      rounds: 1,
      warmup: false,
      runId: `bot${Math.random().toString(36).slice(2, 8)}`,
      params,
      peerModules: [new URL("./fixtures/fakePeers.ts", import.meta.url).href]
    })
    assert.isUndefined(result.error, result.error)
    const round = result.rounds[0]!
    assert.isAtLeast(accounting.calls, 4, "the run made a few calls")
    assert.strictEqual(accounting.before, 1, "a token request and a 401 before the measured phases")
    assert.strictEqual(accounting.seenOther, 0)
    assert.strictEqual(round.calls, accounting.calls)
    assert.strictEqual(round.tokenRequests, accounting.tokenRequests)
    assert.strictEqual(round.tokenRequests, Math.floor(accounting.calls / 4))
    assert.strictEqual(round.server401, accounting.seen401)
    assert.strictEqual(round.server401, accounting.tokenRequests)
    assert.strictEqual(round.expiredTokenSent, accounting.seen401)
    assert.strictEqual(round.failed, accounting.seen401)
    assert.strictEqual(round.app401, accounting.seen401)
    assert.strictEqual(round.bareFailed, 0)
    assert.isAbove(round.bareRps!, 0)
  })
})
