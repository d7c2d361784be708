/**
 * Figure Markets: a small trading bot.
 *
 *   pnpm --filter @effect-oauth2/examples figure-markets
 *   pnpm exec tsx --conditions=source examples/src/figure-markets.ts     (from the repository root)
 *
 * It asks who it is (`whoAmI`, the credential self-test), then lists its accounts a few times. Every call shares one
 * access token: the library requests it once, caches it, renews it before it expires, and revokes it when the
 * program ends (`revokeOnClose`). The bot branches on typed errors: a rate limit or a network blip skips a round, a
 * wrong scope or a refused credential stops it with a message saying what to fix.
 *
 * Runs against an in-process emulator by default. With `FIGURE_MARKETS_CLIENT_ID` and `FIGURE_MARKETS_CLIENT_SECRET`
 * set, it calls Figure Markets itself (UAT unless `FIGURE_MARKETS_ENV=production`; see `FigureMarkets.config` for
 * the other variables).
 */
import type { OAuth2Error } from "@effect-oauth2/core"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import { FigureMarkets, Trader } from "@effect-oauth2/figure-markets"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Config, Console, Duration, Effect, Layer, Option } from "effect"
import { pathToFileURL } from "node:url"

// -----------------------------------------------------------------------------
// the bot: it needs only `Trader.Trader`, whatever layer provides it
// -----------------------------------------------------------------------------

/** How one round of the bot ended. */
export type Outcome = "ok" | "rate-limited" | "network-error" | "server-error"

/** What the bot did. */
export interface Report {
  /** Who the credentials belong to (`firms/{firmId}/users/{userId}`), once `whoAmI` succeeded. */
  readonly user: string | undefined
  /** Each round's outcome, in order. */
  readonly rounds: ReadonlyArray<Outcome>
  /** The error that stopped the bot early (a configuration problem no retry can fix), if any. */
  readonly stoppedBy: "InvalidScope" | "Unauthorized" | undefined
}

/** The options of {@link bot}. */
export interface BotOptions {
  /** How many rounds of `listAccounts`. Default: 3. */
  readonly rounds?: number | undefined
  /** The pause between rounds. Default: 1 second. */
  readonly pause?: Duration.DurationInput | undefined
}

/** One round: list the accounts. Passing trouble (rate limit, network, a 5xx) skips the round; the rest fails. */
export const round = (n: number): Effect.Effect<Outcome, OAuth2Error.OAuth2Error, Trader.Trader> =>
  Trader.listAccounts.pipe(
    Effect.tap((accounts) => Console.log(`round ${n}: ${accounts.length} account(s): ${accounts.map((a) => a.id).join(", ")}`)),
    Effect.as<Outcome>("ok"),
    Effect.catchTags({
      // 429: wait what the gateway asked for (bounded), then carry on.
      RateLimited: (error) => {
        const wait = Duration.millis(Math.min(error.retryAfterMillis ?? 5_000, 30_000))
        return Console.log(`round ${n}: rate limited, pausing ${Duration.format(wait)}`).pipe(
          Effect.zipRight(Effect.sleep(wait)),
          Effect.as<Outcome>("rate-limited")
        )
      },
      // The connection failed (refused, reset, timed out): skip this round, the next one tries again.
      TransportError: (error) =>
        Effect.as(Console.log(`round ${n}: network trouble, skipping (${error.message})`), "network-error" as const),
      // A 5xx (or a gateway's error page) is passing trouble too; a 4xx is a bug in the request: give up.
      ProtocolError: (error) =>
        error.retryable
          ? Effect.as(Console.log(`round ${n}: server trouble, skipping (${error.message})`), "server-error" as const)
          : Effect.fail(error),
      MalformedResponse: (error) =>
        error.retryable
          ? Effect.as(Console.log(`round ${n}: server trouble, skipping (${error.message})`), "server-error" as const)
          : Effect.fail(error)
    })
  )

/**
 * The bot. Errors that no retry can fix stop it: `InvalidScope` (asking for scopes the app is not registered for)
 * and `Unauthorized` (a wrong client id or secret, or credentials of the other environment). Any other error fails
 * the program.
 */
export const bot = (options: BotOptions = {}): Effect.Effect<Report, OAuth2Error.OAuth2Error, Trader.Trader> =>
  Effect.gen(function*() {
    const rounds: Array<Outcome> = []
    let user: string | undefined
    const run = Effect.gen(function*() {
      const me = yield* Trader.whoAmI
      user = me.user
      yield* Console.log(`authenticated as ${me.user}`)
      for (let n = 1; n <= (options.rounds ?? 3); n++) {
        if (n > 1) yield* Effect.sleep(options.pause ?? Duration.seconds(1))
        rounds.push(yield* round(n))
      }
    })
    const stopped = (stoppedBy: Report["stoppedBy"], message: string) =>
      Effect.as(Console.log(`bot stopped: ${message}`), stoppedBy)
    const stoppedBy = yield* run.pipe(
      Effect.as<Report["stoppedBy"]>(undefined),
      Effect.catchTags({
        InvalidScope: (error) => stopped("InvalidScope", error.message),
        Unauthorized: (error) => stopped("Unauthorized", error.message)
      })
    )
    return { user, rounds, stoppedBy }
  })

// -----------------------------------------------------------------------------
// the layers: the emulator's demo client, or your credentials from the environment
// -----------------------------------------------------------------------------

/**
 * Figure Markets over a running emulator, as its demo client (both scopes). `overrides` change any option, e.g.
 * another client. The token is revoked when the layer is released.
 */
export const emulatorLayer = (emulator: Emulator.Emulator, overrides: Partial<FigureMarkets.Options> = {}) =>
  FigureMarkets.layer({
    clientId: Clients.figureMarketsDemo.clientId,
    clientSecret: Clients.figureMarketsDemo.clientSecret,
    hosts: emulator.hosts["figure-markets"],
    revokeOnClose: true,
    ...overrides
  })

/**
 * The real Figure Markets when `FIGURE_MARKETS_CLIENT_ID` is set (everything else read by `FigureMarkets.config`),
 * otherwise an emulator started here, for as long as the layer lives. Says which one it uses.
 */
export const layer = Layer.unwrapScoped(
  Effect.gen(function*() {
    const clientId = yield* Config.option(Config.nonEmptyString("FIGURE_MARKETS_CLIENT_ID"))
    if (Option.isSome(clientId)) {
      const environment = yield* Config.withDefault(Config.string("FIGURE_MARKETS_ENV"), "uat")
      yield* Console.log(`Figure Markets: the real API (${environment}), credentials from FIGURE_MARKETS_*`)
      return FigureMarkets.layerConfig(Config.map(FigureMarkets.config, (options) => ({ ...options, revokeOnClose: true })))
    }
    const emulator = yield* Emulator.make()
    yield* Console.log(
      `Figure Markets: the emulator at ${emulator.baseUrl} with its demo client ` +
        `(set FIGURE_MARKETS_CLIENT_ID and FIGURE_MARKETS_CLIENT_SECRET to call the real API)`
    )
    return emulatorLayer(emulator)
  })
).pipe(Layer.provide(NodeHttpClient.layerUndici))

/** The whole program: the bot, over {@link layer}; prints a summary. */
export const main = bot().pipe(
  Effect.tap((report) =>
    Console.log(
      `done: ${report.rounds.filter((r) => r === "ok").length}/${report.rounds.length} rounds ok` +
        (report.stoppedBy === undefined ? "" : `, stopped by ${report.stoppedBy}`) +
        "; the token is revoked as the layer closes"
    )
  ),
  Effect.provide(layer)
)

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  NodeRuntime.runMain(main)
}
