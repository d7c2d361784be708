/**
 * A small typed client of the tastytrade API: `GET /customers/me`, who the grant belongs to, the natural credential
 * self-test. Failures are core's errors (`Unauthorized` `rejected-token` after one replay, `RateLimited`,
 * `TransportError`, `MalformedResponse` for an answer of another shape).
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
 * The customer, as `customers/me` answers in `data`: `id` required, the names and email read when present, every
 * other member kept.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Me = Schema.Struct(
  {
    id: Schema.String,
    firstName: Schema.optional(Schema.String).pipe(Schema.fromKey("first-name")),
    lastName: Schema.optional(Schema.String).pipe(Schema.fromKey("last-name")),
    email: Schema.optional(Schema.String)
  },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

/**
 * @since 0.1.0
 * @category models
 */
export type Me = typeof Me.Type

/**
 * tastytrade's envelope: `{ "data": ..., "context": "/customers/me" }`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const MeResponse = Schema.Struct({ data: Me })

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** `GET /customers/me`: who the grant belongs to. Succeeds only when the API accepts the token. */
  readonly me: Effect.Effect<Me, OAuth2Error.OAuth2Error>
}

/**
 * The typed API client.
 *
 * @since 0.1.0
 * @category tags
 */
export class Customer extends Context.Tag("@effect-oauth2/tastytrade/Customer")<Customer, Service>() {}

/**
 * A client over an authorised client based at the API host (`Tastytrade.HttpClient`); `scopes` are named by an
 * `InvalidScope` for a 403.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromHttpClient = (
  client: OAuth2HttpClient.Authorized,
  options: { readonly scopes?: ReadonlyArray<string> | undefined } = {}
): Service => {
  const ctx: ApiResponse.Context = { provider: "tastytrade", request: "GET /customers/me", scopes: options.scopes ?? [] }
  return Customer.of({
    me: ApiResponse.json(client, HttpClientRequest.get("/customers/me").pipe(HttpClientRequest.acceptJson), ctx).pipe(
      Effect.flatMap(ApiResponse.decode(MeResponse, ctx)),
      Effect.map((response) => response.data),
      Effect.withSpan("Tastytrade.Customer.me", { kind: "client", attributes: { "oauth2.provider": "tastytrade" } })
    )
  })
}

/**
 * `GET /customers/me` with the `Customer` from the context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const me: Effect.Effect<Me, OAuth2Error.OAuth2Error, Customer> = Effect.flatMap(Customer, (c) => c.me)

/**
 * The credential self-test (`effect-oauth2 whoami tastytrade`): `GET /customers/me`, reported as the customer's id
 * and name.
 *
 * @since 0.2.0
 * @category self-test
 */
export const selfTest: OAuth2Provider.SelfTest = {
  describe: "GET /customers/me",
  run: ({ apis, environment, scopes }) =>
    Effect.map(fromHttpClient(apis.api!, { scopes }).me, (me): OAuth2Provider.Report => {
      const name = [me.firstName, me.lastName].filter((part) => part !== undefined).join(" ")
      return {
        text: `tastytrade (${environment}): customer ${me.id}${name === "" ? "" : ` (${name})`}`,
        json: { provider: "tastytrade", environment, id: me.id, name: name === "" ? null : name }
      }
    })
}
