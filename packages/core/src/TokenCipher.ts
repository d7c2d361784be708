/**
 * Encryption of tokens at rest, shared by the token stores that persist them (the encrypted file, Redis).
 *
 * - AES-256-GCM through WebCrypto (`globalThis.crypto.subtle`), a fresh random 96-bit IV for every write.
 * - The key is 32 bytes given as base64 or hex (`openssl rand -base64 32`), or derived from a passphrase with
 *   PBKDF2-HMAC-SHA256 ({@link defaultIterations} iterations, 16-byte random salt). The salt and the iteration count
 *   are not secret: a store keeps them next to what it encrypts ({@link Kdf}), and reads them back to derive the same
 *   key.
 * - A sealed value reads `eo2.1.<keyId>.<iv>.<ciphertext>` (base64url). The key id is a one-way fingerprint of the
 *   key (the first 8 bytes of a SHA-256), so a value written with another key is recognised as such rather than
 *   reported as corrupted. The version, the key id and the caller's context string (for tokens: the store key, see
 *   {@link sealToken}) are authenticated with the ciphertext: a value moved to another key, or to another entry,
 *   fails to decrypt.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as AccessToken from "./AccessToken.js"
import { InvalidConfiguration, TokenStoreError } from "./OAuth2Error.js"
import * as TokenStore from "./TokenStore.js"

/**
 * A key of 32 random bytes, base64 (standard or url-safe) or hex encoded.
 *
 * @since 0.1.0
 * @category models
 */
export interface RawKey {
  readonly _tag: "RawKey"
  readonly key: Redacted.Redacted<string>
}

/**
 * A passphrase the key is derived from with PBKDF2-HMAC-SHA256.
 *
 * @since 0.1.0
 * @category models
 */
export interface Passphrase {
  readonly _tag: "Passphrase"
  readonly passphrase: Redacted.Redacted<string>
  /** The PBKDF2 iteration count for new stores (an existing store keeps its own). Default: {@link defaultIterations}. */
  readonly iterations?: number | undefined
}

/**
 * Where the encryption key comes from.
 *
 * @since 0.1.0
 * @category models
 */
export type Secret = RawKey | Passphrase

/**
 * The PBKDF2-HMAC-SHA256 iteration count for new stores: 600,000, OWASP's 2023 recommendation. Deriving takes a few
 * hundred milliseconds, once per process.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultIterations = 600_000

/**
 * A raw 32-byte key (base64 or hex).
 *
 * @since 0.1.0
 * @category constructors
 */
export const rawKey = (key: Redacted.Redacted<string> | string): RawKey => ({
  _tag: "RawKey",
  key: typeof key === "string" ? Redacted.make(key) : key
})

/**
 * A passphrase to derive the key from.
 *
 * @since 0.1.0
 * @category constructors
 */
export const passphrase = (
  passphrase: Redacted.Redacted<string> | string,
  options: { readonly iterations?: number | undefined } = {}
): Passphrase => ({
  _tag: "Passphrase",
  passphrase: typeof passphrase === "string" ? Redacted.make(passphrase) : passphrase,
  iterations: options.iterations
})

/**
 * A `Secret`, or a `Redacted` taken to be a raw key.
 *
 * @since 0.1.0
 * @category constructors
 */
export const toSecret = (input: Redacted.Redacted<string> | Secret): Secret =>
  Redacted.isRedacted(input) ? rawKey(input) : input

/**
 * The secret from the environment: `EFFECT_OAUTH2_STORE_KEY` (a raw key, base64 or hex), or else
 * `EFFECT_OAUTH2_STORE_PASSPHRASE`. Both are read with `Config.redacted`.
 *
 * @since 0.1.0
 * @category config
 */
export const secretConfig: Config.Config<Secret> = Config.redacted("EFFECT_OAUTH2_STORE_KEY").pipe(
  Config.map((key): Secret => rawKey(key)),
  Config.orElse(() =>
    Config.redacted("EFFECT_OAUTH2_STORE_PASSPHRASE").pipe(Config.map((value): Secret => passphrase(value)))
  )
)

