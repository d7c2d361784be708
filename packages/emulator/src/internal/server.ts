import * as HttpRouter from "@effect/platform/HttpRouter"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type { Env } from "./context.js"
import * as Control from "./control.js"
import * as FigureMarkets from "./figureMarkets.js"
import * as FigurePay from "./figurePay.js"
import { json, notFound } from "./http.js"
import * as Openmarkets from "./openmarkets.js"
import type { Route } from "./route.js"
import * as Saxo from "./saxo.js"
import * as Schwab from "./schwab.js"
import * as Tastytrade from "./tastytrade.js"
import * as TradeStation from "./tradestation.js"
import * as Tradier from "./tradier.js"

const methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"] as const

/** Every route of every provider, plus the control API. @internal */
export const routes = (env: Env): ReadonlyArray<Route> => [
  ...FigureMarkets.routes(env),
  ...FigurePay.routes(env),
  ...Tradier.routes(env),
  ...Openmarkets.routes(env),
  ...Schwab.routes(env),
  ...TradeStation.routes(env),
  ...Tastytrade.routes(env),
  ...Saxo.routes(env),
  ...Control.routes(env)
]

/**
 * The emulator's HTTP app: one router for every host, unknown paths answer 404 JSON, and nothing that goes wrong in
 * a handler escapes as anything but a 500 JSON answer.
 *
 * @internal
 */
export const makeApp = (
  env: Env
): Effect.Effect<
  Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest>
> => {
  let router: HttpRouter.HttpRouter<never, never> = HttpRouter.empty
  // Each route takes the common methods and answers 405 itself for the ones it does not serve. (`HttpRouter.all`
  // registers every method find-my-way knows, which makes building the router ~15 times slower.)
  for (const route of routes(env)) {
    for (const method of methods) router = HttpRouter.route(method)(router, route.path, route.handler)
  }
  return Effect.map(HttpRouter.toHttpApp(router), (app) =>
    app.pipe(
      Effect.catchTag("RouteNotFound", (e) => Effect.succeed(notFound(e.request.method, e.request.url))),
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.failCause(cause)
          : Effect.succeed(json(500, { error: "server_error", error_description: "Unexpected emulator failure" }))
      )
    ))
}
