/**
 * tastytrade: tokens from a personal grant, with no browser at all, and `customers/me` as the credential self-test.
 *
 *   pnpm --filter @effect-oauth2/examples tastytrade
 *   pnpm --filter @effect-oauth2/examples tastytrade --login        (a partner app's login instead of a grant)
 *   pnpm exec tsx --conditions=source examples/src/tastytrade.ts     (from the repository root)
 *
 * A personal grant is a refresh token minted in tastytrade's web UI (OAuth Applications > Manage > Create Grant). The
 * layer refreshes it for 15-minute access tokens (a JSON body, a `User-Agent`, `error_code` errors read as typed ones)
 * and keeps one cached. A grant tastytrade refuses (deleted, or from the other environment) is dead: `LoginRequired`,
 * never sent again; it needs a new grant, which the program says.
 *
 * Runs against an in-process emulator by default (its demo app and grant). With `TASTYTRADE_CLIENT_ID`,
 * `TASTYTRADE_CLIENT_SECRET` and `TASTYTRADE_REFRESH_TOKEN` set, it calls tastytrade (the sandbox,
 * `api.cert.tastyworks.com`, unless `TASTYTRADE_ENV=production`).
 *
 * `--login`: an app tastytrade approved as a partner logs the user in instead (authorization code on a loopback
 * callback, `Tastytrade.login`), and the same program runs on the stored login, no grant given. Against the emulator
 * (which approves at once, this program playing the browser) unless `TASTYTRADE_CLIENT_ID` is set; then the callback
 * listens on `TASTYTRADE_CALLBACK_PORT` (default 8765), the port of the redirect URI the app registered.
 */
import { TokenStore } from "@effect-oauth2/core"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import { Customer, Tastytrade } from "@effect-oauth2/tastytrade"
import { HttpClient, type HttpServerError } from "@effect/platform"
import { NodeHttpClient, NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Config, Console, Effect, Option, type Scope } from "effect"
import type { ConfigError } from "effect/ConfigError"
import * as http from "node:http"
import { pathToFileURL } from "node:url"

/** What the program saw: who the grant belongs to, or why it was refused. */
export type Report =
  | { readonly _tag: "Customer"; readonly id: string }
  | { readonly _tag: "GrantRefused" }

/** `customers/me` with the grant of `settings`; a refused grant is reported, every other error fails. */
export const program = (settings: Tastytrade.Options) =>
  Customer.me.pipe(
    Effect.tap((me) => Console.log(`tastytrade customer ${me.id} (${me.firstName ?? "?"} ${me.lastName ?? "?"})`)),
    Effect.map((me): Report => ({ _tag: "Customer", id: me.id })),
    Effect.catchTag(
      "LoginRequired",
      (error) =>
        Effect.as(
          Console.log(`the grant was refused (${error.message}): create a new one and set TASTYTRADE_REFRESH_TOKEN`),
          { _tag: "GrantRefused" } as const
        )
    ),
    Effect.provide(Tastytrade.layer(settings))
  )

/** The settings of a running emulator's demo app and grant. */
export const emulatorSettings = (emulator: Emulator.Emulator): Tastytrade.Options => ({
  clientId: Clients.tastytradeDemo.clientId,
  clientSecret: Clients.tastytradeDemo.clientSecret,
  refreshToken: Clients.tastytradeDemo.grants[0].refreshToken,
  hosts: emulator.brokerUrls.tastytrade
})

/**
 * Your app and grant from `TASTYTRADE_*` when `TASTYTRADE_CLIENT_ID` is set, otherwise the demo app of an emulator
 * started in the current scope. Says which one it uses.
 */
