/**
 * `pnpm demo`: a small trading bot against the embedded emulator's Figure Markets endpoints, with token lifetimes
 * shortened so that whole token lives pass in seconds. It prints a timeline of what the library does for the bot
 * (lines marked `lib` are the library's own log lines) and a summary. No network, no credentials, no flags.
 *
 * What to watch for:
 * - one token request, then every call served from the cache;
 * - the background refresh before expiry, while calls keep flowing;
 * - a token revoked behind the bot's back, recovered after one 401;
 * - an `InvalidScope`, handled as a typed error (a wrong scope is not a network blip);
 * - a token-endpoint outage ridden out on the still-valid token;
 * - the token revoked at shutdown.
 */
import { Clients, Emulator } from "@effect-oauth2/emulator"
import { FigureMarkets, Trader } from "@effect-oauth2/figure-markets"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Duration, Effect, Exit, Fiber, HashMap, Layer, Logger, Option, Ref, Schedule, Scope } from "effect"
import { pathToFileURL } from "node:url"

/** The options of {@link demo}. */
export interface DemoOptions {
  /** Multiplies every duration of the script (token lifetime, pauses): `1` takes about 12 seconds. Default: `1`. */
  readonly scale?: number | undefined
  /** Where the timeline goes. Default: `console.log`. */
  readonly print?: ((line: string) => void) | undefined
}

/** What the demo counted. */
export interface Summary {
  /** Requests the token endpoint received (the outage's refused ones included). */
  readonly tokenRequests: number
  /** Token requests the outage refused. */
  readonly refusedTokenRequests: number
  /** Calls the bot made to the trading API. */
  readonly apiCalls: number
  /** Calls that failed, as the bot saw them. */
  readonly botFailures: number
  /** Whether the read-only client's order came back as a typed `InvalidScope`. */
  readonly invalidScopeHandled: boolean
  /** Tokens revoked at the emulator (behind the bot's back, and at shutdown). */
  readonly revocations: number
  /** The slowest bot call while a background refresh was due or under way, in milliseconds. */
  readonly slowestCallDuringRefresh: number
}

