import * as AccessToken from "@effect-oauth2/core/AccessToken"
import type * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as http from "node:http"
import { TradeStation } from "../src/index.js"

/** What the user's browser saw during a login. */
export interface Visit {
  readonly authorizeUrl: string
  /** Where Auth0 sent the browser back (the callback URL with code and state), or its error page's status. */
  readonly callbackUrl: string | undefined
  readonly authorizeStatus: number
  readonly callbackStatus: number | undefined
}

/**
 * The user's browser: opens the authorize URL (the emulator redirects at once), then follows the redirect to the
 * callback listener. `localhost` is dialled as 127.0.0.1 (the listener's address; a browser tries both). One
 * redirect followed, no more.
 */
export const browser = (visits: Array<Visit>, tamper?: (url: URL) => void) => (authorizeUrl: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const target = new URL(authorizeUrl)
    tamper?.(target)
    const first = yield* client.get(target.toString()).pipe(Effect.scoped)
    const callbackUrl = first.status === 302 ? first.headers["location"] : undefined
    let callbackStatus: number | undefined
    if (callbackUrl !== undefined) {
      const dialled = new URL(callbackUrl)
      dialled.hostname = "127.0.0.1"
      callbackStatus = yield* client.get(dialled.toString()).pipe(
        Effect.flatMap((response) => Effect.as(response.text, response.status)),
        Effect.scoped
      )
    }
    visits.push({ authorizeUrl, callbackUrl, authorizeStatus: first.status, callbackStatus })
  }).pipe(Effect.orDie)

/** A callback listener on a free loopback port, and that port. */
export const callbackServer = Effect.gen(function*() {
  const context = yield* Layer.build(
    NodeHttpServer.layer(() => http.createServer(), { host: "127.0.0.1", port: 0 })
  ).pipe(Effect.orDie)
  const address = Context.get(context, HttpServer.HttpServer).address
  if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("the callback server has no TCP address")
  return { server: Context.get(context, HttpServer.HttpServer), port: address.port }
})

/** The two demo keys, with an Allowed Callback URL on the test's listener. */
export type Key = "demo" | "rotating"

/**
 * An emulator whose two TradeStation keys allow `http://localhost:<port>` (the listener's port; the demo key also
 * that URL with each of `callbackPaths`), a memory store, and a login against them.
 */
export const start = (brokers?: Emulator.TradeStationOptions, callbackPaths: ReadonlyArray<string> = []) =>
  Effect.gen(function*() {
    const callback = yield* callbackServer
    const callbackUrl = `http://localhost:${callback.port}`
    const keys = {
      demo: {
        ...Clients.tradestationDemo,
        callbackUrls: [
          ...Clients.tradestationDemo.callbackUrls,
          callbackUrl,
          ...callbackPaths.map((path) => callbackUrl + path)
        ]
      },
      rotating: { ...Clients.tradestationRotatingDemo, callbackUrls: [callbackUrl] }
    }
    const emulator = yield* Emulator.make({
      clients: { tradestation: [keys.demo, keys.rotating] },
      brokers: { tradestation: brokers }
    }).pipe(Effect.orDie)
    const http = yield* Layer.build(NodeHttpClient.layerUndici)
    const store = yield* TokenStore.makeMemory
    const options = (key: Key, more: Partial<TradeStation.Options> = {}): TradeStation.Options => ({
      clientId: keys[key].clientId,
      clientSecret: keys[key].clientSecret,
      hosts: emulator.brokerUrls.tradestation,
      callbackUrl,
      rotation: key === "rotating",
      ...more
    })
    const visits: Array<Visit> = []
    const login = (key: Key, more: Partial<TradeStation.Options> = {}, tamper?: (url: URL) => void) =>
      TradeStation.login(options(key, more), { onAuthorizeUrl: browser(visits, tamper), timeout: "30 seconds" }).pipe(
        Effect.provideService(HttpServer.HttpServer, callback.server),
        Effect.provideService(TokenStore.TokenStore, store),
        Effect.provide(http)
      )
    const build = (key: Key, more: Partial<TradeStation.Options> = {}, tokenStore: TokenStore.Service = store) =>
      Layer.build(
        TradeStation.layer(options(key, more)).pipe(
          Layer.provide(Layer.succeed(TokenStore.TokenStore, tokenStore)),
          Layer.provide(Layer.succeedContext(http))
        )
      )
    return { emulator, store, http, callback, callbackUrl, keys, options, login, build, visits }
  })

/** A copy of `token` that expired a second ago, for a refresh on the first `get`. */
export const expired = (token: AccessToken.AccessToken, now: number) =>
  new AccessToken.AccessToken({ ...token, issuedAt: now - 2000, expiresAt: now - 1000 })

/** The settings type the conformance suite builds with. */
export type Settings = OAuth2Provider.Settings
