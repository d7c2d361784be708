/**
 * A token store in one encrypted file: what survives a restart on one machine. A person logs in once (e.g.
 * `effect-oauth2 login tradier`), the token lands in the file, and a bot started later reads it from there.
 *
 * **Format.** One JSON file holds every key's token, each sealed on its own with AES-256-GCM (see `TokenCipher`),
 * bound to its store key:
 *
 * ```json
 * { "format": "effect-oauth2/tokens", "version": 1, "keyId": "…",
 *   "kdf": { "algorithm": "PBKDF2-SHA256", "iterations": 600000, "salt": "…" },
 *   "tokens": { "tradier/production/my-client/read%20trade": "eo2.1.…" } }
 * ```
 *
 * `kdf` is there only when the key comes from a passphrase. The store keys (provider, environment, client id,
 * scopes) are in clear; the tokens are not. One file rather than one per key: one path to configure, back up,
 * protect and delete, and one key id to check.
 *
 * **Writes** are atomic: a new file (mode 0600, in a directory created with mode 0700) is written next to the old
 * one, synced, then renamed over it, so a reader sees the old file or the new one, never half of one. Writers in one
 * process are serialised per file, across store instances (each re-reads the file, changes one entry, and renames),
 * so none loses another's entry. Several processes writing the same file: each write re-reads the file first, but
 * two writes at the same moment can still race, and then the last rename wins the whole file (the other's entry is
 * lost until it is written again). For a fleet of processes, share tokens through `@effect-oauth2/redis`.
 *
 * **A file it cannot read is never written over.** Not JSON, not an effect-oauth2 token file, an unknown version, or
 * written with another key: every operation fails with a `TokenStoreError` naming the path and what to do (restore
 * the key it was written with, or delete the file), and the file is left as it is. `AccessTokens` logs that and
 * carries on in memory. One entry that fails to decrypt under the right key (edited or damaged) fails `get` for
 * that key, and the next token written for that key replaces it.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as AccessToken from "./AccessToken.js"
import { type InvalidConfiguration, TokenStoreError } from "./OAuth2Error.js"
import * as TokenCipher from "./TokenCipher.js"
import * as TokenStore from "./TokenStore.js"

/**
 * The options of {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The file. Required. Its directory is created (mode 0700) on the first write. */
  readonly path: string
  /**
   * The encryption key: a `Redacted` raw key (32 bytes, base64 or hex), or `TokenCipher.passphrase(...)`.
   * Required.
   */
  readonly key: Redacted.Redacted<string> | TokenCipher.Secret
}

/**
 * The `format` member of a token file.
 *
 * @since 0.1.0
 * @category constants
 */
export const format = "effect-oauth2/tokens"

/**
 * The schema of a token file (version 1).
 *
 * @since 0.1.0
 * @category schemas
 */
export const TokenFile = Schema.Struct({
  format: Schema.Literal(format),
  version: Schema.Literal(1),
  /** The fingerprint of the key every entry is sealed with. */
  keyId: Schema.String,
  /** How the key was derived, when it comes from a passphrase. */
  kdf: Schema.optional(TokenCipher.Kdf),
  /** Store key (`TokenStore.keyToString`) → sealed token. */
  tokens: Schema.Record({ key: Schema.String, value: Schema.String })
})

/**
 * @since 0.1.0
 * @category models
 */
export type TokenFile = typeof TokenFile.Type

const decodeTokenFile = Schema.decodeUnknownEither(TokenFile)

/**
 * The default path: `$EFFECT_OAUTH2_STORE_PATH`, else `$XDG_CONFIG_HOME/effect-oauth2/tokens.json`, else
 * `$HOME/.config/effect-oauth2/tokens.json` (`%USERPROFILE%` when there is no `HOME`).
 *
 * @since 0.1.0
 * @category config
 */
export const pathConfig: Config.Config<string> = Config.string("EFFECT_OAUTH2_STORE_PATH").pipe(
  Config.orElse(() => Config.map(Config.string("XDG_CONFIG_HOME"), (dir) => `${dir}/effect-oauth2/tokens.json`)),
  Config.orElse(() =>
    Config.map(
      Config.orElse(Config.string("HOME"), () => Config.string("USERPROFILE")),
      (home) => `${home}/.config/effect-oauth2/tokens.json`
    )
  )
)

/** One write lock per file for the whole process, so that two stores over the same file serialise too. */
const writeLocks = new Map<string, Effect.Semaphore>()
const writeLockFor = (file: string): Effect.Semaphore => {
  let lock = writeLocks.get(file)
  if (lock === undefined) {
    lock = Effect.unsafeMakeSemaphore(1)
    writeLocks.set(file, lock)
  }
  return lock
}

const corruptHint = "Delete it to start over (tokens are fetched again; a login must be redone), or restore it from a " +
  "backup. It is left as it is: nothing is written to it until then."

