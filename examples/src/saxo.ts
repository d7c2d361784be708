/**
 * Saxo Bank OpenAPI, offline: a PKCE app logs in at the emulator (the emulated user consents at once), the tokens go
 * to a token store, and a bot reads them from there, calls `port/v1/users/me` and renews the pair with Saxo's
 * rotating refresh tokens, each refresh re-sending the login's `code_verifier` and `redirect_uri`.
 *
 *   pnpm --filter @effect-oauth2/examples saxo
 *   pnpm exec tsx --conditions=source examples/src/saxo.ts     (from the repository root)
 *
 * Against Saxo itself, log in once with `effect-oauth2 login saxo` (SAXO_CLIENT_ID, and SAXO_CLIENT_SECRET for a
 * confidential app), which stores the tokens in the encrypted token file; a bot then uses `Saxo.layerConfig()` over
 * `FileTokenStore.layerConfig()` (or a Redis store shared by several processes). A Saxo refresh token dies about an
 * hour after the last refresh: a bot that was down longer gets `LoginRequired` and must log in again.
 */
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import { Saxo, Users } from "@effect-oauth2/saxo"
import { HttpClient } from "@effect/platform"
import { NodeHttpClient, NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Console, Context, Effect, Layer, Redacted } from "effect"
import * as http from "node:http"
import { pathToFileURL } from "node:url"

/** What the program saw. */
export interface Report {
  readonly userId: string | undefined
  /** How many refresh tokens the emulator saw spent, each once. */
  readonly refreshes: number
  /** Whether the stored pair kept the login's PKCE verifier (it stays `Redacted`: never printed). */
  readonly verifierKept: boolean
}

/** The emulated user's browser: opens the authorize URL and follows the redirect to the callback listener. */
const browser = (authorizeUrl: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const consent = yield* client.get(authorizeUrl).pipe(Effect.scoped)
    const callback = consent.headers["location"]
    if (callback !== undefined) yield* client.get(callback).pipe(Effect.flatMap((r) => r.text), Effect.scoped)
  }).pipe(Effect.orDie)

/** Logs in with the emulator's PKCE demo app, then runs a "bot" from the store. */
export const program = Effect.gen(function*() {
  const emulator = yield* Emulator.make()
  const store = yield* TokenStore.makeMemory
  const options: Saxo.Options = { clientId: Clients.saxoPkceDemo.clientId, hosts: emulator.brokerUrls.saxo }
  yield* Console.log(`saxo: the emulator at ${emulator.baseUrl}, PKCE app ${options.clientId} (no secret)`)

  // 1. The login (what `effect-oauth2 login saxo` does): a loopback callback on 127.0.0.1, any free port.
  yield* Saxo.login(options, { onAuthorizeUrl: browser, timeout: "1 minute" }).pipe(
    Effect.provide(NodeHttpServer.layer(() => http.createServer(), { host: "127.0.0.1", port: 0 })),
    Effect.provideService(TokenStore.TokenStore, store)
  )

  // 2. The bot: tokens from the store, the OpenAPI, and two renewals of the pair.
  const bot = yield* Layer.build(Saxo.layer(options).pipe(Layer.provide(Layer.succeed(TokenStore.TokenStore, store))))
  const me = yield* Context.get(bot, Users.Users).me
  yield* Console.log(`saxo user ${me.UserId ?? me.UserKey} (${me.Name ?? "?"}), client ${me.ClientKey}`)
  const tokens = Context.get(bot, Saxo.Tokens)
  yield* tokens.refresh
  const renewed = yield* tokens.refresh
  const diesIn = Math.round(((renewed.refreshTokenExpiresAt ?? 0) - Date.now()) / 60_000)
  yield* Console.log(`renewed twice; the newest refresh token dies in about ${diesIn} minutes unless used`)

  const spent = (yield* emulator.tokens).filter((t) => t.provider === "saxo" && t.kind === "refresh" && t.uses > 0)
  return {
    userId: me.UserId,
    refreshes: spent.length,
    verifierKept: renewed.codeVerifier !== undefined && Redacted.value(renewed.codeVerifier).length >= 43
  } satisfies Report
}).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  NodeRuntime.runMain(program)
}
