/**
 * The authorised Tradier client: core's `withAccessToken` over the plain client, with the base URL applied outside it
 * (relative URLs only), `Accept: application/json` on every request that names no other type, and a 401 that
 * survives the replay turned into an `Unauthorized` that says what to check for Tradier.
 *
 * @internal
 */
import type * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as OAuth2HttpClient from "@effect-oauth2/core/OAuth2HttpClient"
import { resolveUrl } from "@effect-oauth2/core/ProviderConfig"
import { type OAuth2Error, Unauthorized } from "@effect-oauth2/core/OAuth2Error"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"

/** @internal */
export type Authorised = HttpClient.HttpClient.With<HttpClientError.HttpClientError | OAuth2Error>

/** Tradier answers XML unless asked for JSON: ask for JSON unless the caller named a type. @internal */
export const acceptJson = (request: HttpClientRequest.HttpClientRequest) =>
  request.headers["accept"] === undefined ? HttpClientRequest.acceptJson(request) : request

/** @internal */
export interface Options {
  readonly client: HttpClient.HttpClient
  readonly tokens: AccessTokens.Service
  /** The API base URL, without a trailing slash. */
  readonly baseUrl: string
  /** Replay once with a new token after a 401 (OAuth mode), or fail at once (static token). */
  readonly replay: boolean
  /** What the `Unauthorized` of a 401 that could not be cured says. */
  readonly rejected: string
  /** The bounds of API calls. */
  readonly bounds: OAuth2HttpClient.ApiBounds
}

/** @internal */
export const make = (options: Options): Authorised => {
  const origin = new URL(options.baseUrl).origin
  const rejected = (status: number | undefined) =>
    new Unauthorized({
      provider: options.tokens.provider,
      source: "resource-server",
      reason: "rejected-token",
      status,
      hint: options.rejected
    })
  return OAuth2HttpClient.withAccessToken(options.client, options.tokens, {
    allowedOrigins: [origin],
    replayOnUnauthorized: options.replay,
    ...OAuth2HttpClient.boundsOptions(options.bounds)
  }).pipe(
    HttpClient.transformResponse((effect) =>
      effect.pipe(
        Effect.flatMap((response) =>
          response.status === 401
            ? Effect.zipRight(Effect.ignore(response.arrayBuffer), Effect.fail(rejected(401)))
            : Effect.succeed(response)
        ),
        Effect.mapError((error) =>
          error instanceof Unauthorized && error.reason === "rejected-token" && error.source === "resource-server"
            ? rejected(error.status)
            : error
        )
      )
    ),
    HttpClient.mapRequest(resolveUrl(options.baseUrl)),
    HttpClient.mapRequest(acceptJson)
  )
}
