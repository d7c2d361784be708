/**
 * A small typed client of the Saxo OpenAPI: `GET /port/v1/users/me`, the logged-in user, the natural credential
 * self-test. Failures are core's errors (`Unauthorized` `rejected-token` after one replay, `RateLimited` on Saxo's
 * 429, `TransportError`, `MalformedResponse` for an answer of another shape).
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

/**
 * The user, as `port/v1/users/me` answers: `UserKey` and `ClientKey` required (every other OpenAPI call names them),
 * `UserId`, `Name`, `Culture`, `Language` read when present, every other member kept.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Me = Schema.Struct(
  {
    UserKey: Schema.String,
    ClientKey: Schema.String,
    UserId: Schema.optional(Schema.String),
    Name: Schema.optional(Schema.String),
    Culture: Schema.optional(Schema.String),
    Language: Schema.optional(Schema.String)
  },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

/**
 * @since 0.1.0
 * @category models
 */
export type Me = typeof Me.Type

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** `GET /port/v1/users/me`: the logged-in user. Succeeds only when the OpenAPI accepts the token. */
  readonly me: Effect.Effect<Me, OAuth2Error.OAuth2Error>
}

/**
 * The typed API client.
 *
 * @since 0.1.0
 * @category tags
 */
export class Users extends Context.Tag("@effect-oauth2/saxo/Users")<Users, Service>() {}

/**
 * A client over an authorised client based at the OpenAPI (`Saxo.HttpClient`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromHttpClient = (client: OAuth2HttpClient.Authorized): Service => {
  const ctx: ApiResponse.Context = { provider: "saxo", request: "GET /port/v1/users/me", scopes: [] }
  return Users.of({
    me: ApiResponse.json(client, HttpClientRequest.get("/port/v1/users/me").pipe(HttpClientRequest.acceptJson), ctx).pipe(
      Effect.flatMap(ApiResponse.decode(Me, ctx)),
      Effect.withSpan("Saxo.Users.me", { kind: "client", attributes: { "oauth2.provider": "saxo" } })
    )
  })
}

/**
 * `GET /port/v1/users/me` with the `Users` from the context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const me: Effect.Effect<Me, OAuth2Error.OAuth2Error, Users> = Effect.flatMap(Users, (users) => users.me)

/**
 * The credential self-test (`effect-oauth2 whoami saxo`): `GET /port/v1/users/me`, reporting the user.
 *
 * @since 0.2.0
 * @category self-test
 */
export const selfTest: OAuth2Provider.SelfTest = {
  describe: "GET /port/v1/users/me",
  run: ({ apis, environment }) =>
    Effect.map(fromHttpClient(apis.openapi!).me, (me): OAuth2Provider.Report => ({
      text: `saxo (${environment}): user ${me.UserId ?? me.UserKey}${me.Name === undefined ? "" : ` (${me.Name})`}`,
      json: { provider: "saxo", environment, userId: me.UserId ?? null, clientKey: me.ClientKey, name: me.Name ?? null }
    }))
}
