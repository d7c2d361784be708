/**
 * Reading a provider API's answers (a resource server's, RFC 6750): JSON bodies, and the statuses that the
 * `withAccessToken` middleware left alone turned into the error family. Provider packages build their typed API
 * clients on it. Nothing here ever quotes a body; server-provided texts are scrubbed of anything token-like.
 *
 * @since 0.1.0
 */
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { parseRetryAfter } from "./internal/wire.js"
import * as OAuth2Error from "./OAuth2Error.js"
import type * as OAuth2HttpClient from "./OAuth2HttpClient.js"

/**
 * What an error should say about the call.
 *
 * @since 0.1.0
 * @category models
 */
export interface Context {
  readonly provider: string
  /** `METHOD path`, never a query string. */
  readonly request: string
  /** The scopes the token was asked with, for a 403 `insufficient_scope` the middleware did not see. */
  readonly scopes: ReadonlyArray<string>
  /** What a plain 403 means at this provider, e.g. "Trader API access is granted per account". Default: nothing. */
  readonly forbiddenHint?: string | undefined
}

const source = "resource-server" as const

/**
 * Anything that looks like a token (a long run of token characters) in a server-provided text becomes `<redacted>`:
 * a gateway that echoes the bearer value must not put it into an error.
 *
 * @since 0.1.0
 * @category redaction
 */
export const scrub = (text: string | undefined): string | undefined =>
  text === undefined ? undefined : text.replace(/[A-Za-z0-9._~+/=-]{24,}/g, "<redacted>").slice(0, 500)

const parseJson = (text: string): { readonly ok: true; readonly value: unknown } | { readonly ok: false } => {
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    return { ok: false }
  }
}

const stringMember = (body: unknown, ...names: ReadonlyArray<string>): string | undefined => {
  if (typeof body !== "object" || body === null) return undefined
  for (const name of names) {
    const value = (body as Record<string, unknown>)[name]
    if (typeof value === "string" && value !== "") return value
  }
  return undefined
}

/**
 * The error for an answer that is not a success: 401 (after the middleware's replay) is a rejected token, 403 a
 * refusal (`InvalidScope` when the body says `insufficient_scope`), 429 a rate limit with `Retry-After`, 3xx a
 * redirect that is never followed, anything else (400 validation, 404, 5xx) a `ProtocolError` (retryable for 5xx).
 *
 * @since 0.1.0
 * @category errors
 */
export const statusError = (
  response: HttpClientResponse.HttpClientResponse,
  body: unknown,
  ctx: Context,
  now: number
): OAuth2Error.OAuth2Error => {
  const status = response.status
  const code = scrub(stringMember(body, "error", "code"))
  const description = scrub(stringMember(body, "error_description", "message", "description"))
  const base = { provider: ctx.provider, source }
  if (status === 429 || (status === 503 && response.headers["retry-after"] !== undefined)) {
    return new OAuth2Error.RateLimited({
      ...base,
      status,
      retryAfterMillis: parseRetryAfter(response.headers["retry-after"], now)
    })
  }
  if (status === 401) {
    return new OAuth2Error.Unauthorized({
      ...base,
      reason: "rejected-token",
      status,
      description: description ?? `${ctx.request} answered 401`
    })
  }
  if (status === 403 && code === "insufficient_scope") {
    return new OAuth2Error.InvalidScope({ ...base, requestedScopes: ctx.scopes, status, description })
  }
  if (status >= 300 && status < 400) {
    return new OAuth2Error.MalformedResponse({
      ...base,
      status,
      contentType: response.headers["content-type"],
      reason: `${ctx.request} answered with a redirect, which is not followed with an access token on board`
    })
  }
  return new OAuth2Error.ProtocolError({
    ...base,
    status,
    error: code,
    errorDescription: description ??
      (status === 403
        ? `${ctx.request} is not allowed for these credentials (HTTP 403)${ctx.forbiddenHint ? `; ${ctx.forbiddenHint}` : ""}`
        : `${ctx.request} failed`)
  })
}

/**
 * Reads a JSON answer: the parsed body of a 2xx, or the error for any other status.
 *
 * @since 0.1.0
 * @category decoding
 */
