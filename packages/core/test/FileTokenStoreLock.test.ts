import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { createHash } from "node:crypto"
import * as NodeFs from "node:fs"
import * as AccessToken from "../src/AccessToken.js"
import * as FileTokenStore from "../src/FileTokenStore.js"
import * as TokenStore from "../src/TokenStore.js"

const KEY = Redacted.make(Encoding.encodeBase64(Uint8Array.from({ length: 32 }, (_, i) => i + 7)))
const key: TokenStore.Key = { provider: "saxo", environment: "sim", clientId: "app", scopes: [] }

const tokenNow = (value: string, lifetime = 3_600_000) =>
  new AccessToken.AccessToken({
    value: Redacted.make(value),
    type: "Bearer",
    issuedAt: Date.now(),
    expiresAt: Date.now() + lifetime,
    scopes: [],
    refreshToken: Redacted.make(`refresh-of-${value}`),
    extra: {}
  })

const valueOf = (token: AccessToken.AccessToken) => Redacted.value(token.value)

const tempDir = Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeTempDirectoryScoped({ prefix: "eo2-file-lock-" }))

const storeAt = (path: string, options: Partial<FileTokenStore.Options> = {}) =>
  Effect.orDie(FileTokenStore.make({ path, key: KEY, ...options }))

/** The acquisition lock of `key` in `file`, as the store names it. */
const keyLockDir = (file: string) =>
  `${file}.${createHash("sha256").update(TokenStore.keyToString(key)).digest("hex").slice(0, 16)}.lock`

