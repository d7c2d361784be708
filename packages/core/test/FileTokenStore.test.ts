import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as AccessToken from "../src/AccessToken.js"
import * as AccessTokens from "../src/AccessTokens.js"
import * as Endpoint from "../src/Endpoint.js"
import * as FileTokenStore from "../src/FileTokenStore.js"
import * as OAuth2Client from "../src/OAuth2Client.js"
import * as TokenCipher from "../src/TokenCipher.js"
import * as TokenStore from "../src/TokenStore.js"
import * as TokenServer from "./utils/tokenServer.js"

const KEY = Redacted.make(Encoding.encodeBase64(Uint8Array.from({ length: 32 }, (_, i) => i + 1)))
const OTHER_KEY = Redacted.make(Encoding.encodeHex(Uint8Array.from({ length: 32 }, (_, i) => 200 - i)))

const keyA: TokenStore.Key = { provider: "tradier", environment: "production", clientId: "bot", scopes: ["read", "trade"] }
const keyB: TokenStore.Key = { provider: "figure-markets", environment: "uat", clientId: "fm", scopes: ["TRADER_READ"] }

const tokenAt = (value: string, now: number, lifetime = 3_600_000, refresh?: string) =>
  new AccessToken.AccessToken({
    value: Redacted.make(value),
    type: "Bearer",
    issuedAt: now,
    expiresAt: now + lifetime,
    scopes: ["read"],
    ...(refresh === undefined ? {} : { refreshToken: Redacted.make(refresh) }),
    extra: {}
  })

const valueOf = (token: AccessToken.AccessToken) => Redacted.value(token.value)

/** A fresh directory for the test, removed with its scope. */
const tempDir = Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeTempDirectoryScoped({ prefix: "eo2-file-store-" }))

const storeAt = (path: string, key: Redacted.Redacted<string> | TokenCipher.Secret = KEY) =>
  Effect.orDie(FileTokenStore.make({ path, key }))

const readText = (path: string) => Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(path))

/** Runs `effect`, expecting a TokenStoreError; returns its message. */
const failure = <A, R>(effect: Effect.Effect<A, unknown, R>) =>
  Effect.map(Effect.flip(effect), (error) => {
    assert.strictEqual((error as { _tag?: string })._tag, "TokenStoreError")
    return (error as Error).message
  })