/**
 * Builds the store. Nothing is read or written until the first operation; a passphrase's key is derived once per
 * salt. Needs a `FileSystem` and a `Path` (`NodeContext.layer` from `@effect/platform-node` provides both).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<TokenStore.Service, InvalidConfiguration, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const file = path.resolve(options.path)
    const secret = TokenCipher.toSecret(options.key)
    // A raw key's cipher is made (and the key checked) now; a passphrase's needs the file's salt.
    const rawCipher = secret._tag === "RawKey" ? yield* TokenCipher.make(secret) : undefined
    const derived = new Map<string, TokenCipher.Cipher>()
    const writeLock = writeLockFor(file)

    const fail = (operation: string, description: string) =>
      new TokenStoreError({ source: "token-store", operation, description })

    const cipherFor = (operation: string, kdf: TokenCipher.Kdf | undefined): Effect.Effect<TokenCipher.Cipher, TokenStoreError> => {
      if (rawCipher !== undefined) return Effect.succeed(rawCipher)
      const id = kdf === undefined ? undefined : `${kdf.iterations}:${kdf.salt}`
      const known = id === undefined ? undefined : derived.get(id)
      if (known !== undefined) return Effect.succeed(known)
      return TokenCipher.make(secret, kdf).pipe(
        Effect.tap((cipher) => Effect.sync(() => derived.set(`${cipher.kdf!.iterations}:${cipher.kdf!.salt}`, cipher))),
        Effect.mapError((error) => fail(operation, `${file}: ${error.description}`))
      )
    }

    /** The file and its cipher, or `undefined` when there is no file yet. Fails for any file it cannot use. */
    const load = (operation: string) =>
      Effect.gen(function*() {
        const bytes = yield* fs.readFile(file).pipe(
          Effect.map((bytes): Uint8Array | undefined => bytes),
          Effect.catchIf(
            (error) => error._tag === "SystemError" && error.reason === "NotFound",
            () => Effect.succeed(undefined)
          ),
          Effect.mapError((error) => fail(operation, `cannot read ${file}: ${error.message}. Check its permissions.`))
        )
        if (bytes === undefined) return undefined
        const json = Either.try(() => JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) as unknown)
        if (Either.isLeft(json)) {
          return yield* fail(operation, `${file} is corrupted (not valid JSON). ${corruptHint}`)
        }
        const value = json.right
        if (typeof value !== "object" || value === null || (value as { format?: unknown }).format !== format) {
          return yield* fail(
            operation,
            `${file} is not an effect-oauth2 token file. Point EFFECT_OAUTH2_STORE_PATH elsewhere, or move that file away.`
          )
        }
        if ((value as { version?: unknown }).version !== 1) {
          return yield* fail(
            operation,
            `${file} has format version ${String((value as { version?: unknown }).version)}, which this version of ` +
              "effect-oauth2 cannot read: upgrade, or delete the file. It is left as it is."
          )
        }
        const decoded = decodeTokenFile(value)
        if (Either.isLeft(decoded)) {
          return yield* fail(operation, `${file} is corrupted (its structure is damaged). ${corruptHint}`)
        }
        const content = decoded.right
        const anotherKey = (why: string) =>
          fail(
            operation,
            `${file} was written with another key (${why}). Set EFFECT_OAUTH2_STORE_KEY / EFFECT_OAUTH2_STORE_PASSPHRASE ` +
              "to the key it was written with, or delete the file to start over. It is left as it is."
          )
        if (content.kdf !== undefined && rawCipher !== undefined) {
          return yield* anotherKey("a passphrase, where this process has a raw key")
        }
        if (content.kdf === undefined && rawCipher === undefined) {
          return yield* anotherKey("a raw key, where this process has a passphrase")
        }
        const cipher = yield* cipherFor(operation, content.kdf)
        if (cipher.keyId !== content.keyId) {
          return yield* anotherKey(`key id ${content.keyId}, this process has ${cipher.keyId}`)
        }
        for (const sealed of Object.values(content.tokens)) {
          const id = TokenCipher.keyIdOfSealed(sealed)
          if (id !== undefined && id !== cipher.keyId) return yield* anotherKey(`an entry has key id ${id}`)
        }
        return { content, cipher }
      })

    /** Writes a new version of the file atomically: a temporary file (0600), synced, renamed over the old one. */
    const writeAtomically = (content: TokenFile) =>
      Effect.gen(function*() {
        const data = new TextEncoder().encode(JSON.stringify(content, null, 2) + "\n")
        const random = Encoding.encodeHex(globalThis.crypto.getRandomValues(new Uint8Array(6)))
        const temporary = `${file}.${random}.tmp`
        yield* fs.makeDirectory(path.dirname(file), { recursive: true, mode: 0o700 })
        yield* Effect.scoped(
          Effect.flatMap(fs.open(temporary, { flag: "wx", mode: 0o600 }), (handle) =>
            Effect.zipRight(handle.writeAll(data), handle.sync))
        ).pipe(
          Effect.zipRight(fs.rename(temporary, file)),
          Effect.onError(() => Effect.ignore(fs.remove(temporary)))
        )
      }).pipe(Effect.mapError((error) => fail("set", `cannot write ${file}: ${error.message}`)))

    /** Changes the file under the in-process write lock: re-read, change, write (or not, when nothing changed). */
    const modify = (
      operation: string,
      change: (
        loaded: { readonly content: TokenFile; readonly cipher: TokenCipher.Cipher } | undefined
      ) => Effect.Effect<TokenFile | undefined, TokenStoreError>
    ) =>
      writeLock.withPermits(1)(
        Effect.flatMap(load(operation), change).pipe(
          Effect.flatMap((next) => (next === undefined ? Effect.void : writeAtomically(next))),
          Effect.mapError((error) => (error.operation === operation ? error : fail(operation, error.description)))
        )
      )

    const get = (key: TokenStore.Key): Effect.Effect<Option.Option<AccessToken.AccessToken>, TokenStoreError> =>
      Effect.gen(function*() {
        const loaded = yield* load("get")
        const sealed = loaded?.content.tokens[TokenStore.keyToString(key)]
        if (loaded === undefined || sealed === undefined) return Option.none()
        return yield* TokenCipher.openToken(loaded.cipher, key, sealed).pipe(
          Effect.map(Option.some),
          Effect.mapError((error) =>
            fail(
              "get",
              `the token for ${TokenStore.keyToString(key)} in ${file} cannot be read: ${error.message}. ` +
                "The next token stored for it replaces it."
            )
          )
        )
      })

    const set = (key: TokenStore.Key, token: AccessToken.AccessToken): Effect.Effect<void, TokenStoreError> =>
      modify("set", (loaded) =>
        Effect.gen(function*() {
          const cipher = loaded?.cipher ?? (yield* cipherFor("set", undefined))
          const sealed = yield* TokenCipher.sealToken(cipher, key, token)
          const base: TokenFile = loaded?.content ?? {
            format,
            version: 1,
            keyId: cipher.keyId,
            ...(cipher.kdf === undefined ? {} : { kdf: cipher.kdf }),
            tokens: {}
          }
          return { ...base, tokens: { ...base.tokens, [TokenStore.keyToString(key)]: sealed } }
        }))

    const remove = (key: TokenStore.Key): Effect.Effect<void, TokenStoreError> =>
      modify("delete", (loaded) => {
        const name = TokenStore.keyToString(key)
        if (loaded === undefined || !(name in loaded.content.tokens)) return Effect.succeed(undefined)
        const tokens = { ...loaded.content.tokens }
        delete tokens[name]
        return Effect.succeed({ ...loaded.content, tokens })
      })

    // No lock across processes: re-reading the file first reuses a token another process (or a login) stored.
    const coordinate = <E>(
      key: TokenStore.Key,
      stale: AccessToken.AccessToken | undefined,
      acquire: Effect.Effect<AccessToken.AccessToken, E>
    ): Effect.Effect<AccessToken.AccessToken, E> =>
      Effect.either(get(key)).pipe(
        Effect.flatMap((stored) =>
          Either.isLeft(stored)
            ? Effect.zipRight(
              Effect.logWarning(`token store read failed, acquiring without it: ${stored.left.message}`),
              acquire
            )
            : Effect.flatMap(Clock.currentTimeMillis, (now) =>
              Option.isSome(stored.right) && reusable(stored.right.value, stale, now)
                ? Effect.succeed(stored.right.value)
                : acquire)
        )
      )

    return TokenStore.TokenStore.of({ get, set, delete: remove, coordinate })
  })

