/**
 * The authorised Openmarkets client: core's `withAccessToken` over the plain client, with the base URL applied outside
 * it (relative URLs only), the token sent to the API origin only, and a 401 that survives the replay turned into an
 * `Unauthorized` that names the environments involved. Without an API URL, a client that refuses every request.
 *
 * @internal
 */
import type * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as OAuth2HttpClient from "@effect-oauth2/core/OAuth2HttpClient"
import { resolveUrl } from "@effect-oauth2/core/ProviderConfig"
import { InvalidConfiguration, type OAuth2Error, Unauthorized } from "@effect-oauth2/core/OAuth2Error"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as Effect from "effect/Effect"
import { provider } from "../OpenmarketsEndpoint.js"

/** @internal */
export type Authorised = HttpClient.HttpClient.With<HttpClientError.HttpClientError | OAuth2Error>

/** @internal */
export const make = (options: {
  readonly client: HttpClient.HttpClient
  readonly tokens: AccessTokens.Service
  /** The API base URL, without a trailing slash. */
  readonly baseUrl: string
  /** What the `Unauthorized` of a 401 that a new token could not cure says. */
  readonly rejected: string
  /** The bounds of API calls. */
  readonly bounds: OAuth2HttpClient.ApiBounds
}): Authorised =>
  OAuth2HttpClient.withAccessToken(options.client, options.tokens, {
    allowedOrigins: [new URL(options.baseUrl).origin],
    ...OAuth2HttpClient.boundsOptions(options.bounds)
  }).pipe(
    HttpClient.transformResponse(Effect.mapError((error) =>
      error instanceof Unauthorized && error.reason === "rejected-token" && error.source === "resource-server"
        ? new Unauthorized({
          provider,
          source: "resource-server",
          reason: "rejected-token",
          status: error.status,
          description: options.rejected
        })
        : error
    )),
    HttpClient.mapRequest(resolveUrl(options.baseUrl))
  )

/** A client for when no API URL is configured: every request fails, and no token is sent anywhere. @internal */
export const unconfigured: Authorised = HttpClient.makeWith<never, never, OAuth2Error, never>(
  (request) =>
    Effect.flatMap(request, () =>
      Effect.fail(
        new InvalidConfiguration({
          provider,
          source: "configuration",
          description: "no Openmarkets API URL is configured, so the access token is sent nowhere: give apiUrl " +
            "(OPENMARKETS_API_URL), the base URL of the Openmarkets API your plan covers."
        })
      )),
  Effect.succeed
)
