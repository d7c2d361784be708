import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Faults from "../Faults.js"
import type { State } from "./state.js"

/** @internal */
export type Headers = Readonly<Record<string, string>>

/** A JSON answer whose bytes are exactly `JSON.stringify(body)`. @internal */
export const json = (status: number, body: unknown, headers: Headers = {}): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.text(JSON.stringify(body), { status, contentType: "application/json", headers })

/** An answer without a body, with `Content-Length: 0` (Node would otherwise chunk it). @internal */
export const empty = (status: number, headers: Headers = {}): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.empty({ status, headers: { ...headers, "content-length": "0" } })

/** RFC 6749 §5.1: token answers are never cached. @internal */
export const noStore: Headers = { "cache-control": "no-store", pragma: "no-cache" }

/**
 * An OAuth 2.0 error (RFC 6749 §5.2, RFC 7009 §2.2.1) on its way to a provider's renderer.
 *
 * @internal
 */
export class OAuthFailure extends Data.TaggedError("OAuthFailure")<{
  readonly status: number
  readonly error: string
  readonly description: string
  readonly headers?: Headers | undefined
}> {}

/** A failed bearer-token check on a protected endpoint (RFC 6750 §3.1). @internal */
export class BearerFailure extends Data.TaggedError("BearerFailure")<{
  readonly status: 401 | 403
  readonly error: "invalid_token" | "insufficient_scope"
  readonly description: string
}> {}

/** The exact `WWW-Authenticate` values protected endpoints send. @internal */
export const bearerChallenge = (error: "invalid_token" | "insufficient_scope"): string => `Bearer error="${error}"`

/** @internal */
export const invalidRequest = (description: string) =>
  new OAuthFailure({ status: 400, error: "invalid_request", description })

/** @internal */
export const unsupportedGrant = (grantType: string) =>
  new OAuthFailure({
    status: 400,
    error: "unsupported_grant_type",
    description: `The grant type ${grantType} is not supported`
  })

/** @internal */
export const invalidScope = (description: string) => new OAuthFailure({ status: 400, error: "invalid_scope", description })

/** @internal */
export type Form = ReadonlyMap<string, string>

const formContentType = "application/x-www-form-urlencoded"

/**
 * Reads an `application/x-www-form-urlencoded` body. A different content type, an unreadable body or a parameter sent
 * twice (RFC 6749 §3.2) is `invalid_request`.
 *
 * @internal
 */
export const readForm: Effect.Effect<Form, OAuthFailure, HttpServerRequest.HttpServerRequest> = Effect.gen(
  function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const contentType = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase()
    if (contentType !== formContentType) {
      return yield* invalidRequest(`The request body must be ${formContentType}`)
    }
    const text = yield* Effect.mapError(request.text, () => invalidRequest("The request body could not be read"))
    return yield* parseForm(text)
  }
)

/** @internal */
export const parseForm = (text: string): Effect.Effect<Form, OAuthFailure> =>
  Effect.suspend(() => {
    const form = new Map<string, string>()
    for (const [key, value] of new URLSearchParams(text)) {
      if (form.has(key)) return Effect.fail(invalidRequest(`The parameter ${key} was sent more than once`))
      form.set(key, value)
    }
    return Effect.succeed(form)
  })

/** Query parameters of the request URL (first value of each). @internal */
export const query: Effect.Effect<URLSearchParams, never, HttpServerRequest.HttpServerRequest> = Effect.map(
  HttpServerRequest.HttpServerRequest,
  (request) => new URL(request.url, "http://emulator.invalid").searchParams
)

/** @internal */
export type ClientAuthStyle = "post" | "basic-form" | "basic-raw"

/** @internal */
export interface Credentials {
  readonly clientId: string
  readonly clientSecret: string
  readonly via: "basic" | "post"
}

const formDecode = (s: string): string | undefined => {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "))
  } catch {
    return undefined
  }
}

/** @internal */
export const basicChallenge = (realm: string): string => `Basic realm="${realm}"`

/**
 * Reads the client's credentials the way one provider does.
 *
 * - `post`: `client_id` and `client_secret` in the body (client_secret_post);
 * - `basic-form`: `Authorization: Basic base64(form(id):form(secret))`, RFC 6749 §2.3.1;
 * - `basic-raw`: `Authorization: Basic base64(id:secret)`, without the form-decoding step.
 *
 * Both Basic and a body `client_secret` in one request is `invalid_request`. Missing or undecodable credentials are
 * 401 `invalid_client`, with a Basic challenge when the provider uses Basic or the client tried it.
 *
 * @internal
 */
