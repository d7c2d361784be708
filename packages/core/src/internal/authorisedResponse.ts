/**
 * What the authorised client hands back: errors and answers scrubbed of the access token, and answer bodies read
 * within a size limit and a deadline.
 *
 * - An `HttpClientError` keeps the request it was made from, headers included: `JSON.stringify`, `util.inspect`,
 *   `String` and `console.error` of it would print `Authorization: Bearer …`. Every request an error or an answer
 *   carries is a copy whose `Authorization` is `<redacted>`; a platform `cause` that quotes the token is replaced by a
 *   copy that does not.
 * - A body is read up to `maxBytes` (declared `Content-Length` checked first, then counted as it arrives) and within
 *   `timeout` from the start of the read; past either, the read fails with a `ResponseError` whose `cause` is the
 *   error of the family (`MalformedResponse`, `TransportError` with reason `"Timeout"`), which `ApiResponse` unwraps.
 *
 * @internal
 */
import type * as Cookies from "@effect/platform/Cookies"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as IncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Inspectable from "effect/Inspectable"
import type * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { MalformedResponse, type OAuth2Error, TransportError } from "../OAuth2Error.js"
import { exitWithin } from "./deadline.js"

const REDACTED = "<redacted>"

/** The bounds of an answer's body. @internal */
export interface Limits {
  readonly provider: string
  readonly maxBytes: number
  readonly timeout: Duration.Duration
}

/** `METHOD origin/path`: what an error names (never a query string, which may carry anything). @internal */
export const describeRequest = (request: HttpClientRequest.HttpClientRequest): string => {
  try {
    const url = new URL(request.url)
    return `${request.method} ${url.origin}${url.pathname}`
  } catch {
    return `${request.method} ${request.url.split(/[?#]/)[0]}`
  }
}

/** A copy of the request with its `Authorization` header (and DPoP proof, RFC 9449) `<redacted>`. @internal */
export const scrubRequest = (request: HttpClientRequest.HttpClientRequest): HttpClientRequest.HttpClientRequest => {
  const authorization = request.headers["authorization"]
  const scrubbed = authorization === undefined || authorization === REDACTED
    ? request
    : HttpClientRequest.setHeader(request, "authorization", REDACTED)
  const proof = scrubbed.headers["dpop"]
  return proof === undefined || proof === REDACTED ? scrubbed : HttpClientRequest.setHeader(scrubbed, "dpop", REDACTED)
}

const shows = (value: unknown, secret: string): boolean => {
  try {
    if (typeof value === "string") return value.includes(secret)
    if (value instanceof Error && (value.message.includes(secret) || (value.stack ?? "").includes(secret))) return true
    if (String(value).includes(secret)) return true
    return (JSON.stringify(value) ?? "").includes(secret)
  } catch {
    // Unprintable (a cycle, a throwing getter): judged by its message alone.
    return value instanceof Error && value.message.includes(secret)
  }
}

/**
 * `value` when no rendering of it shows the secret; otherwise a plain copy that does not (an `Error` keeps its name,
 * code and scrubbed message and cause).
 *
 * @internal
 */
export const scrubUnknown = (value: unknown, secret: string, depth: number = 0): unknown => {
  if (secret === "" || !shows(value, secret)) return value
  if (typeof value === "string") return value.split(secret).join(REDACTED)
  if (value instanceof Error) {
    const copy = new Error(value.message.split(secret).join(REDACTED))
    copy.name = value.name
    copy.stack = `${copy.name}: ${copy.message}`
    const code = (value as { readonly code?: unknown }).code
    if (typeof code === "string") Object.assign(copy, { code })
    if (value.cause !== undefined && depth < 4) copy.cause = scrubUnknown(value.cause, secret, depth + 1)
    return copy
  }
  return REDACTED
}

/**
 * The error with every request it carries scrubbed of the token (and its response wrapped, so that it is too). Errors
 * that are not `HttpClientError`s (the family's) are returned as they are.
 *
 * @internal
 */
export const scrubError = <E>(error: E, secret: string, limits: Limits): E => {
  if (!HttpClientError.isHttpClientError(error)) return error
  const request = scrubRequest(error.request)
  const rest = {
    cause: scrubUnknown(error.cause, secret),
    ...(error.description === undefined ? {} : { description: scrubUnknown(error.description, secret) as string })
  }
  if (error._tag === "RequestError") {
    return new HttpClientError.RequestError({ request, reason: error.reason, ...rest }) as E
  }
  return new HttpClientError.ResponseError({
    request,
    response: error.response instanceof AuthorisedResponse
      ? error.response
      : new AuthorisedResponse(error.response, request, secret, limits),
    reason: error.reason,
    ...rest
  }) as E
}

