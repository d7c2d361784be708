/**
 * The one sanitiser for server-controlled text (an `error_description`, an `error` code, a `scope`, RFC 9457 problem
 * details, a callback's parameters, a body snippet) on its way into an error message, a log line or a terminal.
 *
 * - Terminal escape sequences (CSI, OSC, DCS, ... introduced by ESC or the C1 CSI) are removed whole, so that no
 *   `[2J` is left behind.
 * - Line and paragraph breaks (CR, LF, VT, FF, NEL, U+2028, U+2029) and tabs become a space: a text can never start a
 *   new (forged) log line.
 * - Every other control or format character is removed: C0, DEL, C1, bidirectional overrides and isolates (the
 *   "Trojan Source" characters), zero-width characters, Unicode tag characters, lone surrogates.
 * - The result is capped at `max` UTF-16 units (never splitting a surrogate pair), with `…` added when cut.
 *
 * The work is bounded too: at most `4 * max + 256` characters of the input are looked at.
 *
 * @internal
 */

/** The cap of a short code (an `error` code, a reason, a content type). @internal */
export const CODE_MAX = 100

/** The cap of a description (`error_description`, problem `detail`, a body snippet). @internal */
export const TEXT_MAX = 500

/** The cap of a URI (`error_uri`, a problem `type`). @internal */
export const URI_MAX = 300

// ESC followed by: a CSI (`[` params intermediates final), an OSC / DCS / SOS / PM / APC string (ended by BEL or ST,
// or by the end of the text), or a two-character sequence. The C1 CSI (U+009B) likewise. Each alternative consumes
// disjoint classes, so matching is linear.
const ESCAPE_SEQUENCE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /\u001b(?:\[[0-?]*[ -/]*[@-~]?|[\]PX^_][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[ -/]*[0-~]?)|\u009b[0-?]*[ -/]*[@-~]?/g

const BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]/g

const CONTROLS = /[\p{Cc}\p{Cf}\p{Cs}]/gu

/**
 * Removes escape sequences and control and format characters (breaks and tabs become spaces), without capping.
 * Exported for callers that must scrub secrets between stripping and capping; others call {@link sanitize}. @internal
 */
export const strip = (text: string): string =>
  text.replace(ESCAPE_SEQUENCE, "").replace(BREAKS, " ").replace(CONTROLS, "")

/**
 * Caps a text at `max` UTF-16 units (not splitting a surrogate pair), adding `…` when it was cut. @internal
 */
export const truncate = (text: string, max: number): string => {
  if (text.length <= max) return text
  let end = Math.max(0, max)
  const last = text.charCodeAt(end - 1)
  if (last >= 0xd800 && last <= 0xdbff) end -= 1
  return `${text.slice(0, end)}…`
}

/** The longest input {@link sanitize} looks at, for a cap of `max`. @internal */
export const inputBound = (max: number): number => 4 * max + 256

/**
 * Server-controlled text made safe to show: escape sequences and control and format characters removed (breaks and
 * tabs become spaces), leading and trailing spaces trimmed, length capped at `max` (plus `…`). @internal
 */
export const sanitize = (text: string, max: number = TEXT_MAX): string => {
  const bound = inputBound(max)
  const cut = text.length > bound
  const stripped = strip(cut ? text.slice(0, bound) : text).trim()
  return cut && stripped.length <= max ? `${stripped}…` : truncate(stripped, max)
}
