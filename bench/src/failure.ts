/**
 * How a contender's job can end without figures, and the one-line reason the tables show for it.
 *
 * The reason comes from text nobody here controls (a library's error message, a crashed process's stderr), so it is
 * sanitised before it is shown: terminal escapes and control characters stripped, bearer tokens and secrets
 * redacted, one line, length capped.
 */
import { SECRET } from "./server.js"

/**
 * - `crashed`: the process running the job died (or exited without a result).
 * - `timed out`: the job did not finish within the harness's limit; its process was killed.
 * - `failed`: the job threw; its process survived.
 * - `skipped`: not run here (a contender that crashes its process, in a run without child processes).
 */
export type FailureKind = "crashed" | "timed out" | "failed" | "skipped"

export interface Failure {
  readonly kind: FailureKind
  /** One sanitised line (see {@link sanitiseReason}); may be empty when nothing explains it. */
  readonly reason: string
}

/** The longest reason shown, in characters. */
export const REASON_MAX = 200

// CSI and OSC terminal sequences, then any other C0/C1 control character, and invisible direction overrides:
// matching control characters is the point here.
/* eslint-disable no-control-regex */
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-_]/g
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g
/* eslint-enable no-control-regex */
const BEARER = /\b(Bearer|Basic)\s+[^\s"',;]+/gi
const CREDENTIAL = /\b(access_token|refresh_token|client_secret|id_token|code_verifier|password)(["']?\s*[:=]\s*["']?)[^\s"'&,;}]+/gi

/**
 * One line of `text` that is safe to show: escapes and control characters removed (line breaks and tabs become
 * spaces), `Bearer …`/`Basic …` credentials, `access_token=…`-style fields and each of `secrets` redacted,
 * whitespace collapsed, at most {@link REASON_MAX} characters (cut with "…").
 */
export const sanitiseReason = (text: string, secrets: ReadonlyArray<string> = [SECRET]): string => {
  let s = text.replace(ANSI, "").replace(/[\r\n\t\v\f]+/g, " ").replace(CONTROL, "")
  for (const secret of secrets) if (secret !== "") s = s.split(secret).join("<redacted>")
  s = s.replace(BEARER, "$1 <redacted>").replace(CREDENTIAL, "$1$2<redacted>").replace(/\s+/g, " ").trim()
  const chars = Array.from(s)
  return chars.length > REASON_MAX ? `${chars.slice(0, REASON_MAX - 1).join("")}…` : s
}

/**
 * The line of a dead process's stderr that says why it died: the last `SomeError [CODE]: message` line (the one
 * Node prints for an uncaught exception), else the last line that mentions an error; a process warning
 * (`(node:123) SomeWarning: …`) is no cause, so it comes only after those, as "last warning: …"; else the last line.
 * Stack frames and source excerpts are skipped. Sanitised.
 */
export const crashReason = (stderrTail: string): string => {
  const lines = stderrTail
    .replace(ANSI, "")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("at ") && !/^\^+$/.test(l) && !l.startsWith("Node.js v"))
  const last = (p: (l: string) => boolean) => [...lines].reverse().find(p)
  const warning = (l: string) => /^\(node:\d+\) (\[[\w.]+\] )?\w*Warning:/.test(l)
  const lastWarning = last(warning)
  const pick = last((l) => /^(Uncaught )?\w*(Error|Exception)( \[[\w.]+\])?:/.test(l)) ??
    last((l) => !warning(l) && /error|exception/i.test(l)) ??
    (lastWarning === undefined ? undefined : `last warning: ${lastWarning}`) ??
    lines.at(-1)
  return pick === undefined ? "" : sanitiseReason(pick)
}

/** How a failure reads in a table cell: "crashed: reason". */
export const failureText = (failure: Failure): string =>
  failure.reason === "" ? failure.kind : `${failure.kind}: ${failure.reason}`

/** `text` inside a markdown table cell: pipes escaped (a reason may contain them). */
export const markdownCell = (text: string): string => text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|")
