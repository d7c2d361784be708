/**
 * Charles Schwab: a browser login, then tokens refreshed for the 7 days Schwab allows, with the refresh token's death
 * heard as events, and `accounts/accountNumbers` as the credential self-test.
 *
 *   pnpm --filter @effect-oauth2/examples schwab
 *   pnpm exec tsx --conditions=source examples/src/schwab.ts     (from the repository root)
 *
 * Schwab's refresh token dies 7 days after the login, whatever the refreshes in between: the layer announces the
 * instant (`Scheduled`), warns 48 h, 12 h and 1 h before (`Warning`), and once it has passed `get` fails with
 * `LoginRequired` without sending the dead token; the program says to log in again.
 *
 * Runs against an in-process emulator by default: its demo app, and a login completed by "pasting" the URL the
 * emulator redirects to (what `effect-oauth2 login schwab --paste` does with the URL you copy from the browser). With
 * `SCHWAB_CLIENT_ID` and `SCHWAB_CLIENT_SECRET` set, it logs in to Schwab itself: it listens on your registered
 * callback (`SCHWAB_CALLBACK_URL`, default `https://127.0.0.1:8182`) over HTTPS with a certificate made at run time,
 * and prints the URL to open (the browser warns about the certificate: check the address and proceed).
 */
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import { LoopbackHttps } from "@effect-oauth2/node"
import { Accounts, Schwab } from "@effect-oauth2/schwab"
import type { HttpClient } from "@effect/platform"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Config, Console, Effect, Layer, Option, type Scope } from "effect"
import { pathToFileURL } from "node:url"

/** What the program saw: the accounts, or that a login is needed. */
export type Report =
  | { readonly _tag: "Accounts"; readonly accounts: ReadonlyArray<string>; readonly refreshTokenDiesAt: number | undefined }
  | { readonly _tag: "LoginRequired" }

/**
 * The bot's side: tokens from the `TokenStore` a login filled, the death announced on the console (a real bot would
 * page its operator), and the accounts listed. `LoginRequired` is reported, every other error fails.
 */
export const program = (settings: Schwab.Options) =>
  Effect.gen(function*() {
    const accounts = yield* Accounts.accountNumbers
    yield* Console.log(`schwab: ${accounts.length} account(s): ${accounts.map((a) => a.accountNumber).join(", ")}`)
    const token = yield* (yield* Schwab.Tokens).get
    return {
      _tag: "Accounts",
      accounts: accounts.map((a) => a.accountNumber),
      refreshTokenDiesAt: token.refreshTokenExpiresAt
    } as Report
  }).pipe(
    Effect.catchTag("LoginRequired", (error) =>
      Effect.as(
        Console.log(`${error.message} Run \`effect-oauth2 login schwab\`.`),
        { _tag: "LoginRequired" } as const
      )),
    Effect.provide(
      Schwab.layer({
        ...settings,
        onRefreshTokenEvent: (event) =>
          Console.log(
            event._tag === "Warning"
              ? `schwab: the refresh token dies in ${event.leadTime.toString()}: log in again before ${new Date(event.diesAt).toISOString()}`
              : event._tag === "Died"
              ? `schwab: the refresh token died (${event.reason}): log in again`
              : `schwab: the refresh token dies at ${new Date(event.diesAt).toISOString()} (7 days after the login)`
          )
      })
    )
  )

/** The settings of a running emulator's demo app. */
export const emulatorSettings = (emulator: Emulator.Emulator): Schwab.Options => ({
  clientId: Clients.schwabDemo.clientId,
  clientSecret: Clients.schwabDemo.clientSecret,
  callbackUrl: Clients.schwabDemo.callbackUrl,
  hosts: emulator.brokerUrls.schwab
})

/**
 * A login at the emulator: it approves at once and redirects the browser to the callback; the URL it redirects to is
 * pasted back (no listener), checked and exchanged at once.
 */
export const emulatorLogin = (settings: Schwab.Options) =>
  Effect.gen(function*() {
    let landed = ""
    return yield* Schwab.loginByPaste(settings, {
      onAuthorizeUrl: (url) =>
        Effect.promise(async () => {
          const answer = await fetch(url, { redirect: "manual" })
          await answer.text()
          landed = answer.headers.get("location") ?? ""
        }),
      paste: Effect.sync(() => landed)
    })
  })

/** A login at Schwab: HTTPS on the registered callback, the URL printed for you to open. */
const schwabLogin = (settings: Schwab.Options) =>
  Effect.gen(function*() {
    const callbackUrl = settings.callbackUrl ?? Schwab.defaultCallbackUrl
    const certificate = yield* LoopbackHttps.makeCertificate()
    return yield* Schwab.login(settings, {
      onAuthorizeUrl: (url) =>
        Console.log(`Open this URL to log in to Schwab:\n\n  ${url}\n\n${LoopbackHttps.browserWarning(callbackUrl, certificate)}`)
    }).pipe(Effect.provide(LoopbackHttps.layerFor(callbackUrl, { certificate })))
  })

/**
 * Your app from `SCHWAB_*` when `SCHWAB_CLIENT_ID` is set (logged in over HTTPS), otherwise the demo app of an
 * emulator started in the current scope (logged in by paste). Says which one it uses.
 */
export const loggedIn: Effect.Effect<
  Schwab.Options,
  unknown,
  Scope.Scope | TokenStore.TokenStore | HttpClient.HttpClient
> = Effect.gen(function*() {
  if (Option.isSome(yield* Config.option(Config.nonEmptyString("SCHWAB_CLIENT_ID")))) {
    const fromEnv = yield* Schwab.config
    yield* Console.log("schwab: the real API, app from SCHWAB_*")
    yield* schwabLogin(fromEnv)
    return fromEnv
  }
  const emulator = yield* Emulator.make()
  yield* Console.log(`schwab: the emulator at ${emulator.baseUrl} with its demo app (set SCHWAB_CLIENT_ID to use Schwab)`)
  const settings = emulatorSettings(emulator)
  yield* emulatorLogin(settings)
  return settings
})

/** The whole program: a login into a memory store, then the bot's side over it. */
export const main: Effect.Effect<Report, unknown, never> = Effect.flatMap(loggedIn, program).pipe(
  Effect.scoped,
  Effect.provide(Layer.merge(TokenStore.layerMemory, NodeHttpClient.layerUndici))
)

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  NodeRuntime.runMain(main)
}
