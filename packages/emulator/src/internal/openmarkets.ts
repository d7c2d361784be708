import * as Effect from "effect/Effect"
import type * as Clients from "../Clients.js"
import { type Env, prefixes } from "./context.js"
import {
  bearerChallenge,
  type BearerFailure,
  bearerToken,
  clientCredentialsRequest,
  empty,
  endpoint,
  invalidScope,
  json,
  millis,
  noStore,
  type OAuthFailure,
  query,
  seconds,
  secretEquals,
  splitScopes,
  uniq
} from "./http.js"
import { authorize, type Route } from "./route.js"

const realm = "openmarkets"

/** IdentityServer's error body: only `error`, e.g. exactly `{"error":"invalid_scope"}`. */
const renderOAuth = (e: OAuthFailure) => json(e.status, { error: e.error }, { ...noStore, ...e.headers })

/** IdentityServer-protected APIs answer 401/403 with an empty body and the challenge. */
const renderBearer = (e: BearerFailure) =>
  empty(e.status, { "www-authenticate": bearerChallenge(e.error) })

const findClient = (env: Env, id: string, secret: string): Clients.OpenmarketsClient | undefined =>
  env.registry.openmarkets.find((c) => c.clientId === id && secretEquals(c.clientSecret, secret))

const price = (symbol: string): number => {
  let h = 7
  for (const ch of symbol) h = (h * 31 + ch.charCodeAt(0)) % 100_000
  return 1 + h / 1000
}

const round = (n: number): number => Math.round(n * 1000) / 1000

/** @internal */
export const routes = (env: Env): ReadonlyArray<Route> => {
  const { state } = env

  const token = Effect.gen(function*() {
    const { client, form } = yield* clientCredentialsRequest("basic-raw", realm, (id, secret) =>
      findClient(env, id, secret))
    const asked = uniq(splitScopes(form.get("scope")))
    // No scope: everything in the plan (IdentityServer's behaviour). Anything outside the plan: invalid_scope.
    const scopes = asked.length === 0 ? client.plan : asked
    if (scopes.some((s) => !client.plan.includes(s))) return yield* invalidScope("Scope outside the client's plan")
    const lifetime = client.tokenLifetime === undefined ? env.settings.lifetimes.openmarkets : millis(client.tokenLifetime)
    const issued = yield* state.issue({
      kind: "access",
      provider: "openmarkets",
      clientId: client.clientId,
      scopes,
      lifetimeMillis: lifetime,
      bytes: 24
    })
    return json(200, { access_token: issued.token, expires_in: seconds(lifetime), token_type: "Bearer" }, noStore)
  })

  const quotes = Effect.gen(function*() {
    yield* authorize(state, "openmarkets", yield* bearerToken, ["market-data-api"])
    const symbols = ((yield* query).get("symbols") ?? "").split(/[\s,]+/).filter((s) => s !== "").map((s) =>
      s.toUpperCase()
    )
    if (symbols.length === 0) {
      return json(400, { message: "The symbols query parameter is required" })
    }
    return json(200, {
      quotes: symbols.map((symbol) => {
        const last = price(symbol)
        return { symbol, exchange: "ASX", bid: round(last - 0.005), ask: round(last + 0.005), last: round(last) }
      })
    })
  })

  const news = Effect.gen(function*() {
    yield* authorize(state, "openmarkets", yield* bearerToken, ["news-api"])
    return json(200, {
      articles: [{ id: "om-news-1", headline: "Emulated market update", symbols: ["BHP"], source: "emulator" }]
    })
  })

  return [
    {
      path: `${prefixes.openmarketsIdentity}/connect/token`,
      handler: endpoint(state, "openmarkets.token", ["POST"], token, renderOAuth)
    },
    {
      path: `${prefixes.openmarketsApi}/v1/market-data/quotes`,
      handler: endpoint(state, "openmarkets.api", ["GET"], quotes, renderBearer)
    },
    { path: `${prefixes.openmarketsApi}/v1/news`, handler: endpoint(state, "openmarkets.api", ["GET"], news, renderBearer) }
  ]
}