const bodyless = (response: HttpClientResponse.HttpClientResponse) =>
  response.status === 204 || response.status === 205 || response.status === 304 ||
  response.request.method === "HEAD" || response.headers["content-length"] === "0"

/** The declared `Content-Length`, when it is a plain number. */
const declaredLength = (response: HttpClientResponse.HttpClientResponse): number | undefined => {
  const length = response.headers["content-length"]
  return length === undefined || !/^\d+$/.test(length) ? undefined : Number(length)
}

/** Whether the body arrives as it is (no `Content-Encoding` that `fetch` would inflate beyond its declared length). */
const identity = (response: HttpClientResponse.HttpClientResponse): boolean => {
  const encoding = response.headers["content-encoding"]
  return encoding === undefined || encoding.trim().toLowerCase() === "identity"
}

/**
 * The largest body read with its answer (see {@link readSmall}): an API's usual answer, small enough that holding it
 * costs nothing worth a fiber.
 *
 * @internal
 */
export const smallBodyBytes = 64 * 1024

/**
 * The answer, with its body read when it is small and its length declared (up to {@link smallBodyBytes} and the
 * limit, not compressed): run in the request's own fiber, under the request's deadline, so that reading it later
 * needs no fiber and no deadline of its own. A failure to read it is kept, and is what reading it gives.
 *
 * @internal
 */
export const readSmall = (
  response: HttpClientResponse.HttpClientResponse,
  limits: Limits
): Effect.Effect<readonly [HttpClientResponse.HttpClientResponse, Exit.Exit<Uint8Array, HttpClientError.ResponseError> | undefined]> => {
  if (bodyless(response)) return Effect.succeed([response, Exit.succeed(new Uint8Array(0))] as const)
  const declared = declaredLength(response)
  if (declared === undefined || declared > smallBodyBytes || declared > limits.maxBytes || !identity(response)) {
    return Effect.succeed([response, undefined] as const)
  }
  return Effect.map(Effect.exit(response.arrayBuffer), (exit) => [response, Exit.map(exit, (buffer) => new Uint8Array(buffer))] as const)
}

/**
 * An answer of the authorised client: the original's status and headers, a scrubbed request, bounded bodies.
 *
 * @internal
 */
