/**
 * A bot process for the rotation tests: an `AccessTokens` (stored mode) for the emulator's Saxo demo app, over a
 * shared Redis or file store, that forces `refreshes` refreshes (each one spends the single-use refresh token it
 * holds, or adopts the newer pair another process stored). Reports on stdout as JSON lines:
 *
 * - `{"event":"ready","pid":…}` once the service is built;
 * - `{"event":"refreshed","pid":…,"fingerprint":…}` after each refresh (a SHA-256 prefix, never the token);
 * - `{"event":"done","pid":…}`, exit 0; or `{"event":"error","pid":…,"tag":…,"message":…}`, exit 1.
 *
 * Logs go to stderr. Configured by the JSON in `EO2_ROTATION_CHILD` (see `RotationChildConfig`).
 * Run as `node --import tsx --conditions=source rotationChild.ts`.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import * as Crypto from "node:crypto"
import * as FileTokenStore from "@effect-oauth2/core/FileTokenStore"
import * as RedisTokenStore from "../../src/RedisTokenStore.js"
import { makeSaxoTokens, type RotationChildConfig } from "./rotation.js"

const config = JSON.parse(process.env.EO2_ROTATION_CHILD ?? "{}") as RotationChildConfig
const emit = (event: Record<string, unknown>) => process.stdout.write(JSON.stringify({ ...event, pid: process.pid }) + "\n")

const stderrLogger = Logger.make(({ date, logLevel, message }) => {
  process.stderr.write(`${date.toISOString()} [${process.pid}] ${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}\n`)
})

const program = Effect.gen(function*() {
  const http = yield* Layer.build(Layer.merge(NodeHttpClient.layerUndici, NodeContext.layer))
  const store = config.store.kind === "redis"
    ? yield* RedisTokenStore.make({
      url: config.store.url,
      key: Redacted.make(config.key),
      prefix: config.store.prefix,
      lockTtl: Duration.seconds(10),
      waitTimeout: Duration.seconds(20),
      pollInterval: Duration.millis(20)
    })
    : yield* FileTokenStore.make({ path: config.store.path, key: Redacted.make(config.key), lockPollInterval: "20 millis" }).pipe(
      Effect.provide(http)
    )
  const tokens = yield* makeSaxoTokens(config.tokenUrl, store).pipe(Effect.provide(http))
  // The login's pair, from the store: the refreshes below each renew from the pair this process holds.
  yield* tokens.get
  emit({ event: "ready" })
  // Bounded: `refreshes` rounds, each with a short random pause so that the processes interleave.
  for (let i = 0; i < config.refreshes; i++) {
    const token = yield* tokens.refresh
    emit({ event: "refreshed", fingerprint: Crypto.createHash("sha256").update(Redacted.value(token.value)).digest("hex").slice(0, 16) })
    yield* Effect.sleep(Duration.millis(Math.floor(Math.random() * 25)))
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
    emit({ event: "error", tag: (error as { _tag?: string })._tag, message: String(error) })
    process.exit(1)
  }
)
