/**
 * Runs the workloads: the server (in this process, or a process of its own), then each workload for each contender,
 * in this process or in child processes, and gathers the rounds.
 */
import { type ChildProcess, fork } from "node:child_process"
import * as Os from "node:os"
import { fileURLToPath } from "node:url"
import * as Server from "./server.js"
import { peerByName } from "./peers.js"
import { type Job, type JobResult, runJob } from "./worker.js"
import { type Profile, type Workload, workloads as allWorkloads } from "./workloads.js"

export interface RunOptions {
  readonly profile: Profile
  /**
   * `inline`: everything in this process (fast, for `--quick` and tests; figures not comparable), the contenders of
   * time-bound workloads concurrently; contenders known to crash their process are left out. `process`: the server in
   * a process of its own, each job in a fresh child process, one after the other.
   */
  readonly mode: "inline" | "process"
  /** Only these workloads (ids). Default: all (the quick profile skips those marked so). */
  readonly workloads?: ReadonlyArray<string> | undefined
  /** Only these contenders. Default: each workload's own list. */
  readonly contenders?: ReadonlyArray<string> | undefined
  /** Overrides every workload's round count. */
  readonly rounds?: number | undefined
  /** Progress lines. Default: none. */
  readonly log?: ((line: string) => void) | undefined
}

export interface ContenderResult extends JobResult {
  readonly contender: string
  /** Warm-up rounds, one per process that ran one. */
  readonly warmups: ReadonlyArray<Record<string, number>>
  readonly errors: ReadonlyArray<string>
}

export interface WorkloadResult {
  readonly workload: Workload
  readonly params: unknown
  readonly contenders: ReadonlyArray<ContenderResult>
}

export interface Machine {
  readonly cpu: string
  readonly cores: number
  readonly memoryGB: number
  readonly os: string
  readonly node: string
}

export interface Results {
  /** The commit the run was made at, when known. */
  readonly commit?: string | undefined
  readonly profile: Profile
  readonly mode: RunOptions["mode"]
  readonly startedAt: Date
  readonly finishedAt: Date
  readonly loadBefore: string
  readonly loadAfter: string
  readonly machine: Machine
  readonly workloads: ReadonlyArray<WorkloadResult>
}

export const loadavg = (): string => Os.loadavg().map((l) => l.toFixed(2)).join(" ")

export const machine = (): Machine => ({
  cpu: Os.cpus()[0]?.model.trim() ?? "unknown",
  cores: Os.availableParallelism(),
  memoryGB: Math.round(Os.totalmem() / 2 ** 30),
  os: `${Os.type()} ${Os.release()} ${Os.arch()}`,
  node: process.version
})

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url))

/**
 * Node flags for a child: this process's loader flags (tsx, `--conditions=source`), and `--expose-gc` only where heap
 * figures are taken. Any V8 flag makes Node reject its built-in code cache, so internal modules compile from scratch:
 * `--expose-gc` adds ~25 ms to the first `fetch` of a process (its undici), which would distort the cold start.
 */
const childExecArgv = (job: Job): Array<string> => [
  ...process.execArgv.filter((a) => a !== "--expose-gc"),
  ...(job.workload === "longRun" ? ["--expose-gc"] : [])
]

const JOB_TIMEOUT_MS = 10 * 60_000

const runInChild = (job: Job): Promise<JobResult> =>
  new Promise((resolve) => {
    const child: ChildProcess = fork(here("./workerMain.ts"), [], {
      execArgv: childExecArgv(job),
      stdio: ["ignore", "inherit", "pipe", "ipc"],
      // Structured clone keeps NaN (a figure that does not apply) as NaN.
      serialization: "advanced"
    })
    // Forward the child's stderr, keeping its tail to explain a crash.
    let tail = ""
    child.stderr?.on("data", (chunk: Buffer) => {
      process.stderr.write(chunk)
      tail = (tail + chunk.toString("utf8")).slice(-4000)
    })
    const crash = () => {
      const lines = tail.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("at ") && !l.startsWith("^"))
      const error = lines.find((l) => /^\w*Error( \[\w+\])?:/.test(l)) ?? lines.find((l) => /Error/.test(l)) ?? lines.at(-1)
      return error === undefined ? "" : `: ${error}`
    }
    let settled = false
    const done = (result: JobResult) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(result)
    }
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      done({ rounds: [], error: `timed out after ${JOB_TIMEOUT_MS / 1000} s` })
    }, JOB_TIMEOUT_MS)
    child.once("message", (result) => done(result as JobResult))
    child.once("error", (error) => done({ rounds: [], error: error.message }))
    child.once("exit", (code, signal) =>
      // Let the stderr pipe drain first.
      setTimeout(() => done({ rounds: [], error: `worker crashed (exit ${code ?? signal})${crash()}` }), 50))
    child.send(job)
  })

