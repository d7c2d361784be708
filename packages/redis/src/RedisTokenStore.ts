/**
 * A `TokenStore` on Redis, shared by every process that uses the same Redis, prefix and key: one token request per
 * token lifetime for a whole fleet.
 *
 * - **Encrypted.** Tokens are sealed with AES-256-GCM (`TokenCipher` from core) before they reach Redis, bound to
 *   their store key. Keys expire with the token: the TTL is the token's remaining life, or, for a token that carries a
 *   refresh token, until that refresh token dies (`AccessToken.refreshTokenExpiresAt`; `refreshTokenGrace` past the
 *   access token's expiry when its death is unknown), so that a fleet that was down past the expiry can still
 *   refresh, and a login is never thrown away while its refresh token lives.
 * - **Single flight across processes.** An acquisition takes a lock (`SET lock owner NX PX lockTtl`, extended while
 *   the holder works, released by a Lua compare-and-delete so only its owner releases it). The holder re-reads the
 *   store under the lock, asks the token endpoint only if no usable token appeared, and stores the token before it
 *   releases. The others poll the store every `pollInterval` for a usable token, for at most `waitTimeout`, then
 *   acquire on their own. A holder that dies stops extending the lock, which expires after `lockTtl`, and another
 *   process takes over.
 * - **Never an outage.** Commands fail fast when Redis is unreachable (no offline queue, a connect and a command
 *   timeout), and then an acquisition goes ahead in-process with a warning. The client keeps reconnecting in the
 *   background, and the store is used again as soon as Redis answers.
 * - **Never written over by another key.** A token sealed with another key (a process with the wrong
 *   `EFFECT_OAUTH2_STORE_KEY`) is an error to read, and is not replaced: a misconfigured process works on its own
 *   without spoiling the fleet's token. After changing the key on purpose, delete the old entries
 *   (`redis-cli --scan --pattern 'effect-oauth2:token:*' | xargs -r redis-cli del`).
 *
 * Redis keys: `{prefix}token:{store key}`, `{prefix}lock:{store key}` (the owner reads `host:pid:random`), and with a
 * passphrase `{prefix}kdf` (the PBKDF2 salt and iteration count). Works with a standalone Redis (or Sentinel).
 *
 * @since 0.1.0
 */
import * as AccessToken from "@effect-oauth2/core/AccessToken"
import { InvalidConfiguration, TokenStoreError } from "@effect-oauth2/core/OAuth2Error"
import * as TokenCipher from "@effect-oauth2/core/TokenCipher"
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { Redis, type RedisOptions } from "ioredis"
import * as Lock from "./internal/lock.js"

/**
 * The options of {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * An ioredis client to use. The caller owns it (it is not closed here); give it `enableOfflineQueue: false` and a
   * `connectTimeout` (see {@link clientOptions}) so that commands fail fast while Redis is away. Default: a client
   * made from `url`, closed with the scope.
   */
  readonly client?: Redis | undefined
  /** The Redis URL when no client is given, e.g. `redis://:password@host:6379/0`. Default: `redis://127.0.0.1:6379`. */
  readonly url?: string | Redacted.Redacted<string> | undefined
  /** ioredis options for the client made from `url`, over {@link clientOptions}. Default: none. */
  readonly redisOptions?: RedisOptions | undefined
  /** The encryption key: a `Redacted` raw key (32 bytes, base64 or hex), or `TokenCipher.passphrase(...)`. Required. */
  readonly key: Redacted.Redacted<string> | TokenCipher.Secret
  /** The prefix of every Redis key. Default: `"effect-oauth2:"`. */
  readonly prefix?: string | undefined
  /** How long a lock lives unless its holder extends it (every third of it): the takeover delay after a crash. Default: 30 seconds. */
  readonly lockTtl?: Duration.DurationInput | undefined
  /** How long a process waits for another's token before acquiring its own. Default: 10 seconds. */
  readonly waitTimeout?: Duration.DurationInput | undefined
  /** How often a waiting process looks for the token. Default: 100 milliseconds. */
  readonly pollInterval?: Duration.DurationInput | undefined
  /** How long one Redis command may take before the store counts as unreachable. Default: 2 seconds. */
  readonly commandTimeout?: Duration.DurationInput | undefined
  /**
   * How long a token with a refresh token whose death nobody said (no `refreshTokenExpiresAt`) is kept past its
   * access token's expiry. A token whose refresh token's death is known is kept until then instead (until the access
   * token expires, when that is later). Default: 7 days.
   */
  readonly refreshTokenGrace?: Duration.DurationInput | undefined
}