export const readCredentials = (
  form: Form,
  style: ClientAuthStyle,
  realm: string
): Effect.Effect<Credentials, OAuthFailure, HttpServerRequest.HttpServerRequest> =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const authorization = request.headers["authorization"]
    const basicMatch = authorization === undefined ? null : /^basic\s+(\S*)\s*$/i.exec(authorization)
    const challenge = { "www-authenticate": basicChallenge(realm) }
    const invalidClient = (description: string, withChallenge: boolean) =>
      new OAuthFailure({
        status: 401,
        error: "invalid_client",
        description,
        headers: withChallenge ? challenge : undefined
      })
    const bodySecret = form.get("client_secret")
    const bodyId = form.get("client_id")
    if (basicMatch !== null && bodySecret !== undefined) {
      return yield* invalidRequest("The client must use only one authentication method")
    }
    if (basicMatch !== null) {
      const decoded = Buffer.from(basicMatch[1]!, "base64").toString("utf8")
      const colon = decoded.indexOf(":")
      if (colon <= 0) return yield* invalidClient("Malformed Basic credentials", true)
      const rawId = decoded.slice(0, colon)
      const rawSecret = decoded.slice(colon + 1)
      const clientId = style === "basic-form" ? formDecode(rawId) : rawId
      const clientSecret = style === "basic-form" ? formDecode(rawSecret) : rawSecret
      if (clientId === undefined || clientSecret === undefined) {
        return yield* invalidClient("Malformed Basic credentials", true)
      }
      if (bodyId !== undefined && bodyId !== clientId) {
        return yield* invalidRequest("client_id in the body differs from the authenticated client")
      }
      if (style === "post") {
        return yield* invalidClient("Client authentication must use client_secret_post", true)
      }
      return { clientId, clientSecret, via: "basic" as const }
    }
    if (style !== "post") {
      return yield* invalidClient("Client authentication must use HTTP Basic", true)
    }
    if (bodyId === undefined || bodyId === "" || bodySecret === undefined) {
      return yield* invalidClient("Client authentication failed: client_id and client_secret are required", false)
    }
    return { clientId: bodyId, clientSecret: bodySecret, via: "post" as const }
  })

/** `invalid_client` for credentials that do not match a registered client. @internal */
export const badCredentials = (credentials: Credentials, realm: string): OAuthFailure =>
  new OAuthFailure({
    status: 401,
    error: "invalid_client",
    description: "Client authentication failed",
    headers: credentials.via === "basic" ? { "www-authenticate": basicChallenge(realm) } : undefined
  })

/**
 * The common start of a client-credentials token request: the form body, the client authenticated the provider's
 * way, and `grant_type=client_credentials`. The provider then checks scopes and issues the token.
 *
 * @internal
 */
export const clientCredentialsRequest = <C>(
  style: ClientAuthStyle,
  realm: string,
  findClient: (clientId: string, clientSecret: string) => C | undefined
): Effect.Effect<{ readonly form: Form; readonly client: C }, OAuthFailure, HttpServerRequest.HttpServerRequest> =>
  Effect.gen(function*() {
    const form = yield* readForm
    const credentials = yield* readCredentials(form, style, realm)
    const client = findClient(credentials.clientId, credentials.clientSecret)
    if (client === undefined) return yield* badCredentials(credentials, realm)
    const grantType = form.get("grant_type")
    if (grantType === undefined || grantType === "") return yield* invalidRequest("grant_type is required")
    if (grantType !== "client_credentials") return yield* unsupportedGrant(grantType)
    return { form, client }
  })

/** Constant-time enough for an emulator, but never short-circuits on the first differing character. @internal */
export const secretEquals = (a: string, b: string): boolean => {
  const x = Buffer.from(a, "utf8")
  const y = Buffer.from(b, "utf8")
  let diff = x.length ^ y.length
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0)
  return diff === 0
}

/** The bearer token of the request, if it carries one (RFC 6750 §2.1). @internal */
export const bearerToken: Effect.Effect<string | undefined, never, HttpServerRequest.HttpServerRequest> = Effect.map(
  HttpServerRequest.HttpServerRequest,
  (request) => {
    const match = /^bearer\s+(\S+)\s*$/i.exec(request.headers["authorization"] ?? "")
    return match === null ? undefined : match[1]
  }
)

