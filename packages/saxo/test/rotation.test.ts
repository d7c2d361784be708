/**
 * Rotation safety across processes, with Saxo's single-use refresh tokens: after one PKCE login, two real processes
 * run `Saxo.layer` over one shared store (Redis, then an encrypted file) and keep forcing refreshes. Counted at the
 * emulator: every refresh token is spent exactly once (the newest not yet), none is ever presented again, and no
 * process gets `invalid_grant` (it would end in `LoginRequired`). Each refresh also re-sends the login's verifier,
 * read from the shared store (the emulator refuses a PKCE refresh without it).
 */
import * as FileTokenStore from "@effect-oauth2/core/FileTokenStore"
import type * as TokenStore from "@effect-oauth2/core/TokenStore"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import * as RedisTokenStore from "@effect-oauth2/redis/RedisTokenStore"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Redacted from "effect/Redacted"
import * as RedisServer from "../../redis/test/utils/redisServer.js"
import { loginInto } from "./utils/login.js"
import { type ChildConfig, spawn, type StoreConfig, within } from "./utils/rotation.js"

const PROCESSES = 2
const REFRESHES = 12
const pkce = Clients.saxoPkceDemo
const key = Redacted.make(Encoding.encodeBase64(Uint8Array.from({ length: 32 }, (_, i) => (i * 29 + 3) & 255)))

const run = (emulator: Emulator.Emulator, store: TokenStore.Service, storeConfig: StoreConfig) =>
  Effect.gen(function*() {
    yield* loginInto(emulator, { clientId: pkce.clientId }, store).pipe(Effect.provide(NodeHttpClient.layerUndici))
    yield* emulator.resetCounters
    const before = (yield* emulator.tokenRequests).length
    const config: ChildConfig = {
      clientId: pkce.clientId,
      hosts: emulator.brokerUrls.saxo,
      store: storeConfig,
      key: Redacted.value(key),
      refreshes: REFRESHES,
      deadlineMs: 45_000
    }
    const children = yield* Effect.forEach(Array.from({ length: PROCESSES }), () => spawn(config))
    const exits = yield* Effect.forEach(children, (child) => child.exited(within), { concurrency: "unbounded" })
    for (const [i, child] of children.entries()) {
      assert.strictEqual(exits[i], 0, `child ${child.pid}: ${JSON.stringify(child.events)}\n${child.stderr()}`)
      assert.strictEqual(child.events.filter((e) => e.event === "refreshed").length, REFRESHES)
    }

    const refreshTokens = (yield* emulator.tokens).filter((t) => t.provider === "saxo" && t.kind === "refresh")
    const requests = (yield* emulator.tokenRequests).slice(before)
    assert.isTrue(requests.every((r) => r.endpoint === "saxo.token" && r.grantType === "refresh_token"))
    // Every refresh request succeeded: no invalid_grant anywhere (a missing verifier would be one too).
    assert.deepStrictEqual(requests.filter((r) => r.status !== 200), [])
    assert.isTrue(requests.every((r) => r.clientId === pkce.clientId))
    // Each process forced REFRESHES renewals; a renewal either spent the refresh token it held or adopted the pair
    // another process had just stored: at least REFRESHES spends, at most all of them.
    assert.isAtLeast(requests.length, REFRESHES)
    assert.isAtMost(requests.length, PROCESSES * REFRESHES)
    // Each refresh token spent exactly once, never presented again; only the newest is unspent.
    assert.deepStrictEqual(refreshTokens.filter((t) => t.uses > 1 || t.refusals > 0), [])
    assert.strictEqual(refreshTokens.filter((t) => t.uses === 0).length, 1)
    assert.strictEqual(refreshTokens.filter((t) => t.uses === 1).length, requests.length)
    assert.strictEqual(new Set(requests.map((r) => r.refreshTokenId)).size, requests.length)
  })

describe("Saxo rotation safety: two processes, single-use refresh tokens, one shared store", () => {
  it.scopedLive("a Redis store: every refresh token spent exactly once, no invalid_grant", () =>
    Effect.gen(function*() {
      const redis = yield* RedisServer.make
      const emulator = yield* Emulator.make()
      const prefix = "saxo-rotation:"
      const store = yield* RedisTokenStore.make({ url: redis.url, key, prefix })
      yield* run(emulator, store, { kind: "redis", url: redis.url, prefix })
    }), 90_000)

  it.scopedLive("an encrypted file store: every refresh token spent exactly once, no invalid_grant", () =>
    Effect.gen(function*() {
      const dir = yield* Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeTempDirectoryScoped({ prefix: "eo2-saxo-rotation-" }))
      const emulator = yield* Emulator.make()
      const path = `${dir}/tokens.json`
      const store = yield* Effect.orDie(FileTokenStore.make({ path, key }))
      yield* run(emulator, store, { kind: "file", path })
    }).pipe(Effect.provide(NodeContext.layer)), 90_000)
})
