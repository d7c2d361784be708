import { assert } from "@effect/vitest"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"

/** Every log line (logfmt, all levels) of the effect, and of the fibers it forks, into `lines`. */
export const captureLogs = (lines: Array<string>) =>
  Layer.merge(
    Logger.replace(Logger.defaultLogger, Logger.make((options) => void lines.push(Logger.logfmtLogger.log(options)))),
    Logger.minimumLogLevel(LogLevel.All)
  )

/** Everything an error shows: message, string form, JSON form. */
export const errorText = (error: unknown): string =>
  [String(error), error instanceof Error ? error.message : "", JSON.stringify(error)].join("\n")

/** Fails when a secret appears in the text (and shows the line with the secret masked). */
export const assertNoSecrets = (text: string, secrets: ReadonlyArray<string>) => {
  for (const secret of secrets) {
    assert.isNotEmpty(secret)
    const line = text.split("\n").find((l) => l.includes(secret))
    assert.isUndefined(line, `a secret leaked into: ${line?.replaceAll(secret, "<SECRET>")}`)
  }
}
