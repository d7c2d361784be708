/**
 * The wire boundary with an authorization server: reading a bounded body, parsing JSON or form answers leniently,
 * and turning statuses, RFC 6749 §5.2 error bodies and RFC 9457 problem details into the error family. The server's
 * text that reaches an error (a description, a code, a problem's title and detail) is scrubbed of the request's
 * secrets and sanitised (no control characters, bounded length); nothing else of a body is ever quoted.
 *
 * @internal
 */
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Headers from "@effect/platform/Headers"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import {
  InvalidScope,
  MalformedResponse,
  type OAuth2Error,
  ProtocolError,
  RateLimited,
  type Source,
  TransportError,
  Unauthorized
} from "../OAuth2Error.js"
import * as sanitizer from "./sanitize.js"

/** @internal */
export interface Context {
  readonly provider: string
  readonly source: Source
  readonly requestedScopes: ReadonlyArray<string>
  /**
   * The secrets the request carried (client secret, Basic credentials, code, verifier, token): servers sometimes echo
   * them in `error_description`, so they are scrubbed from whatever the server's answer puts into an error.
   */
  readonly secrets?: ReadonlyArray<string> | undefined
}

const REDACTED = "<redacted>"

/**
 * Replaces every occurrence of a secret in a server-provided text (as is, percent-encoded or form-encoded) with
 * `<redacted>`.
 *
 * @internal
 */
export const scrub = (text: string | undefined, secrets: ReadonlyArray<string> | undefined): string | undefined => {
  if (text === undefined || secrets === undefined || secrets.length === 0) return text
  let out = text
  // Longest first, so that a form containing another is replaced whole.
  for (const form of secretForms(secrets).sort((a, b) => b.length - a.length)) out = out.split(form).join(REDACTED)
  return out
}

const secretForms = (secrets: ReadonlyArray<string> | undefined): Array<string> => {
  const forms = new Set<string>()
  for (const secret of secrets ?? []) {
    if (secret === "") continue
    forms.add(secret)
    forms.add(encodeURIComponent(secret))
    forms.add(new URLSearchParams([["", secret]]).toString().slice(1))
  }
  return [...forms]
}

/**
 * Server-controlled text made fit for an error: scrubbed of the request's secrets (before and after the control
 * characters go, so that neither a secret broken up by a control character nor one formed by removing it survives),
 * sanitised, and capped at `max` without ending in the beginning of a secret. `undefined` for an absent or blank text.
 *
 * @internal
 */
export const serverText = (
  text: string | undefined,
  max: number,
  secrets: ReadonlyArray<string> | undefined
): string | undefined => {
  if (text === undefined) return undefined
  const bound = sanitizer.inputBound(max)
  const cut = text.length > bound
  const stripped = scrub(sanitizer.strip(scrub(cut ? text.slice(0, bound) : text, secrets)!), secrets)!.trim()
  if (stripped === "") return cut ? "…" : undefined
  if (!cut && stripped.length <= max) return stripped
  let head = stripped.length > max ? sanitizer.truncate(stripped, max).slice(0, -1) : stripped
  // The cut (here, or of the input at its bound) may fall inside a secret: drop whatever of one the text ends with.
  for (const form of secretForms(secrets)) {
    for (let k = Math.min(form.length - 1, head.length); k > 0; k--) {
      if (head.endsWith(form.slice(0, k))) {
        head = head.slice(0, head.length - k)
        break
      }
    }
  }
  return `${head}…`
}

/** @internal */
export interface Answer {
  readonly status: number
  readonly contentType: string | undefined
  readonly headers: Readonly<Record<string, string>>
  /** The parsed body: an object when JSON or form data, `undefined` when empty or unparseable. */
  readonly body: Record<string, unknown> | undefined
  /** Why the body could not be parsed, when it could not. */
  readonly parseFailure: string | undefined
  /** The body as text, for a `text/plain` error answer's own words (e.g. a proxy's "upstream connect error"). */
  readonly text?: string | undefined
}

const decoder = new TextDecoder("utf-8", { fatal: false })

const readFailed = (error: { readonly request: { readonly method: string; readonly url: string } }, ctx: Context) =>
  new TransportError({
    provider: ctx.provider,
    source: ctx.source,
    reason: "Network",
    request: `${error.request.method} ${error.request.url}`,
    description: "the connection failed while the answer was being read"
  })