/**
 * The ioredis options of a client made from a URL: no offline queue (a command fails at once while disconnected),
 * a 2 s connect timeout, one retry per request, and reconnection for ever in the background (50 ms, doubling, at
 * most 2 s apart).
 *
 * @since 0.1.0
 * @category constants
 */
export const clientOptions: RedisOptions = {
  enableOfflineQueue: false,
  connectTimeout: 2_000,
  maxRetriesPerRequest: 1,
  retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000)
}

/**
 * The default key prefix.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultPrefix = "effect-oauth2:"

/**
 * The Redis key of a token.
 *
 * @since 0.1.0
 * @category keys
 */
export const tokenKey = (key: TokenStore.Key, prefix: string = defaultPrefix): string =>
  `${prefix}token:${TokenStore.keyToString(key)}`

/**
 * The Redis key of the acquisition lock of a token.
 *
 * @since 0.1.0
 * @category keys
 */
export const lockKey = (key: TokenStore.Key, prefix: string = defaultPrefix): string =>
  `${prefix}lock:${TokenStore.keyToString(key)}`

/**
 * The Redis key of the key-derivation parameters (with a passphrase).
 *
 * @since 0.1.0
 * @category keys
 */
export const kdfKey = (prefix: string = defaultPrefix): string => `${prefix}kdf`

// Sets the token unless the value there was sealed by another key; answers "OK", or the other key's id.
const setScript = `local current = redis.call("GET", KEYS[1])
if current and string.sub(current, 1, 6) == "eo2.1." and string.sub(current, 1, string.len(ARGV[3])) ~= ARGV[3] then
  return string.sub(current, 7, 22)
end
redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
return "OK"`

const decodeKdf = Schema.decodeUnknownEither(Schema.parseJson(TokenCipher.Kdf))

const millisOf = (input: Duration.DurationInput) => Duration.toMillis(Duration.decode(input))

/**
 * Until when a stored token is worth keeping (epoch milliseconds): its access token's expiry, or, with a refresh
 * token, the refresh token's death (`refreshTokenExpiresAt`) when that is later, or `grace` past the access token's
 * expiry when nobody said when the refresh token dies. A refresh token that dies before its access token expires
 * adds nothing.
 */
const keepUntil = (token: AccessToken.AccessToken, grace: number): number => {
  if (token.refreshToken === undefined) return token.expiresAt
  const diesAt = token.refreshTokenExpiresAt
  return diesAt === undefined ? token.expiresAt + grace : Math.max(token.expiresAt, diesAt)
}

/**
 * Whether a stored token can be handed out instead of acquiring one: not the one being replaced, and not in its
 * last second (or last tenth of a short lifetime), like `AccessTokens` itself.
 */
const reusable = (token: AccessToken.AccessToken, stale: AccessToken.AccessToken | undefined, now: number) =>
  (stale === undefined || !AccessToken.sameValue(token, stale)) &&
  now < token.expiresAt - Math.min(1000, (token.expiresAt - token.issuedAt) / 10)

