/**
 * A bot process for the rotation tests: `Saxo.layer` (the PKCE demo app, stored mode) over a shared Redis or file
 * store, forcing `refreshes` refreshes (each one spends the single-use refresh token it holds, or adopts the newer pair
 * another process stored). Reports on stdout as JSON lines:
 *
 * - `{"event":"ready","pid":…}` once the first token is read from the store;
 * - `{"event":"refreshed","pid":…}` after each refresh (nothing of the token);
 * - `{"event":"done","pid":…}`, exit 0; or `{"event":"error","pid":…,"tag":…,"message":…}`, exit 1.
 *
 * Logs go to stderr. Configured by the JSON in `EO2_SAXO_ROTATION` (see `ChildConfig`).
 * Run as `node --import tsx --conditions=source rotationChild.ts`.
 */
import * as FileTokenStore from "@effect-oauth2/core/FileTokenStore"
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import * as RedisTokenStore from "@effect-oauth2/redis/RedisTokenStore"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import * as Saxo from "../../src/Saxo.js"
import type { ChildConfig } from "./rotation.js"

const config = JSON.parse(process.env.EO2_SAXO_ROTATION ?? "{}") as ChildConfig
const emit = (event: Record<string, unknown>) => process.stdout.write(JSON.stringify({ ...event, pid: process.pid }) + "\n")

const stderrLogger = Logger.make(({ date, logLevel, message }) => {
  process.stderr.write(
    `${date.toISOString()} [${process.pid}] ${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}\n`
  )
})

const program = Effect.gen(function*() {
  const platform = yield* Layer.build(Layer.merge(NodeHttpClient.layerUndici, NodeContext.layer))
  const key = Redacted.make(config.key)
  const store = config.store.kind === "redis"
    ? yield* RedisTokenStore.make({
      url: config.store.url,
      key,
      prefix: config.store.prefix,
      lockTtl: Duration.seconds(10),
      waitTimeout: Duration.seconds(20),
      pollInterval: Duration.millis(20)
    })
    : yield* FileTokenStore.make({ path: config.store.path, key, lockPollInterval: "20 millis" }).pipe(
      Effect.provide(platform)
    )
  const context = yield* Layer.build(
    Saxo.layer({ clientId: config.clientId, hosts: config.hosts }).pipe(
      Layer.provide(Layer.succeed(TokenStore.TokenStore, store)),
      Layer.provide(Layer.succeedContext(platform))
    )
  )
  const tokens = Context.get(context, Saxo.Tokens)
  // The login's pair, from the store: the refreshes below each renew from the pair this process holds.
  yield* tokens.get
  emit({ event: "ready" })
  // Bounded: `refreshes` rounds, each with a short random pause so that the processes interleave.
  for (let i = 0; i < config.refreshes; i++) {
    yield* tokens.refresh
    emit({ event: "refreshed" })
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