/**
 * Reads at most `max` bytes of the body; a larger body is a MalformedResponse.
 *
 * An uncompressed body whose `Content-Length` is within the limit is read whole (the transport ends the body at the
 * declared length and fails a shorter one); any other body (no length, or compressed, which `fetch` inflates) is read
 * as a stream, counted chunk by chunk, and cut off at the limit.
 *
 * "No body" is an empty body, never a network failure: a 204, 205 or 304 is not read at all (it has no content,
 * RFC 9110 §15.3.5), and a body the platform reports as absent (`fetch` gives a 204 a null body, which
 * `FetchHttpClient` refuses to stream) reads as "".
 *
 * @internal
 */
export const readBody = (
  response: HttpClientResponse.HttpClientResponse,
  max: number,
  ctx: Context
): Effect.Effect<string, MalformedResponse | TransportError> => {
  const tooLarge = () =>
    new MalformedResponse({
      provider: ctx.provider,
      source: ctx.source,
      status: response.status,
      contentType: response.headers["content-type"],
      reason: `the body is larger than the ${max}-byte limit`
    })
  if (response.status === 204 || response.status === 205 || response.status === 304) return Effect.succeed("")
  const length = response.headers["content-length"]
  const declared = length === undefined || !/^\d+$/.test(length) ? undefined : Number(length)
  if (declared !== undefined && declared > max) return Effect.fail(tooLarge())
  // A declared length bounds the body as it arrives; a compressed body (which `fetch` inflates) may still be larger.
  const encoding = response.headers["content-encoding"]
  if (declared !== undefined && (encoding === undefined || encoding.trim().toLowerCase() === "identity")) {
    return Effect.mapBoth(response.arrayBuffer, {
      onFailure: (error) => readFailed(error, ctx),
      onSuccess: (buffer) => decoder.decode(buffer)
    })
  }
  return Effect.suspend(() => {
    const chunks: Array<Uint8Array> = []
    let size = 0
    let over = false
    return response.stream.pipe(
      Stream.runForEachWhile((chunk) =>
        Effect.sync(() => {
          size += chunk.length
          if (size > max) {
            over = true
            return false
          }
          chunks.push(chunk)
          return true
        })
      ),
      Effect.map(() => true),
      Effect.catchIf(
        (error) => error._tag === "ResponseError" && error.reason === "EmptyBody",
        () => Effect.succeed(false)
      ),
      Effect.mapError((error) => readFailed(error, ctx)),
      Effect.flatMap((hadBody) => {
        if (!hadBody) return Effect.succeed("")
        if (over) return Effect.fail(tooLarge())
        if (chunks.length === 1) return Effect.succeed(decoder.decode(chunks[0]))
        const all = new Uint8Array(size)
        let offset = 0
        for (const chunk of chunks) {
          all.set(chunk, offset)
          offset += chunk.length
        }
        return Effect.succeed(decoder.decode(all))
      })
    )
  })
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** Parses a body as JSON or form data, whatever the content type claims, leniently. @internal */
export const parseBody = (
  text: string,
  contentType: string | undefined
): { readonly body: Record<string, unknown> | undefined; readonly parseFailure: string | undefined } => {
  const trimmed = text.trim()
  if (trimmed === "") return { body: undefined, parseFailure: "the body is empty" }
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase()
  // JSON first, whatever the content type claims: a form body never starts with "{" or "[".
  if (trimmed.startsWith("{") || trimmed.startsWith("[") || type.endsWith("json")) {
    try {
      const parsed: unknown = JSON.parse(trimmed)
      return isRecord(parsed)
        ? { body: parsed, parseFailure: undefined }
        : { body: undefined, parseFailure: "the JSON body is not an object" }
    } catch {
      return { body: undefined, parseFailure: "the body is not valid JSON" }
    }
  }
  if (type === "application/x-www-form-urlencoded") {
    return { body: Object.fromEntries(new URLSearchParams(trimmed)), parseFailure: undefined }
  }
  // Pairs cannot contain "&", so the pattern has one way to match and runs in linear time (no backtracking).
  if (type === "text/plain" && /^[\w.~%+-]+=[^&\s]*(?:&[\w.~%+-]+=[^&\s]*)*$/.test(trimmed)) {
    return { body: Object.fromEntries(new URLSearchParams(trimmed)), parseFailure: undefined }
  }
  const what = type === "" ? "an untyped body" : `a ${sanitizer.sanitize(type, sanitizer.CODE_MAX)} body`
  return { body: undefined, parseFailure: `${what} that is neither JSON nor form data` }
}

/**
 * Parses `Retry-After` (delta-seconds or an HTTP date, RFC 9110 §10.2.3) into milliseconds from `now`.
 *
 * @internal
 */
export const parseRetryAfter = (value: string | undefined, now: number): number | undefined => {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed), 86_400) * 1000
  const date = Date.parse(trimmed)
  if (Number.isNaN(date)) return undefined
  return Math.min(Math.max(0, date - now), 86_400_000)
}

