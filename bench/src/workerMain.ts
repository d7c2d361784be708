/**
 * A child process that runs one job and reports it over IPC, then exits (so heap and cold-start figures start clean).
 */
import { type Job, runJob } from "./worker.js"

process.once("message", (job: Job) => {
  void runJob({ ...job, freshProcess: true }).then((result) => {
    process.send?.(result, () => process.exit(0))
  })
})
