#!/usr/bin/env node
/**
 * The `effect-oauth2` executable: runs the command tree of `Cli.ts` and exits with its code.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import { run } from "./Cli.js"

// A closed stdout (`effect-oauth2 ... | head`) must not turn into a crash.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error
})

NodeRuntime.runMain(run(process.argv.slice(2)), {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  teardown: (exit, onExit) => {
    const code = Exit.isSuccess(exit)
      ? (typeof exit.value === "number" ? exit.value : 1)
      : Cause.isInterruptedOnly(exit.cause)
      ? 130
      : 1
    // Let the process end on its own once its output is flushed; runMain exits at once only after a signal.
    process.exitCode = code
    onExit(Exit.isSuccess(exit) ? 0 : code)
  }
})

export {}