const optionalString = (u: unknown): string | undefined => (typeof u === "string" && u !== "" ? u : undefined)

/** Whether a text can be an RFC 6749 §5.2 error code: one word of visible ASCII (no "Internal Server Error"). */
const isErrorCode = (text: string): boolean => /^[\x21\x23-\x5b\x5d-\x7e]{1,100}$/.test(text)

/**
 * The server's own words on an answer that is not a success, scrubbed and sanitised: the `error_description`, else an
 * RFC 9457 problem's `title` and `detail`, else a `message` member; `extra` (a non-code `error` text) goes first.
 */
const describeBody = (
  body: Record<string, unknown> | undefined,
  ctx: Context,
  extra: string | undefined
): string | undefined => {
  if (body === undefined) return extra === undefined ? undefined : serverText(extra, sanitizer.TEXT_MAX, ctx.secrets)
  const parts: Array<string> = []
  const add = (u: unknown) => {
    const text = optionalString(u)?.trim()
    if (text !== undefined && text !== "" && !parts.includes(text)) parts.push(text)
  }
  add(extra)
  const own = optionalString(body.error_description)
  if (own !== undefined) {
    add(own)
  } else {
    add(body.title)
    add(body.detail)
    if (parts.length === (extra === undefined ? 0 : 1)) add(body.message)
  }
  return parts.length === 0 ? undefined : serverText(parts.join(": "), sanitizer.TEXT_MAX, ctx.secrets)
}

/** An RFC 9457 problem's `type`, when it is a link worth following (not `about:blank`). */
const problemType = (body: Record<string, unknown>): string | undefined => {
  const type = optionalString(body.type)
  return type !== undefined && /^https?:\/\//i.test(type) ? type : undefined
}

/**
 * Maps an answer that is not a success into the error family.
 *
 * - 429, and 503 with `Retry-After`: `RateLimited`.
 * - Any other 5xx is a server failure, retryable, whatever its body says: a 500 `{"error":"invalid_grant"}` is not a
 *   refused grant, and a 500 `{"error":"Internal Server Error"}` carries no OAuth error code. The body's text is kept
 *   in the description.
 * - Otherwise the RFC 6749 §5.2 `error` code decides (those bodies come with 400 and 401, and with 200 from some
 *   servers); an `error` that cannot be a code (it has spaces, as hapi's `"Bad Request"`) is text, not a code.
 * - The description is the `error_description`, or an RFC 9457 problem's `title` and `detail`, or a `message`.
 *
 * Every server text in the result is scrubbed of the request's secrets and sanitised (no control characters, bounded).
 *
 * @internal
 */
