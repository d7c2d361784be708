/**
 * A Redis lock with an owner and an expiry: `SET key owner NX PX ttl` to take it, and Lua compare-and-delete /
 * compare-and-pexpire so that only the owner releases or extends it. A holder that dies stops extending it, and the
 * lock frees itself after `ttl`.
 *
 * @internal
 */
import type { Redis } from "ioredis"
import * as Os from "node:os"

const releaseScript = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`

const extendScript =
  `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) else return 0 end`

/**
 * A new owner token: `host:pid:random`, unique per acquisition, and saying who holds a lock to an operator looking
 * at Redis.
 *
 * @internal
 */
export const ownerToken = (): string => {
  const random = Array.from(globalThis.crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0"))
    .join("")
  return `${Os.hostname()}:${process.pid}:${random}`
}

/**
 * Takes the lock if it is free: whether we hold it now.
 *
 * @internal
 */
export const tryAcquire = (client: Redis, key: string, owner: string, ttlMillis: number): Promise<boolean> =>
  client.set(key, owner, "PX", Math.max(1, Math.ceil(ttlMillis)), "NX").then((reply) => reply === "OK")

/**
 * Releases the lock if `owner` still holds it: whether it did.
 *
 * @internal
 */
export const release = (client: Redis, key: string, owner: string): Promise<boolean> =>
  client.eval(releaseScript, 1, key, owner).then((reply) => reply === 1)

/**
 * Extends the lock to `ttl` from now if `owner` still holds it: whether it did.
 *
 * @internal
 */
export const extend = (client: Redis, key: string, owner: string, ttlMillis: number): Promise<boolean> =>
  client.eval(extendScript, 1, key, owner, Math.max(1, Math.ceil(ttlMillis))).then((reply) => reply === 1)
