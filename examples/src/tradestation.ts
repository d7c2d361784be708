/**
 * TradeStation: log in once in the browser, then a bot that reads the stored login and keeps its token fresh, with
 * `brokerage/accounts` as the credential self-test.
 *
 *   pnpm --filter @effect-oauth2/examples tradestation
 *   pnpm exec tsx --conditions=source examples/src/tradestation.ts     (from the repository root)
 *
 * The login asks for the API's `audience` and `openid offline_access` (without them: a token the API refuses, or no
 * refresh token), comes back to the key's Allowed Callback URL (`http://localhost:31022` by default) and stores the
 * token. The bot's layer reads it from the store and refreshes it before it expires. On a key with "expire and
 * rotate" (`rotation: true`), each refresh spends the refresh token for a new one, and 24 hours after the login they
 * all die: the bot hears a warning 12 hours and 1 hour before (`onRefreshTokenEvent`), then `LoginRequired`.
 *
 * Offline, against an in-process emulator: its rotating demo key, a callback listener on a free port registered
 * with it, and a "browser" that follows the redirects. The real login is
 * `effect-oauth2 login tradestation` (then `whoami tradestation`), or {@link login} with a real
 * browser.
 */
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import { Brokerage, TradeStation } from "@effect-oauth2/tradestation"
import { HttpClient, HttpServer } from "@effect/platform"
import { NodeHttpClient, NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Console, Context, Effect, Layer } from "effect"
import * as http from "node:http"
import { pathToFileURL } from "node:url"

/** What the program saw: the accounts, and the events about the refresh token's death. */
export interface Report {
  readonly accounts: ReadonlyArray<string>
  readonly events: ReadonlyArray<string>
}

/** The user's browser in this offline run: opens the authorize URL, then follows the redirect to the callback. */
const emulatedBrowser = (authorizeUrl: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const answer = yield* client.get(authorizeUrl).pipe(Effect.scoped)
    const location = answer.headers["location"]
    if (answer.status !== 302 || location === undefined) return yield* Effect.dieMessage("no redirect to the callback")
    const callback = new URL(location)
    callback.hostname = "127.0.0.1" // the listener's address (a browser tries both of localhost's)
    yield* client.get(callback.toString()).pipe(Effect.scoped)
  }).pipe(Effect.orDie)

/** The login: the token lands in the `TokenStore`. */
export const login = (options: TradeStation.Options, onAuthorizeUrl: (url: string) => Effect.Effect<void, never, HttpClient.HttpClient>) =>
  TradeStation.login(options, { onAuthorizeUrl, timeout: "5 minutes" }).pipe(
    Effect.tap((token) =>
      Console.log(
        `logged in: ${token.scopes.join(" ")}; ${
          token.refreshTokenExpiresAt === undefined
            ? "the refresh token does not expire"
            : `the refresh token dies at ${new Date(token.refreshTokenExpiresAt).toISOString()}`
        }`
      )
    )
  )

/** The bot: the stored login, refreshed as needed; `brokerage/accounts` through it. */
export const bot = (options: TradeStation.Options) =>
  Effect.gen(function*() {
    const events: Array<string> = []
    const layer = TradeStation.layer({
      ...options,
      onRefreshTokenEvent: (event) => Effect.sync(() => void events.push(event.message))
    })
    const accounts = yield* Brokerage.accounts.pipe(Effect.provide(layer))
    yield* Console.log(`TradeStation accounts: ${accounts.map((a) => `${a.AccountID} (${a.AccountType ?? "?"})`).join(", ")}`)
    return { accounts: accounts.map((a) => a.AccountID), events }
  })

/**
 * The whole program against an in-process emulator: a callback listener on a free port, the emulator's rotating
 * demo key with that listener's `http://localhost:<port>` as its Allowed Callback URL, a memory store, the login,
 * then the bot.
 */
export const main: Effect.Effect<Report, unknown> = Effect.gen(function*() {
  const listener = yield* Layer.build(NodeHttpServer.layer(() => http.createServer(), { host: "127.0.0.1", port: 0 }))
  const server = Context.get(listener, HttpServer.HttpServer)
  const port = server.address._tag === "TcpAddress" ? server.address.port : 0
  const callbackUrl = `http://localhost:${port}`
  const key = { ...Clients.tradestationRotatingDemo, callbackUrls: [callbackUrl] }
  const emulator = yield* Emulator.make({ clients: { tradestation: [key] } })
  yield* Console.log(`TradeStation: the emulator at ${emulator.baseUrl}, its rotating demo key, callback ${callbackUrl}`)
  const options: TradeStation.Options = {
    clientId: key.clientId,
    clientSecret: key.clientSecret,
    hosts: emulator.brokerUrls.tradestation,
    callbackUrl,
    rotation: true
  }
  yield* login(options, emulatedBrowser).pipe(Effect.provideService(HttpServer.HttpServer, server))
  return yield* bot(options)
}).pipe(
  Effect.scoped,
  Effect.provide(TokenStore.layerMemory),
  Effect.provide(NodeHttpClient.layerUndici)
)

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  NodeRuntime.runMain(main)
}