describe("FileTokenStore", () => {
  it.scoped("set, get, delete; many keys in one file, mode 0600 in a 0700 directory, secrets never in clear", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      const path = `${dir}/nested/dir/tokens.json`
      const store = yield* storeAt(path)
      assert.isTrue(Option.isNone(yield* store.get(keyA)))
      const a = tokenAt("tradier-access-secret", Date.now(), 86_399_000, "tradier-refresh-secret")
      const b = tokenAt("figure-access-secret", Date.now())
      yield* store.set(keyA, a)
      yield* store.set(keyB, b)
      const gotA = Option.getOrThrow(yield* store.get(keyA))
      assert.deepStrictEqual(AccessToken.encode(gotA), AccessToken.encode(a))
      assert.strictEqual(valueOf(Option.getOrThrow(yield* store.get(keyB))), "figure-access-secret")

      assert.strictEqual((yield* fs.stat(path)).mode & 0o777, 0o600)
      assert.strictEqual((yield* fs.stat(`${dir}/nested/dir`)).mode & 0o777, 0o700)
      const text = yield* readText(path)
      assert.notInclude(text, "secret")
      const json = JSON.parse(text)
      assert.strictEqual(json.format, "effect-oauth2/tokens")
      assert.strictEqual(json.version, 1)
      assert.deepStrictEqual(Object.keys(json.tokens).sort(), [TokenStore.keyToString(keyB), TokenStore.keyToString(keyA)].sort())
      // Writes leave no temporary files behind.
      assert.deepStrictEqual(yield* fs.readDirectory(`${dir}/nested/dir`), ["tokens.json"])

      yield* store.delete(keyA)
      assert.isTrue(Option.isNone(yield* store.get(keyA)))
      assert.isTrue(Option.isSome(yield* store.get(keyB)))
      yield* store.delete(keyA) // deleting what is not there is fine
      // Another instance (another process, later) reads what the first wrote.
      const later = yield* storeAt(path)
      assert.strictEqual(valueOf(Option.getOrThrow(yield* later.get(keyB))), "figure-access-secret")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("concurrent writers in one process lose no entry", () =>
    Effect.gen(function*() {
      const path = `${yield* tempDir}/tokens.json`
      const store = yield* storeAt(path)
      const keys = Array.from({ length: 24 }, (_, i): TokenStore.Key => ({ ...keyA, clientId: `client-${i}` }))
      yield* Effect.forEach(keys, (key, i) => store.set(key, tokenAt(`tok-${i}`, Date.now())), { concurrency: "unbounded" })
      for (const [i, key] of keys.entries()) {
        assert.strictEqual(valueOf(Option.getOrThrow(yield* store.get(key))), `tok-${i}`)
      }
      // Two store instances over the same file (two layers in one process) serialise too.
      const twin = yield* storeAt(path)
      yield* Effect.forEach(keys, (key, i) => (i % 2 === 0 ? store : twin).delete(key), { concurrency: "unbounded" })
      assert.deepStrictEqual(JSON.parse(yield* readText(path)).tokens, {})
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a corrupted file is a TokenStoreError naming the path and the fix, and is never written over", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["{ \"format\": \"effect-oauth2/tokens\", \"vers", "corrupted (not valid JSON)"],
        ["\u0000\u0001binary garbage", "corrupted (not valid JSON)"],
        [JSON.stringify({ format: "effect-oauth2/tokens", version: 1, keyId: 3, tokens: [] }), "structure is damaged"],
        [JSON.stringify({ format: "effect-oauth2/tokens", version: 7, keyId: "x", tokens: {} }), "format version 7"],
        [JSON.stringify({ access_token: "someone else's" }), "not an effect-oauth2 token file"],
        ["[1, 2, 3]", "not an effect-oauth2 token file"]
      ]
      for (const [index, [content, expected]] of cases.entries()) {
        const path = `${dir}/tokens-${index}.json`
        yield* fs.writeFileString(path, content)
        const store = yield* storeAt(path)
        for (const message of [
          yield* failure(store.get(keyA)),
          yield* failure(store.set(keyA, tokenAt("new", Date.now()))),
          yield* failure(store.delete(keyA))
        ]) {
          assert.include(message, path)
          assert.include(message, expected)
        }
        assert.strictEqual(yield* readText(path), content, "the file is left as it was")
      }
      assert.include(yield* failure(storeAt(`${dir}/tokens-0.json`).pipe(Effect.flatMap((s) => s.get(keyA)))), "Delete it")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("another key: 'written with another key', and the file is kept", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = `${dir}/tokens.json`
      yield* (yield* storeAt(path)).set(keyA, tokenAt("mine", Date.now()))
      const before = yield* readText(path)
      const other = yield* storeAt(path, OTHER_KEY)
      for (const message of [
        yield* failure(other.get(keyA)),
        yield* failure(other.get(keyB)),
        yield* failure(other.set(keyB, tokenAt("theirs", Date.now()))),
        yield* failure(other.delete(keyA))
      ]) {
        assert.include(message, "written with another key")
        assert.include(message, path)
        assert.include(message, "EFFECT_OAUTH2_STORE_KEY")
      }
      assert.strictEqual(yield* readText(path), before)
      // A passphrase over a raw-key file, and the other way round, are other keys too.
      const phrase = TokenCipher.passphrase("pass", { iterations: 1000 })
      assert.include(yield* failure((yield* storeAt(path, phrase)).get(keyA)), "written with another key")
      const phrasePath = `${dir}/phrase.json`
      yield* (yield* storeAt(phrasePath, phrase)).set(keyA, tokenAt("p", Date.now()))
      assert.include(yield* failure((yield* storeAt(phrasePath)).get(keyA)), "written with another key (a passphrase")
      // An entry sealed by another key, spliced into our file, is refused as well.
      const foreign = JSON.parse(yield* readText(phrasePath)).tokens[TokenStore.keyToString(keyA)]
      const spliced = { ...JSON.parse(before), tokens: { ...JSON.parse(before).tokens, other: foreign } }
      yield* Effect.flatMap(FileSystem.FileSystem, (fs) => fs.writeFileString(path, JSON.stringify(spliced)))
      assert.include(yield* failure((yield* storeAt(path)).get(keyA)), "written with another key (an entry")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a passphrase: the salt and iteration count are stored; a later store derives the same key", () =>
    Effect.gen(function*() {
      const path = `${yield* tempDir}/tokens.json`
      const phrase = TokenCipher.passphrase(Redacted.make("a long passphrase"), { iterations: 2000 })
      yield* (yield* storeAt(path, phrase)).set(keyA, tokenAt("phrase-token", Date.now()))
      const json = JSON.parse(yield* readText(path))
      assert.strictEqual(json.kdf.algorithm, "PBKDF2-SHA256")
      assert.strictEqual(json.kdf.iterations, 2000)
      assert.isString(json.kdf.salt)
      // The iteration count of the file wins over the caller's default.
      const later = yield* storeAt(path, TokenCipher.passphrase("a long passphrase"))
      assert.strictEqual(valueOf(Option.getOrThrow(yield* later.get(keyA))), "phrase-token")
      const wrong = yield* storeAt(path, TokenCipher.passphrase("another passphrase"))
      assert.include(yield* failure(wrong.get(keyA)), "written with another key")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("a damaged or moved entry fails get for that key only; the next set replaces it", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = `${yield* tempDir}/tokens.json`
      const store = yield* storeAt(path)
      yield* store.set(keyA, tokenAt("a", Date.now()))
      yield* store.set(keyB, tokenAt("b", Date.now()))
      const json = JSON.parse(yield* readText(path))
      // B's blob copied over A's: it does not authenticate under A's store key.
      json.tokens[TokenStore.keyToString(keyA)] = json.tokens[TokenStore.keyToString(keyB)]
      yield* fs.writeFileString(path, JSON.stringify(json))
      const message = yield* failure(store.get(keyA))
      assert.include(message, "modified, corrupted, or moved")
      assert.strictEqual(valueOf(Option.getOrThrow(yield* store.get(keyB))), "b")
      yield* store.set(keyA, tokenAt("a2", Date.now()))
      assert.strictEqual(valueOf(Option.getOrThrow(yield* store.get(keyA))), "a2")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("coordinate (TestClock at 0): reuses a stored token that is valid and not stale, else acquires; a broken file warns", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = `${yield* tempDir}/tokens.json`
      const store = yield* storeAt(path)
      let acquired = 0
      const acquire = Effect.sync(() => tokenAt(`acquired-${++acquired}`, 0))
      assert.strictEqual(valueOf(yield* store.coordinate(keyA, undefined, acquire)), "acquired-1")
      const stored = tokenAt("stored", 0)
      yield* store.set(keyA, stored)
      assert.strictEqual(valueOf(yield* store.coordinate(keyA, undefined, acquire)), "stored")
      assert.strictEqual(valueOf(yield* store.coordinate(keyA, tokenAt("older", 0), acquire)), "stored")
      assert.strictEqual(valueOf(yield* store.coordinate(keyA, stored, acquire)), "acquired-2")
      yield* store.set(keyA, tokenAt("expired", -10_000, 5_000))
      assert.strictEqual(valueOf(yield* store.coordinate(keyA, undefined, acquire)), "acquired-3")

      yield* fs.writeFileString(path, "garbage")
      const logs: Array<string> = []
      const logger = Logger.make(({ logLevel, message }) => logs.push(`${logLevel.label} ${String(message)}`))
      const result = yield* store.coordinate(keyA, undefined, acquire).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, logger))
      )
      assert.strictEqual(valueOf(result), "acquired-4")
      assert.isTrue(logs.some((line) => line.startsWith("WARN") && line.includes("corrupted")), logs.join("\n"))
      // The acquisition's own failure passes through unchanged.
      const error = yield* Effect.flip(store.coordinate(keyA, undefined, Effect.fail("endpoint down" as const)))
      assert.strictEqual(error, "endpoint down")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("AccessTokens: a token acquired by one run is read by the next, with no second request", () =>
    Effect.gen(function*() {
      const path = `${yield* tempDir}/tokens.json`
      const server = yield* TokenServer.make((request) => TokenServer.token({ access_token: `tok-${request.index}` }))
      const http = yield* Layer.build(NodeHttpClient.layerUndici)
      const run = Effect.gen(function*() {
        const store = yield* storeAt(path)
        const endpoint = yield* Endpoint.make({ provider: "test", tokenUrl: server.url("/token"), authMethod: "client_secret_post" })
        const client = yield* OAuth2Client.make({ endpoint, credentials: Endpoint.credentials("client-id", "s") })
        const tokens = yield* AccessTokens.make({ scopes: ["a"] }).pipe(
          Effect.provideService(OAuth2Client.OAuth2Client, client),
          Effect.provideService(TokenStore.TokenStore, store)
        )
        return valueOf(yield* tokens.get)
      }).pipe(Effect.scoped, Effect.provide(http), Effect.orDie)
      assert.strictEqual(yield* run, "tok-0")
      assert.strictEqual(yield* run, "tok-0")
      assert.strictEqual(yield* server.count, 1)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("layerConfig: the key and path from the environment; the default path under HOME", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const withEnv = (env: Record<string, string>) =>
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
      const useStore = Effect.gen(function*() {
        const store = yield* TokenStore.TokenStore
        yield* store.set(keyA, tokenAt("from-config", Date.now()))
        return valueOf(Option.getOrThrow(yield* store.get(keyA)))
      })
      const viaLayer = useStore.pipe(Effect.provide(FileTokenStore.layerConfig()))
      assert.strictEqual(
        yield* viaLayer.pipe(withEnv({ EFFECT_OAUTH2_STORE_PATH: `${dir}/explicit.json`, EFFECT_OAUTH2_STORE_KEY: Redacted.value(KEY) })),
        "from-config"
      )
      assert.isTrue(yield* (yield* FileSystem.FileSystem).exists(`${dir}/explicit.json`))
      yield* viaLayer.pipe(withEnv({ HOME: dir, EFFECT_OAUTH2_STORE_PASSPHRASE: "phrase" }))
      const json = JSON.parse(yield* readText(`${dir}/.config/effect-oauth2/tokens.json`))
      assert.strictEqual(json.kdf.iterations, TokenCipher.defaultIterations)
      assert.strictEqual(
        yield* Effect.flatMap(FileTokenStore.pathConfig, (p) => Effect.succeed(p)).pipe(
          withEnv({ HOME: "/home/bot", XDG_CONFIG_HOME: "/xdg" })
        ),
        "/xdg/effect-oauth2/tokens.json"
      )
      const missingKey = yield* Effect.flip(viaLayer.pipe(withEnv({ HOME: dir })))
      assert.strictEqual(missingKey._tag, "ConfigError")
      assert.include(String(missingKey), "EFFECT_OAUTH2_STORE_KEY")
      const badKey = yield* Effect.flip(viaLayer.pipe(withEnv({ HOME: dir, EFFECT_OAUTH2_STORE_KEY: "too-short" })))
      assert.strictEqual(badKey._tag, "InvalidConfiguration")
      assert.notInclude(badKey.message, "too-short")
    }).pipe(Effect.provide(NodeContext.layer)))
})
