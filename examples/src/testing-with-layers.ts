/**
 * Testing your bot with Layers: the same bot code, run over a test layer and over the emulator.
 *
 *   pnpm --filter @effect-oauth2/examples testing-with-layers
 *   pnpm exec tsx --conditions=source examples/src/testing-with-layers.ts     (from the repository root)
 *
 * The bot asks for `Trader.Trader` and nothing else, so what it talks to is decided where it is run:
 *
 * 1. **A test layer**: `AccessTokens.layerTest` hands out scripted tokens (or scripted errors) with no token endpoint
 *    at all, and an in-memory "trading host" (a plain `HttpClient` made with `HttpClient.make`) answers the calls.
 *    Core's `OAuth2HttpClient.withAccessToken` sits between them, exactly as in production: here the host rejects
 *    the first scripted token, and the middleware replays the call once with the next one. A second run scripts an
 *    `Unauthorized` from the token endpoint, to test the bot's error path. Fast, deterministic, no sockets.
 * 2. **The emulator**: `FigureMarkets.layer` pointed at `@effect-oauth2/emulator` over real loopback HTTP, the same
 *    layer a production program builds (with other URLs and your credentials).
 *
 * In your own tests, run the bot with `it.effect` over the first kind of layer, and with `it.live` over the second.
 */
import { AccessTokens, OAuth2Error, OAuth2HttpClient } from "@effect-oauth2/core"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import { FigureMarkets, Trader } from "@effect-oauth2/figure-markets"
import { HttpClient, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { pathToFileURL } from "node:url"

// -----------------------------------------------------------------------------
// the bot: written once, against Trader.Trader only
// -----------------------------------------------------------------------------

/** What the bot found. */
export interface Report {
  readonly user: string
  readonly accounts: ReadonlyArray<string>
}

/** Who am I, and which accounts do I have. */
export const bot: Effect.Effect<Report, OAuth2Error.OAuth2Error, Trader.Trader> = Effect.gen(function*() {
  const me = yield* Trader.whoAmI
  const accounts = yield* Trader.listAccounts
  yield* Console.log(`  bot: I am ${me.user}; accounts: ${accounts.map((a) => a.id).join(", ")}`)
  return { user: me.user, accounts: accounts.map((a) => a.id) }
})

// -----------------------------------------------------------------------------
// 1. the test layer: scripted tokens, an in-memory trading host
// -----------------------------------------------------------------------------

/** The only token the in-memory trading host accepts. */
export const acceptedToken = "good-token"

const testTradeUrl = "https://trade.test.invalid/api/v1"

/**
 * An in-memory stand-in for the trading host: `get_who_am_i` and `list_accounts` for a request carrying
 * {@link acceptedToken}, a 401 `invalid_token` challenge for any other token. No socket is opened.
 */
export const testTradingHost: HttpClient.HttpClient = HttpClient.make((request, url) =>
  Effect.gen(function*() {
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      HttpClientResponse.fromWeb(
        request,
        new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } })
      )
    if (request.headers["authorization"] !== `Bearer ${acceptedToken}`) {
      yield* Console.log(`  test host: ${url.pathname} → 401, that token is not accepted`)
      return answer(401, {}, { "www-authenticate": `Bearer error="invalid_token"` })
    }
    switch (url.pathname) {
      case "/api/v1/get_who_am_i":
        return answer(200, { user: "firms/test-firm/users/test-bot" })
      case "/api/v1/list_accounts":
        return answer(200, { accounts: [{ id: "test-account-1" }, { id: "test-account-2" }] })
      default:
        return answer(404, { message: "no such operation" })
    }
  })
)

/**
 * `Trader.Trader` over scripted tokens and the in-memory host; core's `AccessTokens` too, so a test can look at the
 * token the bot ended up with. Each step of `script` is what one token acquisition yields: a token value, or an
 * error such as `new OAuth2Error.Unauthorized({ ... })`; the last step repeats.
 */
export const testLayer = (
  script: ReadonlyArray<AccessTokens.TestStep>
): Layer.Layer<Trader.Trader | AccessTokens.AccessTokens> =>
  Layer.effect(
    Trader.Trader,
    Effect.map(AccessTokens.AccessTokens, (tokens) =>
      Trader.fromHttpClient(
        // The same middleware FigureMarkets.layer uses; the base URL goes on outside it.
        OAuth2HttpClient.withAccessToken(testTradingHost, tokens).pipe(
          HttpClient.mapRequest(HttpClientRequest.prependUrl(testTradeUrl))
        )
      ))
  ).pipe(Layer.provideMerge(AccessTokens.layerTest({ script, provider: FigureMarkets.provider })))

/** A scripted token-endpoint refusal: what the bot sees with a wrong client secret. */
export const wrongSecret = new OAuth2Error.Unauthorized({
  provider: FigureMarkets.provider,
  source: "token-endpoint",
  reason: "invalid_client",
  status: 401
})

// -----------------------------------------------------------------------------
// 2. the emulator
// -----------------------------------------------------------------------------

/** Figure Markets over a running emulator, as its demo client, over the plain `HttpClient` from the context. */
export const emulatorLayer = (emulator: Emulator.Emulator) =>
  FigureMarkets.layer({
    clientId: Clients.figureMarketsDemo.clientId,
    clientSecret: Clients.figureMarketsDemo.clientSecret,
    hosts: emulator.hosts["figure-markets"]
  })

// -----------------------------------------------------------------------------
// the three runs
// -----------------------------------------------------------------------------

/** What the three runs gave. */
export interface Runs {
  readonly testLayer: Report
  readonly testLayerError: OAuth2Error.OAuth2Error
  readonly emulator: Report
}

/** Runs the bot over the test layer (401 recovery, then a scripted error) and over an emulator started here. */
export const main = Effect.gen(function*() {
  yield* Console.log("1a. test layer, scripted tokens [\"revoked-token\", \"good-token\"]: the host rejects the first")
  const overTestLayer = yield* Effect.provide(bot, testLayer(["revoked-token", acceptedToken]))

  yield* Console.log("1b. test layer, the token endpoint scripted to refuse the client: the bot's error path")
  const testLayerError = yield* Effect.flip(Effect.provide(bot, testLayer([wrongSecret])))
  yield* Console.log(`  bot failed with ${testLayerError._tag}: ${testLayerError.message}`)

  const emulator = yield* Emulator.make()
  yield* Console.log(`2. the emulator at ${emulator.baseUrl}, over real loopback HTTP`)
  const overEmulator = yield* bot.pipe(
    Effect.provide(emulatorLayer(emulator).pipe(Layer.provide(NodeHttpClient.layerUndici)))
  )
  return { testLayer: overTestLayer, testLayerError, emulator: overEmulator }
}).pipe(Effect.scoped)

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  NodeRuntime.runMain(main)
}