const startServerProcess = (): Promise<{ url: string; stop: () => void }> =>
  new Promise((resolve, reject) => {
    const child = fork(here("./serverMain.ts"), [], {
      execArgv: process.execArgv,
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    child.once("message", (message) => {
      resolve({
        url: (message as { url: string }).url,
        stop: () => {
          child.disconnect()
        }
      })
    })
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`server process exited (${code})`)))
  })

/** The workloads a run covers. */
export const selectWorkloads = (options: Pick<RunOptions, "profile" | "workloads">): ReadonlyArray<Workload> =>
  options.workloads === undefined
    ? allWorkloads.filter((w) => options.profile === "full" || w.inQuick)
    : allWorkloads.filter((w) => options.workloads!.includes(w.id))

/** Runs the selected workloads and returns every round. */
export const run = async (options: RunOptions): Promise<Results> => {
  const log = options.log ?? (() => {})
  const startedAt = new Date()
  const loadBefore = loadavg()
  const server = options.mode === "inline"
    ? await Server.start().then((s) => ({ url: s.url, stop: () => void s.close() }))
    : await startServerProcess()
  const runId = `r${Date.now().toString(36)}`
  const results: Array<WorkloadResult> = []
  try {
    for (const workload of selectWorkloads(options)) {
      const rounds = options.rounds ?? workload.rounds[options.profile]
      const contenders = workload.contenders.filter((c) =>
        (options.contenders === undefined || options.contenders.includes(c)) &&
        // A contender that crashes its process needs a child process: full runs only.
        !(options.mode === "inline" && peerByName(c)?.crashProne === true)
      )
      log(`${workload.id}: ${contenders.join(", ")} (${rounds} round${rounds === 1 ? "" : "s"})`)
      const runContender = async (contender: string): Promise<ContenderResult> => {
        const job = (n: number, warmup: boolean): Job => ({
          workload: workload.id,
          contender,
          profile: options.profile,
          base: server.url,
          rounds: n,
          warmup,
          runId: `${runId}.${Math.random().toString(36).slice(2, 8)}`
        })
        const started = performance.now()
        const jobs: Array<JobResult> = []
        if (options.mode === "inline") jobs.push(await runJob(job(rounds, workload.warmupRound && options.profile === "full")))
        else if (workload.isolation === "process-per-contender") jobs.push(await runInChild(job(rounds, workload.warmupRound)))
        else for (let r = 0; r < rounds; r++) jobs.push(await runInChild(job(1, workload.warmupRound)))
        const errors = jobs.flatMap((j) => (j.error === undefined ? [] : [j.error]))
        const result: ContenderResult = {
          contender,
          rounds: jobs.flatMap((j) => j.rounds),
          warmups: jobs.flatMap((j) => (j.warmup === undefined ? [] : [j.warmup])),
          errors,
          error: errors[0]
        }
        log(`  ${contender}: ${((performance.now() - started) / 1000).toFixed(1)} s${errors.length > 0 ? ` — ERROR ${errors[0]!.split("\n")[0]}` : ""}`)
        return result
      }
      const contenderResults = options.mode === "inline" && workload.quickConcurrent === true
        ? await Promise.all(contenders.map(runContender))
        : await contenders.reduce<Promise<Array<ContenderResult>>>(
          async (acc, c) => [...(await acc), await runContender(c)],
          Promise.resolve([])
        )
      results.push({ workload, params: workload.params[options.profile], contenders: contenderResults })
    }
  } finally {
    server.stop()
  }
  return {
    profile: options.profile,
    mode: options.mode,
    startedAt,
    finishedAt: new Date(),
    loadBefore,
    loadAfter: loadavg(),
    machine: machine(),
    workloads: results
  }
}