/**
 * The key-derivation parameters a store keeps next to what a passphrase-derived key encrypted.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Kdf = Schema.Struct({
  algorithm: Schema.Literal("PBKDF2-SHA256"),
  iterations: Schema.Int.pipe(Schema.positive()),
  /** 16 random bytes, base64url. */
  salt: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export type Kdf = typeof Kdf.Type

/**
 * Why a sealed value could not be opened.
 *
 * - `WrongKey`: it was sealed with another key (its key id is not ours).
 * - `Unauthentic`: our key id, but the authentication tag does not match: the value was modified, or was moved from
 *   another entry.
 * - `Malformed`: not a sealed value at all (or an unknown version).
 *
 * @since 0.1.0
 * @category errors
 */
export class DecryptError extends Data.TaggedError("DecryptError")<{
  readonly reason: "WrongKey" | "Unauthentic" | "Malformed"
  /** The key id the value was sealed with, when it could be read. */
  readonly keyId?: string | undefined
}> {
  override get message(): string {
    switch (this.reason) {
      case "WrongKey":
        return `it was written with another key (key id ${this.keyId})`
      case "Unauthentic":
        return "it does not authenticate under this key: it was modified, corrupted, or moved from another entry"
      case "Malformed":
        return "it is not a value sealed by effect-oauth2"
    }
  }
}

/**
 * An AES-256-GCM key, ready to seal and open.
 *
 * @since 0.1.0
 * @category models
 */
export interface Cipher {
  /** The key's fingerprint: 16 hex digits, the first 8 bytes of SHA-256("effect-oauth2 key id\0" ‖ key). */
  readonly keyId: string
  /** How the key was derived from a passphrase (store it with the data), or `undefined` for a raw key. */
  readonly kdf: Kdf | undefined
  /** Encrypts `plaintext`, authenticating `context` with it. */
  readonly seal: (context: string, plaintext: Uint8Array) => Effect.Effect<string>
  /** Decrypts a sealed value; fails unless it was sealed by this key with the same `context`. */
  readonly open: (context: string, sealed: string) => Effect.Effect<Uint8Array, DecryptError>
}

const prefix = "eo2.1."
const encoder = new TextEncoder()
const decoder = new TextDecoder()

const configError = (description: string) => new InvalidConfiguration({ source: "configuration", description })

const subtle = (): SubtleCrypto | undefined => (globalThis as { crypto?: Crypto }).crypto?.subtle

const copy = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => {
  const out = new Uint8Array(bytes.length)
  out.set(bytes)
  return out
}

const randomBytes = (n: number): Uint8Array<ArrayBuffer> => globalThis.crypto.getRandomValues(new Uint8Array(n))