/**
 * A scope list: space-separated per RFC 6749 §3.3 (`"space"`), or comma-separated as Tradier's authorize URL wants
 * (`"comma"`, blanks around the commas tolerated). A list in the other syntax yields one unknown scope, as a strict
 * server would see it.
 *
 * @internal
 */
export const splitScopes = (scope: string | undefined, syntax: "space" | "comma" = "space"): ReadonlyArray<string> =>
  scope === undefined
    ? []
    : scope.split(syntax === "space" ? / +/ : /\s*,\s*/).map((s) => s.trim()).filter((s) => s.length > 0)

/** Removes duplicates, keeping the first occurrence. @internal */
export const uniq = (xs: ReadonlyArray<string>): ReadonlyArray<string> => Array.from(new Set(xs))

/** Whole seconds of a lifetime, for `expires_in`. @internal */
export const seconds = (millis: number): number => Math.floor(millis / 1000)

/** @internal */
export const millis = (d: Duration.DurationInput): number => Duration.toMillis(Duration.decode(d))

/** @internal */
export const notFound = (method: string, url: string) =>
  json(404, { error: "not_found", error_description: `No route for ${method} ${url.split("?")[0]}` })

/** @internal */
export const methodNotAllowed = (method: string, allowed: ReadonlyArray<string>) =>
  json(405, { error: "method_not_allowed", error_description: `${method} is not allowed here` }, {
    allow: allowed.join(", ")
  })

const htmlErrorPage = `<!DOCTYPE html>
<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>emulated-gateway</center>
</body>
</html>
`

/** @internal */
export const malformedBody = (kind: Faults.MalformedKind, status: number): HttpServerResponse.HttpServerResponse => {
  switch (kind) {
    case "html":
      return HttpServerResponse.text(htmlErrorPage, { status, contentType: "text/html; charset=utf-8" })
    case "broken-json":
      return HttpServerResponse.text(`{"access_token":"7Vd3kq`, { status, contentType: "application/json" })
    case "empty":
      return HttpServerResponse.text("", { status, contentType: "application/json" })
  }
}

const injectedError = (status: number): string => status === 503 ? "temporarily_unavailable" : "server_error"

/**
 * Wraps one endpoint's handler: counts the request, applies the endpoint's faults, checks the method, answers
 * every failure the handler might have (a defect becomes a 500 JSON answer, never a crash), stamps the emulator's
 * clock in `Date`, and counts the answer's status.
 *
 * @internal
 */
export const endpoint = <E, R>(
  state: State,
  name: Faults.Endpoint,
  methods: ReadonlyArray<string>,
  handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>,
  renderError: (error: E) => HttpServerResponse.HttpServerResponse
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, R | HttpServerRequest.HttpServerRequest> =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    yield* state.countRequest(name)
    const faults = yield* state.faultsFor(name)
    if (faults.latency !== undefined && faults.latency > 0) {
      yield* Effect.sleep(Duration.millis(faults.latency))
    }
    const action = yield* state.nextAction(name)
    let response: HttpServerResponse.HttpServerResponse
    switch (action._tag) {
      case "Reset": {
        yield* state.countReset(name)
        const socket = NodeHttpServerRequest.toIncomingMessage(request).socket
        if (typeof socket.resetAndDestroy === "function") socket.resetAndDestroy()
        else socket.destroy()
        return HttpServerResponse.empty({ status: 499 })
      }
      case "RateLimit":
        response = json(429, { error: "rate_limited", error_description: "Too many requests" }, {
          "retry-after": String(action.retryAfter)
        })
        break
      case "FailNext":
        response = json(
          action.status,
          { error: injectedError(action.status), error_description: `Injected ${action.status}` },
          action.retryAfter === undefined ? {} : { "retry-after": String(action.retryAfter) }
        )
        break
      case "Malformed":
        response = malformedBody(action.kind, action.status)
        break
      case "Pass":
        response = methods.includes(request.method)
          ? yield* handler.pipe(
            Effect.catchAll((e) => Effect.succeed(renderError(e))),
            Effect.catchAllCause((cause) =>
              Cause.isInterruptedOnly(cause)
                ? Effect.failCause(cause)
                : Effect.as(
                  Effect.logError("emulator: unexpected failure", cause),
                  json(500, { error: "server_error", error_description: "Unexpected emulator failure" })
                )
            )
          )
          : methodNotAllowed(request.method, methods)
        break
    }
    const now = yield* state.now
    yield* state.countStatus(name, response.status)
    return HttpServerResponse.setHeader(response, "date", new Date(now).toUTCString())
  })
