/**
 * Runs one job: the rounds of one workload for one contender, against a running server. The same code runs in the
 * harness process (`--quick`, the test) or in a child process of its own (`workerMain.ts`).
 */
import { control } from "./control.js"
import { peerByName } from "./peers.js"
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
}

export interface JobResult {
  readonly rounds: ReadonlyArray<Round>
  readonly warmup?: Round | undefined
  readonly error?: string | undefined
}

const oneRound = async (job: Job, round: number): Promise<Round> => {
  const workload = workloadById(job.workload)
  if (workload === undefined) throw new Error(`unknown workload ${job.workload}`)
  // Client ids travel in Basic credentials some peers do not form-encode: keep them to [A-Za-z0-9.-].
  const ctl = control(job.base, `${job.runId}.${job.workload}.${job.contender}.${round}`.replace(/[^A-Za-z0-9.-]/g, "-"))
  const params = job.params ?? workload.params[job.profile]
  const ctx: RoundContext<any> = { control: ctl, params, profile: job.profile, round }
  try {
    if (isOurs(job.contender)) {
      const ours = await import("./ours.js")
      return await ours.runRound(job.workload, job.contender, ctx)
    }
    if (job.contender === "fetch") return await fetchColdStart(ctx)
    const peer = peerByName(job.contender)
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
    return { rounds, warmup, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }
  }
}
