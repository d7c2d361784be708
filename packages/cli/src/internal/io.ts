/**
 * Where the command's input comes from and its output goes: the process by default, buffers in tests.
 *
 * @internal
 */
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Inspectable from "effect/Inspectable"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { shown } from "./format.js"
import { spawn } from "node:child_process"
import * as readline from "node:readline"
import * as util from "node:util"

/** @internal */
export interface Io {
  /** Writes to standard output as is (add the newline yourself). */
  readonly stdout: (text: string) => void
  /** Writes to standard error as is. */
  readonly stderr: (text: string) => void
  /** Whether standard error is a terminal: progress is animated there, and printed once otherwise. */
  readonly stderrIsTTY: boolean
  /** Whether standard input is a terminal (then `--token-stdin` refuses to wait for typing). */
  readonly stdinIsTTY: boolean
  /** The environment variables. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** All of standard input, as text. */
  readonly readStdin: Effect.Effect<string>
  /** One line of standard input, without its end of line (`login --paste`); `""` at the end of the input. */
  readonly readLine: Effect.Effect<string>
  /** Opens a URL in the user's browser (`login --open`); must return promptly. */
  readonly openUrl: (url: string) => Effect.Effect<void>
}

/** @internal */
export class CliIo extends Context.Tag("@effect-oauth2/cli/Io")<CliIo, Io>() {}

const readProcessStdin: Effect.Effect<string> = Effect.async<string>((resume) => {
  const chunks: Array<Buffer> = []
  const onData = (chunk: Buffer) => chunks.push(chunk)
  const onEnd = () => {
    cleanup()
    resume(Effect.succeed(Buffer.concat(chunks).toString("utf8")))
  }
  const cleanup = () => {
    process.stdin.off("data", onData)
    process.stdin.off("end", onEnd)
    process.stdin.off("error", onEnd)
    process.stdin.pause()
  }
  process.stdin.on("data", onData)
  process.stdin.once("end", onEnd)
  process.stdin.once("error", onEnd)
  process.stdin.resume()
  return Effect.sync(cleanup)
})

const readProcessLine: Effect.Effect<string> = Effect.async<string>((resume) => {
  const lines = readline.createInterface({ input: process.stdin, terminal: false })
  let done = false
  const finish = (line: string) => {
    if (done) return
    done = true
    lines.close()
    process.stdin.pause()
    resume(Effect.succeed(line))
  }
  lines.once("line", finish)
  lines.once("close", () => finish(""))
  return Effect.sync(() => {
    done = true
    lines.close()
    process.stdin.pause()
  })
})

/** Opens a URL with the platform's opener, detached; failures are reported, never fatal. @internal */
const openWithPlatform = (url: string): Effect.Effect<void> =>
  Effect.sync(() => {
    const [command, args] = process.platform === "darwin"
      ? ["open", [url]]
      : process.platform === "win32"
      ? ["rundll32", ["url.dll,FileProtocolHandler", url]]
      : ["xdg-open", [url]]
    const child = spawn(command, args, { detached: true, stdio: "ignore" })
    child.on("error", () => {
      process.stderr.write(`Could not start ${command}: open the URL above yourself.\n`)
    })
    child.unref()
  })

/** The process's own streams and environment. @internal */
export const processIo = (): Io => ({
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  stderrIsTTY: process.stderr.isTTY === true,
  stdinIsTTY: process.stdin.isTTY === true,
  env: process.env,
  readStdin: readProcessStdin,
  readLine: readProcessLine,
  openUrl: openWithPlatform
})

const format = (args: ReadonlyArray<unknown>): string =>
  args.map((a) => (typeof a === "string" ? a : util.inspect(a, { depth: 4 }))).join(" ")

/**
 * A `Console` that writes to the `Io`: `log`/`info`/`debug` to standard output, `error`/`warn` to standard error.
 * `@effect/cli` prints help and usage errors through it.
 *
 * @internal
 */
export const console = (io: Io): Console.Console => {
  const out = (...args: ReadonlyArray<unknown>) => io.stdout(format(args) + "\n")
  const err = (...args: ReadonlyArray<unknown>) => io.stderr(format(args) + "\n")
  const noop = () => {}
  const unsafe: Console.UnsafeConsole = {
    assert: (condition, ...args) => {
      if (!condition) err(...args)
    },
    clear: noop,
    count: noop,
    countReset: noop,
    debug: out,
    dir: (item) => out(item),
    dirxml: out,
    error: err,
    group: noop,
    groupCollapsed: noop,
    groupEnd: noop,
    info: out,
    log: out,
    table: (data) => out(data),
    time: noop,
    timeEnd: noop,
    timeLog: noop,
    trace: err,
    warn: err
  }
  const lift = <A extends ReadonlyArray<any>>(f: (...args: A) => void) => (...args: A) => Effect.sync(() => f(...args))
  return {
    [Console.TypeId]: Console.TypeId,
    assert: lift(unsafe.assert),
    clear: Effect.void,
    count: () => Effect.void,
    countReset: () => Effect.void,
    debug: lift(unsafe.debug),
    dir: lift(unsafe.dir),
    dirxml: lift(unsafe.dirxml),
    error: lift(unsafe.error),
    group: () => Effect.void,
    groupEnd: Effect.void,
    info: lift(unsafe.info),
    log: lift(unsafe.log),
    table: lift(unsafe.table),
    time: () => Effect.void,
    timeEnd: () => Effect.void,
    timeLog: () => Effect.void,
    trace: lift(unsafe.trace),
    warn: lift(unsafe.warn),
    unsafe
  }
}

/**
 * A logger that writes one line per entry to standard error, never to standard output (which `--raw` keeps for the
 * token alone). Annotations are shown only when `verbose` (they never carry secrets, but they are noise).
 *
 * @internal
 */
export const logger = (io: Io, verbose: boolean): Logger.Logger<unknown, void> =>
  Logger.make(({ annotations, cause, logLevel, message }) => {
    const text = (Array.isArray(message) ? message : [message]).map((m) => typeof m === "string" ? m : Inspectable.toStringUnknown(m)).join(" ")
    const level = logLevel === LogLevel.Warning ? "warning" : logLevel.label.toLowerCase()
    let extra = ""
    if (verbose && HashMap.size(annotations) > 0) {
      extra = " " + Array.from(HashMap.toEntries(annotations)).map(([k, v]) =>
        `${shown(k, 100)}=${shown(Inspectable.toStringUnknown(v), 500)}`
      ).join(" ")
    }
    const failure = verbose && cause._tag !== "Empty" ? ` (${cause._tag})` : ""
    // A log line may carry a server's words: sanitised, so that it can neither forge another line nor drive the
    // terminal.
    io.stderr(`${level}: ${shown(text)}${extra}${failure}\n`)
  })