/** Runs the scripted demo and returns what it counted. */
export const demo = (options: DemoOptions = {}): Effect.Effect<Summary> => {
  const scale = options.scale ?? 1
  const print = options.print ?? ((line: string) => console.log(line))
  const ms = (n: number) => Duration.millis(Math.max(1, Math.round(n * scale)))
  const lifetime = 6_000
  const skew = 2_000
  const started = Date.now()
  const at = () => `+${((Date.now() - started) / 1000).toFixed(2).padStart(5)}s`
  const say = (line: string) => Effect.sync(() => print(`${at()}  ${line}`))

  // The library's own log lines (they never carry a secret) go on the timeline.
  const timeline = Logger.make(({ annotations, logLevel, message }) => {
    const text = Array.isArray(message) ? message.join(" ") : String(message)
    const provider = HashMap.get(annotations, "provider").pipe(Option.getOrUndefined)
    const tag = provider === undefined || text.includes(`[${String(provider)}]`) ? "" : ` [${String(provider)}]`
    print(`${at()}  lib  ${logLevel.label.padEnd(5)} ${text}${tag}`)
  })

  return Effect.gen(function*() {
    const emulator = yield* Emulator.make({ tokenLifetimes: { figureMarkets: ms(lifetime) } })
    yield* say(`emulator on ${emulator.baseUrl}; Figure Markets tokens live ${Duration.format(ms(lifetime))}, refreshed ${Duration.format(ms(skew))} before expiry`)
    const http = yield* Layer.build(NodeHttpClient.layerUndici)
    const connect = (
      client: { readonly clientId: string; readonly clientSecret: string },
      scopes: ReadonlyArray<FigureMarkets.Scope>,
      scope: Scope.Scope
    ) =>
      Layer.buildWithScope(
        FigureMarkets.layer({
          ...client,
          hosts: emulator.hosts["figure-markets"],
          scopes,
          refreshSkew: ms(skew),
          retrySchedule: Schedule.exponential(ms(150), 2),
          revokeOnClose: true
        }),
        scope
      ).pipe(Effect.provide(http), Effect.orDie)

    // -- the bot: one call every 250 ms, counting what it sees ------------------------------------------------------
    const botScope = yield* Scope.make()
    const bot = yield* connect(Clients.figureMarketsDemo, ["TRADER_READ", "TRADER_TRADE"], botScope)
    const calls = yield* Ref.make(0)
    const failures = yield* Ref.make(0)
    const slowest = yield* Ref.make(0)
    const refreshing = yield* Ref.make(false)
    const oneCall = Effect.gen(function*() {
      const t0 = Date.now()
      const result = yield* Effect.either(Trader.whoAmI)
      const took = Date.now() - t0
      const n = yield* Ref.updateAndGet(calls, (n) => n + 1)
      if (yield* Ref.get(refreshing)) yield* Ref.update(slowest, (m) => Math.max(m, took))
      if (result._tag === "Left") {
        yield* Ref.update(failures, (n) => n + 1)
        yield* say(`bot  call ${n} failed: ${result.left._tag}: ${result.left.message}`)
      } else if (n === 1) {
        yield* say(`bot  call 1: whoAmI → ${result.right.user}`)
      } else if (n % 10 === 0) {
        yield* say(`bot  ${n} calls so far`)
      }
    }).pipe(Effect.provide(bot))
    const botFiber = yield* Effect.fork(Effect.forever(Effect.zipRight(oneCall, Effect.sleep(ms(250)))))

    // -- the script -------------------------------------------------------------------------------------------------
    yield* Effect.sleep(ms(lifetime - skew - 500))
    yield* say("— the token's refresh time is near: calls keep going while it is renewed in the background")
    yield* Ref.set(refreshing, true)
    yield* Effect.sleep(ms(1_500))
    yield* Ref.set(refreshing, false)

    yield* say("— someone revokes every token behind the bot's back (the emulator's control API)")
    yield* emulator.revokeAllTokens
    yield* Effect.sleep(ms(1_000))

    yield* say("— a read-only client tries to place an order")
    const invalidScopeHandled = yield* Effect.scoped(
      Effect.gen(function*() {
        const readOnly = yield* connect(Clients.figureMarketsReadOnlyDemo, ["TRADER_READ"], yield* Effect.scope)
        return yield* Trader.call("place_order", { market: "BTC-USD", side: "BUY", quantity: "0.01" }).pipe(
          Effect.provide(readOnly),
          Effect.as(false),
          Effect.catchTag("InvalidScope", (error) =>
            Effect.as(say(`bot  handled InvalidScope (no retry, no new token): ${error.message}`), true)),
          Effect.catchAll((error) => Effect.as(say(`bot  unexpected ${error._tag}: ${error.message}`), false))
        )
      })
    )

    yield* say("— the token endpoint goes down (its next 3 requests answer 503) before the next refresh")
    yield* emulator.setFaults("figure-markets.token", { failNext: { count: 3, status: 503 } })
    yield* Ref.set(refreshing, true)
    yield* Effect.sleep(ms(4_500))
    yield* Ref.set(refreshing, false)

    yield* say("— shutting down: the bot stops and its token is revoked")
    yield* Fiber.interrupt(botFiber)
    yield* Scope.close(botScope, Exit.void)

    const token = yield* emulator.countersFor("figure-markets.token")
    const revokedTokens = (yield* emulator.tokens).filter((t) => t.provider === "figure-markets" && t.revoked)
    const summary: Summary = {
      tokenRequests: token.requests,
      refusedTokenRequests: token.failures["503"] ?? 0,
      apiCalls: yield* Ref.get(calls),
      botFailures: yield* Ref.get(failures),
      invalidScopeHandled,
      revocations: revokedTokens.length,
      slowestCallDuringRefresh: yield* Ref.get(slowest)
    }
    print("")
    print("Summary")
    print(`  token requests            ${summary.tokenRequests} (${summary.refusedTokenRequests} refused by the outage)`)
    print(`  API calls by the bot      ${summary.apiCalls}`)
    print(`  failures seen by the bot  ${summary.botFailures}`)
    print(`  InvalidScope handled      ${summary.invalidScopeHandled ? "yes" : "no"}`)
    print(`  tokens revoked            ${summary.revocations}`)
    print(`  slowest call while a refresh was due: ${summary.slowestCallDuringRefresh} ms (no caller waits on a refresh)`)
    return summary
  }).pipe(Effect.scoped, Effect.provide(Logger.replace(Logger.defaultLogger, timeline)), Effect.orDie)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  NodeRuntime.runMain(demo(), { disablePrettyLogger: true })
}