/**
 * Whether a stored token can be handed out instead of acquiring one: not the one being replaced, and not in its
 * last second (or last tenth of a short lifetime), like `AccessTokens` itself.
 */
const reusable = (token: AccessToken.AccessToken, stale: AccessToken.AccessToken | undefined, now: number) =>
  (stale === undefined || !AccessToken.sameValue(token, stale)) &&
  now < token.expiresAt - Math.min(1000, (token.expiresAt - token.issuedAt) / 10)

/**
 * The store as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<TokenStore.TokenStore, InvalidConfiguration, FileSystem.FileSystem | Path.Path> =>
  Layer.effect(TokenStore.TokenStore, make(options))

/**
 * The store as a layer configured from `Config`. Defaults: the path from {@link pathConfig}
 * (`EFFECT_OAUTH2_STORE_PATH`, else `~/.config/effect-oauth2/tokens.json`), the key from `TokenCipher.secretConfig`
 * (`EFFECT_OAUTH2_STORE_KEY`, else `EFFECT_OAUTH2_STORE_PASSPHRASE`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: {
    readonly path?: Config.Config<string> | undefined
    readonly key?: Config.Config<Redacted.Redacted<string> | TokenCipher.Secret> | undefined
  } = {}
): Layer.Layer<
  TokenStore.TokenStore,
  InvalidConfiguration | ConfigError.ConfigError,
  FileSystem.FileSystem | Path.Path
> =>
  Layer.unwrapEffect(
    Effect.map(
      Config.all({ path: config.path ?? pathConfig, key: config.key ?? TokenCipher.secretConfig }),
      (options) => layer(options)
    )
  )
