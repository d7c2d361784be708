/**
 * Pushed authorization requests (RFC 9126): one authenticated POST of the authorization request's parameters to the
 * server's PAR endpoint, answered with a `request_uri` that the authorization URL then carries instead of them.
 *
 * The client authenticates exactly as at the token endpoint (the endpoint's `authMethod`, through `ClientAuth`), the
 * answer is read by the token endpoint's reader (`wire`: bounded body, lenient parsing, the error family), and the
 * request is sent once: no retry, no redirect followed, bounded by the endpoint's request timeout. Whatever the
 * request carried that is secret (client secret, Basic credentials, client assertion, state) is scrubbed from any
 * server text that reaches an error.
 *
 * @internal
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as ClientAuth from "../ClientAuth.js"
import type * as Endpoint from "../Endpoint.js"
import { InvalidConfiguration, MalformedResponse, type OAuth2Error } from "../OAuth2Error.js"
import * as clientAssertion from "./clientAssertion.js"
import * as endpointPost from "./endpointPost.js"
import * as wire from "./wire.js"

/** @internal */
export interface PushOptions {
  readonly endpoint: Endpoint.Endpoint
  readonly credentials: Endpoint.Credentials
  /** The PAR endpoint (already validated). */
  readonly url: string
  /** The authorization request's parameters (`client_id` among them). */
  readonly params: ReadonlyArray<readonly [string, string]>
  /** The secrets among the parameters (the state), scrubbed from any server text. */
  readonly secrets: ReadonlyArray<string>
}

/** @internal */
export interface Pushed {
  /** The `request_uri` the authorization URL carries. */
  readonly requestUri: string
  /** The `expires_in` of the answer, in seconds. */
  readonly expiresInSeconds: number
  /** When the request was sent (`Clock` milliseconds): the request URI's life counts from there. */
  readonly sentAt: number
}

/** The longest `request_uri` accepted: it goes into a URL the browser opens. @internal */
export const REQUEST_URI_MAX = 2048

/** A `request_uri` must be a URI: visible ASCII, no space, with a scheme (RFC 9126 §2.2, RFC 3986 §3). */
const REQUEST_URI = /^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+$/

/**
 * Pushes one authorization request (RFC 9126 §2.1) and reads the answer (§2.2, §2.3).
 *
 * - 201 (or 200) with a JSON object carrying a `request_uri` (a URI of at most {@link REQUEST_URI_MAX} characters)
 *   and a positive `expires_in` (a number or a numeric string) is the success.
 * - Any other answer goes through `wire.toError`: 400 `invalid_request` is a `ProtocolError`, 401 `invalid_client` an
 *   `Unauthorized` (with what to check for a JWT client assertion), 5xx a retryable `ProtocolError`, a redirect or a
 *   body that is not JSON a `MalformedResponse`; a 2xx without a usable `request_uri` or `expires_in` is a
 *   `MalformedResponse` that quotes neither.
 *
 * @internal
 */
export const push = (options: PushOptions): Effect.Effect<Pushed, OAuth2Error, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const { credentials, endpoint, url } = options
    const provider = endpoint.provider
    // RFC 9126 §2: the server accepts its issuer, its token endpoint or its PAR endpoint as the audience.
    const auth = yield* endpointPost.clientAuth(endpoint, credentials)
    const jwtAuth = auth._tag === "PrivateKeyJwt" || auth._tag === "ClientSecretJwt" ? auth : undefined
    const parts = yield* ClientAuth.requestParts(auth)
    // The authorization request names the client already: the authentication's own `client_id` is not sent twice.
    const authParams = parts.params.filter(([name]) => name !== "client_id")
    const secrets = [
      ...options.secrets,
      ...(credentials.clientSecret === undefined ? [] : [Redacted.value(credentials.clientSecret)]),
      ...Object.values(parts.headers).map((value) => value.replace(/^Basic /, "")),
      ...authParams.filter(([name]) => name === "client_assertion").map(([, value]) => value)
    ]
    const ctx: wire.Context = { provider, source: "par-endpoint", requestedScopes: [], secrets }
    const followed = (hop: HttpClientRequest.HttpClientRequest) =>
      new InvalidConfiguration({
        provider,
        source: "configuration",
        description: `the HttpClient follows redirects (HttpClient.followRedirects): the ${provider} PAR endpoint ` +
          `redirected to ${endpointPost.endpointOf(hop.url)}, and the client credentials are never sent after a redirect ` +
          "(RFC 9700); that request was not sent. Give the login a client that does not follow redirects, and check " +
          "the PAR endpoint URL."
      })
    const client = HttpClient.withScope(yield* HttpClient.HttpClient)
    const request = HttpClientRequest.post(url).pipe(
      HttpClientRequest.setHeaders(endpoint.headers),
      HttpClientRequest.setHeaders(parts.headers),
      HttpClientRequest.acceptJson,
      HttpClientRequest.bodyUrlParams([...options.params, ...authParams])
    )
    const { answer, sentAt } = yield* endpointPost.post({ client, request, url, endpoint, ctx, followed })
    const body = answer.body
    if (answer.status < 200 || answer.status >= 300 || body === undefined || body.error !== undefined) {
      const error = wire.toError(answer, ctx, yield* Clock.currentTimeMillis)
      return yield* Effect.fail(
        jwtAuth === undefined ? error : clientAssertion.withHint(error, ClientAuth.assertionRejectedHint(jwtAuth))
      )
    }
    const malformed = (reason: string) =>
      new MalformedResponse({
        provider,
        source: "par-endpoint",
        status: answer.status,
        contentType: answer.contentType,
        reason
      })
    const requestUri = body.request_uri
    if (typeof requestUri !== "string" || requestUri === "") {
      return yield* malformed(
        requestUri === undefined
          ? "the answer has no request_uri (RFC 9126 §2.2)"
          : "request_uri is not a non-empty string (RFC 9126 §2.2)"
      )
    }
    if (requestUri.length > REQUEST_URI_MAX || !REQUEST_URI.test(requestUri)) {
      return yield* malformed(
        `request_uri is not a URI of at most ${REQUEST_URI_MAX} visible ASCII characters (RFC 9126 §2.2); it is not used`
      )
    }
    const rawExpires = body.expires_in
    const seconds = typeof rawExpires === "number"
      ? rawExpires
      : typeof rawExpires === "string" && /^\s*\d+(\.\d+)?\s*$/.test(rawExpires)
      ? Number(rawExpires)
      : undefined
    if (seconds === undefined || !Number.isFinite(seconds) || seconds <= 0) {
      return yield* malformed(
        rawExpires === undefined
          ? "the answer has no expires_in, which RFC 9126 §2.2 requires"
          : "expires_in is not a positive number of seconds (RFC 9126 §2.2)"
      )
    }
    return { requestUri, expiresInSeconds: seconds, sentAt }
  })
