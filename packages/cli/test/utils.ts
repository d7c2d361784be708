import { assert } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as Cli from "../src/Cli.js"

/** What one run of the command printed, and its exit code. */
export interface Result {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** The options of {@link cli}. */
export interface RunOptions {
  /** The environment variables: none but these (the machine's own never leak into a test). */
  readonly env?: Readonly<Record<string, string>> | undefined
  /** Standard input, for `--token-stdin`. */
  readonly stdin?: string | undefined
  /** What `login --open` does with the authorize URL. */
  readonly openUrl?: ((url: string) => Effect.Effect<void>) | undefined
  /** Called with everything written to standard output, as it is written. */
  readonly onStdout?: ((text: string) => void) | undefined
}

/** Runs the command in-process with captured output. */
export const cli = (args: ReadonlyArray<string>, options: RunOptions = {}): Effect.Effect<Result> =>
  Effect.suspend(() => {
    let stdout = ""
    let stderr = ""
    const io: Partial<Cli.Io> = {
      stdout: (text) => {
        stdout += text
        options.onStdout?.(text)
      },
      stderr: (text) => {
        stderr += text
      },
      stderrIsTTY: false,
      stdinIsTTY: options.stdin === undefined,
      env: options.env ?? {},
      readStdin: Effect.succeed(options.stdin ?? ""),
      openUrl: options.openUrl ?? (() => Effect.die("no browser in tests"))
    }
    return Effect.map(Cli.run(args, { io }), (code) => ({ code, stdout, stderr }))
  })

/** Fails, without printing the secret, when one of `secrets` appears in `text`. */
export const assertNoSecrets = (text: string, secrets: ReadonlyArray<string>, what: string) => {
  for (const secret of secrets) {
    assert.isAbove(secret.length, 3, "a secret to look for")
    const variants = [secret, encodeURIComponent(secret), Buffer.from(secret).toString("base64")]
    for (const variant of variants) {
      if (text.includes(variant)) {
        assert.fail(`${what}: a secret (${secret.slice(0, 2)}…, ${secret.length} chars) appears in the output`)
      }
    }
  }
}

/** A fresh raw key for the token store, as `EFFECT_OAUTH2_STORE_KEY` takes it. */
export const storeKey = (): string => randomBytes(32).toString("base64")

/** A temporary directory, removed when the scope closes. */
export const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "effect-oauth2-cli-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

/** A loopback port nothing listens on (bound, then closed). */
export const closedPort: Effect.Effect<number> = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** The repository root, where `node --import tsx` resolves tsx. */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url))

/** Runs the real executable (`node --import tsx --conditions=source packages/cli/src/bin.ts ...`). */
export const spawnCli = (
  args: ReadonlyArray<string>,
  options: { readonly env?: Readonly<Record<string, string>>; readonly stdin?: string } = {}
): Effect.Effect<Result> =>
  Effect.async<Result>((resume) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--conditions=source", "packages/cli/src/bin.ts", ...args],
      {
        cwd: repoRoot,
        env: { PATH: process.env["PATH"] ?? "", HOME: os.tmpdir(), ...options.env },
        stdio: ["pipe", "pipe", "pipe"]
      }
    )
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => void (stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString("utf8")))
    child.stdin.end(options.stdin ?? "")
    child.on("close", (code, signal) => resume(Effect.succeed({ code: code ?? (signal === null ? -1 : 128), stdout, stderr })))
    return Effect.sync(() => void child.kill("SIGKILL"))
  })

/** Text without ANSI styles (`@effect/cli` styles its help). */
export const plain = (text: string): string => text.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "")
