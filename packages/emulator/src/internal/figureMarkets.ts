import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Effect from "effect/Effect"
import type * as Clients from "../Clients.js"
import { type Env, prefixes } from "./context.js"
import {
  badCredentials,
  bearerChallenge,
  type BearerFailure,
  bearerToken,
  clientCredentialsRequest,
  empty,
  endpoint,
  invalidRequest,
  invalidScope,
  json,
  millis as millisOf,
  noStore,
  type OAuthFailure,
  readCredentials,
  readForm,
  seconds,
  secretEquals,
  splitScopes,
  uniq
} from "./http.js"
import { authorize, requireScope, type Route } from "./route.js"
import { randomToken } from "./state.js"

const realm = "figure-markets"

/** RFC 6749 §5.2 JSON with a description. @internal */
export const renderOAuth = (e: OAuthFailure) =>
  json(e.status, { error: e.error, error_description: e.description }, { ...noStore, ...e.headers })

const renderBearer = (e: BearerFailure) =>
  json(e.status, { error: e.error, error_description: e.description }, {
    "www-authenticate": bearerChallenge(e.error)
  })

/**
 * Trading-host operations and the scopes that allow them (any one of them).
 *
 * - `get_who_am_i`, `list_accounts`: `TRADER_READ` or `TRADER_TRADE`;
 * - `place_order` (an emulator addition, to have a call only `TRADER_TRADE` allows): `TRADER_TRADE`.
 *
 * @internal
 */
export const operations: Readonly<Record<string, ReadonlyArray<string>>> = {
  get_who_am_i: ["TRADER_READ", "TRADER_TRADE"],
  list_accounts: ["TRADER_READ", "TRADER_TRADE"],
  place_order: ["TRADER_TRADE"]
}

const findClient = (env: Env, id: string, secret: string): Clients.FigureMarketsClient | undefined =>
  env.registry.figureMarkets.find((c) => c.clientId === id && secretEquals(c.clientSecret, secret))

const lifetimeOf = (env: Env, client: Clients.FigureMarketsClient): number =>
  client.tokenLifetime === undefined ? env.settings.lifetimes.figureMarkets : millisOf(client.tokenLifetime)

/** @internal */
export const routes = (env: Env): ReadonlyArray<Route> => {
  const { state } = env

  const token = Effect.gen(function*() {
    const { client, form } = yield* clientCredentialsRequest("post", realm, (id, secret) =>
      findClient(env, id, secret))
    const scopes = uniq(splitScopes(form.get("scope")))
    if (scopes.length === 0) return yield* invalidRequest("scope is required")
    const refused = scopes.filter((s) => !client.scopes.includes(s))
    if (refused.length > 0) {
      return yield* invalidScope(`The client may not request ${refused.join(" ")}`)
    }
    const lifetime = lifetimeOf(env, client)
    const issued = yield* state.issue({
      kind: "access",
      provider: "figure-markets",
      clientId: client.clientId,
      scopes,
      lifetimeMillis: lifetime,
      bytes: 96
    })
    return json(200, {
      access_token: issued.token,
      scope: scopes.join(" "),
      token_type: "Bearer",
      expires_in: seconds(lifetime)
    }, noStore)
  })

  const revoke = Effect.gen(function*() {
    const form = yield* readForm
    const credentials = yield* readCredentials(form, "post", realm)
    const client = findClient(env, credentials.clientId, credentials.clientSecret)
    if (client === undefined) return yield* badCredentials(credentials, realm)
    const value = form.get("token")
    if (value === undefined || value === "") return yield* invalidRequest("token is required")
    // RFC 7009 §2.2: unknown tokens, and tokens of other clients, answer 200 as well (and are left alone).
    const lookup = yield* state.lookup(value, "figure-markets", "access")
    if (lookup._tag === "Valid" && lookup.record.clientId === client.clientId) {
      yield* state.revoke(value)
    }
    return empty(200, noStore)
  })

  const trade = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const operation = new URL(request.url, "http://x").pathname.split("/").pop() ?? ""
    const record = yield* authorize(state, "figure-markets", yield* bearerToken, [])
    const needs = Object.prototype.hasOwnProperty.call(operations, operation) ? operations[operation] : undefined
    if (needs === undefined) {
      return json(404, { error: "not_found", error_description: `Unknown operation ${operation}` })
    }
    yield* requireScope(record, needs)
    const client = env.registry.figureMarkets.find((c) => c.clientId === record.clientId)
    const firmId = client?.firmId ?? "demo-firm"
    const userId = client?.userId ?? record.clientId
    switch (operation) {
      case "get_who_am_i":
        return json(200, { user: `firms/${firmId}/users/${userId}` })
      case "list_accounts":
        return json(200, {
          accounts: [
            { id: `${firmId}-trading`, name: "Demo trading account", type: "TRADING", currency: "USD" },
            { id: `${firmId}-margin`, name: "Demo margin account", type: "MARGIN", currency: "USD" }
          ]
        })
      default:
        return json(200, { order_id: randomToken(12), status: "ACCEPTED" })
    }
  })

  return [
    {
      path: `${prefixes.figureMarketsMain}/auth/oauth2/token`,
      handler: endpoint(state, "figure-markets.token", ["POST"], token, renderOAuth)
    },
    {
      path: `${prefixes.figureMarketsMain}/auth/oauth2/revoke`,
      handler: endpoint(state, "figure-markets.revoke", ["POST"], revoke, renderOAuth)
    },
    {
      path: `${prefixes.figureMarketsTrade}/api/v1/:operation`,
      handler: endpoint(state, "figure-markets.trade", ["POST"], trade, renderBearer)
    }
  ]
}
