/**
 * A small typed client of the Schwab Trader API: `GET /trader/v1/accounts/accountNumbers`, the accounts the login
 * reaches (each number with the `hashValue` the other account calls take), the natural credential self-test. Failures
 * are core's errors (`Unauthorized` `rejected-token` after one replay, `RateLimited`, `TransportError`,
 * `MalformedResponse` for an answer of another shape).
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
 * One account: its number, and the encrypted id (`hashValue`) Schwab's account calls take in place of it. Other
 * members are kept.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AccountNumber = Schema.Struct(
  { accountNumber: Schema.String, hashValue: Schema.String },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

/**
 * @since 0.1.0
 * @category models
 */
export type AccountNumber = typeof AccountNumber.Type

/**
 * The answer of `accounts/accountNumbers`: an array.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AccountNumbers = Schema.Array(AccountNumber)

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** `GET /trader/v1/accounts/accountNumbers`. Succeeds only when the API accepts the token. */
  readonly accountNumbers: Effect.Effect<ReadonlyArray<AccountNumber>, OAuth2Error.OAuth2Error>
}

/**
 * The typed API client.
 *
 * @since 0.1.0
 * @category tags
 */
export class Accounts extends Context.Tag("@effect-oauth2/schwab/Accounts")<Accounts, Service>() {}

/**
 * A client over an authorised client based at the API host (`Schwab.HttpClient`); `scopes` are named by an
 * `InvalidScope` for a 403.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromHttpClient = (
  client: OAuth2HttpClient.Authorized,
  options: { readonly scopes?: ReadonlyArray<string> | undefined } = {}
): Service => {
  const ctx: ApiResponse.Context = {
    provider: "schwab",
    request: "GET /trader/v1/accounts/accountNumbers",
    scopes: options.scopes ?? []
  }
  return Accounts.of({
    accountNumbers: ApiResponse.json(
      client,
      HttpClientRequest.get("/trader/v1/accounts/accountNumbers").pipe(HttpClientRequest.acceptJson),
      ctx
    ).pipe(
      Effect.flatMap(ApiResponse.decode(AccountNumbers, ctx)),
      Effect.withSpan("Schwab.Accounts.accountNumbers", { kind: "client", attributes: { "oauth2.provider": "schwab" } })
    )
  })
}

/**
 * `GET /trader/v1/accounts/accountNumbers` with the `Accounts` from the context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const accountNumbers: Effect.Effect<ReadonlyArray<AccountNumber>, OAuth2Error.OAuth2Error, Accounts> = Effect
  .flatMap(Accounts, (a) => a.accountNumbers)

/**
 * The credential self-test (`effect-oauth2 whoami schwab`): `GET /trader/v1/accounts/accountNumbers`, reporting the
 * account numbers.
 *
 * @since 0.2.0
 * @category self-test
 */
export const selfTest: OAuth2Provider.SelfTest = {
  describe: "GET /trader/v1/accounts/accountNumbers",
  run: ({ apis, environment, scopes }) =>
    Effect.map(fromHttpClient(apis.api!, { scopes }).accountNumbers, (accounts): OAuth2Provider.Report => ({
      text: `schwab (${environment}): ${accounts.length} account(s)${
        accounts.length === 0 ? "" : `: ${accounts.map((a) => a.accountNumber).join(", ")}`
      }`,
      json: { provider: "schwab", environment, accounts: accounts.map((a) => a.accountNumber) }
    }))
}
