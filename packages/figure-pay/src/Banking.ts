/**
 * A small typed client of the Figure Pay Banking API: `listProfiles` (`GET /profiles`), the credential self-test.
 *
 * Every failure is an error of core's family: the middleware's (`Unauthorized` `rejected-token` after one replay),
 * the `HttpClient`'s (410 → `ProtocolError` for a removed API version), and, for what they let through, 429 →
 * `RateLimited` (with `Retry-After`), 403 → `ProtocolError`, 5xx → retryable `ProtocolError`, network failures →
 * `TransportError`, an answer of the wrong shape → `MalformedResponse`.
 *
 * @since 0.1.0
 */
import * as ApiResponse from "@effect-oauth2/core/ApiResponse"
import type * as OAuth2Error from "@effect-oauth2/core/OAuth2Error"
import type * as OAuth2HttpClient from "@effect-oauth2/core/OAuth2HttpClient"
import type * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

const provider = "figure-pay"

/**
 * A profile, decoded leniently: only `id` is required; `type` and `status` are read when they are strings; every
 * other member (names and other personal data) is kept as is. Do not log profiles.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Profile = Schema.Struct(
  {
    id: Schema.String,
    type: Schema.optional(Schema.String),
    status: Schema.optional(Schema.String)
  },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

/**
 * @since 0.1.0
 * @category models
 */
export type Profile = typeof Profile.Type

/**
 * The answer of `GET /profiles`: `{ "data": [...] }` (a missing list is empty), or a bare array.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ListProfilesResponse = Schema.Union(
  Schema.Struct({ data: Schema.optionalWith(Schema.Array(Profile), { default: () => [] }) }),
  Schema.Array(Profile)
)

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** `GET /profiles`: the program's profiles. Succeeds only when the token is accepted. */
  readonly listProfiles: Effect.Effect<ReadonlyArray<Profile>, OAuth2Error.OAuth2Error>
}

/**
 * The typed Banking API client.
 *
 * @since 0.1.0
 * @category tags
 */
export class Banking extends Context.Tag("@effect-oauth2/figure-pay/Banking")<Banking, Service>() {}

/**
 * A Banking API client over an authorised client based at the API host (`FigurePay.HttpClient`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromHttpClient = (client: OAuth2HttpClient.Authorized): Service => {
  const ctx: ApiResponse.Context = { provider, request: "GET /profiles", scopes: [] }
  const listProfiles = ApiResponse.json(client, HttpClientRequest.get("/profiles").pipe(HttpClientRequest.acceptJson), ctx)
    .pipe(
      Effect.flatMap(ApiResponse.decode(ListProfilesResponse, ctx)),
      Effect.map((response) => ("data" in response ? response.data : response)),
      Effect.withSpan("FigurePay.Banking.listProfiles", { kind: "client", attributes: { "oauth2.provider": provider } })
    )
  return Banking.of({ listProfiles })
}

/**
 * `GET /profiles` with the `Banking` client from the context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const listProfiles: Effect.Effect<ReadonlyArray<Profile>, OAuth2Error.OAuth2Error, Banking> = Effect.flatMap(
  Banking,
  (b) => b.listProfiles
)

/**
 * The credential self-test (`effect-oauth2 whoami figure-pay`): `GET /profiles`, reported as the profiles' ids (and,
 * in JSON, their type and status; nothing else of a profile).
 *
 * @since 0.2.0
 * @category self-test
 */
export const selfTest: OAuth2Provider.SelfTest = {
  describe: "GET /profiles",
  run: ({ apis, environment }) =>
    Effect.map(fromHttpClient(apis.api!).listProfiles, (profiles): OAuth2Provider.Report => ({
      text: `figure-pay (${environment}): credentials accepted; ${profiles.length} profile(s)${
        profiles.length === 0 ? "" : `: ${profiles.map((p) => p.id).join(", ")}`
      }`,
      json: {
        provider,
        environment,
        profiles: profiles.map((p) => ({ id: p.id, type: p.type ?? null, status: p.status ?? null }))
      }
    }))
}
