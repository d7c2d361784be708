/**
 * Small statistics and measuring helpers shared by every contender.
 */
import * as v8 from "node:v8"
import * as vm from "node:vm"

/** The value at percentile `p` (0–100) by nearest rank; `NaN` for no values. */
export const percentile = (values: ReadonlyArray<number>, p: number): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[Math.min(rank, sorted.length) - 1]!
}

export const median = (values: ReadonlyArray<number>): number => {
  const finite = values.filter((v) => !Number.isNaN(v))
  if (finite.length === 0) return Number.NaN
  const sorted = [...finite].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export const min = (values: ReadonlyArray<number>): number => {
  const finite = values.filter((v) => !Number.isNaN(v))
  return finite.length === 0 ? Number.NaN : Math.min(...finite)
}
export const max = (values: ReadonlyArray<number>): number => {
  const finite = values.filter((v) => !Number.isNaN(v))
  return finite.length === 0 ? Number.NaN : Math.max(...finite)
}

let gcFn: (() => void) | undefined

/**
 * A full garbage collection: `global.gc` under `--expose-gc`, otherwise the same function obtained at run time
 * (`v8.setFlagsFromString` + a fresh context), so that heap figures mean the same in every mode.
 */
export const gc = (): void => {
  if (gcFn === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc
    if (exposed !== undefined) gcFn = exposed
    else {
      v8.setFlagsFromString("--expose-gc")
      gcFn = vm.runInNewContext("gc") as () => void
    }
  }
  gcFn()
  gcFn()
}

/** Heap in use after a full collection, in bytes. */
export const heapAfterGc = (): number => {
  gc()
  return process.memoryUsage().heapUsed
}

/** Live libuv handles and requests (sockets, timers...), by kind. */
export const activeResources = (): number => process.getActiveResourcesInfo().length

/** Waits one macrotask (real time, whatever clock Effect uses). */
export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** The client CPU time used since `since` (from `process.cpuUsage()`), in microseconds. */
export const cpuMicros = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since)
  return used.user + used.system
}
