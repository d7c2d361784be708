/**
 * Spawns bot processes (child.ts) and follows what they report. Shared by the multi-process test and the benchmark.
 *
 * A child started as `node --import tsx --conditions=source child.ts` spends about 3.5 s of CPU loading its modules
 * through tsx's hooks; eight of them on a 2-core machine take longer than the test itself. So {@link childCommand}
 * bundles child.ts once per test process into build/child/ (with the esbuild that tsx itself runs on, resolving
 * workspace packages to their sources), and each child starts from that one file in about 0.4 s. Should esbuild not
 * be found, or `EO2_CHILD_TSX=1` is set, children run through tsx instead.
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

/** What a child is told (as JSON in `EO2_CHILD`). */
export interface ChildConfig {
  readonly tokenUrl: string
  /** The Redis store's URL; no store when absent. */
  readonly redisUrl?: string | undefined
  readonly key: string
  readonly prefix: string
  readonly lockTtlMs: number
  readonly waitTimeoutMs: number
  readonly pollIntervalMs: number
  /** How many distinct tokens to see (1: the first one) before exiting. */
  readonly lifetimes: number
  /** The child gives up (exit 1) after this long. */
  readonly deadlineMs: number
}

export type ChildEvent =
  | { readonly event: "ready"; readonly pid: number }
  | {
    readonly event: "token"
    readonly pid: number
    readonly fingerprint: string
    readonly valid: boolean
    readonly expiresAt: number
  }
  | { readonly event: "done"; readonly pid: number }
  | { readonly event: "error"; readonly pid: number; readonly message: string }

export interface Child {
  readonly pid: number
  /** Every event so far, in order. */
  readonly events: ReadonlyArray<ChildEvent>
  /** The first event (past or future) that matches; dies after `timeout`, quoting the child's stderr. */
  readonly waitFor: <E extends ChildEvent>(
    predicate: (event: ChildEvent) => event is E,
    timeout?: Duration.DurationInput
  ) => Effect.Effect<E>
  /** The exit code, or the signal that ended it. */
  readonly exited: Effect.Effect<number | NodeJS.Signals>
  readonly kill: (signal: NodeJS.Signals) => void
}

/** The workspace root: where `tsx` is installed. */
export const workspaceRoot = fileURLToPath(new URL("../../../../", import.meta.url))
const childScript = fileURLToPath(new URL("./child.ts", import.meta.url))

interface Esbuild {
  readonly build: (options: Record<string, unknown>) => Promise<unknown>
}

/** tsx's esbuild, found through tsx's own package (pnpm does not hoist it). */
const loadEsbuild = (): Esbuild | undefined => {
  try {
    const tsx = createRequire(Path.join(workspaceRoot, "package.json")).resolve("tsx/package.json")
    return createRequire(Fs.realpathSync(tsx))("esbuild") as Esbuild
  } catch {
    return undefined
  }
}

let bundled: Promise<ReadonlyArray<string>> | undefined

/** Where the bundle goes: the package's git-ignored build directory (stable, so that nothing piles up in /tmp). */
const bundleFile = fileURLToPath(new URL("../../build/child/child.mjs", import.meta.url))

const bundle = async (): Promise<ReadonlyArray<string>> => {
  const viaTsx = ["--import", "tsx", "--conditions=source", childScript]
  const esbuild = process.env.EO2_CHILD_TSX === "1" ? undefined : loadEsbuild()
  if (esbuild === undefined) return viaTsx
  try {
    const result = await esbuild.build({
      entryPoints: [childScript],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      conditions: ["source"],
      write: false,
      outfile: bundleFile,
      logLevel: "silent",
      // ioredis and undici are CommonJS: give the ESM bundle a `require`.
      banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" }
    }) as { readonly outputFiles: ReadonlyArray<{ readonly contents: Uint8Array }> }
    // Written aside then renamed: another test run bundling at the same time never exposes half a file.
    Fs.mkdirSync(Path.dirname(bundleFile), { recursive: true })
    const temporary = `${bundleFile}.${process.pid}.tmp`
    Fs.writeFileSync(temporary, result.outputFiles[0]!.contents)
    Fs.renameSync(temporary, bundleFile)
    return [bundleFile]
  } catch {
    return viaTsx
  }
}

/** The node arguments that run child.ts: a bundle made once per test process, or tsx. */
export const childCommand: Effect.Effect<ReadonlyArray<string>> = Effect.promise(() => (bundled ??= bundle()))

export const isToken = (event: ChildEvent): event is Extract<ChildEvent, { event: "token" }> => event.event === "token"
export const isDone = (event: ChildEvent): event is Extract<ChildEvent, { event: "done" }> => event.event === "done"

/** Starts a child in the scope; closing the scope kills it if it still runs. */
export const spawnChild = (
  config: ChildConfig,
  command: ReadonlyArray<string>
): Effect.Effect<Child, never, Scope.Scope> =>
  Effect.gen(function*() {
    const exit = yield* Deferred.make<number | NodeJS.Signals>()
    const process_ = yield* Effect.acquireRelease(
      Effect.sync(() =>
        ChildProcess.spawn(process.execPath, [...command], {
          cwd: workspaceRoot,
          env: { ...process.env, EO2_CHILD: JSON.stringify(config) },
          stdio: ["ignore", "pipe", "pipe"]
        })
      ),
      (child) => Effect.sync(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"))
    )
    const events: Array<ChildEvent> = []
    const listeners = new Set<(event: ChildEvent) => void>()
    let stderr = ""
    let buffer = ""
    process_.stdout.on("data", (data: Buffer) => {
      buffer += data.toString()
      let newline: number
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline)
        buffer = buffer.slice(newline + 1)
        try {
          const event = JSON.parse(line) as ChildEvent
          events.push(event)
          for (const listener of listeners) listener(event)
        } catch {
          stderr += `[stdout] ${line}\n`
        }
      }
    })
    process_.stderr.on("data", (data: Buffer) => {
      stderr = (stderr + data.toString()).slice(-8_000)
    })
    process_.once("exit", (code, signal) => Deferred.unsafeDone(exit, Effect.succeed(signal ?? code ?? -1)))
    const pid = process_.pid!
    const waitFor = <E extends ChildEvent>(
      predicate: (event: ChildEvent) => event is E,
      timeout: Duration.DurationInput = Duration.seconds(30)
    ): Effect.Effect<E> =>
      Effect.async<E>((resume) => {
        const found = events.find(predicate)
        if (found !== undefined) return resume(Effect.succeed(found))
        const listener = (event: ChildEvent) => {
          if (predicate(event)) {
            listeners.delete(listener)
            resume(Effect.succeed(event))
          }
        }
        listeners.add(listener)
        return Effect.sync(() => listeners.delete(listener))
      }).pipe(
        Effect.timeoutFail({ duration: timeout, onTimeout: () => `child ${pid} did not report in time` }),
        Effect.catchAll((message) =>
          Effect.dieMessage(`${message}; its events: ${JSON.stringify(events)}; its stderr:\n${stderr}`)
        )
      )
    return {
      pid,
      get events() {
        return events
      },
      waitFor,
      exited: Deferred.await(exit),
      kill: (signal) => {
        process_.kill(signal)
      }
    }
  })
