/**
 * A small typed client of the TradeStation API: `GET /brokerage/accounts`, the accounts the login may use, the natural
 * credential self-test. Failures are core's errors (`Unauthorized` `rejected-token` after one replay, `InvalidScope`
 * for a 403 such as a token without `ReadAccount`, `RateLimited`, `TransportError`, `MalformedResponse` for an answer
 * of another shape).
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
 * One account, as `brokerage/accounts` lists it: `AccountID` required, the currency, status and type read when
 * present, every other member (`AccountDetail`...) kept.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Account = Schema.Struct(
  {
    AccountID: Schema.String,
    Currency: Schema.optional(Schema.String),
    Status: Schema.optional(Schema.String),
    AccountType: Schema.optional(Schema.String)
  },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

/**
 * @since 0.1.0
 * @category models
 */
export type Account = typeof Account.Type

/**
 * TradeStation's answer: `{ "Accounts": [...] }`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AccountsResponse = Schema.Struct({ Accounts: Schema.Array(Account) })

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** `GET /brokerage/accounts`: the accounts of the login. Succeeds only when the API accepts the token. */
  readonly accounts: Effect.Effect<ReadonlyArray<Account>, OAuth2Error.OAuth2Error>
}

/**
 * The typed API client.
 *
 * @since 0.1.0
 * @category tags
 */
export class Brokerage extends Context.Tag("@effect-oauth2/tradestation/Brokerage")<Brokerage, Service>() {}

/**
 * A client over an authorised client based at the API (`TradeStation.HttpClient`, `{api}/v3`); `scopes` are named by
 * an `InvalidScope` for a 403.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromHttpClient = (
  client: OAuth2HttpClient.Authorized,
  options: { readonly scopes?: ReadonlyArray<string> | undefined } = {}
): Service => {
  const ctx: ApiResponse.Context = {
    provider: "tradestation",
    request: "GET /brokerage/accounts",
    scopes: options.scopes ?? []
  }
  return Brokerage.of({
    accounts: ApiResponse.json(client, HttpClientRequest.get("/brokerage/accounts").pipe(HttpClientRequest.acceptJson), ctx)
      .pipe(
        Effect.flatMap(ApiResponse.decode(AccountsResponse, ctx)),
        Effect.map((response) => response.Accounts),
        Effect.withSpan("TradeStation.Brokerage.accounts", {
          kind: "client",
          attributes: { "oauth2.provider": "tradestation" }
        })
      )
  })
}

/**
 * `GET /brokerage/accounts` with the `Brokerage` from the context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const accounts: Effect.Effect<ReadonlyArray<Account>, OAuth2Error.OAuth2Error, Brokerage> = Effect.flatMap(
  Brokerage,
  (b) => b.accounts
)

/**
 * The credential self-test (`effect-oauth2 whoami tradestation`): `GET /brokerage/accounts`, reporting the accounts.
 *
 * @since 0.2.0
 * @category self-test
 */
export const selfTest: OAuth2Provider.SelfTest = {
  describe: "GET /brokerage/accounts",
  run: ({ apis, environment, scopes }) =>
    Effect.map(fromHttpClient(apis.api!, { scopes }).accounts, (accounts): OAuth2Provider.Report => ({
      text: `tradestation (${environment}): ${accounts.length} account(s)${
        accounts.length === 0 ? "" : `: ${accounts.map((a) => a.AccountID).join(", ")}`
      }`,
      json: {
        provider: "tradestation",
        environment,
        accounts: accounts.map((a) => ({ id: a.AccountID, type: a.AccountType ?? null, status: a.Status ?? null }))
      }
    }))
}
