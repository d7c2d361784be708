import * as AccessToken from "@effect-oauth2/core/AccessToken"
import * as TokenCipher from "@effect-oauth2/core/TokenCipher"
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import { Emulator } from "@effect-oauth2/emulator"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import { Redis } from "ioredis"
import * as Lock from "../src/internal/lock.js"
import * as RedisTokenStore from "../src/RedisTokenStore.js"
import * as RedisServer from "./utils/redisServer.js"
import { makeTokens, storeKey, testKey, tokenUrlOf } from "./utils/setup.js"

const otherKey = Redacted.make(Encoding.encodeHex(Uint8Array.from({ length: 32 }, (_, i) => 99 + i)))

/** A raw client for looking at Redis behind the store's back, closed with the scope. */
const rawClient = (url: string) =>
  Effect.acquireRelease(
    Effect.sync(() => new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 })),
    (client) => Effect.sync(() => client.disconnect())
  )

const redis = <A>(run: () => Promise<A>) => Effect.promise(run)

const tokenAt = (value: string, now: number, lifetime: number, refresh?: string) =>
  new AccessToken.AccessToken({
    value: Redacted.make(value),
    type: "Bearer",
    issuedAt: now,
    expiresAt: now + lifetime,
    scopes: ["TRADER_READ"],
    ...(refresh === undefined ? {} : { refreshToken: Redacted.make(refresh) }),
    extra: {}
  })

const valueOf = (token: AccessToken.AccessToken) => Redacted.value(token.value)

/** Collects log lines (level and message) of the effects it is provided to. */
const captureLogs = () => {
  const lines: Array<string> = []
  const layer = Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ logLevel, message }) => {
      lines.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
    })
  )
  return { lines, layer }
}

const keyB: TokenStore.Key = { ...storeKey, clientId: "another-client" }

