/**
 * Runs the workloads: the server (in this process, or a process of its own), then each workload for each contender,
 * in this process or in child processes, and gathers the rounds.
 */
import { type ChildProcess, fork } from "node:child_process"
import * as Os from "node:os"
import { fileURLToPath } from "node:url"
import { crashReason, type Failure, failureText } from "./failure.js"
import { type Peer, peerByName } from "./peers.js"
import * as Server from "./server.js"
import { type Job, type JobResult, loadPeerModule, runJob } from "./worker.js"
import { isOurs, OURS, type Profile, type Workload, workloads as allWorkloads } from "./workloads.js"

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
  /** Modules of more peers (see `Job.peerModules`), by URL; they join every workload that peers run. Default: none. */
  readonly peerModules?: ReadonlyArray<string> | undefined
  /** Node flags of child processes (the tsx loader). Default: this process's own (`process.execArgv`). */
  readonly execArgv?: ReadonlyArray<string> | undefined
}

export interface ContenderResult extends JobResult {
  readonly contender: string
  /** Warm-up rounds, one per process that ran one. */
  readonly warmups: ReadonlyArray<Record<string, number>>
  /** Every job's error in full, for the end of a report. */
  readonly errors: ReadonlyArray<string>
  /** Every job that ended early (a process that crashed, timed out, or a job that threw), in one line each. */
  readonly failures?: ReadonlyArray<Failure> | undefined
  /** Jobs (processes, in full runs) the contender's rounds took. */
  readonly jobs?: number | undefined
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
const childExecArgv = (job: Job, base: ReadonlyArray<string>): Array<string> => [
  ...base.filter((a) => a !== "--expose-gc"),
  ...(job.workload === "longRun" ? ["--expose-gc"] : [])
]

const JOB_TIMEOUT_MS = 10 * 60_000

/**
 * Runs a job in a child process of its own, so that whatever the code under test does to its process (an internal
 * assertion, an uncaught exception, `process.exit`, a hang) ends that process only: the result says `crashed` or
 * `timed out`, with the reason, and the run goes on.
 */
export const runInChild = (
  job: Job,
  options: { readonly execArgv?: ReadonlyArray<string> | undefined; readonly timeoutMs?: number | undefined } = {}
): Promise<JobResult> =>
  new Promise((resolve) => {
    const timeoutMs = options.timeoutMs ?? JOB_TIMEOUT_MS
    const child: ChildProcess = fork(here("./workerMain.ts"), [], {
      execArgv: childExecArgv(job, options.execArgv ?? process.execArgv),
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
    const crashed = (how: string): JobResult => {
      const reason = crashReason(tail)
      const failure: Failure = { kind: "crashed", reason: reason === "" ? how : `${how}: ${reason}` }
      return { rounds: [], error: failureText(failure), failure }
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
      const failure: Failure = { kind: "timed out", reason: `no result after ${timeoutMs / 1000} s; process killed` }
      done({ rounds: [], error: failureText(failure), failure })
    }, timeoutMs)
    child.once("message", (result) => done(result as JobResult))
    child.once("error", (error) => {
      const failure: Failure = { kind: "crashed", reason: `could not run the worker process: ${error.message}` }
      done({ rounds: [], error: failureText(failure), failure })
    })
    child.once("exit", (code, signal) =>
      // Let the stderr pipe drain first.
      setTimeout(() =>
        done(crashed(
          code === 0
            ? "exited without a result (exit 0: its event loop ran empty with the job unfinished)"
            : `process died (${signal ?? `exit ${code}`})`
        )), 50))
    child.send(job)
  })

const startServerProcess = (execArgv: ReadonlyArray<string>): Promise<{ url: string; stop: () => void }> =>
  new Promise((resolve, reject) => {
    const child = fork(here("./serverMain.ts"), [], {
      execArgv: [...execArgv],
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

/**
 * The contenders of a workload in a run: its own (and `extraPeers`, where peers run it), narrowed to `only` when
 * given. The workload's floor always runs beside ours, so that ours is compared with a floor measured in the same run.
 */
export const selectContenders = (
  workload: Workload,
  only: ReadonlyArray<string> | undefined,
  extraPeers: ReadonlyArray<Peer> = []
): ReadonlyArray<string> => {
  const all = [...workload.contenders, ...(workload.peerRound === undefined ? [] : extraPeers.map((p) => p.name))]
  if (only === undefined) return all
  const wanted = new Set(only)
  if (workload.floor !== undefined && only.includes(OURS)) wanted.add(workload.floor)
  return all.filter((c) => wanted.has(c))
}

/** A contender that was not run, as a result. */
const skipped = (contender: string, reason: string): ContenderResult => {
  const failure: Failure = { kind: "skipped", reason }
  return { contender, rounds: [], warmups: [], errors: [], failure, failures: [failure], jobs: 0 }
}

/** Runs the selected workloads and returns every round. */
export const run = async (options: RunOptions): Promise<Results> => {
  const log = options.log ?? (() => {})
  const execArgv = options.execArgv ?? process.execArgv
  const extraPeers = (await Promise.all((options.peerModules ?? []).map(loadPeerModule))).flat()
  const crashProne = (contender: string) =>
    (peerByName(contender) ?? extraPeers.find((p) => p.name === contender))?.crashProne === true
  const startedAt = new Date()
  const loadBefore = loadavg()
  const server = options.mode === "inline"
    ? await Server.start().then((s) => ({ url: s.url, stop: () => void s.close() }))
    : await startServerProcess(execArgv)
  const runId = `r${Date.now().toString(36)}`
  const results: Array<WorkloadResult> = []
  try {
    for (const workload of selectWorkloads(options)) {
      const rounds = options.rounds ?? workload.rounds[options.profile]
      const contenders = selectContenders(workload, options.contenders, extraPeers)
      log(`${workload.id}: ${contenders.join(", ")} (${rounds} round${rounds === 1 ? "" : "s"})`)
      const runContender = async (contender: string): Promise<ContenderResult> => {
        // A contender that crashes its process needs a child process of its own: full runs only.
        if (options.mode === "inline" && crashProne(contender)) {
          log(`  ${contender}: skipped (crashes its process; it runs in a child process of its own in full runs)`)
          return skipped(contender, "crashes its process; it runs in a child process of its own in full runs")
        }
        const job = (n: number, warmup: boolean): Job => ({
          workload: workload.id,
          contender,
          profile: options.profile,
          base: server.url,
          rounds: n,
          warmup,
          runId: `${runId}.${Math.random().toString(36).slice(2, 8)}`,
          ...(options.peerModules === undefined ? {} : { peerModules: options.peerModules })
        })
        const started = performance.now()
        const jobs: Array<JobResult> = []
        const child = (n: number) => runInChild(job(n, workload.warmupRound), { execArgv })
        if (options.mode === "inline") jobs.push(await runJob(job(rounds, workload.warmupRound && options.profile === "full")))
        else if (workload.isolation === "process-per-contender") jobs.push(await child(rounds))
        else for (let r = 0; r < rounds; r++) jobs.push(await child(1))
        const errors = jobs.flatMap((j) => (j.error === undefined ? [] : [j.error]))
        const failures = jobs.flatMap((j) => (j.failure === undefined ? [] : [j.failure]))
        const result: ContenderResult = {
          contender,
          rounds: jobs.flatMap((j) => j.rounds),
          warmups: jobs.flatMap((j) => (j.warmup === undefined ? [] : [j.warmup])),
          errors,
          error: errors[0],
          failure: failures[0],
          failures,
          jobs: jobs.length
        }
        log(`  ${contender}: ${((performance.now() - started) / 1000).toFixed(1)} s${
          failures.length > 0 ? ` — ${failureText(failures[0]!)}` : ""
        }`)
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

/**
 * What makes a run fail (its exit status), one line each: ours or a reference that did not finish (the harness or
 * our library is broken). A peer never fails a full run: a peer that crashes, hangs or throws is a finding about that
 * peer, shown in its table. A quick run, whose only purpose is to prove the harness works, also fails when a peer's
 * job threw (a crash or a time-out still does not).
 */
export const runProblems = (results: Pick<Results, "profile" | "workloads">): ReadonlyArray<string> =>
  results.workloads.flatMap((w) =>
    w.contenders.flatMap((c) => {
      const failure = c.failure ?? (c.rounds.length === 0 ? { kind: "failed" as const, reason: "no rounds" } : undefined)
      if (failure === undefined || failure.kind === "skipped") return []
      const fails = isOurs(c.contender) || c.contender === "fetch" ||
        (results.profile === "quick" && failure.kind === "failed")
      return fails ? [`${w.workload.id} / ${c.contender}: ${failureText(failure)}`] : []
    })
  )
