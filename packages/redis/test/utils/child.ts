/**
 * A bot process for the multi-process tests and the benchmark: builds `AccessTokens` for the Figure Markets demo
 * client at the emulator (with the Redis store, or none), gets a token, and reports on stdout as JSON lines:
 *
 * - `{"event":"ready","pid":…}` once the service is built;
 * - `{"event":"token","pid":…,"fingerprint":…,"valid":true,"expiresAt":…}` for each new token it holds (the
 *   fingerprint is a SHA-256 prefix, never the token);
 * - `{"event":"done","pid":…}` after `lifetimes` distinct tokens, then it exits 0;
 * - `{"event":"error","pid":…,"message":…}` and exit 1 on failure or after `deadlineMs`.
 *
 * Logs go to stderr. Configured by the JSON in `EO2_CHILD` (see `ChildConfig` in processes.ts).
 * Run as `node --import tsx --conditions=source child.ts`.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import * as Crypto from "node:crypto"
import * as RedisTokenStore from "../../src/RedisTokenStore.js"
import type { ChildConfig } from "./processes.js"
import { makeTokens } from "./setup.js"

const config = JSON.parse(process.env.EO2_CHILD ?? "{}") as ChildConfig
const emit = (event: Record<string, unknown>) => process.stdout.write(JSON.stringify({ ...event, pid: process.pid }) + "\n")

const stderrLogger = Logger.make(({ date, logLevel, message }) => {
  process.stderr.write(`${date.toISOString()} [${process.pid}] ${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}\n`)
})

const program = Effect.gen(function*() {
  const http = yield* Layer.build(NodeHttpClient.layerUndici)
  const store = config.redisUrl === undefined ? undefined : yield* Effect.orDie(RedisTokenStore.make({
    url: config.redisUrl,
    key: Redacted.make(config.key),
    prefix: config.prefix,
    lockTtl: Duration.millis(config.lockTtlMs),
    waitTimeout: Duration.millis(config.waitTimeoutMs),
    pollInterval: Duration.millis(config.pollIntervalMs)
  }))
  const tokens = yield* makeTokens(config.tokenUrl, store).pipe(Effect.provide(http))
  emit({ event: "ready" })
  let last: string | undefined
  let seen = 0
  // Bounded by the deadline below: polls the cached token (no I/O while it is valid) for the next lifetime's.
  while (seen < config.lifetimes) {
    const token = yield* tokens.get
    const fingerprint = Crypto.createHash("sha256").update(Redacted.value(token.value)).digest("hex").slice(0, 16)
    if (fingerprint !== last) {
      last = fingerprint
      seen++
      const now = yield* Clock.currentTimeMillis
      emit({ event: "token", fingerprint, valid: now < token.expiresAt, expiresAt: token.expiresAt })
    }
    if (seen < config.lifetimes) yield* Effect.sleep(Duration.millis(50))
  }
  emit({ event: "done" })
}).pipe(
  Effect.scoped,
  Effect.timeoutFail({ duration: Duration.millis(config.deadlineMs), onTimeout: () => new Error("deadline passed") }),
  Effect.provide(Logger.replace(Logger.defaultLogger, stderrLogger))
)

Effect.runPromise(program).then(
  () => process.exit(0),
  (error: unknown) => {
    emit({ event: "error", message: String(error) })
    process.exit(1)
  }
)
