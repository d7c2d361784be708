/**
 * Openmarkets: client credentials with scopes, a market-data call, and the `InvalidScope` a scope outside the plan
 * gives.
 *
 *   pnpm --filter @effect-oauth2/examples openmarkets
 *   pnpm exec tsx --conditions=source examples/src/openmarkets.ts     (from the repository root)
 *
 * Ask only for the scopes you use: a token for `market-data-api` reads quotes. Asking for a scope outside the
 * client's plan is refused by the token endpoint (400 `invalid_scope`), which the library reports as `InvalidScope`
 * naming the scopes asked for: a configuration error, never retried, handled here like any other typed error.
 *
 * Runs against an in-process emulator by default (its demo plan: `market-data-api news-api`). With
 * `OPENMARKETS_CLIENT_ID`, `OPENMARKETS_CLIENT_SECRET` and `OPENMARKETS_API_URL` set, it calls Openmarkets (stage
 * unless `OPENMARKETS_ENV=production`; `OPENMARKETS_TOKEN_URL` overrides the token endpoint). The quotes path is the
 * emulator's: adapt it to your Openmarkets API product.
 */
import { ApiResponse, type OAuth2Error } from "@effect-oauth2/core"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import { Openmarkets } from "@effect-oauth2/openmarkets"
import type { HttpClient, HttpServerError } from "@effect/platform"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Config, Console, Effect, Option, Schema, type Scope } from "effect"
import type { ConfigError } from "effect/ConfigError"
import type { ParseError } from "effect/ParseResult"
import { pathToFileURL } from "node:url"

/** Everything but the scopes: each part of the program asks for its own. */
export type Settings = Omit<Openmarkets.Options, "scopes">

/** The scopes the market-data call needs. */
export const marketDataScopes: ReadonlyArray<Openmarkets.Scope> = ["market-data-api"]

/** A scope outside the emulator's demo plan, asked for to show `InvalidScope`. */
export const outsideThePlan: ReadonlyArray<Openmarkets.Scope> = ["oms-api"]

const Quote = Schema.Struct({
  symbol: Schema.String,
  bid: Schema.Number,
  ask: Schema.Number,
  last: Schema.Number
})

const QuotesResponse = Schema.Struct({ quotes: Schema.Array(Quote) })

/** Quotes through `Openmarkets.HttpClient` (base URL and bearer token applied; the token goes to that origin only). */
export const quotes = (
  symbols: ReadonlyArray<string>
): Effect.Effect<ReadonlyArray<typeof Quote.Type>, OAuth2Error.OAuth2Error | ParseError, Openmarkets.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* Openmarkets.HttpClient
    const ctx: ApiResponse.Context = {
      provider: "openmarkets",
      request: "GET /v1/market-data/quotes",
      scopes: marketDataScopes
    }
    const body = yield* client.get("/v1/market-data/quotes", { urlParams: { symbols: symbols.join(",") } }).pipe(
      // A non-2xx answer becomes the same typed errors as the token's: Unauthorized, RateLimited, InvalidScope...
      Effect.flatMap((response) => ApiResponse.readJson(response, ctx)),
      Effect.mapError((error) => ApiResponse.toOAuth2Error(error, ctx)),
      Effect.scoped
    )
    return (yield* Schema.decodeUnknown(QuotesResponse)(body)).quotes
  })

/** What the program saw. */
export interface Report {
  /** The quotes read with the `market-data-api` token. */
  readonly quotes: ReadonlyArray<typeof Quote.Type>
  /** How the request for a scope outside the plan ended: `InvalidScope`, or `granted` if the plan covers it. */
  readonly outsideThePlan: "InvalidScope" | "granted"
}

/**
 * The program: quotes with a `market-data-api` token, then a token request for {@link outsideThePlan}. Each part
 * builds its own `Openmarkets.layer` from the same settings, for as long as it runs.
 */
export const program = (
  settings: Settings
): Effect.Effect<Report, OAuth2Error.OAuth2Error | ParseError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const read = yield* quotes(["BHP", "CBA"]).pipe(
      Effect.provide(Openmarkets.layer({ ...settings, scopes: marketDataScopes }))
    )
    for (const quote of read) {
      yield* Console.log(`${quote.symbol}: last ${quote.last}, bid ${quote.bid}, ask ${quote.ask}`)
    }

    const outcome = yield* Effect.flatMap(Openmarkets.Tokens, (tokens) => tokens.get).pipe(
      Effect.as("granted" as const),
      Effect.tap(() => Console.log(`a token for ${outsideThePlan.join(" ")} was granted: your plan covers it`)),
      // Not a network blip: no retry, no new token will help. Fix the scopes (or the plan) instead.
      Effect.catchTag("InvalidScope", (error) =>
        Effect.as(Console.log(`InvalidScope, as expected: ${error.message}`), "InvalidScope" as const)),
      Effect.provide(Openmarkets.layer({ ...settings, scopes: outsideThePlan }))
    )
    return { quotes: read, outsideThePlan: outcome }
  })

/** The settings of a running emulator's demo client. */
export const emulatorSettings = (emulator: Emulator.Emulator): Settings => ({
  clientId: Clients.openmarketsDemo.clientId,
  clientSecret: Clients.openmarketsDemo.clientSecret,
  hosts: emulator.hosts.openmarkets
})

/**
 * Your client from `OPENMARKETS_*` when `OPENMARKETS_CLIENT_ID` is set, otherwise the demo client of an emulator
 * started in the current scope. Says which one it uses.
 */
export const settings: Effect.Effect<Settings, ConfigError | HttpServerError.ServeError, Scope.Scope> = Effect.gen(
  function*() {
    const clientId = yield* Config.option(Config.nonEmptyString("OPENMARKETS_CLIENT_ID"))
    if (Option.isSome(clientId)) {
      // Every OPENMARKETS_* variable (Openmarkets.config), the API host required here; the scopes are the program's.
      const { scopes: _scopes, ...read } = yield* Openmarkets.config
      const fromEnv: Settings = { ...read, hosts: { ...read.hosts, api: yield* Config.nonEmptyString("OPENMARKETS_API_URL") } }
      yield* Console.log(`Openmarkets: the real API (${fromEnv.environment}), client from OPENMARKETS_*`)
      return fromEnv
    }
    const emulator = yield* Emulator.make()
    yield* Console.log(
      `Openmarkets: the emulator at ${emulator.baseUrl} with its demo client ` +
        `(set OPENMARKETS_CLIENT_ID, OPENMARKETS_CLIENT_SECRET and OPENMARKETS_API_URL to call the real API)`
    )
    return emulatorSettings(emulator)
  }
)

/** The whole program, with {@link settings}. */
export const main = Effect.flatMap(settings, program).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  NodeRuntime.runMain(main)
}
