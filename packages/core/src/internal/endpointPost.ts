/**
 * One authenticated POST to an authorization server's endpoint (the token, revocation, introspection and PAR
 * endpoints) and the reading of its answer: no redirect followed (not by `fetch`, nor by a client that follows them
 * itself: a hop anywhere but the endpoint is not sent), headers that could echo a credential redacted, the body read
 * within the endpoint's size limit and parsed leniently, the whole bounded by the endpoint's request timeout.
 *
 * @internal
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as ClientAuth from "../ClientAuth.js"
import type * as Endpoint from "../Endpoint.js"
import { type InvalidConfiguration, isOAuth2Error, type OAuth2Error, TransportError } from "../OAuth2Error.js"
import { guardedExit } from "./hopGuard.js"
import { CODE_MAX, sanitize } from "./sanitize.js"
import * as wire from "./wire.js"

/** `origin/path` of a URL (no query, no fragment), or the URL as it is when it does not parse. @internal */
export const endpointOf = (url: string): string => {
  try {
    const parsed = new URL(url)
    return `${parsed.origin}${parsed.pathname}`
  } catch {
    return url.split(/[?#]/)[0]!
  }
}

/** Whether two URLs name the same endpoint (`origin/path`). @internal */
export const sameEndpoint = (a: string, b: string): boolean => endpointOf(a) === endpointOf(b)

/**
 * The client authentication an endpoint's requests carry (its `authMethod`); a JWT assertion's audience defaults to
 * the issuer, else the token endpoint (RFC 7523 §3, RFC 9126 §2). @internal
 */
export const clientAuth = (endpoint: Endpoint.Endpoint, credentials: Endpoint.Credentials) =>
  ClientAuth.make({
    method: endpoint.authMethod,
    clientId: credentials.clientId,
    clientSecret: credentials.clientSecret,
    privateKey: credentials.privateKey,
    basicEncoding: endpoint.basicEncoding,
    assertion: credentials.assertion,
    defaultAudience: endpoint.issuer ?? endpoint.tokenUrl,
    provider: endpoint.provider
  })

/** @internal */
export interface PostOptions {
  /** A client scoped to the exchange, so that closing it aborts a body that was not (fully) read. */
  readonly client: HttpClient.HttpClient.With<HttpClientError.HttpClientError, Scope.Scope>
  /** The POST, with its headers and body. */
  readonly request: HttpClientRequest.HttpClientRequest
  /** The endpoint's URL: the only place the request may go. */
  readonly url: string
  /** Its limits: `maxResponseBytes`, `requestTimeout`; and its `provider`. */
  readonly endpoint: Endpoint.Endpoint
  readonly ctx: wire.Context
  /** The error for a redirect (the hop is never sent). */
  readonly followed: (hop: HttpClientRequest.HttpClientRequest) => InvalidConfiguration
}

/**
 * Sends the request and reads the answer: its status, sanitised content type, headers, parsed body, and (for a
 * status from 300 up) its text. `sentAt` is when the request was sent (`Clock` milliseconds). @internal
 */
export const post = (
  options: PostOptions
): Effect.Effect<{ readonly answer: wire.Answer; readonly sentAt: number }, OAuth2Error> => {
  const { client, ctx, endpoint, followed, request, url } = options
  const exchange = Effect.gen(function*() {
    // Keep the RequestInit the user gave FetchHttpClient (dispatcher, proxy...), but never follow a redirect.
    const init = yield* Effect.serviceOption(FetchHttpClient.RequestInit)
    const sentAt = yield* Clock.currentTimeMillis
    const response = yield* client.execute(request).pipe(
      Effect.mapError((error) => isOAuth2Error(error) ? error : wire.fromRequestError(error, ctx)),
      Effect.provideService(FetchHttpClient.RequestInit, { ...Option.getOrUndefined(init), redirect: "manual" })
    )
    if (!sameEndpoint(response.request.url, url)) return yield* followed(response.request)
    const text = yield* wire.readBody(response, endpoint.maxResponseBytes, ctx)
    const contentType = response.headers["content-type"]
    const parsed = wire.parseBody(text, contentType)
    const answer: wire.Answer = {
      status: response.status,
      contentType: contentType === undefined ? undefined : sanitize(contentType, CODE_MAX),
      headers: response.headers,
      body: parsed.body,
      parseFailure: parsed.parseFailure,
      text: response.status < 300 ? undefined : text
    }
    return { answer, sentAt }
  }).pipe(Effect.scoped)
  // The exchange runs in a fiber of its own bounded by the request timeout (see `deadline.ts`), which holds from its
  // start the hop check (a client that follows redirects itself may not take the credentials along: a hop anywhere but
  // the endpoint is not sent) and the names of the headers that could echo a credential (redacted in its spans).
  return Effect.flatten(guardedExit(exchange, {
    allow: (hop) => sameEndpoint(hop.url, url),
    refuse: followed,
    redact: wire.addEchoingHeaders,
    timeout: endpoint.requestTimeout,
    onTimeout: () =>
      new TransportError({
        provider: endpoint.provider,
        source: ctx.source,
        reason: "Timeout",
        request: `POST ${url}`,
        description: `no complete answer within ${Duration.format(endpoint.requestTimeout)}`
      })
  }))
}
