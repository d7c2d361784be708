import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import * as AccessToken from "../src/AccessToken.js"
import * as TokenCipher from "../src/TokenCipher.js"
import type * as TokenStore from "../src/TokenStore.js"

const keyBytes = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1)
const KEY = Encoding.encodeBase64(keyBytes)
const OTHER_KEY = Encoding.encodeBase64(Uint8Array.from({ length: 32 }, (_, i) => 255 - i))

const storeKey: TokenStore.Key = { provider: "tradier", environment: "sandbox", clientId: "c1", scopes: ["read", "trade"] }
const token = new AccessToken.AccessToken({
  value: Redacted.make("access-secret-value"),
  type: "Bearer",
  issuedAt: 1_000,
  expiresAt: 3_601_000,
  scopes: ["read", "trade"],
  refreshToken: Redacted.make("refresh-secret-value"),
  extra: { status: "approved", issued_at: "2024-01-01" }
})

const cipher = (key: string) => Effect.orDie(TokenCipher.make(TokenCipher.rawKey(key)))
const bytes = (text: string) => new TextEncoder().encode(text)

describe("TokenCipher", () => {
  it.effect("seals and opens; every seal uses a new IV; nothing of the plaintext shows", () =>
    Effect.gen(function*() {
      const c = yield* cipher(KEY)
      const a = yield* c.seal("ctx", bytes("hello secret"))
      const b = yield* c.seal("ctx", bytes("hello secret"))
      assert.notStrictEqual(a, b)
      assert.isTrue(a.startsWith(`eo2.1.${c.keyId}.`))
      assert.notInclude(a, "hello")
      assert.strictEqual(new TextDecoder().decode(yield* c.open("ctx", a)), "hello secret")
      assert.strictEqual(TokenCipher.keyIdOfSealed(a), c.keyId)
      assert.match(c.keyId, /^[0-9a-f]{16}$/)
    }))

  it.effect("the context is authenticated: a value moved to another context fails", () =>
    Effect.gen(function*() {
      const c = yield* cipher(KEY)
      const sealed = yield* c.seal("entry-a", bytes("x"))
      const error = yield* Effect.flip(c.open("entry-b", sealed))
      assert.strictEqual(error.reason, "Unauthentic")
    }))

  it.effect("another key: WrongKey with the key id it was written with", () =>
    Effect.gen(function*() {
      const mine = yield* cipher(KEY)
      const theirs = yield* cipher(OTHER_KEY)
      assert.notStrictEqual(mine.keyId, theirs.keyId)
      const sealed = yield* theirs.seal("ctx", bytes("x"))
      const error = yield* Effect.flip(mine.open("ctx", sealed))
      assert.strictEqual(error.reason, "WrongKey")
      assert.strictEqual(error.keyId, theirs.keyId)
      assert.include(error.message, "another key")
    }))

  it.effect("tampering and garbage: Unauthentic and Malformed, never a crash", () =>
    Effect.gen(function*() {
      const c = yield* cipher(KEY)
      const sealed = yield* c.seal("ctx", bytes("some plaintext"))
      const parts = sealed.split(".")
      const ct = Either.getOrThrow(Encoding.decodeBase64Url(parts[4]!))
      ct[0] = ct[0]! ^ 1
      const tampered = [...parts.slice(0, 4), Encoding.encodeBase64Url(ct)].join(".")
      assert.strictEqual((yield* Effect.flip(c.open("ctx", tampered))).reason, "Unauthentic")
      for (const garbage of ["", "not sealed", "eo2.1.zz.a.b", `eo2.1.${c.keyId}.!!!.???`, `eo2.2.${c.keyId}.a.b`]) {
        assert.strictEqual((yield* Effect.flip(c.open("ctx", garbage))).reason, "Malformed", garbage)
      }
      const shortIv = [...parts.slice(0, 3), "AAAA", parts[4]].join(".")
      assert.strictEqual((yield* Effect.flip(c.open("ctx", shortIv))).reason, "Malformed")
    }))

  it.effect("raw keys: base64, base64url and hex of the same bytes are the same key; other lengths are refused", () =>
    Effect.gen(function*() {
      const b64 = yield* cipher(KEY)
      const b64url = yield* cipher(Encoding.encodeBase64Url(keyBytes))
      const hex = yield* cipher(Encoding.encodeHex(keyBytes).toUpperCase())
      assert.strictEqual(b64.keyId, b64url.keyId)
      assert.strictEqual(b64.keyId, hex.keyId)
      assert.isUndefined(b64.kdf)
      for (const bad of ["", "c2hvcnQ=", Encoding.encodeBase64(new Uint8Array(31)), "zz".repeat(32), "k".repeat(44) + "!"]) {
        const error = yield* Effect.flip(TokenCipher.make(TokenCipher.rawKey(bad)))
        assert.strictEqual(error._tag, "InvalidConfiguration")
        assert.include(error.message, "32 bytes")
        if (bad.length > 4) assert.notInclude(error.message, bad)
      }
    }))

  it.effect("passphrases: PBKDF2 with a stored salt; the same salt gives the same key, another salt another", () =>
    Effect.gen(function*() {
      const secret = TokenCipher.passphrase("correct horse battery staple", { iterations: 1000 })
      const first = yield* Effect.orDie(TokenCipher.make(secret))
      assert.strictEqual(first.kdf?.algorithm, "PBKDF2-SHA256")
      assert.strictEqual(first.kdf?.iterations, 1000)
      assert.strictEqual(Either.getOrThrow(Encoding.decodeBase64Url(first.kdf!.salt)).length, 16)
      const again = yield* Effect.orDie(TokenCipher.make(secret, first.kdf))
      assert.strictEqual(again.keyId, first.keyId)
      const sealed = yield* first.seal("ctx", bytes("x"))
      assert.strictEqual(new TextDecoder().decode(yield* again.open("ctx", sealed)), "x")
      const otherSalt = yield* Effect.orDie(TokenCipher.make(secret))
      assert.notStrictEqual(otherSalt.keyId, first.keyId)
      const wrong = yield* Effect.orDie(TokenCipher.make(TokenCipher.passphrase("wrong", { iterations: 1000 }), first.kdf))
      assert.strictEqual((yield* Effect.flip(wrong.open("ctx", sealed))).reason, "WrongKey")
      assert.strictEqual(TokenCipher.defaultIterations, 600_000)
      const empty = yield* Effect.flip(TokenCipher.make(TokenCipher.passphrase("")))
      assert.include(empty.message, "empty")
    }))

  it.effect("tokens: every field survives; the blob is bound to its store key", () =>
    Effect.gen(function*() {
      const c = yield* cipher(KEY)
      const sealed = yield* TokenCipher.sealToken(c, storeKey, token)
      assert.notInclude(sealed, "secret-value")
      const back = yield* TokenCipher.openToken(c, storeKey, sealed)
      assert.deepStrictEqual(AccessToken.encode(back), AccessToken.encode(token))
      assert.strictEqual(Redacted.value(back.refreshToken!), "refresh-secret-value")
      // Scope order does not matter (the store key sorts them); another client does.
      yield* TokenCipher.openToken(c, { ...storeKey, scopes: ["trade", "read"] }, sealed)
      const moved = yield* Effect.flip(TokenCipher.openToken(c, { ...storeKey, clientId: "c2" }, sealed))
      assert.strictEqual(moved.reason, "Unauthentic")
      // Valid encryption of something that is not a token: Malformed.
      const notToken = yield* c.seal(`effect-oauth2/token\ntradier/sandbox/c1/read%20trade`, bytes("{\"a\":1}"))
      assert.strictEqual((yield* Effect.flip(TokenCipher.openToken(c, storeKey, notToken))).reason, "Malformed")
    }))

  it.effect("a token whose unknown member nests 100,000 deep: sealToken fails with a typed TokenStoreError, no defect", () =>
    Effect.gen(function*() {
      const c = yield* cipher(KEY)
      // What a hostile token answer of about 600 KB (under the body limit) decodes to.
      const deep = JSON.parse("{\"a\":".repeat(100_000) + "1" + "}".repeat(100_000)) as unknown
      const hostile = new AccessToken.AccessToken({ ...token, extra: { x: deep } })
      const exit = yield* Effect.exit(TokenCipher.sealToken(c, storeKey, hostile))
      assert.isTrue(Exit.isFailure(exit))
      const error = yield* Effect.flip(TokenCipher.sealToken(c, storeKey, hostile))
      assert.strictEqual(error._tag, "TokenStoreError")
      assert.strictEqual(error.operation, "set")
      assert.include(error.message, "nests too deeply")
      assert.notInclude(error.message, "secret-value")
      // Data that is not JSON at all (a BigInt): typed too.
      const odd = new AccessToken.AccessToken({ ...token, extra: { n: BigInt(1) } })
      assert.strictEqual((yield* Effect.flip(TokenCipher.sealToken(c, storeKey, odd)))._tag, "TokenStoreError")
    }))
})
