import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Faults from "../Faults.js"
import { type Env, prefixes } from "./context.js"
import { json, methodNotAllowed } from "./http.js"
import type { Route } from "./route.js"

/** The largest clock skew accepted: 100 years, in milliseconds. @internal */
export const maxSkew = 100 * 365 * 24 * 3600 * 1000

/** @internal */
export const Skew = Schema.Number.pipe(Schema.finite(), Schema.between(-maxSkew, maxSkew))

/** @internal */
export const AuthorizationMode = Schema.Literal("consent", "auto-approve", "auto-deny")

const ClockBody = Schema.Struct({ skewMs: Skew })
const ModeBody = Schema.Struct({ mode: AuthorizationMode })
const RevokeBody = Schema.Union(Schema.Struct({ token: Schema.String }), Schema.Struct({ all: Schema.Literal(true) }))

class BadBody {
  readonly _tag = "BadBody"
  constructor(readonly message: string) {}
}

const body = <A, I>(schema: Schema.Schema<A, I>) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const text = yield* Effect.mapError(request.text, () => new BadBody("The request body could not be read"))
    return yield* Schema.decodeUnknown(Schema.parseJson(schema))(text).pipe(
      Effect.mapError((e) => new BadBody(ParseResult.TreeFormatter.formatErrorSync(e)))
    )
  })

type Handler = Effect.Effect<HttpServerResponse.HttpServerResponse, BadBody, HttpServerRequest.HttpServerRequest>

const dispatch = (handlers: Partial<Record<string, Handler>>): Route["handler"] =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const handler = Object.hasOwn(handlers, request.method) ? handlers[request.method] : undefined
    if (handler === undefined) return methodNotAllowed(request.method, Object.keys(handlers))
    return yield* handler
  }).pipe(
    Effect.catchAll((e) => Effect.succeed(json(400, { error: "invalid_request", error_description: e.message }))),
    Effect.catchAllCause((cause) =>
      Cause.isInterruptedOnly(cause)
        ? Effect.failCause(cause)
        : Effect.succeed(json(500, { error: "server_error", error_description: "Unexpected emulator failure" }))
    )
  )

const endpointParam = Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
  const segment = new URL(request.url, "http://x").pathname.split("/").pop() ?? ""
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
})

const unknownEndpoint = (name: string) =>
  json(404, { error: "unknown_endpoint", error_description: `No endpoint named ${name}`, endpoints: Faults.endpoints })

/**
 * The control API, JSON in and out, under `/_emulator`:
 *
 * - `GET /_emulator`: base URL, URLs, endpoint names, client ids;
 * - `GET|DELETE /_emulator/faults`, `GET|PUT|DELETE /_emulator/faults/{endpoint}` (PUT replaces, body `Faults`);
 * - `GET|DELETE /_emulator/counters`, `POST /_emulator/counters/reset`, `GET /_emulator/counters/{endpoint}`;
 * - `GET /_emulator/tokens` (metadata, never the tokens), `POST /_emulator/tokens/revoke` `{"token"}` or `{"all":true}`;
 * - `GET /_emulator/token-requests` (every request to a broker's token endpoint: client, grant type, refresh token id,
 *   status, error);
 * - `GET|PUT /_emulator/clock` `{"skewMs"}`;
 * - `GET|PUT /_emulator/tradier/authorization` `{"mode":"consent"|"auto-approve"|"auto-deny"}`.
 *
 * @internal
 */
export const routes = (env: Env): ReadonlyArray<Route> => {
  const { state } = env
  const p = prefixes.control

  const withEndpoint = (f: (endpoint: Faults.Endpoint) => Handler): Handler =>
    Effect.flatMap(endpointParam, (name) => (Faults.isEndpoint(name) ? f(name) : Effect.succeed(unknownEndpoint(name))))

  const clock = Effect.map(Effect.all([state.now, state.skew]), ([now, skew]) =>
    json(200, { now, iso: new Date(now).toISOString(), skewMs: skew }))

  const resetCounters = Effect.as(state.resetCounters, json(200, { reset: true }))

  return [
    {
      path: p,
      handler: dispatch({
        GET: Effect.succeed(json(200, {
          baseUrl: env.baseUrl,
          urls: env.urls,
          brokerUrls: env.brokerUrls,
          endpoints: Faults.endpoints,
          clients: {
            figureMarkets: env.registry.figureMarkets.map((c) => c.clientId),
            figurePay: env.registry.figurePay.map((c) => c.clientId),
            tradier: env.registry.tradier.map((c) => c.clientId),
            openmarkets: env.registry.openmarkets.map((c) => c.clientId),
            schwab: env.registry.schwab.map((c) => c.clientId),
            tradestation: env.registry.tradestation.map((c) => c.clientId),
            tastytrade: env.registry.tastytrade.map((c) => c.clientId),
            saxo: env.registry.saxo.map((c) => c.clientId)
          }
        }))
      })
    },
    {
      path: `${p}/faults`,
      handler: dispatch({
        GET: Effect.map(state.faults, (faults) => json(200, faults)),
        DELETE: Effect.as(state.clearFaults(), json(200, {}))
      })
    },
    {
      path: `${p}/faults/:endpoint`,
      handler: dispatch({
        GET: withEndpoint((e) => Effect.map(state.faultsFor(e), (f) => json(200, f))),
        PUT: withEndpoint((e) =>
          Effect.gen(function*() {
            const faults = yield* body(Faults.Faults)
            yield* state.setFaults(e, faults)
            return json(200, yield* state.faultsFor(e))
          })
        ),
        DELETE: withEndpoint((e) => Effect.as(state.clearFaults(e), json(200, {})))
      })
    },
    {
      path: `${p}/counters`,
      handler: dispatch({ GET: Effect.map(state.counters, (c) => json(200, c)), DELETE: resetCounters })
    },
    { path: `${p}/counters/reset`, handler: dispatch({ POST: resetCounters }) },
    {
      path: `${p}/counters/:endpoint`,
      handler: dispatch({ GET: withEndpoint((e) => Effect.map(state.counters, (c) => json(200, c[e]))) })
    },
    { path: `${p}/tokens`, handler: dispatch({ GET: Effect.map(state.tokens, (tokens) => json(200, { tokens })) }) },
    {
      path: `${p}/token-requests`,
      handler: dispatch({ GET: Effect.map(state.tokenRequests, (requests) => json(200, { requests })) })
    },
    {
      path: `${p}/tokens/revoke`,
      handler: dispatch({
        POST: Effect.gen(function*() {
          const request = yield* body(RevokeBody)
          const revoked = "all" in request
            ? yield* state.revokeWhere(() => true)
            : (yield* state.revoke(request.token))
            ? 1
            : 0
          return json(200, { revoked })
        })
      })
    },
    {
      path: `${p}/clock`,
      handler: dispatch({
        GET: clock,
        PUT: Effect.gen(function*() {
          const { skewMs } = yield* body(ClockBody)
          yield* state.setSkew(skewMs)
          return yield* clock
        })
      })
    },
    {
      path: `${p}/tradier/authorization`,
      handler: dispatch({
        GET: Effect.map(Ref.get(state.authorizationMode), (mode) => json(200, { mode })),
        PUT: Effect.gen(function*() {
          const { mode } = yield* body(ModeBody)
          yield* Ref.set(state.authorizationMode, mode)
          return json(200, { mode })
        })
      })
    }
  ]
}