describe("RedisTokenStore", () => {
  it.scopedLive("set, get, delete; Redis holds ciphertext only; the TTL is the token's remaining life", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.make
      const raw = yield* rawClient(server.url)
      const store = yield* RedisTokenStore.make({ url: server.url, key: testKey, prefix: "t:" })
      assert.isTrue(Option.isNone(yield* store.get(storeKey)))
      const now = yield* Clock.currentTimeMillis
      const token = tokenAt("access-secret-value", now, 3_600_000)
      yield* store.set(storeKey, token)
      const back = Option.getOrThrow(yield* store.get(storeKey))
      assert.deepStrictEqual(AccessToken.encode(back), AccessToken.encode(token))

      const redisKey = RedisTokenStore.tokenKey(storeKey, "t:")
      assert.strictEqual(redisKey, "t:token:figure-markets/emulator/fm-demo-client/TRADER_READ%20TRADER_TRADE")
      const stored = (yield* redis(() => raw.get(redisKey)))!
      assert.isTrue(stored.startsWith("eo2.1."))
      assert.notInclude(stored, "access-secret")
      assert.notInclude(stored, "TRADER_READ")
      const ttl = yield* redis(() => raw.pttl(redisKey))
      assert.isAtMost(ttl, 3_600_000)
      assert.isAtLeast(ttl, 3_600_000 - 10_000)

      // A token with a refresh token stays for the grace period past its expiry.
      yield* store.set(keyB, tokenAt("b", now, 60_000, "refresh-secret-value"))
      const graceTtl = yield* redis(() => raw.pttl(RedisTokenStore.tokenKey(keyB, "t:")))
      assert.isAtLeast(graceTtl, 60_000 + Duration.toMillis(Duration.days(7)) - 10_000)
      assert.notInclude((yield* redis(() => raw.get(RedisTokenStore.tokenKey(keyB, "t:"))))!, "refresh-secret")

      // An expired token is not kept.
      yield* store.set(storeKey, tokenAt("old", now - 10_000, 5_000))
      assert.isNull(yield* redis(() => raw.get(redisKey)))
      yield* store.set(storeKey, token)
      yield* store.delete(storeKey)
      assert.isTrue(Option.isNone(yield* store.get(storeKey)))
      assert.deepStrictEqual(yield* redis(() => raw.keys("t:*")), ["t:token:figure-markets/emulator/another-client/TRADER_READ%20TRADER_TRADE"])
    }))

  it.scopedLive("the TTL follows the refresh token's death: kept while it lives, never past it, evicted once both ended", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.make
      const raw = yield* rawClient(server.url)
      const store = yield* RedisTokenStore.make({ url: server.url, key: testKey, prefix: "d:" })
      const now = yield* Clock.currentTimeMillis
      const dying = (value: string, lifetime: number, diesIn: number) =>
        new AccessToken.AccessToken({
          ...tokenAt(value, now, lifetime, `${value}-refresh`),
          refreshTokenExpiresAt: now + diesIn
        }, { disableValidation: true })
      const ttlOf = (key: TokenStore.Key) => redis(() => raw.pttl(RedisTokenStore.tokenKey(key, "d:")))
      const day = Duration.toMillis(Duration.days(1))
      const keyC: TokenStore.Key = { ...storeKey, clientId: "third-client" }
      const keyD: TokenStore.Key = { ...storeKey, clientId: "fourth-client" }

      // A refresh token that lives 30 days (longer than the 7-day grace): kept until it dies, not cut at the grace.
      yield* store.set(storeKey, dying("long", 60_000, 30 * day))
      const long = yield* ttlOf(storeKey)
      assert.isAtMost(long, 30 * day)
      assert.isAtLeast(long, 30 * day - 10_000)

      // One that dies in an hour (Saxo's): kept an hour, not the 7-day grace past the access token.
      yield* store.set(keyB, dying("hour", 60_000, 3_600_000))
      const hour = yield* ttlOf(keyB)
      assert.isAtMost(hour, 3_600_000)
      assert.isAtLeast(hour, 3_600_000 - 10_000)

      // One that dies before its access token expires: kept as long as the access token, no longer.
      yield* store.set(keyC, dying("short", 600_000, 60_000))
      const short = yield* ttlOf(keyC)
      assert.isAtMost(short, 600_000)
      assert.isAtLeast(short, 600_000 - 10_000)

      // An expired access token whose refresh token lives is kept (and read back): the next refresh needs it.
      yield* store.set(keyD, dying("expired-but-refreshable", -5_000, 3_600_000))
      const kept = Option.getOrThrow(yield* store.get(keyD))
      assert.strictEqual(valueOf(kept), "expired-but-refreshable")
      assert.strictEqual(kept.refreshTokenExpiresAt, now + 3_600_000)
      assert.isAtLeast(yield* ttlOf(keyD), 3_600_000 - 10_000)

      // Both ended: nothing to keep, and what was there goes.
      yield* store.set(keyD, dying("all-dead", -5_000, -1_000))
      assert.isNull(yield* redis(() => raw.get(RedisTokenStore.tokenKey(keyD, "d:"))))

      // In real time: an access token of 300 ms with a refresh token alive for an hour outlives its access token in
      // Redis; one whose refresh token died first is evicted by Redis itself once the access token expires.
      const start = yield* Clock.currentTimeMillis
      const live = (value: string, diesIn: number) =>
        new AccessToken.AccessToken({
          ...tokenAt(value, start, 300, `${value}-refresh`),
          refreshTokenExpiresAt: start + diesIn
        }, { disableValidation: true })
      yield* store.set(keyC, live("alive", 3_600_000))
      yield* store.set(keyD, live("dead", 100))
      yield* Effect.sleep("400 millis")
      assert.strictEqual(valueOf(Option.getOrThrow(yield* store.get(keyC))), "alive")
      // Redis expires keys on access: bounded polling for the eviction.
      let evicted = false
      for (let i = 0; i < 50 && !evicted; i++) {
        evicted = (yield* redis(() => raw.exists(RedisTokenStore.tokenKey(keyD, "d:")))) === 0
        if (!evicted) yield* Effect.sleep("50 millis")
      }
      assert.isTrue(evicted)
    }))

  it.scopedLive("a value from another key is an error to read and is not written over; a moved value fails", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.make
      const raw = yield* rawClient(server.url)
      const ours = yield* RedisTokenStore.make({ url: server.url, key: testKey })
      const theirs = yield* RedisTokenStore.make({ url: server.url, key: otherKey })
      const now = yield* Clock.currentTimeMillis
      yield* ours.set(storeKey, tokenAt("ours", now, 60_000))
      const before = yield* redis(() => raw.get(RedisTokenStore.tokenKey(storeKey)))
      const read = yield* Effect.flip(theirs.get(storeKey))
      assert.strictEqual(read._tag, "TokenStoreError")
      assert.include(read.message, "written with another key")
      assert.include(read.message, "EFFECT_OAUTH2_STORE_KEY")
      const write = yield* Effect.flip(theirs.set(storeKey, tokenAt("theirs", now, 60_000)))
      assert.include(write.message, "written with another key")
      assert.strictEqual(yield* redis(() => raw.get(RedisTokenStore.tokenKey(storeKey))), before)
      assert.strictEqual(valueOf(Option.getOrThrow(yield* ours.get(storeKey))), "ours")
      // Copied under another store key: it does not authenticate there.
      yield* redis(() => raw.set(RedisTokenStore.tokenKey(keyB), before!))
      assert.include((yield* Effect.flip(ours.get(keyB))).message, "modified, corrupted, or moved")
      yield* redis(() => raw.set(RedisTokenStore.tokenKey(keyB), "garbage"))
      assert.include((yield* Effect.flip(ours.get(keyB))).message, "not a value sealed by effect-oauth2")
      // Our own damaged value is replaced by the next set.
      yield* ours.set(keyB, tokenAt("fixed", now, 60_000))
      assert.strictEqual(valueOf(Option.getOrThrow(yield* ours.get(keyB))), "fixed")
    }))

  it.scopedLive("a passphrase: the salt is kept in Redis, and stores with the same passphrase share tokens", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.make
      const raw = yield* rawClient(server.url)
      const phrase = TokenCipher.passphrase("fleet passphrase", { iterations: 1000 })
      const one = yield* RedisTokenStore.make({ url: server.url, key: phrase })
      const two = yield* RedisTokenStore.make({ url: server.url, key: phrase })
      const now = yield* Clock.currentTimeMillis
      yield* one.set(storeKey, tokenAt("shared", now, 60_000))
      assert.strictEqual(valueOf(Option.getOrThrow(yield* two.get(storeKey))), "shared")
      const kdf = JSON.parse((yield* redis(() => raw.get(RedisTokenStore.kdfKey())))!)
      assert.strictEqual(kdf.algorithm, "PBKDF2-SHA256")
      assert.strictEqual(kdf.iterations, 1000)
      const wrong = yield* RedisTokenStore.make({ url: server.url, key: TokenCipher.passphrase("wrong", { iterations: 1000 }) })
      assert.include((yield* Effect.flip(wrong.get(storeKey))).message, "written with another key")
      // Redis emptied (a restart without persistence): a new salt appears; a store that knew the old one follows.
      yield* redis(() => raw.flushall())
      const three = yield* RedisTokenStore.make({ url: server.url, key: phrase })
      yield* three.set(storeKey, tokenAt("after-flush", now, 60_000))
      assert.strictEqual(valueOf(Option.getOrThrow(yield* one.get(storeKey))), "after-flush")
    }))

  it.scopedLive("the lock: set-if-absent with an owner; only the owner releases or extends it; expiry frees it", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.make
      const raw = yield* rawClient(server.url)
      const key = "t:lock:x"
      const a = Lock.ownerToken()
      const b = Lock.ownerToken()
      assert.notStrictEqual(a, b)
      assert.match(a, new RegExp(`:${process.pid}:[0-9a-f]{16}$`))
      assert.isTrue(yield* redis(() => Lock.tryAcquire(raw, key, a, 10_000)))
      assert.isFalse(yield* redis(() => Lock.tryAcquire(raw, key, b, 10_000)))
      assert.isFalse(yield* redis(() => Lock.release(raw, key, b)))
      assert.isFalse(yield* redis(() => Lock.extend(raw, key, b, 60_000)))
      assert.strictEqual(yield* redis(() => raw.get(key)), a)
      assert.isTrue(yield* redis(() => Lock.extend(raw, key, a, 60_000)))
      assert.isAbove(yield* redis(() => raw.pttl(key)), 10_000)
      assert.isTrue(yield* redis(() => Lock.release(raw, key, a)))
      assert.isFalse(yield* redis(() => Lock.release(raw, key, a)))
      // Expiry: a lock whose holder is gone frees itself.
      assert.isTrue(yield* redis(() => Lock.tryAcquire(raw, key, a, 150)))
      let taken = false
      for (let i = 0; i < 100 && !taken; i++) {
        taken = yield* redis(() => Lock.tryAcquire(raw, key, b, 10_000))
        if (!taken) yield* Effect.sleep(Duration.millis(20))
      }
      assert.isTrue(taken)
      assert.strictEqual(yield* redis(() => raw.get(key)), b)
      assert.isFalse(yield* redis(() => Lock.release(raw, key, a)), "the expired owner cannot release the new one's lock")
    }))

  it.scopedLive("N AccessTokens with their own stores over one Redis: one token request; a refresh in all: one more", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.make
      const emulator = yield* Emulator.make()
      const http = yield* Layer.build(NodeHttpClient.layerUndici)
      const services = yield* Effect.forEach(
        Array.from({ length: 6 }),
        () =>
          RedisTokenStore.make({ url: server.url, key: testKey, pollInterval: "20 millis" }).pipe(
            Effect.orDie,
            Effect.flatMap((store) => makeTokens(tokenUrlOf(emulator), store))
          ),
        { concurrency: "unbounded" }
      ).pipe(Effect.provide(http))
      const first = yield* Effect.forEach(services, (s) => s.get, { concurrency: "unbounded" })
      assert.strictEqual((yield* emulator.countersFor("figure-markets.token")).requests, 1)
      assert.strictEqual(new Set(first.map(valueOf)).size, 1)
      const renewed = yield* Effect.forEach(services, (s) => s.refresh, { concurrency: "unbounded" })
      assert.strictEqual((yield* emulator.countersFor("figure-markets.token")).requests, 2)
      assert.strictEqual(new Set(renewed.map(valueOf)).size, 1)
      assert.notStrictEqual(valueOf(renewed[0]!), valueOf(first[0]!))
      // No lock is left behind.
      const raw = yield* rawClient(server.url)
      assert.isNull(yield* redis(() => raw.get(RedisTokenStore.lockKey(storeKey))))
    }))

  it.scopedLive("coordinate: a dead holder's lock expires and a waiter takes over; a waiter that times out acquires", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.make
      const raw = yield* rawClient(server.url)
      const logs = captureLogs()
      const store = yield* RedisTokenStore.make({
        url: server.url,
        key: testKey,
        pollInterval: "20 millis",
        waitTimeout: "5 seconds"
      })
      let acquired = 0
      const acquire = Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.sync(() => tokenAt(`acquired-${++acquired}`, now, 60_000)))
      // A holder that died: its lock lives 300 ms more, and nobody stores a token.
      yield* redis(() => Lock.tryAcquire(raw, RedisTokenStore.lockKey(storeKey), "dead-host:1:0", 300))
      const token = yield* store.coordinate(storeKey, undefined, acquire)
      assert.strictEqual(valueOf(token), "acquired-1")
      assert.strictEqual(acquired, 1)
      assert.strictEqual(valueOf(Option.getOrThrow(yield* store.get(storeKey))), "acquired-1", "stored under the lock")
      // The stored token serves the next caller without an acquisition; a stale one is replaced.
      assert.strictEqual(valueOf(yield* store.coordinate(storeKey, undefined, acquire)), "acquired-1")
      assert.strictEqual(valueOf(yield* store.coordinate(storeKey, token, acquire)), "acquired-2")
      // A holder that never delivers: a waiter gives up after waitTimeout, acquires alone, and says so.
      const impatient = yield* RedisTokenStore.make({ url: server.url, key: testKey, waitTimeout: "200 millis", pollInterval: "20 millis" })
      yield* redis(() => Lock.tryAcquire(raw, RedisTokenStore.lockKey(keyB), "slow-host:2:0", 60_000))
      const alone = yield* impatient.coordinate(keyB, undefined, acquire).pipe(Effect.provide(logs.layer))
      assert.strictEqual(valueOf(alone), "acquired-3")
      assert.isTrue(logs.lines.some((l) => l.startsWith("WARN") && l.includes("no token from the process holding the lock")))
      assert.strictEqual(yield* redis(() => raw.get(RedisTokenStore.lockKey(keyB))), "slow-host:2:0", "not released by a non-owner")
      // An acquisition that fails releases the lock and fails with its own error.
      const error = yield* Effect.flip(store.coordinate(storeKey, yield* Effect.orDie(Effect.map(store.get(storeKey), Option.getOrThrow)), Effect.fail("endpoint down" as const)))
      assert.strictEqual(error, "endpoint down")
      assert.isNull(yield* redis(() => raw.get(RedisTokenStore.lockKey(storeKey))))
    }))

  it.scopedLive("Redis stopped: acquisitions go on in-process with a warning; Redis back: the store is used again", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.make
      const emulator = yield* Emulator.make()
      const http = yield* Layer.build(NodeHttpClient.layerUndici)
      const logs = captureLogs()
      const requests = Effect.map(emulator.countersFor("figure-markets.token"), (c) => c.requests)
      const store = yield* RedisTokenStore.make({
        url: server.url,
        key: testKey,
        commandTimeout: "500 millis",
        redisOptions: { retryStrategy: () => 50, connectTimeout: 500 }
      }).pipe(Effect.provide(logs.layer))
      const newService = makeTokens(tokenUrlOf(emulator), store).pipe(Effect.provide(http))
      const first = yield* (yield* newService).get
      assert.strictEqual(yield* requests, 1)

      yield* server.stop
      const duringOutage = yield* newService
      const token = yield* duringOutage.get.pipe(Effect.provide(logs.layer))
      assert.notStrictEqual(valueOf(token), valueOf(first))
      assert.strictEqual(yield* requests, 2)
      assert.isTrue(
        logs.lines.some((l) => l.startsWith("WARN") && l.includes("token store")),
        logs.lines.join("\n")
      )
      assert.isTrue(Either.isLeft(yield* Effect.either(store.get(storeKey))))

      yield* server.start
      // The client reconnects in the background: wait (bounded) until the store answers.
      let back = false
      for (let i = 0; i < 200 && !back; i++) {
        back = Either.isRight(yield* Effect.either(store.get(storeKey)))
        if (!back) yield* Effect.sleep(Duration.millis(25))
      }
      assert.isTrue(back, "the store answers again after Redis is back")
      assert.isTrue(logs.lines.some((l) => l.includes("reachable again")), logs.lines.join("\n"))
      // Redis came back empty: one new request, stored, then shared.
      const again = yield* (yield* newService).get
      const shared = yield* (yield* newService).get
      assert.strictEqual(valueOf(shared), valueOf(again))
      assert.strictEqual(yield* requests, 3)
    }))

  it.scopedLive("Redis frozen while this process holds the lock: the acquisition, the lock's release and closing all end", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.make
      const logs = captureLogs()
      const scope = yield* Scope.make()
      yield* Effect.addFinalizer(() =>
        Scope.close(scope, Exit.void).pipe(Effect.disconnect, Effect.timeout("10 seconds"), Effect.ignore)
      )
      const store = yield* RedisTokenStore.make({
        url: server.url,
        key: testKey,
        commandTimeout: "300 millis",
        redisOptions: { connectTimeout: 300 }
      }).pipe(Scope.extend(scope), Effect.provide(logs.layer))
      const now = yield* Clock.currentTimeMillis
      // The acquisition holds the lock; Redis freezes (connected, silent) while the token endpoint answers.
      const acquire = Effect.zipRight(server.freeze, Effect.succeed(tokenAt("fresh", now, 60_000)))
      // Disconnected, so that a hang fails the test here (rather than at vitest's timeout) and the server is thawed.
      const outcome = yield* store.coordinate(storeKey, undefined, acquire).pipe(
        Effect.provide(logs.layer),
        Effect.disconnect,
        Effect.timeout("10 seconds"),
        Effect.either
      )
      assert.isTrue(Either.isRight(outcome), "coordinate returned while Redis stayed frozen")
      if (Either.isRight(outcome)) assert.strictEqual(valueOf(outcome.right), "fresh")
      assert.isTrue(logs.lines.some((l) => l.includes("storing the new token failed")), logs.lines.join("\n"))
      assert.isTrue(logs.lines.some((l) => l.includes("releasing the token lock failed")), logs.lines.join("\n"))
      // Closing the store (QUIT to a frozen Redis) ends too.
      const closed = yield* Scope.close(scope, Exit.void).pipe(Effect.disconnect, Effect.timeout("10 seconds"), Effect.either)
      assert.isTrue(Either.isRight(closed), "the store closed while Redis stayed frozen")
      yield* server.thaw
    }))

  it.scopedLive("layerConfig: REDIS_URL, the key and the prefix from the environment; bad options are refused", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.make
      const raw = yield* rawClient(server.url)
      const env = new Map([
        ["REDIS_URL", server.url],
        ["EFFECT_OAUTH2_STORE_KEY", Redacted.value(testKey)],
        ["EFFECT_OAUTH2_REDIS_PREFIX", "cfg:"]
      ])
      const now = yield* Clock.currentTimeMillis
      yield* Effect.flatMap(TokenStore.TokenStore, (store) => store.set(storeKey, tokenAt("via-config", now, 60_000))).pipe(
        Effect.provide(RedisTokenStore.layerConfig()),
        Effect.withConfigProvider(ConfigProvider.fromMap(env))
      )
      assert.deepStrictEqual(yield* redis(() => raw.keys("*")), [RedisTokenStore.tokenKey(storeKey, "cfg:")])
      const missingKey = yield* Effect.flip(
        Effect.provide(TokenStore.TokenStore, RedisTokenStore.layerConfig()).pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["REDIS_URL", server.url]])))
        )
      )
      assert.strictEqual(missingKey._tag, "ConfigError")
      const bad = yield* Effect.flip(RedisTokenStore.make({ url: server.url, key: testKey, lockTtl: 0 }))
      assert.strictEqual(bad._tag, "InvalidConfiguration")
      const badKey = yield* Effect.flip(RedisTokenStore.make({ url: server.url, key: Redacted.make("short") }))
      assert.include(badKey.message, "32 bytes")
    }))
})