/**
 * Parses a raw key: 64 hex digits, or base64 / base64url of exactly 32 bytes. The error never quotes the key.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parseKey = (key: Redacted.Redacted<string>): Either.Either<Uint8Array, InvalidConfiguration> => {
  const text = Redacted.value(key).trim()
  const decoded = /^[0-9a-fA-F]{64}$/.test(text)
    ? Encoding.decodeHex(text)
    : Encoding.decodeBase64(text).pipe(Either.orElse(() => Encoding.decodeBase64Url(text)))
  return Either.isRight(decoded) && decoded.right.length === 32
    ? Either.right(decoded.right)
    : Either.left(
      configError(
        `The token store key must be 32 bytes, base64 or hex encoded (make one with \`openssl rand -base64 32\`); the key given ${
          Either.isRight(decoded) ? `decodes to ${decoded.right.length} bytes` : "is neither base64 nor hex"
        }.`
      )
    )
}

/**
 * New key-derivation parameters: a fresh random salt and the iteration count.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeKdf = (iterations: number = defaultIterations): Effect.Effect<Kdf> =>
  Effect.sync(() => ({ algorithm: "PBKDF2-SHA256", iterations, salt: Encoding.encodeBase64Url(randomBytes(16)) }))

const keyIdOf = (crypto: SubtleCrypto, key: Uint8Array) =>
  Effect.promise(() => {
    const label = encoder.encode("effect-oauth2 key id\0")
    const input = new Uint8Array(label.length + key.length)
    input.set(label)
    input.set(key, label.length)
    return crypto.digest("SHA-256", input)
  }).pipe(Effect.map((digest) => Encoding.encodeHex(new Uint8Array(digest).subarray(0, 8))))

const fromKeyBytes = (crypto: SubtleCrypto, keyBytes: Uint8Array, kdf: Kdf | undefined): Effect.Effect<Cipher> =>
  Effect.gen(function*() {
    const keyId = yield* keyIdOf(crypto, keyBytes)
    const aesKey = yield* Effect.promise(() =>
      crypto.importKey("raw", copy(keyBytes), { name: "AES-GCM" }, false, ["encrypt", "decrypt"])
    )
    const header = `${prefix}${keyId}.`
    const aad = (context: string) => encoder.encode(`${header}\n${context}`)
    const seal = (context: string, plaintext: Uint8Array): Effect.Effect<string> =>
      Effect.suspend(() => {
        const iv = randomBytes(12)
        return Effect.map(
          Effect.promise(() =>
            crypto.encrypt({ name: "AES-GCM", iv, additionalData: aad(context), tagLength: 128 }, aesKey, copy(plaintext))
          ),
          (ciphertext) => `${header}${Encoding.encodeBase64Url(iv)}.${Encoding.encodeBase64Url(new Uint8Array(ciphertext))}`
        )
      })
    const open = (context: string, sealed: string): Effect.Effect<Uint8Array, DecryptError> =>
      Effect.suspend(() => {
        const parts = sealed.split(".")
        if (parts.length !== 5 || `${parts[0]}.${parts[1]}.` !== prefix) {
          return Effect.fail(new DecryptError({ reason: "Malformed" }))
        }
        const [, , id, ivText, ctText] = parts as [string, string, string, string, string]
        if (!/^[0-9a-f]{16}$/.test(id)) return Effect.fail(new DecryptError({ reason: "Malformed" }))
        if (id !== keyId) return Effect.fail(new DecryptError({ reason: "WrongKey", keyId: id }))
        const iv = Encoding.decodeBase64Url(ivText)
        const ciphertext = Encoding.decodeBase64Url(ctText)
        if (Either.isLeft(iv) || Either.isLeft(ciphertext) || iv.right.length !== 12 || ciphertext.right.length < 16) {
          return Effect.fail(new DecryptError({ reason: "Malformed", keyId: id }))
        }
        return Effect.tryPromise({
          try: () =>
            crypto.decrypt(
              { name: "AES-GCM", iv: copy(iv.right), additionalData: aad(context), tagLength: 128 },
              aesKey,
              copy(ciphertext.right)
            ),
          catch: () => new DecryptError({ reason: "Unauthentic", keyId: id })
        }).pipe(Effect.map((plaintext) => new Uint8Array(plaintext)))
      })
    return { keyId, kdf, seal, open }
  })

/**
 * A cipher from a secret. A raw key is used as is (`kdf` is ignored). A passphrase is stretched with `kdf` (the
 * parameters a store kept), or with new parameters (a fresh salt) when `kdf` is `undefined`: keep the cipher's
 * `kdf` with the data.
 *
 * Fails with `InvalidConfiguration` for a key that is not 32 bytes, an empty passphrase, an iteration count below 1,
 * a salt that is not base64url, or a runtime without WebCrypto.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (secret: Secret, kdf?: Kdf | undefined): Effect.Effect<Cipher, InvalidConfiguration> =>
  Effect.gen(function*() {
    const crypto = subtle()
    if (crypto === undefined) {
      return yield* configError("This runtime has no WebCrypto (globalThis.crypto.subtle): token encryption needs it.")
    }
    if (secret._tag === "RawKey") {
      const bytes = yield* parseKey(secret.key)
      return yield* fromKeyBytes(crypto, bytes, undefined)
    }
    const phrase = Redacted.value(secret.passphrase).normalize("NFC")
    if (phrase.length === 0) return yield* configError("The token store passphrase is empty.")
    const params = kdf ?? (yield* makeKdf(secret.iterations ?? defaultIterations))
    if (!Number.isInteger(params.iterations) || params.iterations < 1) {
      return yield* configError(`The PBKDF2 iteration count must be a positive integer, got ${params.iterations}.`)
    }
    const salt = Encoding.decodeBase64Url(params.salt)
    if (Either.isLeft(salt) || salt.right.length === 0) {
      return yield* configError("The stored key-derivation salt is not base64url.")
    }
    const bytes = yield* Effect.promise(async () => {
      const material = await crypto.importKey("raw", encoder.encode(phrase), "PBKDF2", false, ["deriveBits"])
      const bits = await crypto.deriveBits(
        { name: "PBKDF2", hash: "SHA-256", salt: copy(salt.right), iterations: params.iterations },
        material,
        256
      )
      return new Uint8Array(bits)
    })
    return yield* fromKeyBytes(crypto, bytes, params)
  })

/**
 * The key id a sealed value was written with, if it is one.
 *
 * @since 0.1.0
 * @category utils
 */
