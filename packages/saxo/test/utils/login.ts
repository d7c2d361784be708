import * as TokenStore from "@effect-oauth2/core/TokenStore"
import { type Emulator } from "@effect-oauth2/emulator"
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Effect from "effect/Effect"
import * as http from "node:http"
import * as Saxo from "../../src/Saxo.js"

/** The loopback server the login's callback listener runs on: a free port on 127.0.0.1. */
export const CallbackServer = NodeHttpServer.layer(() => http.createServer(), { host: "127.0.0.1", port: 0 })

/** The emulator's demo apps are registered with `http://127.0.0.1:8765/callback` (any loopback port). */
export const callbackPath = "/callback"

/**
 * The user's browser: opens the authorize URL (Saxo's emulator redirects at once), then follows the one redirect to
 * the callback listener. Records the authorize URLs it was shown.
 */
export const browser = (seen: Array<string>) => (authorizeUrl: string) =>
  Effect.gen(function*() {
    seen.push(authorizeUrl)
    const client = yield* HttpClient.HttpClient
    const first = yield* client.get(authorizeUrl).pipe(Effect.scoped)
    const location = first.headers["location"]
    if (first.status !== 302 || location === undefined) return yield* Effect.dieMessage(`authorize answered ${first.status}`)
    yield* client.get(location).pipe(Effect.flatMap((response) => response.text), Effect.scoped)
  }).pipe(Effect.orDie)

/** A login of `options` at the emulator into `store`, through `Saxo.login`. */
export const loginInto = (
  emulator: Emulator.Emulator,
  options: Omit<Saxo.Options, "hosts">,
  store: TokenStore.Service,
  seen: Array<string> = []
) =>
  Saxo.login({ ...options, hosts: emulator.brokerUrls.saxo }, {
    onAuthorizeUrl: browser(seen),
    path: callbackPath,
    timeout: "20 seconds"
  }).pipe(
    Effect.provide(CallbackServer),
    Effect.provideService(TokenStore.TokenStore, store)
  )
