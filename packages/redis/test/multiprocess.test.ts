import { Emulator } from "@effect-oauth2/emulator"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { Redis } from "ioredis"
import { measure } from "../bench/processes.js"
import * as RedisTokenStore from "../src/RedisTokenStore.js"
import { type ChildConfig, childCommand, isDone, isToken, spawnChild } from "./utils/processes.js"
import * as RedisServer from "./utils/redisServer.js"
import { storeKey, testKey, tokenUrlOf } from "./utils/setup.js"

const PROCESSES = 8

/** Waits (bounded: 1500 × 20 ms) until `check` yields a value. */
const eventually = <A>(what: string, check: Effect.Effect<A | undefined>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 1500; i++) {
      const value = yield* check
      if (value !== undefined) return value
      yield* Effect.sleep(Duration.millis(20))
    }
    return yield* Effect.dieMessage(`timed out waiting for ${what}`)
  })

describe("many processes, one Redis store", () => {
  it.scopedLive(`${PROCESSES} processes on a cold store make exactly one token request`, () =>
    Effect.gen(function*() {
      const redis = yield* RedisServer.make
      const emulator = yield* Emulator.make()
      const config: ChildConfig = {
        tokenUrl: tokenUrlOf(emulator),
        redisUrl: redis.url,
        key: Redacted.value(testKey),
        prefix: "cold:",
        lockTtlMs: 10_000,
        waitTimeoutMs: 20_000,
        pollIntervalMs: 50,
        lifetimes: 1,
        deadlineMs: 45_000
      }
      const command = yield* childCommand
      const children = yield* Effect.forEach(Array.from({ length: PROCESSES }), () => spawnChild(config, command))
      const tokens = yield* Effect.forEach(children, (child) => child.waitFor(isToken), { concurrency: "unbounded" })
      assert.isTrue(tokens.every((token) => token.valid))
      assert.strictEqual(new Set(tokens.map((token) => token.fingerprint)).size, 1, "every process holds the same token")
      assert.strictEqual((yield* emulator.countersFor("figure-markets.token")).requests, 1)
      const exits = yield* Effect.forEach(children, (child) => child.exited, { concurrency: "unbounded" })
      assert.deepStrictEqual(exits, children.map(() => 0))
    }), 60_000)

  it.scopedLive("the lock holder killed mid-acquisition: the lock expires, another takes over; ≤ 2 requests", () =>
    Effect.gen(function*() {
      const redis = yield* RedisServer.make
      const raw = yield* Effect.acquireRelease(
        Effect.sync(() => new Redis(redis.url, { maxRetriesPerRequest: 1 })),
        (client) => Effect.sync(() => client.disconnect())
      )
      const emulator = yield* Emulator.make()
      // The holder's token request hangs (until the holder is gone).
      yield* emulator.setFaults("figure-markets.token", { latency: 60_000 })
      const prefix = "kill:"
      const config: ChildConfig = {
        tokenUrl: tokenUrlOf(emulator),
        redisUrl: redis.url,
        key: Redacted.value(testKey),
        prefix,
        lockTtlMs: 1_500,
        waitTimeoutMs: 30_000,
        pollIntervalMs: 50,
        lifetimes: 1,
        deadlineMs: 45_000
      }
      const command = yield* childCommand
      const children = yield* Effect.forEach(Array.from({ length: PROCESSES }), () => spawnChild(config, command))
      // The holder is named in the lock's owner token (host:pid:random); its request has reached the emulator.
      const owner = yield* eventually("the lock to be taken", Effect.map(Effect.promise(() => raw.get(RedisTokenStore.lockKey(storeKey, prefix))), (v) => v ?? undefined))
      const holderPid = Number(owner.split(":").at(-2))
      const holder = children.find((child) => child.pid === holderPid)
      assert.isDefined(holder, `the lock owner ${owner} is one of the children`)
      yield* eventually("the holder's token request", Effect.map(emulator.countersFor("figure-markets.token"), (c) => c.requests >= 1 ? true : undefined))
      yield* emulator.clearFaults("figure-markets.token")
      holder!.kill("SIGKILL")
      assert.strictEqual(yield* holder!.exited, "SIGKILL")

      const survivors = children.filter((child) => child !== holder)
      const tokens = yield* Effect.forEach(survivors, (child) => child.waitFor(isToken), { concurrency: "unbounded" })
      assert.isTrue(tokens.every((token) => token.valid), "every surviving process holds a valid token")
      assert.strictEqual(new Set(tokens.map((token) => token.fingerprint)).size, 1)
      yield* Effect.forEach(survivors, (child) => child.waitFor(isDone), { concurrency: "unbounded" })
      const requests = (yield* emulator.countersFor("figure-markets.token")).requests
      assert.isAtMost(requests, 2)
      assert.isAtLeast(requests, 2, "the dead holder's request, and its successor's")
    }), 60_000)

  it.live("the benchmark's measurement: N requests per lifetime alone, one with the shared store", () =>
    Effect.gen(function*() {
      const alone = yield* measure({ processes: 2, withStore: false })
      const shared = yield* measure({ processes: 2, withStore: true })
      assert.deepInclude(alone, { tokenRequests: 2, tokenRequestsPerLifetime: 2, distinctTokens: 2, allValid: true })
      assert.deepInclude(shared, { tokenRequests: 1, tokenRequestsPerLifetime: 1, distinctTokens: 1, allValid: true })
    }), 60_000)
})