const captureLogs = () => {
  const lines: Array<string> = []
  const logger = Logger.make(({ logLevel, message }) => lines.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`))
  return { lines, layer: Logger.replace(Logger.defaultLogger, logger) }
}

describe("FileTokenStore across processes (lock files)", () => {
  it.scopedLive("two stores on one file: one acquisition; the other waits for its token and uses it", () =>
    Effect.gen(function*() {
      const file = `${yield* tempDir}/tokens.json`
      const a = yield* storeAt(file)
      const b = yield* storeAt(file)
      const gate = yield* Deferred.make<void>()
      const started = yield* Deferred.make<void>()
      let acquisitions = 0
      const acquire = Effect.gen(function*() {
        acquisitions++
        yield* Deferred.succeed(started, undefined)
        yield* Deferred.await(gate)
        return tokenNow(`token-${acquisitions}`)
      })
      const first = yield* Effect.fork(a.coordinate(key, undefined, acquire))
      yield* Deferred.await(started)
      assert.isTrue(NodeFs.existsSync(keyLockDir(file)), "the holder's lock directory exists")
      const second = yield* Effect.fork(b.coordinate(key, undefined, acquire))
      yield* Effect.sleep(Duration.millis(200))
      yield* Deferred.succeed(gate, undefined)
      const [x, y] = yield* Fiber.join(Fiber.zip(first, second))
      assert.strictEqual(acquisitions, 1)
      assert.strictEqual(valueOf(x), "token-1")
      assert.strictEqual(valueOf(y), "token-1")
      assert.strictEqual(valueOf(Option.getOrThrow(yield* b.get(key))), "token-1")
      assert.isFalse(NodeFs.existsSync(keyLockDir(file)), "the lock is released")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive("under the lock the stale token is replaced once; a caller with an older stale token adopts it", () =>
    Effect.gen(function*() {
      const file = `${yield* tempDir}/tokens.json`
      const store = yield* storeAt(file)
      const old = tokenNow("old")
      yield* store.set(key, old)
      let acquisitions = 0
      const acquire = Effect.sync(() => tokenNow(`new-${++acquisitions}`))
      const results = yield* Effect.forEach(
        Array.from({ length: 6 }),
        () => store.coordinate(key, old, acquire),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(acquisitions, 1)
      assert.deepStrictEqual(new Set(results.map(valueOf)), new Set(["new-1"]))
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive("a lock left by a crashed holder is taken over once stale; a fresh one is waited for, then bypassed", () =>
    Effect.gen(function*() {
      const file = `${yield* tempDir}/tokens.json`
      const logs = captureLogs()
      // A crashed holder's lock: its mtime is a minute old.
      NodeFs.mkdirSync(keyLockDir(file), { recursive: true })
      const past = new Date(Date.now() - 60_000)
      NodeFs.utimesSync(keyLockDir(file), past, past)
      const store = yield* storeAt(file, { staleLockTimeout: "2 seconds", lockWaitTimeout: "300 millis" })
      let acquisitions = 0
      const acquire = Effect.sync(() => tokenNow(`t-${++acquisitions}`))
      assert.strictEqual(valueOf(yield* store.coordinate(key, undefined, acquire)), "t-1")
      assert.isFalse(logs.lines.some((l) => l.startsWith("WARN")), logs.lines.join("\n"))

      // A live holder (fresh mtime) in another process: waited for 300 ms, then this process acquires alone.
      NodeFs.mkdirSync(keyLockDir(file))
      const stale = Option.getOrThrow(yield* store.get(key))
      const token = yield* store.coordinate(key, stale, acquire).pipe(Effect.provide(logs.layer))
      assert.strictEqual(valueOf(token), "t-2")
      assert.isTrue(logs.lines.some((l) => l.startsWith("WARN") && l.includes("acquiring in this process")), logs.lines.join("\n"))
      assert.isTrue(NodeFs.existsSync(keyLockDir(file)), "another's lock is left alone")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive("writes wait for the write lock: a held one fails the write after lockWaitTimeout, naming the lock", () =>
    Effect.gen(function*() {
      const file = `${yield* tempDir}/tokens.json`
      const store = yield* storeAt(file, { lockWaitTimeout: "200 millis" })
      yield* store.set(key, tokenNow("a"))
      NodeFs.mkdirSync(`${file}.write.lock`)
      const exit = yield* Effect.exit(store.set(key, tokenNow("b")))
      assert.isTrue(Exit.isFailure(exit))
      const message = String(Exit.isFailure(exit) ? (exit.cause as { error?: Error }).error?.message : "")
      assert.include(message, `${file}.write.lock`)
      assert.strictEqual(valueOf(Option.getOrThrow(yield* store.get(key))), "a")
      NodeFs.rmdirSync(`${file}.write.lock`)
      yield* store.set(key, tokenNow("b"))
      assert.strictEqual(valueOf(Option.getOrThrow(yield* store.get(key))), "b")
      // Setting the token already stored writes nothing (the file is not replaced).
      const stored = Option.getOrThrow(yield* store.get(key))
      const before = NodeFs.statSync(file).ino
      yield* store.set(key, stored)
      assert.strictEqual(NodeFs.statSync(file).ino, before)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive("many concurrent writers of different keys in two stores lose no entry", () =>
    Effect.gen(function*() {
      const file = `${yield* tempDir}/tokens.json`
      const stores = [yield* storeAt(file), yield* storeAt(file)]
      const keys = Array.from({ length: 12 }, (_, i): TokenStore.Key => ({ ...key, clientId: `c${i}` }))
      yield* Effect.forEach(keys, (k, i) => stores[i % 2]!.set(k, tokenNow(`v${i}`)), { concurrency: "unbounded" })
      for (const [i, k] of keys.entries()) {
        assert.strictEqual(valueOf(Option.getOrThrow(yield* stores[0]!.get(k))), `v${i}`)
      }
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive("crossProcessLock: false leaves no lock files; bad lock options are InvalidConfiguration", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = `${dir}/tokens.json`
      const store = yield* storeAt(file, { crossProcessLock: false })
      yield* store.coordinate(key, undefined, Effect.sync(() => tokenNow("x")))
      yield* store.set(key, tokenNow("y"))
      assert.deepStrictEqual(NodeFs.readdirSync(dir).filter((f) => f.endsWith(".lock")), [])
      for (const bad of [{ staleLockTimeout: "1 second" }, { lockWaitTimeout: Duration.infinity }, { staleLockTimeout: Duration.infinity }, { lockPollInterval: 0 }] as const) {
        const error = yield* Effect.flip(FileTokenStore.make({ path: file, key: KEY, ...bad }))
        assert.strictEqual(error._tag, "InvalidConfiguration")
      }
    }).pipe(Effect.provide(NodeContext.layer)))
})
