/**
 * The wire side of discovery: where the metadata documents live (RFC 8414 §3.1, OpenID Connect Discovery §4), and
 * one bounded GET of a document through the plain client, with the token endpoint's rules: no redirects followed,
 * the body capped, a deadline on the whole exchange.
 *
 * @internal
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Discovery from "../Discovery.js"
import { type OAuth2Error, TransportError } from "../OAuth2Error.js"
import * as wire from "./wire.js"

/** The two well-known documents. @internal */
export type WellKnown = Exclude<Discovery.WellKnown, "auto">

/**
 * The URL of a well-known document for an issuer. RFC 8414 §3.1 puts the well-known segment between the host and
 * the issuer's path; OpenID Connect Discovery §4 appends it to the issuer (without its trailing slash). @internal
 */
export const wellKnownUrl = (issuer: string, document: WellKnown): string => {
  const url = new URL(issuer)
  const path = url.pathname.replace(/\/+$/, "")
  return document === "oauth-authorization-server"
    ? `${url.origin}/.well-known/oauth-authorization-server${path}`
    : `${url.origin}${path}/.well-known/openid-configuration`
}

/** One GET of a metadata document. @internal */
export const get = (
  client: HttpClient.HttpClient,
  url: string,
  options: {
    readonly provider: string
    readonly timeout: Duration.Duration
    readonly maxResponseBytes: number
    readonly headers: Readonly<Record<string, string>>
  }
): Effect.Effect<wire.Answer, OAuth2Error> => {
  const ctx: wire.Context = { provider: options.provider, source: "metadata-endpoint", requestedScopes: [] }
  return Effect.gen(function*() {
    const request = HttpClientRequest.get(url).pipe(
      HttpClientRequest.setHeaders(options.headers),
      HttpClientRequest.acceptJson
    )
    // Keep the RequestInit the user gave FetchHttpClient (dispatcher, proxy...), but never follow a redirect.
    const init = yield* Effect.serviceOption(FetchHttpClient.RequestInit)
    const response = yield* HttpClient.withScope(client).execute(request).pipe(
      wire.redactEchoingHeaders,
      Effect.mapError((error) => wire.fromRequestError(error, ctx)),
      Effect.provideService(FetchHttpClient.RequestInit, { ...Option.getOrUndefined(init), redirect: "manual" })
    )
    const text = yield* wire.readBody(response, options.maxResponseBytes, ctx)
    const contentType = response.headers["content-type"]
    const parsed = wire.parseBody(text, contentType)
    return {
      status: response.status,
      contentType,
      headers: response.headers,
      body: parsed.body,
      parseFailure: parsed.parseFailure
    } satisfies wire.Answer
  }).pipe(
    Effect.scoped,
    Effect.timeoutFail({
      duration: options.timeout,
      onTimeout: () =>
        new TransportError({
          provider: options.provider,
          source: "metadata-endpoint",
          reason: "Timeout",
          request: `GET ${url}`,
          description: `no complete answer within ${Duration.format(options.timeout)}`
        })
    })
  )
}