export const toError = (answer: Answer, ctx: Context, now: number): OAuth2Error => {
  const body = answer.body
  const base = { provider: ctx.provider, source: ctx.source }
  const retryAfterMillis = parseRetryAfter(answer.headers["retry-after"], now)
  if (answer.status === 429 || (answer.status === 503 && retryAfterMillis !== undefined)) {
    return new RateLimited({ ...base, status: answer.status, retryAfterMillis })
  }
  const rawError = body === undefined ? undefined : optionalString(body.error)?.trim()
  // A plain-text error page says what happened in its own words (a proxy's "upstream connect error"): keep them.
  const plainText = body === undefined && answer.text !== undefined &&
      (answer.contentType ?? "").split(";")[0]!.trim().toLowerCase() === "text/plain"
    ? serverText(answer.text, sanitizer.TEXT_MAX, ctx.secrets)
    : undefined
  if (answer.status >= 500) {
    return new ProtocolError({
      ...base,
      status: answer.status,
      errorDescription: describeBody(body, ctx, rawError === "" ? undefined : rawError) ?? plainText
    })
  }
  const code = rawError !== undefined && isErrorCode(rawError) ? rawError : undefined
  const description = describeBody(body, ctx, code === undefined && rawError !== "" ? rawError : undefined)
  const errorUri = body === undefined
    ? undefined
    : serverText(optionalString(body.error_uri) ?? problemType(body), sanitizer.URI_MAX, ctx.secrets)
  switch (code) {
    case "invalid_scope":
    case "insufficient_scope":
      return new InvalidScope({ ...base, requestedScopes: ctx.requestedScopes, status: answer.status, description })
    case "invalid_client":
    case "invalid_grant":
    case "unauthorized_client":
    case "access_denied":
      return new Unauthorized({ ...base, reason: code, status: answer.status, description })
    case "slow_down":
      return new RateLimited({ ...base, status: answer.status, retryAfterMillis })
    case undefined:
      break
    default:
      return new ProtocolError({
        ...base,
        status: answer.status,
        error: serverText(code, sanitizer.CODE_MAX, ctx.secrets),
        errorDescription: description,
        errorUri
      })
  }
  if (answer.status === 401) {
    return new Unauthorized({
      ...base,
      reason: "invalid_client",
      status: 401,
      description: description ?? "HTTP 401 without an error code"
    })
  }
  if (answer.status >= 300 && answer.status < 400) {
    return new MalformedResponse({
      ...base,
      status: answer.status,
      contentType: answer.contentType,
      reason: "the server answered with a redirect, which is never followed for OAuth endpoints (RFC 9700)"
    })
  }
  if (answer.status >= 200 && answer.status < 300) {
    return new MalformedResponse({
      ...base,
      status: answer.status,
      contentType: answer.contentType,
      reason: answer.status === 204 || answer.status === 205
        ? `the server answered ${answer.status} ${answer.status === 204 ? "No Content" : "Reset Content"}, with no body`
        : answer.parseFailure ?? "the answer is not a usable OAuth 2.0 response"
    })
  }
  return new ProtocolError({ ...base, status: answer.status, errorDescription: description ?? plainText, errorUri })
}

/**
 * Runs an HTTP exchange with the headers a server may echo secrets in (`WWW-Authenticate`, `Location`) and the DPoP
 * proof redacted from the platform's spans, beside the ones it redacts already (`Authorization`, cookies).
 *
 * @internal
 */
export const redactEchoingHeaders = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.locallyWith(effect, Headers.currentRedactedNames, addEchoingHeaders)

/** The platform's redacted header names, with those a server may echo secrets in. @internal */
export const addEchoingHeaders = (names: ReadonlyArray<string | RegExp>): ReadonlyArray<string | RegExp> => [
  ...names,
  "www-authenticate",
  "location",
  // A DPoP proof (RFC 9449) is a short-lived credential of its own.
  "dpop"
]

/** Maps a platform request failure (never its headers) into a TransportError. @internal */
export const fromRequestError = (error: HttpClientError.HttpClientError, ctx: Context): OAuth2Error => {
  const request = `${error.request.method} ${error.request.url}`
  if (error._tag === "ResponseError") {
    return new MalformedResponse({
      provider: ctx.provider,
      source: ctx.source,
      status: error.response.status,
      contentType: error.response.headers["content-type"],
      reason: "the answer could not be read"
    })
  }
  const cause = error.cause
  const detail = cause instanceof Error
    ? (Option.getOrUndefined(Option.fromNullable((cause as { cause?: { code?: string } }).cause?.code)) ??
      (cause as { code?: string }).code ?? cause.message)
    : error.reason
  return new TransportError({
    provider: ctx.provider,
    source: ctx.source,
    reason: "Network",
    request,
    description: error.reason === "InvalidUrl" ? "the URL is invalid" : scrub(String(detail), ctx.secrets)!
  })
}