/**
 * Builds the store. Scoped: a client made from `url` is closed with the scope. Redis need not be reachable: until it
 * is, every acquisition runs in-process (with a warning).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<TokenStore.Service, InvalidConfiguration, Scope.Scope> =>
  Effect.gen(function*() {
    const prefix = options.prefix ?? defaultPrefix
    const lockTtl = millisOf(options.lockTtl ?? Duration.seconds(30))
    const waitTimeout = millisOf(options.waitTimeout ?? Duration.seconds(10))
    const pollInterval = Duration.millis(millisOf(options.pollInterval ?? Duration.millis(100)))
    const commandTimeout = Duration.millis(millisOf(options.commandTimeout ?? Duration.seconds(2)))
    const refreshTokenGrace = millisOf(options.refreshTokenGrace ?? Duration.days(7))
    if (!(lockTtl >= 3) || !(waitTimeout >= 0) || !(Duration.toMillis(pollInterval) > 0)) {
      return yield* new InvalidConfiguration({
        source: "configuration",
        description: "RedisTokenStore: lockTtl must be at least 3 ms, waitTimeout not negative, pollInterval positive."
      })
    }
    const secret = TokenCipher.toSecret(options.key)
    const rawCipher = secret._tag === "RawKey" ? yield* TokenCipher.make(secret) : undefined
    const runtime = yield* Effect.runtime<never>()
    const client = options.client ?? (yield* makeClient(options, runtime))
    const target = `Redis at ${client.options.host ?? "?"}:${client.options.port ?? "?"}`

    const fail = (operation: string, description: string) =>
      new TokenStoreError({ source: "token-store", operation, description })

    /**
     * Runs one command, bounded by the command timeout; any failure is a TokenStoreError.
     *
     * The wait is interruptible whatever the caller's region, so that the timeout ends it even where the caller cannot
     * be interrupted (the lock's release runs in a finalizer): a frozen Redis (connected, silent) would otherwise hold
     * that finalizer, so the acquisition, so every `get`, until Redis answers again. An abandoned command's answer,
     * should one come, is ignored.
     */
    const command = <A>(operation: string, run: (client: Redis) => Promise<A>): Effect.Effect<A, TokenStoreError> =>
      Effect.tryPromise({
        try: () => run(client),
        catch: (error) =>
          fail(operation, `${target}: ${error instanceof Error ? error.message : String(error)}`)
      }).pipe(
        Effect.interruptible,
        Effect.timeoutFail({
          duration: commandTimeout,
          onTimeout: () => fail(operation, `${target} did not answer within ${Duration.format(commandTimeout)}`)
        })
      )

    // -- the cipher: a raw key's at once; a passphrase's from the salt kept in Redis --------------------------------
    let current: TokenCipher.Cipher | undefined = rawCipher
    const derived = new Map<string, TokenCipher.Cipher>()
    const kdfLock = yield* Effect.makeSemaphore(1)
    const resolveKdf = (operation: string): Effect.Effect<TokenCipher.Cipher, TokenStoreError> =>
      kdfLock.withPermits(1)(Effect.gen(function*() {
        let text = yield* command(operation, (c) => c.get(kdfKey(prefix)))
        if (text === null) {
          const fresh = yield* TokenCipher.makeKdf(secret._tag === "Passphrase" ? secret.iterations : undefined)
          yield* command(operation, (c) => c.set(kdfKey(prefix), JSON.stringify(fresh), "NX"))
          text = yield* command(operation, (c) => c.get(kdfKey(prefix)))
        }
        const kdf = text === null ? undefined : decodeKdf(text)
        if (kdf === undefined || Either.isLeft(kdf)) {
          return yield* fail(
            operation,
            `the key-derivation parameters at ${kdfKey(prefix)} are damaged: delete that key and the tokens under ${prefix}token:`
          )
        }
        const id = `${kdf.right.iterations}:${kdf.right.salt}`
        const cipher = derived.get(id) ?? (yield* TokenCipher.make(secret, kdf.right).pipe(
          Effect.mapError((error) => fail(operation, error.description))
        ))
        derived.set(id, cipher)
        current = cipher
        return cipher
      }))
    const cipher = (operation: string) =>
      Effect.suspend(() => (current !== undefined ? Effect.succeed(current) : resolveKdf(operation)))

    // -- get / set / delete -------------------------------------------------------------------------------------------
    const unreadable = (key: TokenStore.Key, error: TokenCipher.DecryptError) =>
      fail(
        "get",
        `the token at ${tokenKey(key, prefix)} cannot be read: ${error.message}. ` + (error.reason === "WrongKey"
          ? "Give every process the same EFFECT_OAUTH2_STORE_KEY (or passphrase), or delete that Redis key."
          : "The next token stored for it replaces it.")
      )

    const get = (key: TokenStore.Key): Effect.Effect<Option.Option<AccessToken.AccessToken>, TokenStoreError> =>
      Effect.gen(function*() {
        const sealed = yield* command("get", (c) => c.get(tokenKey(key, prefix)))
        if (sealed === null) return Option.none()
        const mine = yield* cipher("get")
        let opened = yield* Effect.either(TokenCipher.openToken(mine, key, sealed))
        // With a passphrase, the salt may have changed (Redis was emptied and another process made a new one).
        if (Either.isLeft(opened) && opened.left.reason === "WrongKey" && rawCipher === undefined) {
          const again = yield* resolveKdf("get")
          if (again !== mine) opened = yield* Effect.either(TokenCipher.openToken(again, key, sealed))
        }
        return Either.isRight(opened) ? Option.some(opened.right) : yield* unreadable(key, opened.left)
      })

    const set = (key: TokenStore.Key, token: AccessToken.AccessToken): Effect.Effect<void, TokenStoreError> =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const ttl = keepUntil(token, refreshTokenGrace) - now
        if (ttl < 1) {
          // An expired token whose refresh token is dead (or absent) is no token: nothing to keep.
          yield* command("set", (c) => c.del(tokenKey(key, prefix)))
          return
        }
        const mine = yield* cipher("set")
        if (mine.kdf !== undefined) {
          const kdf = JSON.stringify(mine.kdf)
          yield* command("set", (c) => c.set(kdfKey(prefix), kdf, "NX"))
        }
        const sealed = yield* TokenCipher.sealToken(mine, key, token)
        const reply = yield* command(
          "set",
          (c) => c.eval(setScript, 1, tokenKey(key, prefix), sealed, Math.ceil(ttl), `eo2.1.${mine.keyId}.`)
        )
        if (reply !== "OK") {
          return yield* fail(
            "set",
            `the token at ${tokenKey(key, prefix)} was written with another key (key id ${String(reply)}, this ` +
              `process has ${mine.keyId}) and is left as it is. Give every process the same EFFECT_OAUTH2_STORE_KEY ` +
              "(or passphrase), or delete that Redis key."
          )
        }
      })

    const remove = (key: TokenStore.Key): Effect.Effect<void, TokenStoreError> =>
      Effect.asVoid(command("delete", (c) => c.del(tokenKey(key, prefix))))

    // -- coordinate ---------------------------------------------------------------------------------------------------
    const annotate = <A, E, R>(key: TokenStore.Key, effect: Effect.Effect<A, E, R>) =>
      Effect.annotateLogs(effect, { provider: key.provider, environment: key.environment, store: "redis" })

    const inProcess = <E>(key: TokenStore.Key, error: TokenStoreError, acquire: Effect.Effect<AccessToken.AccessToken, E>) =>
      Effect.zipRight(
        annotate(key, Effect.logWarning(`token store unavailable, acquiring in this process alone: ${error.message}`)),
        acquire
      )

    /** Holding the lock: extend it while working, re-read, acquire if still needed, store, release. */
    const whileLocked = <E>(
      key: TokenStore.Key,
      owner: string,
      stale: AccessToken.AccessToken | undefined,
      acquire: Effect.Effect<AccessToken.AccessToken, E>
    ): Effect.Effect<AccessToken.AccessToken, E> => {
      const lock = lockKey(key, prefix)
      const keepAlive = Effect.sleep(Duration.millis(Math.floor(lockTtl / 3))).pipe(
        Effect.zipRight(command("lock", (c) => Lock.extend(c, lock, owner, lockTtl))),
        Effect.flatMap((held) =>
          held
            ? Effect.void
            : Effect.zipRight(
              annotate(key, Effect.logWarning("the token acquisition lock expired while held; another process may acquire too")),
              Effect.interrupt
            )
        ),
        Effect.catchAll((error) => annotate(key, Effect.logDebug(`extending the lock failed: ${error.message}`))),
        Effect.forever
      )
      const release = command("lock", (c) => Lock.release(c, lock, owner)).pipe(
        Effect.catchAll((error) =>
          annotate(key, Effect.logWarning(`releasing the token lock failed (it expires on its own): ${error.message}`))
        )
      )
      // Finalizers run in reverse: the keep-alive stops, then the lock is released (also on failure or interruption).
      return Effect.scoped(
        Effect.gen(function*() {
          yield* Effect.addFinalizer(() => release)
          // Interruptible whatever the caller's region: the acquisition may run in an uninterruptible fiber.
          yield* Effect.forkScoped(Effect.interruptible(keepAlive))
          const stored = yield* Effect.either(get(key))
          const now = yield* Clock.currentTimeMillis
          if (Either.isRight(stored) && Option.isSome(stored.right) && reusable(stored.right.value, stale, now)) {
            return stored.right.value
          }
          const token = yield* acquire
          yield* set(key, token).pipe(
            Effect.catchAll((error) => annotate(key, Effect.logWarning(`storing the new token failed: ${error.message}`)))
          )
          return token
        })
      )
    }

    const coordinate = <E>(
      key: TokenStore.Key,
      stale: AccessToken.AccessToken | undefined,
      acquire: Effect.Effect<AccessToken.AccessToken, E>
    ): Effect.Effect<AccessToken.AccessToken, E> =>
      Effect.gen(function*() {
        const deadline = (yield* Clock.currentTimeMillis) + waitTimeout
        const owner = Lock.ownerToken()
        // Each round: a usable stored token? the lock? else wait a little. Bounded by the deadline.
        while (true) {
          const stored = yield* Effect.either(get(key))
          if (Either.isLeft(stored)) return yield* inProcess(key, stored.left, acquire)
          const now = yield* Clock.currentTimeMillis
          if (Option.isSome(stored.right) && reusable(stored.right.value, stale, now)) return stored.right.value
          const locked = yield* Effect.either(command("lock", (c) => Lock.tryAcquire(c, lockKey(key, prefix), owner, lockTtl)))
          if (Either.isLeft(locked)) return yield* inProcess(key, locked.left, acquire)
          if (locked.right) return yield* whileLocked(key, owner, stale, acquire)
          if (now >= deadline) {
            yield* annotate(
              key,
              Effect.logWarning(
                `no token from the process holding the lock within ${Duration.format(Duration.millis(waitTimeout))}; acquiring in this process`
              )
            )
            return yield* acquire
          }
          yield* Effect.sleep(pollInterval)
        }
      })

    return TokenStore.TokenStore.of({ get, set, delete: remove, coordinate })
  })

