#!/usr/bin/env node
/**
 * `effect-oauth2-emulator` (in this repository: `npx -y pnpm@10 emulator`): runs the emulator until SIGINT/SIGTERM,
 * printing its URLs and the demo clients' credentials. `effect-oauth2-emulator --help` lists the flags.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Emulator from "./Emulator.js"
import * as Cli from "./internal/cli.js"

// A closed stdout (`effect-oauth2-emulator | head`) must not bring the server down.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error
})

const command = Cli.parse(process.argv.slice(2))

if (command._tag === "Help") {
  process.stdout.write(Cli.usage)
} else if (command._tag === "Invalid") {
  process.stderr.write(`${command.message}\n\n${Cli.usage}`)
  process.exitCode = 2
} else {
  const { options, provider } = command
  const program = Effect.gen(function*() {
    const emulator = yield* Emulator.make(options)
    yield* Effect.addFinalizer(() => Console.log("\nemulator stopped"))
    yield* Console.log(Cli.describe(emulator, options.host, options.tradierAuthorization ?? "consent", provider))
    return yield* Effect.never
  }).pipe(
    Effect.scoped,
    Effect.catchTag("ServeError", (e) =>
      Effect.sync(() => {
        const reason = e.cause instanceof Error ? e.cause.message : String(e.cause)
        process.stderr.write(`cannot listen on ${options.host}:${options.port}: ${reason}\n`)
        process.exitCode = 1
      }))
  )
  NodeRuntime.runMain(program, { disablePrettyLogger: true })
}
