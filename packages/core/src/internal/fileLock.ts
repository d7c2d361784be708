/**
 * A cross-process lock on a path, through proper-lockfile (an optional peer dependency, loaded on first use so that
 * core stays loadable where there is no file system).
 *
 * @internal
 */
import type * as ProperLockfile from "proper-lockfile"

/** A lock held: `release` removes it (at most once; later calls do nothing). */
export interface HeldLock {
  readonly release: () => Promise<void>
}

export interface FileLock {
  /**
   * Tries once to take the lock `{path}.lock`: the lock, or `undefined` when another holder has it. Rejects for any
   * other error (a missing directory, no permission). The holder keeps the lock's mtime fresh every `staleMillis / 2`;
   * a lock not refreshed for `staleMillis` is taken over. `onCompromised` is told when the holder lost it (it could
   * not refresh it, or another took it over).
   */
  readonly tryLock: (
    path: string,
    staleMillis: number,
    onCompromised: (error: Error) => void
  ) => Promise<HeldLock | undefined>
}

// A specifier that bundlers do not follow: core is bundled for workers and browsers, where the file store (and its
// lock) is never used.
const specifier = "proper-lockfile"

let loaded: Promise<FileLock | undefined> | undefined

const make = (lib: typeof ProperLockfile): FileLock => ({
  tryLock: async (path, staleMillis, onCompromised) => {
    try {
      const release = await lib.lock(path, {
        realpath: false,
        stale: staleMillis,
        retries: 0,
        onCompromised
      })
      let released = false
      return {
        release: async () => {
          if (released) return
          released = true
          await release()
        }
      }
    } catch (error) {
      if ((error as { code?: unknown }).code === "ELOCKED") return undefined
      throw error
    }
  }
})

/** proper-lockfile, or `undefined` when it is not installed (or cannot be loaded here). Loaded once. */
export const loadFileLock = (): Promise<FileLock | undefined> =>
  (loaded ??= import(/* @vite-ignore */ specifier).then(
    (module: { readonly default?: typeof ProperLockfile } & typeof ProperLockfile) =>
      make(typeof module.lock === "function" ? module : module.default!),
    () => undefined
  ))