/** A client from the URL, watched (state changes logged), waited for briefly, and closed with the scope. */
const makeClient = (options: Options, runtime: Runtime.Runtime<never>) =>
  Effect.gen(function*() {
    const url = options.url === undefined
      ? "redis://127.0.0.1:6379"
      : Redacted.isRedacted(options.url)
      ? Redacted.value(options.url)
      : options.url
    const client = yield* Effect.try({
      try: () => new Redis(url, { ...clientOptions, ...options.redisOptions }),
      catch: () => new InvalidConfiguration({ source: "configuration", description: "The Redis URL is not valid." })
    })
    const target = `Redis at ${client.options.host ?? "?"}:${client.options.port ?? "?"}`
    const log = (effect: Effect.Effect<void>) => Runtime.runFork(runtime)(Effect.annotateLogs(effect, { store: "redis" }))
    // Logs state changes only (not every failed reconnection attempt).
    let warnedDown = false
    const down = (why: string) => {
      if (warnedDown) return
      warnedDown = true
      log(Effect.logWarning(`${target} is unreachable (${why}); acquiring in-process, reconnecting in the background`))
    }
    const onReady = () => {
      if (warnedDown) log(Effect.logInfo(`${target} is reachable again; the token store is back`))
      warnedDown = false
    }
    const onError = (error: Error) => down(error.message)
    const onEnd = () => down("connection closed")
    client.on("ready", onReady)
    client.on("error", onError)
    client.on("close", onEnd)
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        client.off("ready", onReady)
        client.off("error", onError)
        client.off("close", onEnd)
        // Closing must not crash on a late connection error.
        client.on("error", () => undefined)
      }).pipe(
        // Interruptible, so that the timeout can end it in this (uninterruptible) finalizer when Redis is frozen.
        Effect.zipRight(Effect.interruptible(Effect.promise(() => client.quit().catch(() => undefined)))),
        Effect.timeout(Duration.seconds(1)),
        Effect.ignore,
        Effect.zipRight(Effect.sync(() => client.disconnect()))
      )
    )
    // Give the first connection a moment, so that the first acquisition does not needlessly go it alone.
    yield* Effect.async<void>((resume) => {
      if (client.status === "ready") return resume(Effect.void)
      const done = () => resume(Effect.void)
      client.once("ready", done)
      client.once("error", done)
      return Effect.sync(() => {
        client.off("ready", done)
        client.off("error", done)
      })
    }).pipe(Effect.timeout(Duration.millis(client.options.connectTimeout ?? 2_000)), Effect.ignore)
    return client
  })

