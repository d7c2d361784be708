import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import type { Provider } from "../Clients.js"
import { BearerFailure } from "./http.js"
import type { State, TokenRecord } from "./state.js"

/** One path the emulator answers, with its handler (methods are checked by the handler). @internal */
export interface Route {
  readonly path: `/${string}`
  readonly handler: Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest>
}

/**
 * Checks a bearer token for a protected endpoint: 401 `invalid_token` when missing, unknown (also when issued by
 * another provider or another emulator), expired or revoked; 403 `insufficient_scope` when it carries none of
 * `anyOf` (an empty `anyOf` asks for no scope).
 *
 * @internal
 */
export const authorize = (
  state: State,
  provider: Provider,
  token: string | undefined,
  anyOf: ReadonlyArray<string>
): Effect.Effect<TokenRecord, BearerFailure> =>
  Effect.flatMap(state.lookup(token, provider, "access"), (lookup) => {
    if (lookup._tag === "Invalid") {
      const description = {
        missing: "The access token is missing",
        unknown: "The access token is invalid",
        expired: "The access token expired",
        revoked: "The access token was revoked"
      }[lookup.reason]
      return Effect.fail(new BearerFailure({ status: 401, error: "invalid_token", description }))
    }
    return requireScope(lookup.record, anyOf)
  })

/** 403 `insufficient_scope` unless the token carries one of `anyOf` (an empty `anyOf` asks for nothing). @internal */
export const requireScope = (record: TokenRecord, anyOf: ReadonlyArray<string>): Effect.Effect<TokenRecord, BearerFailure> =>
  anyOf.length > 0 && !anyOf.some((scope) => record.scopes.includes(scope))
    ? Effect.fail(
      new BearerFailure({
        status: 403,
        error: "insufficient_scope",
        description: `The access token needs the scope ${anyOf.join(" or ")}`
      })
    )
    : Effect.succeed(record)
