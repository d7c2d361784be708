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
 * one, synced, then renamed over it, so a reader sees the old file or the new one, never half of one. Writers are
 * serialised per file: in one process across store instances, and across processes by a lock file
 * (`{path}.write.lock`), so each re-reads the file, changes one entry, and renames without losing another's entry.
 *
 * **Single flight across processes** (`coordinate`). A token acquisition takes a lock per store key
 * (`{path}.{hash of the key}.lock`). The holder re-reads the file under the lock, asks the token endpoint only if no
 * usable token appeared, and stores the token before it releases; the others look for that token every
 * `lockPollInterval` and use it, for at most `lockWaitTimeout`, then acquire on their own (with a warning). So two
 * processes never both spend the same single-use refresh token. A holder that dies stops refreshing its lock, which
 * is taken over once `staleLockTimeout` has passed. The locks are [proper-lockfile](https://github.com/moxystudio/node-proper-lockfile)
 * directories (atomic `mkdir`, an mtime kept fresh by the holder), which works on local and network file systems.
 * proper-lockfile is an optional peer dependency, loaded on first use: without it (or with `crossProcessLock: false`)
 * the store coordinates within one process only, and says so once in a warning. For processes on several machines,
 * share tokens through `@effect-oauth2/redis`.
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
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as AccessToken from "./AccessToken.js"
import { type FileLock, loadFileLock } from "./internal/fileLock.js"
import { InvalidConfiguration, TokenStoreError } from "./OAuth2Error.js"
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
  /**
   * Lock the file across processes (for writes, and for token acquisitions: see the module documentation). Needs the
   * optional peer dependency `proper-lockfile`; without it the store warns once and locks within this process only.
   * Default: `true`.
   *
   * @since 0.2.0
   */
  readonly crossProcessLock?: boolean | undefined
  /**
   * How long a process waits for another's lock: for a token acquisition, then it acquires on its own (with a
   * warning); for a write, then the write fails with a `TokenStoreError`. Default: 15 seconds.
   *
   * @since 0.2.0
   */
  readonly lockWaitTimeout?: Duration.DurationInput | undefined
  /**
   * A lock its holder has not refreshed for this long is taken over (its holder crashed or hangs); the holder
   * refreshes it every half of this. At least 2 seconds. Default: 10 seconds.
   *
   * @since 0.2.0
   */
  readonly staleLockTimeout?: Duration.DurationInput | undefined
  /**
   * How often a process waiting for a lock looks again. Default: 50 milliseconds.
   *
   * @since 0.2.0
   */
  readonly lockPollInterval?: Duration.DurationInput | undefined
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
    const locks = yield* lockSettings(options)

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

    // -- cross-process locks ------------------------------------------------------------------------------------------
    let warnedNoLock = false
    /** proper-lockfile, when the store locks across processes and it can be loaded; warns once when it cannot. */
    const lockLibrary: Effect.Effect<FileLock | undefined> = !locks.enabled
      ? Effect.succeed(undefined)
      : Effect.flatMap(Effect.promise(loadFileLock), (lib) => {
        if (lib !== undefined || warnedNoLock) return Effect.succeed(lib)
        warnedNoLock = true
        return Effect.as(
          Effect.logWarning(
            `FileTokenStore ${file}: proper-lockfile is not installed, so the file is locked within this process only ` +
              "(processes sharing it may both spend a single-use refresh token). Install proper-lockfile to lock it across processes."
          ),
          lib
        )
      })

    /** Tries once to take the lock at `lockPath`; `undefined` when another holds it. */
    const tryLock = (lib: FileLock, lockPath: string, operation: string, compromised: { lost: boolean }) =>
      fs.makeDirectory(path.dirname(file), { recursive: true, mode: 0o700 }).pipe(
        Effect.mapError((error) => fail(operation, `cannot create the directory of ${file}: ${error.message}`)),
        Effect.zipRight(Effect.tryPromise({
          try: () =>
            lib.tryLock(lockPath, locks.staleMillis, () => {
              compromised.lost = true
            }),
          catch: (error) => fail(operation, `cannot lock ${lockPath}.lock: ${error instanceof Error ? error.message : String(error)}`)
        }))
      )

    /** Releases a lock, bounded (a release that hangs is abandoned: the lock goes stale and is taken over). */
    const releaseLock = (held: HeldLockOf, lockPath: string, compromised: { lost: boolean }) =>
      Effect.promise(() => held.release().catch(() => undefined)).pipe(
        Effect.timeout(Duration.seconds(5)),
        Effect.ignore,
        Effect.interruptible,
        Effect.zipRight(
          compromised.lost
            ? Effect.logWarning(`the lock ${lockPath}.lock was lost while held (not refreshed in time, or taken over)`)
            : Effect.void
        )
      )

    /** Takes the lock at `lockPath`, waiting (polling) at most `waitMillis`: the lock, or `undefined` on timeout. */
    const lockWithin = (lib: FileLock, lockPath: string, operation: string, compromised: { lost: boolean }) =>
      Effect.gen(function*() {
        const deadline = (yield* Clock.currentTimeMillis) + locks.waitMillis
        // Bounded by the deadline.
        while (true) {
          const held = yield* tryLock(lib, lockPath, operation, compromised)
          if (held !== undefined) return held
          if ((yield* Clock.currentTimeMillis) >= deadline) return undefined
          yield* Effect.sleep(locks.pollInterval)
        }
      })

    const writeLockPath = `${file}.write`
    /** Runs `effect` holding the file's cross-process write lock (when there is one). */
    const withWriteLock = <A>(operation: string, effect: Effect.Effect<A, TokenStoreError>) =>
      Effect.flatMap(lockLibrary, (lib) => {
        if (lib === undefined) return effect
        const compromised = { lost: false }
        return Effect.acquireUseRelease(
          Effect.flatMap(lockWithin(lib, writeLockPath, operation, compromised), (held) =>
            held === undefined
              ? Effect.fail(
                fail(
                  operation,
                  `${writeLockPath}.lock is held by another process for more than ${Duration.format(Duration.millis(locks.waitMillis))}. ` +
                    `If no process is using ${file}, delete ${writeLockPath}.lock.`
                )
              )
              : Effect.succeed(held)),
          () => effect,
          (held) => releaseLock(held, writeLockPath, compromised)
        )
      })

    /** Changes the file under the in-process write lock: re-read, change, write (or not, when nothing changed). */
    const modify = (
      operation: string,
      change: (
        loaded: { readonly content: TokenFile; readonly cipher: TokenCipher.Cipher } | undefined
      ) => Effect.Effect<TokenFile | undefined, TokenStoreError>
    ) =>
      writeLock.withPermits(1)(
        withWriteLock(
          operation,
          Effect.flatMap(load(operation), change).pipe(
            Effect.flatMap((next) => (next === undefined ? Effect.void : writeAtomically(next)))
          )
        ).pipe(
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
          const name = TokenStore.keyToString(key)
          const current = loaded?.content.tokens[name]
          if (loaded !== undefined && current !== undefined) {
            // The token already stored (e.g. stored under the acquisition lock, then handed to `set` again): no write.
            const existing = yield* Effect.option(TokenCipher.openToken(loaded.cipher, key, current))
            if (Option.isSome(existing) && sameToken(existing.value, token)) return undefined
          }
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

    const readFailed = <E>(error: TokenStoreError, acquire: Effect.Effect<AccessToken.AccessToken, E>) =>
      Effect.zipRight(Effect.logWarning(`token store read failed, acquiring without it: ${error.message}`), acquire)

    /** Without a cross-process lock: re-reading the file first reuses a token another process (or a login) stored. */
    const coordinateInProcess = <E>(
      key: TokenStore.Key,
      stale: AccessToken.AccessToken | undefined,
      acquire: Effect.Effect<AccessToken.AccessToken, E>
    ): Effect.Effect<AccessToken.AccessToken, E> =>
      Effect.either(get(key)).pipe(
        Effect.flatMap((stored) =>
          Either.isLeft(stored)
            ? readFailed(stored.left, acquire)
            : Effect.flatMap(Clock.currentTimeMillis, (now) =>
              Option.isSome(stored.right) && reusable(stored.right.value, stale, now)
                ? Effect.succeed(stored.right.value)
                : acquire)
        )
      )

    /** Holding the key's lock: re-read, acquire if still needed, store, release. */
    const whileLocked = <E>(
      key: TokenStore.Key,
      stale: AccessToken.AccessToken | undefined,
      acquire: Effect.Effect<AccessToken.AccessToken, E>
    ) =>
      Effect.gen(function*() {
        const stored = yield* Effect.either(get(key))
        const now = yield* Clock.currentTimeMillis
        if (Either.isRight(stored) && Option.isSome(stored.right) && reusable(stored.right.value, stale, now)) {
          return stored.right.value
        }
        const token = yield* acquire
        yield* set(key, token).pipe(
          Effect.catchAll((error) => Effect.logWarning(`storing the new token failed: ${error.message}`))
        )
        return token
      })

    const coordinate = <E>(
      key: TokenStore.Key,
      stale: AccessToken.AccessToken | undefined,
      acquire: Effect.Effect<AccessToken.AccessToken, E>
    ): Effect.Effect<AccessToken.AccessToken, E> =>
      Effect.gen(function*() {
        const lib = yield* lockLibrary
        if (lib === undefined) return yield* coordinateInProcess(key, stale, acquire)
        const lockPath = `${file}.${yield* Effect.promise(() => keyHash(key))}`
        const deadline = (yield* Clock.currentTimeMillis) + locks.waitMillis
        const compromised = { lost: false }
        // Each round: a usable stored token? the lock? else wait a little. Bounded by the deadline.
        while (true) {
          const stored = yield* Effect.either(get(key))
          if (Either.isLeft(stored)) return yield* readFailed(stored.left, acquire)
          const now = yield* Clock.currentTimeMillis
          if (Option.isSome(stored.right) && reusable(stored.right.value, stale, now)) return stored.right.value
          const held = yield* Effect.either(tryLock(lib, lockPath, "coordinate", compromised))
          if (Either.isLeft(held)) {
            yield* Effect.logWarning(`token store lock failed, acquiring in this process alone: ${held.left.message}`)
            return yield* acquire
          }
          if (held.right !== undefined) {
            const lock = held.right
            return yield* whileLocked(key, stale, acquire).pipe(
              Effect.ensuring(releaseLock(lock, lockPath, compromised))
            )
          }
          if (now >= deadline) {
            yield* Effect.logWarning(
              `no token from the process holding ${lockPath}.lock within ${
                Duration.format(Duration.millis(locks.waitMillis))
              }; acquiring in this process`
            )
            return yield* acquire
          }
          yield* Effect.sleep(locks.pollInterval)
        }
      }).pipe(Effect.annotateLogs({ provider: key.provider, environment: key.environment, store: "file" }))

    return TokenStore.TokenStore.of({ get, set, delete: remove, coordinate })
  })

type HeldLockOf = NonNullable<Awaited<ReturnType<FileLock["tryLock"]>>>

/** The lock options, checked. */
const lockSettings = (options: Options): Effect.Effect<
  { readonly enabled: boolean; readonly waitMillis: number; readonly staleMillis: number; readonly pollInterval: Duration.Duration },
  InvalidConfiguration
> => {
  const millisOf = (d: Duration.DurationInput) => Duration.toMillis(Duration.decode(d))
  const waitMillis = millisOf(options.lockWaitTimeout ?? Duration.seconds(15))
  const staleMillis = millisOf(options.staleLockTimeout ?? Duration.seconds(10))
  const pollMillis = millisOf(options.lockPollInterval ?? Duration.millis(50))
  if (!(waitMillis >= 0) || !Number.isFinite(waitMillis) || !(staleMillis >= 2000) || !Number.isFinite(staleMillis) || !(pollMillis > 0)) {
    return Effect.fail(
      new InvalidConfiguration({
        source: "configuration",
        description:
          "FileTokenStore: lockWaitTimeout must be finite, staleLockTimeout must be at least 2 seconds (and finite), lockPollInterval positive."
      })
    )
  }
  return Effect.succeed({
    enabled: options.crossProcessLock ?? true,
    waitMillis,
    staleMillis,
    pollInterval: Duration.millis(pollMillis)
  })
}

/** A short, stable, file-name-safe name for a store key: its SHA-256, hex, first 16 characters. */
const keyHash = async (key: TokenStore.Key): Promise<string> => {
  const digest = await globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(TokenStore.keyToString(key)))
  return Encoding.encodeHex(new Uint8Array(digest)).slice(0, 16)
}

/** Whether two tokens are the same in every member a store keeps. */
const sameToken = (a: AccessToken.AccessToken, b: AccessToken.AccessToken): boolean =>
  JSON.stringify(AccessToken.encode(a)) === JSON.stringify(AccessToken.encode(b))

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