export const keyIdOfSealed = (sealed: string): string | undefined => {
  const parts = sealed.split(".")
  return parts.length === 5 && `${parts[0]}.${parts[1]}.` === prefix && /^[0-9a-f]{16}$/.test(parts[2]!)
    ? parts[2]
    : undefined
}

const tokenContext = (key: TokenStore.Key) => `effect-oauth2/token\n${TokenStore.keyToString(key)}`

/**
 * Encrypts a token for a store, bound to its store key: the value decrypts only under the same key.
 *
 * Fails with `TokenStoreError` (operation `set`) when the token cannot be serialised: an unknown member of the token
 * response nested too deeply for `JSON.stringify` (a hostile answer can nest 100,000 levels within the body limit),
 * or one that is not JSON data. The token stays usable in memory; only persisting it fails.
 *
 * @since 0.1.0
 * @category tokens
 */
export const sealToken = (
  cipher: Cipher,
  key: TokenStore.Key,
  token: AccessToken.AccessToken
): Effect.Effect<string, TokenStoreError> =>
  Effect.try({
    try: () => encoder.encode(JSON.stringify(AccessToken.encode(token))),
    catch: (cause) =>
      new TokenStoreError({
        provider: key.provider,
        source: "token-store",
        operation: "set",
        description: `the token cannot be serialised for the store (${
          cause instanceof RangeError
            ? "a member of the token response nests too deeply"
            : "a member of the token response is not JSON data"
        }); it is kept in memory only`
      })
  }).pipe(Effect.flatMap((plaintext) => cipher.seal(tokenContext(key), plaintext)))

/**
 * Decrypts a token sealed by {@link sealToken} under the same store key.
 *
 * @since 0.1.0
 * @category tokens
 */
export const openToken = (
  cipher: Cipher,
  key: TokenStore.Key,
  sealed: string
): Effect.Effect<AccessToken.AccessToken, DecryptError> =>
  cipher.open(tokenContext(key), sealed).pipe(
    Effect.flatMap((plaintext) =>
      Effect.try({
        try: () => JSON.parse(decoder.decode(plaintext)) as unknown,
        catch: () => new DecryptError({ reason: "Malformed", keyId: cipher.keyId })
      })
    ),
    Effect.flatMap((json) =>
      Effect.mapError(AccessToken.decodeUnknown(json), () => new DecryptError({ reason: "Malformed", keyId: cipher.keyId }))
    )
  )