/**
 * The store as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<TokenStore.TokenStore, InvalidConfiguration> =>
  Layer.scoped(TokenStore.TokenStore, make(options))

/**
 * The store as a layer configured from `Config`. Defaults: `REDIS_URL` (else `redis://127.0.0.1:6379`), the key
 * from `TokenCipher.secretConfig` (`EFFECT_OAUTH2_STORE_KEY`, else `EFFECT_OAUTH2_STORE_PASSPHRASE`), the prefix
 * from `EFFECT_OAUTH2_REDIS_PREFIX` (else `effect-oauth2:`); the timings from their options' defaults.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: {
    readonly url?: Config.Config<Redacted.Redacted<string>> | undefined
    readonly key?: Config.Config<Redacted.Redacted<string> | TokenCipher.Secret> | undefined
    readonly prefix?: Config.Config<string> | undefined
    readonly lockTtl?: Config.Config<Duration.Duration> | undefined
    readonly waitTimeout?: Config.Config<Duration.Duration> | undefined
    readonly pollInterval?: Config.Config<Duration.Duration> | undefined
  } = {}
): Layer.Layer<TokenStore.TokenStore, InvalidConfiguration | ConfigError.ConfigError> =>
  Layer.unwrapEffect(
    Effect.map(
      Config.all({
        url: config.url ?? Config.withDefault(Config.redacted("REDIS_URL"), Redacted.make("redis://127.0.0.1:6379")),
        key: config.key ?? TokenCipher.secretConfig,
        prefix: config.prefix ?? Config.withDefault(Config.string("EFFECT_OAUTH2_REDIS_PREFIX"), defaultPrefix),
        lockTtl: Config.option(config.lockTtl ?? Config.fail("unset")),
        waitTimeout: Config.option(config.waitTimeout ?? Config.fail("unset")),
        pollInterval: Config.option(config.pollInterval ?? Config.fail("unset"))
      }),
      (c) =>
        layer({
          url: c.url,
          key: c.key,
          prefix: c.prefix,
          lockTtl: Option.getOrUndefined(c.lockTtl),
          waitTimeout: Option.getOrUndefined(c.waitTimeout),
          pollInterval: Option.getOrUndefined(c.pollInterval)
        })
    )
  )
