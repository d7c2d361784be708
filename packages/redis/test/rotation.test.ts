/**
 * Rotation safety across processes: with single-use refresh tokens (the emulator's Saxo, where each refresh answers
 * a new refresh token and refuses the one used), two real processes share one store (Redis, then a file) and keep
 * forcing refreshes. At the emulator, every refresh token is spent at most once (all but the newest exactly once),
 * none is ever presented again, and no process gets `invalid_grant` (it would end in `LoginRequired`).
 */
import * as FileTokenStore from "@effect-oauth2/core/FileTokenStore"
import type * as TokenStore from "@effect-oauth2/core/TokenStore"
import { Emulator } from "@effect-oauth2/emulator"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as RedisTokenStore from "../src/RedisTokenStore.js"
import { loginInto, type RotationChildConfig, saxo, spawnRotationChild, type StoreConfig, within } from "./utils/rotation.js"
import * as RedisServer from "./utils/redisServer.js"
import { testKey } from "./utils/setup.js"

const PROCESSES = 2
const REFRESHES = 12

const run = (emulator: Emulator.Emulator, store: TokenStore.Service, storeConfig: StoreConfig) =>
  Effect.gen(function*() {
    yield* loginInto(emulator.brokerUrls.saxo, store)
    yield* emulator.resetCounters
    const config: RotationChildConfig = {
      tokenUrl: `${emulator.brokerUrls.saxo.logon}/token`,
      store: storeConfig,
      key: Redacted.value(testKey),
      refreshes: REFRESHES,
      deadlineMs: 45_000
    }
    const children = yield* Effect.forEach(Array.from({ length: PROCESSES }), () => spawnRotationChild(config))
    const exits = yield* Effect.forEach(children, (child) => child.exited(within), { concurrency: "unbounded" })
    for (const [i, child] of children.entries()) {
      assert.strictEqual(exits[i], 0, `child ${child.pid}: ${JSON.stringify(child.events.filter((e) => e.event === "error"))}\n${child.stderr()}`)
      assert.strictEqual(child.events.filter((e) => e.event === "refreshed").length, REFRESHES)
    }

    const refreshTokens = (yield* emulator.tokens).filter((t) => t.provider === "saxo" && t.kind === "refresh")
    const requests = (yield* emulator.tokenRequests).filter((r) => r.endpoint === "saxo.token" && r.grantType === "refresh_token")
    // Every refresh request succeeded: no invalid_grant anywhere.
    assert.deepStrictEqual(requests.filter((r) => r.status !== 200), [])
    assert.isTrue(requests.every((r) => r.clientId === saxo.clientId))
    // Each process forced REFRESHES renewals; a renewal either spent the refresh token it held or adopted the pair
    // another process had just stored: at least REFRESHES spends, at most all of them.
    assert.isAtLeast(requests.length, REFRESHES)
    assert.isAtMost(requests.length, PROCESSES * REFRESHES)
    // Each refresh token spent once, never presented again; only the newest is unspent.
    assert.deepStrictEqual(refreshTokens.filter((t) => t.uses > 1 || t.refusals > 0), [])
    assert.strictEqual(refreshTokens.filter((t) => t.uses === 0).length, 1)
    assert.strictEqual(refreshTokens.filter((t) => t.uses === 1).length, requests.length)
    assert.strictEqual(new Set(requests.map((r) => r.refreshTokenId)).size, requests.length)
    // The store holds the newest pair: one more refresh from it works.
    const newest = refreshTokens.find((t) => t.uses === 0)!
    assert.isFalse(newest.revoked)
  })

describe("rotation safety: two processes, single-use refresh tokens", () => {
  it.scopedLive("sharing a Redis store: every refresh token spent exactly once, no invalid_grant", () =>
    Effect.gen(function*() {
      const redis = yield* RedisServer.make
      const emulator = yield* Emulator.make()
      const prefix = "rotation:"
      const store = yield* RedisTokenStore.make({ url: redis.url, key: testKey, prefix })
      yield* run(emulator, store, { kind: "redis", url: redis.url, prefix })
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)), 90_000)

  it.scopedLive("sharing a file store: every refresh token spent exactly once, no invalid_grant", () =>
    Effect.gen(function*() {
      const dir = yield* Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeTempDirectoryScoped({ prefix: "eo2-rotation-" }))
      const emulator = yield* Emulator.make()
      const path = `${dir}/tokens.json`
      const store = yield* Effect.orDie(FileTokenStore.make({ path, key: testKey }))
      yield* run(emulator, store, { kind: "file", path })
    }).pipe(Effect.provide(NodeHttpClient.layerUndici), Effect.provide(NodeContext.layer)), 90_000)
})
