/**
 * A real `redis-server` for tests: on 127.0.0.1, a free port, its own data directory, no persistence. Started in a
 * scope and stopped (SIGTERM, then SIGKILL if it lingers) when the scope closes; `stop` and `start` in between
 * simulate an outage on the same port.
 *
 * A watchdog process kills the server and removes its directory should the test process die without closing the
 * scope (a worker killed after a timeout), so no server outlives its test run.
 *
 * When `redis-server` is not installed, starting fails with a message saying how to get it: tests that need Redis
 * fail rather than skip.
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

export interface RedisServer {
  readonly port: number
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  readonly dir: string
  /** Stops the server (SIGTERM, waiting for it to exit). */
  readonly stop: Effect.Effect<void>
  /** Starts it again on the same port (after `stop`), waiting until it answers PING. */
  readonly start: Effect.Effect<void>
  /**
   * Freezes the server (SIGSTOP): connections stay open and nothing answers, like a partition without RST. The
   * scope's close (and `stop`) thaws it first.
   */
  readonly freeze: Effect.Effect<void>
  /** Thaws a frozen server (SIGCONT). */
  readonly thaw: Effect.Effect<void>
}

export const binary = process.env.REDIS_SERVER_BIN ?? "redis-server"

const missing = `redis-server is not installed (or not on PATH), and the @effect-oauth2/redis tests need a real one.
Install it: Debian/Ubuntu \`sudo apt-get install -y redis-server\`, macOS \`brew install redis\`, or set REDIS_SERVER_BIN
to its path. CI (.ci/run) installs it with apt. The tests start and stop their own server; no service is needed.`

/** Whether `redis-server` can be run here, as a message saying how to fix it when not. */
export const check: Effect.Effect<void> = Effect.suspend(() => {
  const result = ChildProcess.spawnSync(binary, ["--version"], { encoding: "utf8", timeout: 10_000 })
  return result.error !== undefined || result.status !== 0 ? Effect.dieMessage(missing) : Effect.void
})

const freePort: Effect.Effect<number> = Effect.async<number>((resume) => {
  const server = Net.createServer()
  server.unref()
  server.on("error", (error) => resume(Effect.die(error)))
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** One PING over a raw socket: whether the server answered PONG. */
const ping = (port: number): Effect.Effect<boolean> =>
  Effect.async<boolean>((resume) => {
    const socket = Net.connect({ host: "127.0.0.1", port })
    let answer = ""
    const done = (ok: boolean) => {
      socket.destroy()
      resume(Effect.succeed(ok))
    }
    socket.setTimeout(500, () => done(false))
    socket.on("error", () => done(false))
    socket.on("connect", () => socket.write("PING\r\n"))
    socket.on("data", (data) => {
      answer += data.toString()
      if (answer.includes("\r\n")) done(answer.startsWith("+PONG"))
    })
    return Effect.sync(() => socket.destroy())
  })

interface Running {
  readonly child: ChildProcess.ChildProcess
  readonly watchdog: ChildProcess.ChildProcess | undefined
  readonly exited: Promise<void>
  readonly output: () => string
}

const spawn = (port: number, dir: string): Effect.Effect<Running> =>
  Effect.sync(() => {
    const child = ChildProcess.spawn(binary, [
      "--port", String(port),
      "--bind", "127.0.0.1",
      "--dir", dir,
      "--save", "",
      "--appendonly", "no",
      "--protected-mode", "yes",
      "--loglevel", "warning"
    ], { stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (data) => (output += data.toString()))
    child.stderr.on("data", (data) => (output += data.toString()))
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve()
      child.once("exit", () => resolve())
      child.once("error", () => resolve())
    })
    const guard = child.pid === undefined ? undefined : watchdog(child.pid, dir)
    return { child, watchdog: guard, exited, output: () => output }
  })

const watchdogScript = `
const [parent, server, dir] = process.argv.slice(1)
setInterval(() => {
  try { process.kill(Number(parent), 0) } catch {
    try { process.kill(Number(server), "SIGKILL") } catch {}
    try { require("node:fs").rmSync(dir, { recursive: true, force: true }) } catch {}
    process.exit(0)
  }
}, 500)`

/** Kills `server` and removes `dir` when this process is gone. */
const watchdog = (server: number, dir: string): ChildProcess.ChildProcess => {
  const child = ChildProcess.spawn(process.execPath, ["-e", watchdogScript, String(process.pid), String(server), dir], {
    stdio: "ignore",
    detached: true
  })
  child.unref()
  return child
}

const waitUntilUp = (port: number, running: Running): Effect.Effect<boolean> =>
  Effect.gen(function*() {
    // Bounded: 200 × (ping ≤ 500 ms + 25 ms).
    for (let i = 0; i < 200; i++) {
      if (running.child.exitCode !== null || running.child.signalCode !== null) return false
      if (yield* ping(port)) return true
      yield* Effect.sleep(Duration.millis(25))
    }
    return false
  })

const terminate = (running: Running): Effect.Effect<void> =>
  Effect.gen(function*() {
    if (running.child.exitCode === null && running.child.signalCode === null) {
      // A frozen server would not act on SIGTERM.
      running.child.kill("SIGCONT")
      running.child.kill("SIGTERM")
      const stopped = yield* Effect.promise(() => running.exited).pipe(Effect.timeout(Duration.seconds(5)), Effect.option)
      if (stopped._tag === "None") {
        running.child.kill("SIGKILL")
        yield* Effect.promise(() => running.exited)
      }
    }
    running.watchdog?.kill("SIGKILL")
  })

/** Starts a server in the scope. Dies with a clear message when redis-server is missing or will not start. */
export const make: Effect.Effect<RedisServer, never, Scope.Scope> = Effect.gen(function*() {
  yield* check
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "eo2-redis-"))
  yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true })))
  let current: Running | undefined
  let port = 0
  yield* Effect.addFinalizer(() => (current === undefined ? Effect.void : terminate(current)))
  const startOn = (candidate: number) =>
    Effect.gen(function*() {
      const running = yield* spawn(candidate, dir)
      current = running
      if (yield* waitUntilUp(candidate, running)) return true
      yield* terminate(running)
      current = undefined
      return running.output()
    })
  // A free port can be taken between the check and redis-server's bind: try a few.
  let lastOutput = ""
  for (let attempt = 0; attempt < 3 && port === 0; attempt++) {
    const candidate = yield* freePort
    const result = yield* startOn(candidate)
    if (result === true) port = candidate
    else lastOutput = result
  }
  if (port === 0) return yield* Effect.dieMessage(`redis-server did not start:\n${lastOutput}`)
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    stop: Effect.suspend(() => (current === undefined ? Effect.void : terminate(current))).pipe(
      Effect.zipRight(Effect.sync(() => (current = undefined)))
    ),
    start: Effect.suspend(() =>
      current !== undefined
        ? Effect.void
        : Effect.flatMap(startOn(port), (result) =>
          result === true ? Effect.void : Effect.dieMessage(`redis-server did not restart:\n${result}`))
    ),
    freeze: Effect.sync(() => void current?.child.kill("SIGSTOP")),
    thaw: Effect.sync(() => void current?.child.kill("SIGCONT"))
  }
})
