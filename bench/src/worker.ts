/**
 * Runs one job: the rounds of one workload for one contender, against a running server. The same code runs in the
 * harness process (`--quick`, the test) or in a child process of its own (`workerMain.ts`).
 */
import { control } from "./control.js"
import { type Failure, sanitiseReason } from "./failure.js"
import { addPeers, type Peer, peerByName } from "./peers.js"
import {
  fetchColdStart,
  isOurs,
  type Profile,
  type Round,
  type RoundContext,
  workloadById,
  type WorkloadId
} from "./workloads.js"

export interface Job {
  readonly workload: WorkloadId
  readonly contender: string
  readonly profile: Profile
  /** The server's base URL. */
  readonly base: string
  readonly rounds: number
  /** Run one discarded round first. */
  readonly warmup: boolean
  /** A prefix that makes this job's client ids unique on the server. */
  readonly runId: string
  /** Parameters to use instead of the profile's (tests). */
  readonly params?: unknown
  /**
   * Modules that export more peers (`export const peers: ReadonlyArray<Peer>`), by URL, searched after the built-in
   * ones: a library being tried out, or the harness's own tests (a peer that crashes on purpose).
   */
  readonly peerModules?: ReadonlyArray<string> | undefined
  /** Set by the process started for this job (`workerMain.ts`). */
  readonly freshProcess?: boolean | undefined
}

export interface JobResult {
  readonly rounds: ReadonlyArray<Round>
  readonly warmup?: Round | undefined
  /** The error in full (stack trace, sanitised line by line), for the end of a report. */
  readonly error?: string | undefined
  /** Why the job ended early, in one line. */
  readonly failure?: Failure | undefined
}

/** The peers a module of extra peers exports. */
export const loadPeerModule = async (url: string): Promise<ReadonlyArray<Peer>> => {
  const module = (await import(url)) as { readonly peers?: ReadonlyArray<Peer> }
  if (!Array.isArray(module.peers)) throw new Error(`${url} exports no \`peers\` array`)
  addPeers(module.peers)
  return module.peers
}

/** A peer by name: a built-in one, else one from `modules`. */
export const findPeer = async (name: string, modules: ReadonlyArray<string> = []): Promise<Peer | undefined> => {
  const builtIn = peerByName(name)
  if (builtIn !== undefined) return builtIn
  for (const url of modules) {
    const peer = (await loadPeerModule(url)).find((p) => p.name === name)
    if (peer !== undefined) return peer
  }
  return undefined
}

const oneRound = async (job: Job, round: number): Promise<Round> => {
  const workload = workloadById(job.workload)
  if (workload === undefined) throw new Error(`unknown workload ${job.workload}`)
  // Client ids travel in Basic credentials some peers do not form-encode: keep them to [A-Za-z0-9.-].
  const ctl = control(job.base, `${job.runId}.${job.workload}.${job.contender}.${round}`.replace(/[^A-Za-z0-9.-]/g, "-"))
  const params = job.params ?? workload.params[job.profile]
  const ctx: RoundContext<any> = { control: ctl, params, profile: job.profile, round, freshProcess: job.freshProcess === true }
  try {
    if (isOurs(job.contender)) {
      const ours = await import("./ours.js")
      return await ours.runRound(job.workload, job.contender, ctx)
    }
    if (job.contender === "fetch") return await fetchColdStart(ctx)
    const peer = await findPeer(job.contender, job.peerModules)
    if (peer === undefined) throw new Error(`unknown contender ${job.contender}`)
    if (workload.peerRound === undefined) throw new Error(`${job.workload} has no peer implementation`)
    await peer.load()
    return await workload.peerRound(peer, ctx)
  } finally {
    await ctl.forget()
  }
}

/** Runs a job's rounds in this process. Failures are reported, not thrown. */
export const runJob = async (job: Job): Promise<JobResult> => {
  let warmup: Round | undefined
  const rounds: Array<Round> = []
  try {
    if (job.warmup) warmup = await oneRound(job, 0)
    for (let r = 1; r <= job.rounds; r++) rounds.push(await oneRound(job, r))
    return { rounds, warmup }
  } catch (error) {
    const full = error instanceof Error ? (error.stack ?? error.message) : String(error)
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    return {
      rounds,
      warmup,
      error: full.split("\n").map((line) => sanitiseReason(line)).join("\n"),
      failure: { kind: "failed", reason: sanitiseReason(message) }
    }
  }
}
