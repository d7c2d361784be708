/**
 * A small typed client of the low-latency trading host (`POST {trade}/api/v1/{operation}`): `whoAmI`, the natural
 * credential self-test, `listAccounts`, and `call` for any other JSON operation.
 *
 * Every failure is an error of core's family: the middleware's (`Unauthorized` `rejected-token` after one replay,
 * `InvalidScope` for 403 `insufficient_scope`), and, for what it lets through, 429 → `RateLimited` (with
 * `Retry-After`), 401 → `Unauthorized`, 403 → `InvalidScope` or `ProtocolError`, 5xx → retryable `ProtocolError`,
 * network failures → `TransportError`, an answer of the wrong shape → `MalformedResponse`.
 *
 * @since 0.1.0
 */
import * as ApiResponse from "@effect-oauth2/core/ApiResponse"
import type * as OAuth2Error from "@effect-oauth2/core/OAuth2Error"
import { InvalidConfiguration } from "@effect-oauth2/core/OAuth2Error"
import type * as OAuth2HttpClient from "@effect-oauth2/core/OAuth2HttpClient"
import type * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

const provider = "figure-markets"

/**
 * The caller, as `get_who_am_i` names it: `firms/{firmId}/users/{userId}`.
 *
 * @since 0.1.0
 * @category models
 */
export class WhoAmI extends Schema.Class<WhoAmI>("@effect-oauth2/figure-markets/WhoAmI")({
  /** The caller's resource name, e.g. `firms/{firmId}/users/{userId}`. */
  user: Schema.String
}) {
  /** The firm id, when `user` has the documented shape. */
  get firmId(): string | undefined {
    return /^firms\/([^/]+)\/users\/[^/]+$/.exec(this.user)?.[1]
  }
  /** The user id, when `user` has the documented shape. */
  get userId(): string | undefined {
    return /^firms\/[^/]+\/users\/([^/]+)$/.exec(this.user)?.[1]
  }
}

/**
 * An account, decoded leniently: only `id` is required; `name`, `type` and `currency` are read when they are strings;
 * every other member is kept as is.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Account = Schema.Struct(
  {
    id: Schema.String,
    name: Schema.optional(Schema.String),
    type: Schema.optional(Schema.String),
    currency: Schema.optional(Schema.String)
  },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

/**
 * @since 0.1.0
 * @category models
 */
export type Account = typeof Account.Type

/**
 * The answer of `list_accounts`: `{ "accounts": [...] }` (a missing list is empty), or a bare array.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ListAccountsResponse = Schema.Union(
  Schema.Struct({ accounts: Schema.optionalWith(Schema.Array(Account), { default: () => [] }) }),
  Schema.Array(Account)
)

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** `POST get_who_am_i` (no body): who the credentials belong to. Succeeds only when the token is accepted. */
  readonly whoAmI: Effect.Effect<WhoAmI, OAuth2Error.OAuth2Error>
  /** `POST list_accounts`: the caller's accounts. */
  readonly listAccounts: Effect.Effect<ReadonlyArray<Account>, OAuth2Error.OAuth2Error>
  /**
   * `POST {operation}` with an optional JSON body; the parsed JSON answer. `operation` is a name like `place_order`
   * (lower case, digits and `_`); anything else is `InvalidConfiguration`, so no call can leave `/api/v1`.
   */
  readonly call: (operation: string, body?: unknown) => Effect.Effect<unknown, OAuth2Error.OAuth2Error>
}

/**
 * The typed trading-host client.
 *
 * @since 0.1.0
 * @category tags
 */
export class Trader extends Context.Tag("@effect-oauth2/figure-markets/Trader")<Trader, Service>() {}

/**
 * The options of {@link fromHttpClient}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The scopes the token was asked with, named by an `InvalidScope` for a 403 the middleware did not map. Default: none. */
  readonly scopes?: ReadonlyArray<string> | undefined
}

/**
 * A trading-host client over an authorised client based at `{tradeUrl}/api/v1` (`FigureMarkets.TradeHttpClient`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromHttpClient = (client: OAuth2HttpClient.Authorized, options: Options = {}): Service => {
  const scopes = options.scopes ?? []
  const context = (operation: string): ApiResponse.Context => ({
    provider,
    request: `POST ${operation}`,
    scopes,
    forbiddenHint: "Trader API access is granted per account"
  })

  const call = (operation: string, body?: unknown): Effect.Effect<unknown, OAuth2Error.OAuth2Error> => {
    if (!/^[a-z][a-z0-9_]*$/.test(operation)) {
      return Effect.fail(
        new InvalidConfiguration({
          provider,
          source: "configuration",
          description: "a trading-host operation is a name like get_who_am_i (lower case letters, digits and _)."
        })
      )
    }
    const request = HttpClientRequest.post(`/${operation}`).pipe(
      HttpClientRequest.acceptJson,
      body === undefined ? (r) => r : HttpClientRequest.bodyUnsafeJson(body)
    )
    return ApiResponse.json(client, request, context(operation)).pipe(
      Effect.withSpan(`FigureMarkets.Trader.${operation}`, { kind: "client", attributes: { "oauth2.provider": provider } })
    )
  }

  return Trader.of({
    whoAmI: Effect.flatMap(call("get_who_am_i"), ApiResponse.decode(WhoAmI, context("get_who_am_i"))),
    listAccounts: Effect.flatMap(call("list_accounts", {}), ApiResponse.decode(ListAccountsResponse, context("list_accounts"))).pipe(
      Effect.map((response) => ("accounts" in response ? response.accounts : response))
    ),
    call
  })
}

/**
 * `get_who_am_i` with the `Trader` from the context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const whoAmI: Effect.Effect<WhoAmI, OAuth2Error.OAuth2Error, Trader> = Effect.flatMap(Trader, (t) => t.whoAmI)

/**
 * `list_accounts` with the `Trader` from the context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const listAccounts: Effect.Effect<ReadonlyArray<Account>, OAuth2Error.OAuth2Error, Trader> = Effect.flatMap(
  Trader,
  (t) => t.listAccounts
)

/**
 * Any JSON operation with the `Trader` from the context.
 *
 * @since 0.1.0
 * @category accessors
 */
export const call = (operation: string, body?: unknown): Effect.Effect<unknown, OAuth2Error.OAuth2Error, Trader> =>
  Effect.flatMap(Trader, (t) => t.call(operation, body))

/**
 * The credential self-test (`effect-oauth2 whoami figure-markets`): `get_who_am_i` on the `trade` API, reported as
 * the firm and the user.
 *
 * @since 0.2.0
 * @category self-test
 */
export const selfTest: OAuth2Provider.SelfTest = {
  describe: "get_who_am_i (firm and user)",
  run: ({ apis, environment, scopes }) =>
    Effect.map(fromHttpClient(apis.trade!, { scopes }).whoAmI, (me): OAuth2Provider.Report => ({
      text: `figure-markets (${environment}): ${
        me.firmId !== undefined && me.userId !== undefined ? `firm ${me.firmId}, user ${me.userId} (${me.user})` : me.user
      }`,
      json: { provider, environment, user: me.user, firmId: me.firmId ?? null, userId: me.userId ?? null }
    }))
}
