import * as Effect from "effect/Effect"
import type * as Clients from "../Clients.js"
import { type Env, prefixes } from "./context.js"
import {
  bearerChallenge,
  type BearerFailure,
  bearerToken,
  clientCredentialsRequest,
  endpoint,
  json,
  millis,
  noStore,
  secretEquals
} from "./http.js"
import { renderOAuth } from "./broker.js"
import { authorize, type Route } from "./route.js"

const realm = "figure-pay"

const renderBearer = (e: BearerFailure) =>
  json(e.status, { error: e.error, error_description: e.description }, {
    "www-authenticate": bearerChallenge(e.error)
  })

const findClient = (env: Env, id: string, secret: string): Clients.FigurePayClient | undefined =>
  env.registry.figurePay.find((c) => c.clientId === id && secretEquals(c.clientSecret, secret))

/** @internal */
export const routes = (env: Env): ReadonlyArray<Route> => {
  const { state } = env

  const token = Effect.gen(function*() {
    const { client } = yield* clientCredentialsRequest("post", realm, (id, secret) =>
      findClient(env, id, secret))
    // Figure Pay has no scopes: a scope parameter is ignored. The answer carries only the token (1 hour).
    const issued = yield* state.issue({
      kind: "access",
      provider: "figure-pay",
      clientId: client.clientId,
      scopes: [],
      lifetimeMillis: client.tokenLifetime === undefined ? env.settings.lifetimes.figurePay : millis(client.tokenLifetime),
      bytes: 24
    })
    return json(200, { access_token: issued.token }, noStore)
  })

  const profiles = Effect.gen(function*() {
    const record = yield* authorize(state, "figure-pay", yield* bearerToken, [])
    return json(200, {
      data: [
        {
          id: `prf_${record.clientId}`,
          type: "INDIVIDUAL",
          first_name: "Demo",
          last_name: "Customer",
          status: "ACTIVE"
        }
      ]
    })
  })

  return [
    { path: `${prefixes.figurePay}/oauth2/token`, handler: endpoint(state, "figure-pay.token", ["POST"], token, renderOAuth) },
    { path: `${prefixes.figurePay}/profiles`, handler: endpoint(state, "figure-pay.profiles", ["GET"], profiles, renderBearer) }
  ]
}