export const readJson = (
  response: HttpClientResponse.HttpClientResponse,
  ctx: Context
): Effect.Effect<unknown, OAuth2Error.OAuth2Error> =>
  Effect.gen(function*() {
    const text = yield* Effect.mapError(response.text, (error) => fromHttpClientError(error, ctx))
    const parsed = text.trim() === "" ? { ok: false as const } : parseJson(text)
    if (response.status >= 200 && response.status < 300) {
      if (parsed.ok) return parsed.value
      return yield* new OAuth2Error.MalformedResponse({
        provider: ctx.provider,
        source,
        status: response.status,
        contentType: response.headers["content-type"],
        reason: `the answer to ${ctx.request} is not JSON`
      })
    }
    const now = yield* Clock.currentTimeMillis
    return yield* Effect.fail(statusError(response, parsed.ok ? parsed.value : undefined, ctx, now))
  })

/**
 * A platform failure (connection refused, reset, unreadable answer) as an error of the family, without headers; a
 * failure whose cause is already of the family (an answer over `maxResponseBytes`, a body past `requestTimeout`) is
 * that error.
 *
 * @since 0.1.0
 * @category errors
 */
export const fromHttpClientError = (
  error: HttpClientError.HttpClientError,
  ctx: Context
): OAuth2Error.OAuth2Error => {
  // The authorised client's bounds (body size, body deadline) fail a read with the family's error as the cause.
  if (OAuth2Error.isOAuth2Error(error.cause)) return error.cause
  if (error._tag === "ResponseError") {
    return new OAuth2Error.MalformedResponse({
      provider: ctx.provider,
      source,
      status: error.response.status,
      contentType: error.response.headers["content-type"],
      reason: `the answer to ${ctx.request} could not be read`
    })
  }
  const cause = error.cause as { readonly code?: unknown; readonly cause?: { readonly code?: unknown } } | undefined
  const code = typeof cause?.cause?.code === "string"
    ? cause.cause.code
    : typeof cause?.code === "string"
    ? cause.code
    : undefined
  return new OAuth2Error.TransportError({
    provider: ctx.provider,
    source,
    reason: "Network",
    request: ctx.request,
    description: error.reason === "InvalidUrl" ? "the URL is invalid" : code ?? `the request failed (${error.reason})`
  })
}

/**
 * Keeps errors of the family, maps platform ones.
 *
 * @since 0.1.0
 * @category errors
 */
export const toOAuth2Error = (
  error: HttpClientError.HttpClientError | OAuth2Error.OAuth2Error,
  ctx: Context
): OAuth2Error.OAuth2Error => OAuth2Error.isOAuth2Error(error) ? error : fromHttpClientError(error, ctx)

/**
 * Sends `request` through an authorised client and reads the JSON answer ({@link readJson}): every failure, the
 * platform's included, is an error of the family. The response is released before the result is returned.
 *
 * ```ts
 * const ctx = { provider: "figure-pay", request: "GET /profiles", scopes: [] }
 * ApiResponse.json(client, HttpClientRequest.get("/profiles"), ctx).pipe(Effect.flatMap(ApiResponse.decode(Profiles, ctx)))
 * ```
 *
 * @since 0.2.0
 * @category decoding
 */
export const json = (
  client: OAuth2HttpClient.Authorized,
  request: HttpClientRequest.HttpClientRequest,
  ctx: Context
): Effect.Effect<unknown, OAuth2Error.OAuth2Error> =>
  client.execute(request).pipe(
    Effect.flatMap((response) => readJson(response, ctx)),
    Effect.mapError((error) => toOAuth2Error(error, ctx)),
    Effect.scoped
  )

/**
 * Decodes a parsed answer with a schema; an answer of another shape is a `MalformedResponse` that names the call and
 * quotes nothing of the body.
 *
 * @since 0.2.0
 * @category decoding
 */
export const decode = <A, I>(schema: Schema.Schema<A, I>, ctx: Context) =>
(body: unknown): Effect.Effect<A, OAuth2Error.MalformedResponse> =>
  Schema.decodeUnknown(schema)(body).pipe(
    Effect.mapError(() =>
      new OAuth2Error.MalformedResponse({
        provider: ctx.provider,
        source,
        status: 200,
        contentType: "application/json",
        reason: `the answer to ${ctx.request} does not have the documented shape`
      })
    )
  )
