/**
 * Figure Pay Banking API: list the program's profiles, pinned to an API version.
 *
 *   pnpm --filter @effect-oauth2/examples figure-pay
 *   pnpm exec tsx --conditions=source examples/src/figure-pay.ts     (from the repository root)
 *
 * Figure Pay versions its API by header: with `apiVersion` set, every call carries `X-FigurePay-Api-Version`, and
 * the package warns when an answer announces a `Deprecation` or `Sunset`. Its token endpoint may answer with only
 * `access_token`: the package then takes the documented one-hour lifetime.
 *
 * Runs against an in-process emulator by default. With `FIGURE_PAY_CLIENT_ID` and `FIGURE_PAY_CLIENT_SECRET` set,
 * it calls Figure Pay itself (sandbox unless `FIGURE_PAY_ENV=production`; the version comes from
 * `FIGURE_PAY_API_VERSION`, none meaning your account's default).
 */
import type { OAuth2Error } from "@effect-oauth2/core"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import { Banking, FigurePay } from "@effect-oauth2/figure-pay"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Clock, Config, Console, Duration, Effect, Layer, Option } from "effect"
import { pathToFileURL } from "node:url"

/**
 * The API version the emulator run pins (`YYYY-MM-DD`). Against Figure Pay, use the version your integration was
 * built and tested against.
 */
export const apiVersion = "2024-06-01"

/** What the program found. */
export interface Report {
  /** How many profiles the credentials can see. */
  readonly profiles: number
  /** How long the access token is valid for, from now. */
  readonly tokenValidFor: Duration.Duration
}

/** Lists the profiles (without printing personal data) and says how long the token lasts. */
export const program: Effect.Effect<Report, OAuth2Error.OAuth2Error, Banking.Banking | FigurePay.Tokens> = Effect.gen(
  function*() {
    const profiles = yield* Banking.listProfiles
    yield* Console.log(`${profiles.length} profile(s):`)
    for (const profile of profiles) {
      // Profiles hold names and other personal data: print only what identifies them.
      yield* Console.log(`  ${profile.id} (${profile.type ?? "type unknown"}, ${profile.status ?? "status unknown"})`)
    }
    // The same token served the call above (it is cached): ask the token service how long it has left.
    const tokens = yield* FigurePay.Tokens
    const token = yield* tokens.get
    const tokenValidFor = token.remainingAt(yield* Clock.currentTimeMillis)
    const seconds = Duration.seconds(Math.round(Duration.toSeconds(tokenValidFor)))
    yield* Console.log(`the access token is valid for another ${Duration.format(seconds)}`)
    return { profiles: profiles.length, tokenValidFor }
  }
)

/** Figure Pay over a running emulator, as its demo client, pinned to {@link apiVersion}. */
export const emulatorLayer = (emulator: Emulator.Emulator, overrides: Partial<FigurePay.Options> = {}) =>
  FigurePay.layer({
    clientId: Clients.figurePayDemo.clientId,
    clientSecret: Clients.figurePayDemo.clientSecret,
    hosts: emulator.hosts["figure-pay"],
    apiVersion,
    ...overrides
  })

/**
 * The real Figure Pay when `FIGURE_PAY_CLIENT_ID` is set (everything else read by `FigurePay.config`), otherwise an
 * emulator started here, for as long as the layer lives. Says which one it uses.
 */
export const layer = Layer.unwrapScoped(
  Effect.gen(function*() {
    const clientId = yield* Config.option(Config.nonEmptyString("FIGURE_PAY_CLIENT_ID"))
    if (Option.isSome(clientId)) {
      const environment = yield* Config.withDefault(Config.string("FIGURE_PAY_ENV"), "sandbox")
      yield* Console.log(`Figure Pay: the real API (${environment}), credentials from FIGURE_PAY_*`)
      return FigurePay.layerConfig()
    }
    const emulator = yield* Emulator.make()
    yield* Console.log(
      `Figure Pay: the emulator at ${emulator.baseUrl} with its demo client, API version ${apiVersion} ` +
        `(set FIGURE_PAY_CLIENT_ID and FIGURE_PAY_CLIENT_SECRET to call the real API)`
    )
    return emulatorLayer(emulator)
  })
).pipe(Layer.provide(NodeHttpClient.layerUndici))

/** The whole program, over {@link layer}. */
export const main = Effect.provide(program, layer)

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  NodeRuntime.runMain(main)
}
