/**
 * The rotation tests' child processes (rotationChild.ts): their configuration and a spawner that reads their JSON
 * lines and kills them with the scope.
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as ChildProcess from "node:child_process"
import { fileURLToPath } from "node:url"

export type StoreConfig =
  | { readonly kind: "redis"; readonly url: string; readonly prefix: string }
  | { readonly kind: "file"; readonly path: string }

export interface ChildConfig {
  readonly clientId: string
  readonly hosts: { readonly logon: string; readonly openapi: string }
  readonly store: StoreConfig
  readonly key: string
  readonly refreshes: number
  readonly deadlineMs: number
}

export type ChildEvent =
  | { readonly event: "ready" | "refreshed" | "done"; readonly pid: number }
  | { readonly event: "error"; readonly pid: number; readonly tag: string | undefined; readonly message: string }

export interface Child {
  readonly pid: number
  readonly events: ReadonlyArray<ChildEvent>
  /** The exit code (or signal); dies after `timeout` with the child's events and stderr. */
  readonly exited: (timeout: Duration.DurationInput) => Effect.Effect<number | string>
  readonly stderr: () => string
}

const workspaceRoot = fileURLToPath(new URL("../../../../", import.meta.url))
const childScript = fileURLToPath(new URL("./rotationChild.ts", import.meta.url))

/** Starts rotationChild.ts through tsx (sources, not builds); killed with the scope. */
export const spawn = (config: ChildConfig): Effect.Effect<Child, never, Scope.Scope> =>
  Effect.gen(function*() {
    const exit = yield* Deferred.make<number | string>()
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        ChildProcess.spawn(process.execPath, ["--import", "tsx", "--conditions=source", childScript], {
          cwd: workspaceRoot,
          env: { ...process.env, EO2_SAXO_ROTATION: JSON.stringify(config) },
          stdio: ["ignore", "pipe", "pipe"]
        })
      ),
      (child) => Effect.sync(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"))
    )
    const events: Array<ChildEvent> = []
    let stderr = ""
    let buffer = ""
    child.stdout.on("data", (data: Buffer) => {
      buffer += data.toString()
      let newline: number
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline)
        buffer = buffer.slice(newline + 1)
        try {
          events.push(JSON.parse(line) as ChildEvent)
        } catch {
          stderr += `[stdout] ${line}\n`
        }
      }
    })
    child.stderr.on("data", (data: Buffer) => {
      stderr = (stderr + data.toString()).slice(-8_000)
    })
    child.once("exit", (code, signal) => Deferred.unsafeDone(exit, Effect.succeed(signal ?? code ?? -1)))
    return {
      pid: child.pid!,
      events,
      stderr: () => stderr,
      exited: (timeout) =>
        Deferred.await(exit).pipe(
          Effect.timeoutFail({ duration: timeout, onTimeout: () => "timeout" }),
          Effect.catchAll(() =>
            Effect.dieMessage(`child ${child.pid} did not exit in time; events: ${JSON.stringify(events)}; stderr:\n${stderr}`)
          )
        )
    }
  })

export const within = Duration.seconds(60)
