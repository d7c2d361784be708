/**
 * What the brokers' emulations (Schwab, TradeStation, tastytrade, Saxo) share: the token-request log, redirects,
 * error pages, PKCE checks and JSON bodies.
 *
 * @internal
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import { createHash } from "node:crypto"
import type { Provider } from "../Clients.js"
import type * as Faults from "../Faults.js"
import { empty, invalidRequest, json, millis, noStore, type OAuthFailure, parseForm } from "./http.js"
import type { State } from "./state.js"
import { randomToken, tokenId } from "./state.js"

/** What a token request's handler learns on its way, for the log. @internal */
export interface Note {
  clientId?: string | undefined
  grantType?: string | undefined
  refreshToken?: string | undefined
  error?: string | undefined
}

/**
 * A token endpoint's handler whose every answer (success or rendered failure) is logged in the state's token-request
 * log, with what the handler noted (client, grant type, refresh token presented).
 *
 * @internal
 */
export const recorded = <E, R>(
  state: State,
  name: Faults.Endpoint,
  provider: Provider,
  handler: (note: Note) => Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>,
  render: (e: E) => HttpServerResponse.HttpServerResponse,
  errorOf: (e: E) => string
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, R> =>
  Effect.suspend(() => {
    const note: Note = {}
    return handler(note).pipe(
      Effect.catchAll((e) =>
        Effect.sync(() => {
          note.error = errorOf(e)
          return render(e)
        })
      ),
      Effect.tap((response) =>
        state.recordTokenRequest({
          endpoint: name,
          provider,
          clientId: note.clientId,
          grantType: note.grantType,
          refreshTokenId: note.refreshToken === undefined || note.refreshToken === "" ? undefined : tokenId(note.refreshToken),
          status: response.status,
          error: note.error
        })
      )
    )
  })

/** `url` with `params` appended to its query, byte for byte otherwise (no normalisation of the URL). @internal */
export const appendParams = (url: string, params: Record<string, string | undefined>): string => {
  const query = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined) query.set(k, v)
  const text = query.toString()
  if (text === "") return url
  return url + (url.includes("?") ? "&" : "?") + text
}

/** An RFC 6749 §5.2 error answer (`error`, `error_description`), never stored. @internal */
export const renderOAuth = (e: OAuthFailure) =>
  json(e.status, { error: e.error, error_description: e.description }, { ...noStore, ...e.headers })

/** A 302 to `location`. @internal */
export const redirect = (location: string) => empty(302, { location })

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c]!)

/** An HTML error page, what a login server shows when it will not redirect (an unknown client or callback). @internal */
export const errorPage = (status: number, title: string, text: string) =>
  HttpServerResponse.text(
    `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(text)}</p>
</body>
</html>
`,
    { status, contentType: "text/html; charset=utf-8" }
  )

/** Whether `verifier` matches a PKCE `challenge` made with `method` (RFC 7636 §4.6). @internal */
export const pkceMatches = (challenge: string, method: string, verifier: string): boolean =>
  method === "S256"
    ? createHash("sha256").update(verifier, "ascii").digest("base64url") === challenge
    : verifier === challenge

/** RFC 7636 §4.1: 43 to 128 unreserved characters. @internal */
export const validVerifier = (verifier: string): boolean => /^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)

/** The request's `application/json` body as string members; anything else is `invalid_request`. @internal */
export const readJsonBody: Effect.Effect<ReadonlyMap<string, string>, OAuthFailure, HttpServerRequest.HttpServerRequest> =
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const text = yield* Effect.mapError(request.text, () => invalidRequest("The request body could not be read"))
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      return yield* invalidRequest("The request body is not valid JSON")
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return yield* invalidRequest("The request body must be a JSON object")
    }
    const out = new Map<string, string>()
    for (const [k, v] of Object.entries(value)) {
      if (typeof v === "string") out.set(k, v)
      else if (typeof v === "number" || typeof v === "boolean") out.set(k, String(v))
      else if (v !== null) return yield* invalidRequest(`The member ${k} must be a string`)
    }
    return out
  })

/** The content type of the request, lower case, without parameters. @internal */
export const contentType: Effect.Effect<string, never, HttpServerRequest.HttpServerRequest> = Effect.map(
  HttpServerRequest.HttpServerRequest,
  (request) => (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase()
)

/** A form or JSON body (by content type), as string members. @internal */
export const readFormOrJson: Effect.Effect<ReadonlyMap<string, string>, OAuthFailure, HttpServerRequest.HttpServerRequest> =
  Effect.flatMap(contentType, (type) =>
    type === "application/json"
      ? readJsonBody
      : type === "application/x-www-form-urlencoded"
      ? Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
        Effect.flatMap(
          Effect.mapError(request.text, () => invalidRequest("The request body could not be read")),
          parseForm
        ))
      : Effect.fail(invalidRequest("The request body must be JSON or application/x-www-form-urlencoded")))

/** A JWT-shaped (unsigned, `alg: none`) token: header, claims and a random tail, as the brokers' tokens look. @internal */
export const jwtShaped = (claims: Readonly<Record<string, unknown>>): string => {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8").toString("base64url")
  return `${part({ alg: "none", typ: "JWT" })}.${part({ ...claims, jti: randomToken(12) })}.${randomToken(24)}`
}

/** Milliseconds of an optional duration, or the default. @internal */
export const millisOr = (value: Parameters<typeof millis>[0] | undefined, fallback: Parameters<typeof millis>[0]): number =>
  millis(value ?? fallback)

/** Whether a host is a loopback name or address. @internal */
export const isLoopbackHost = (host: string): boolean =>
  host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