export class AuthorisedResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [IncomingMessage.TypeId]: IncomingMessage.TypeId = IncomingMessage.TypeId

  private scrubbed: HttpClientRequest.HttpClientRequest | undefined

  /** `request`: the request the answer came from, scrubbed (with {@link scrubRequest}) when first read. */
  constructor(
    readonly original: HttpClientResponse.HttpClientResponse,
    private readonly unscrubbed: HttpClientRequest.HttpClientRequest,
    private readonly secret: string,
    private readonly limits: Limits,
    /** The body, when it was read with the answer ({@link readSmall}). */
    private readonly read?: Exit.Exit<Uint8Array, HttpClientError.ResponseError> | undefined
  ) {
    super()
  }

  /** The request, its `Authorization` header `<redacted>`. */
  get request(): HttpClientRequest.HttpClientRequest {
    if (this.scrubbed === undefined) this.scrubbed = scrubRequest(this.unscrubbed)
    return this.scrubbed
  }

  get status(): number {
    return this.original.status
  }
  get headers() {
    return this.original.headers
  }
  get cookies(): Cookies.Cookies {
    return this.original.cookies
  }
  get remoteAddress(): Option.Option<string> {
    return this.original.remoteAddress
  }

  private failure(cause: OAuth2Error): HttpClientError.ResponseError {
    return new HttpClientError.ResponseError({
      request: this.request,
      response: this,
      reason: "Decode",
      cause,
      description: cause.message
    })
  }

  private tooLarge(): HttpClientError.ResponseError {
    const max = this.limits.maxBytes
    return this.failure(
      new MalformedResponse({
        provider: this.limits.provider,
        source: "resource-server",
        status: this.status,
        contentType: this.headers["content-type"],
        reason: `the answer to ${describeRequest(this.request)} is larger than the ${max}-byte limit ` +
          "(maxResponseBytes; raise it if such answers are expected)"
      })
    )
  }

  private timedOut(): HttpClientError.ResponseError {
    return this.failure(
      new TransportError({
        provider: this.limits.provider,
        source: "resource-server",
        reason: "Timeout",
        request: describeRequest(this.request),
        description: `the answer's body did not arrive within ${Duration.format(this.limits.timeout)} (requestTimeout)`
      })
    )
  }

  private scrub<A>(effect: Effect.Effect<A, HttpClientError.ResponseError>) {
    return Effect.mapError(effect, (error) => scrubError(error, this.secret, this.limits))
  }

  /** `effect` scrubbed, within the deadline (in a fiber of its own: see `deadline.ts`). */
  private bounded<A>(effect: Effect.Effect<A, HttpClientError.ResponseError>) {
    return Effect.flatten(exitWithin(this.scrub(effect), this.limits.timeout, () => this.timedOut()))
  }

  /** The body, at most `maxBytes` of it, and within the deadline. */
  private get bytes(): Effect.Effect<Uint8Array, HttpClientError.ResponseError> {
    const read = this.read
    if (read !== undefined) return Exit.isSuccess(read) ? read : this.scrub(read)
    return Effect.suspend(() => {
      if (bodyless(this.original)) return Effect.succeed(new Uint8Array(0))
      const length = this.headers["content-length"]
      const declared = length === undefined || !/^\d+$/.test(length) ? undefined : Number(length)
      if (declared !== undefined && declared > this.limits.maxBytes) return Effect.fail(this.tooLarge())
      const encoding = this.headers["content-encoding"]
      // A declared length bounds the body as it arrives; a compressed one (which fetch inflates) may still be larger.
      if (declared !== undefined && (encoding === undefined || encoding.trim().toLowerCase() === "identity")) {
        return Effect.map(this.original.arrayBuffer, (buffer) => new Uint8Array(buffer))
      }
      return Stream.runCollect(this.countedStream).pipe(Effect.map((chunks) => {
        let size = 0
        for (const chunk of chunks) size += chunk.length
        const all = new Uint8Array(size)
        let offset = 0
        for (const chunk of chunks) {
          all.set(chunk, offset)
          offset += chunk.length
        }
        return all
      }))
    }).pipe((effect) => this.bounded(effect))
  }

  private get countedStream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return Stream.suspend(() => {
      let size = 0
      return this.original.stream.pipe(
        Stream.mapEffect((chunk) => {
          size += chunk.length
          return size > this.limits.maxBytes ? Effect.fail(this.tooLarge()) : Effect.succeed(chunk)
        })
      )
    })
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return Effect.map(this.bytes, (bytes) =>
      bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
        ? bytes.buffer as ArrayBuffer
        : bytes.slice().buffer as ArrayBuffer)
  }

  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return Effect.map(this.bytes, (bytes) => new TextDecoder().decode(bytes))
  }

  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: () => (text === "" ? null : JSON.parse(text)) as unknown,
        catch: (cause) =>
          new HttpClientError.ResponseError({
            request: this.request,
            response: this,
            reason: "Decode",
            cause: scrubUnknown(cause, this.secret),
            description: "the body is not valid JSON"
          })
      }))
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return Effect.map(this.text, (text) => UrlParams.fromInput(new URLSearchParams(text)))
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    if (this.read !== undefined) {
      // Read with the answer: parsed from memory.
      return Effect.flatMap(this.bytes, (bytes) =>
        Effect.tryPromise({
          try: () =>
            new Response(bytes as Uint8Array<ArrayBuffer>, {
              headers: { "content-type": this.headers["content-type"] ?? "application/octet-stream" }
            }).formData(),
          catch: (cause) =>
            new HttpClientError.ResponseError({
              request: this.request,
              response: this,
              reason: "Decode",
              cause: scrubUnknown(cause, this.secret),
              description: "the body is not valid form data"
            })
        }))
    }
    return Effect.suspend(() => {
      const length = this.headers["content-length"]
      return length !== undefined && /^\d+$/.test(length) && Number(length) > this.limits.maxBytes
        ? Effect.fail(this.tooLarge())
        : this.bounded(this.original.formData)
    })
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return Stream.suspend(() => {
      if (bodyless(this.original)) return Stream.empty
      if (this.read !== undefined) {
        return Stream.filter(Stream.fromEffect(this.bytes), (bytes) => bytes.length > 0)
      }
      return this.countedStream.pipe(
        Stream.mapError((error) => scrubError(error, this.secret, this.limits)),
        Stream.interruptWhen(Effect.zipRight(Effect.sleep(this.limits.timeout), Effect.fail(this.timedOut())))
      )
    })
  }

  toJSON(): unknown {
    return {
      _id: "@effect/platform/HttpClientResponse",
      request: this.request.toJSON(),
      status: this.status,
      headers: Inspectable.redact(this.headers)
    }
  }
}