export const settings: Effect.Effect<Tastytrade.Options, ConfigError | HttpServerError.ServeError, Scope.Scope> = Effect
  .gen(function*() {
    if (Option.isSome(yield* Config.option(Config.nonEmptyString("TASTYTRADE_CLIENT_ID")))) {
      const fromEnv = yield* Tastytrade.config
      yield* Console.log(`tastytrade: the real API (${fromEnv.environment}), app and grant from TASTYTRADE_*`)
      return fromEnv
    }
    const emulator = yield* Emulator.make()
    yield* Console.log(
      `tastytrade: the emulator at ${emulator.baseUrl} with its demo app and grant ` +
        "(set TASTYTRADE_CLIENT_ID, TASTYTRADE_CLIENT_SECRET and TASTYTRADE_REFRESH_TOKEN to call tastytrade)"
    )
    return emulatorSettings(emulator)
  })

/** The whole program, with {@link settings}. */
export const main: Effect.Effect<Report, unknown, never> = Effect.flatMap(settings, program).pipe(
  Effect.scoped,
  Effect.provide(NodeHttpClient.layerUndici)
)

// -----------------------------------------------------------------------------
// login mode (--login): a partner app
// -----------------------------------------------------------------------------

/**
 * What the user's browser does in the emulator run: open the authorize URL, which the emulator redirects straight
 * to the callback, and follow that redirect.
 */
export const emulatedBrowser = (url: string): Effect.Effect<void, never, HttpClient.HttpClient> =>
  Effect.flatMap(HttpClient.HttpClient, (client) =>
    HttpClient.followRedirects(client, 1).get(url).pipe(
      Effect.flatMap((response) => response.text),
      Effect.scoped,
      Effect.asVoid,
      Effect.orDie
    ))

/**
 * Logs in (the partner's authorization code), then runs {@link program} on the stored login: `Tastytrade.login` and
 * `Tastytrade.layer` (given no refresh token) meet in the `TokenStore` from the context.
 */
export const loginAndRun = (
  app: Tastytrade.Options,
  options: { readonly port: number; readonly onAuthorizeUrl: (url: string) => Effect.Effect<void, never, HttpClient.HttpClient> }
) =>
  Effect.gen(function*() {
    const partner: Tastytrade.Options = { ...app, refreshToken: undefined }
    const token = yield* Tastytrade.login(partner, { onAuthorizeUrl: options.onAuthorizeUrl }).pipe(
      // The callback listener lives only while the login waits for the redirect.
      Effect.provide(NodeHttpServer.layer(() => http.createServer(), { host: "127.0.0.1", port: options.port }))
    )
    yield* Console.log(`logged in${token.refreshToken === undefined ? "" : " (with a refresh token)"}`)
    return yield* program(partner)
  })

/** `--login`: your partner app from `TASTYTRADE_*`, or the emulator's demo app. */
export const loginMain = Effect.gen(function*() {
  if (Option.isSome(yield* Config.option(Config.nonEmptyString("TASTYTRADE_CLIENT_ID")))) {
    const app = yield* Tastytrade.config
    const port = yield* Config.withDefault(Config.port("TASTYTRADE_CALLBACK_PORT"), 8765)
    yield* Console.log(`tastytrade: the real login (${app.environment ?? "sandbox"}), app from TASTYTRADE_*`)
    return yield* loginAndRun(app, {
      port,
      onAuthorizeUrl: (url) => Console.log(`Open this URL in your browser and approve the access:\n  ${url}`)
    })
  }
  const emulator = yield* Emulator.make()
  yield* Console.log(
    `tastytrade: the emulator at ${emulator.baseUrl} with its demo app (set TASTYTRADE_CLIENT_ID and ` +
      "TASTYTRADE_CLIENT_SECRET to log in to tastytrade)"
  )
  return yield* loginAndRun(emulatorSettings(emulator), {
    port: 0,
    onAuthorizeUrl: (url) =>
      Console.log(`authorize URL (the emulator approves it; this program plays the browser):\n  ${url}`).pipe(
        Effect.zipRight(emulatedBrowser(url))
      )
  })
}).pipe(
  Effect.scoped,
  Effect.provide(TokenStore.layerMemory),
  Effect.provide(NodeHttpClient.layerUndici)
)

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  NodeRuntime.runMain(process.argv.slice(2).includes("--login") ? loginMain : main)
}
