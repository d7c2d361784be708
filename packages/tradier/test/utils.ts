import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import * as http from "node:http"

/** The loopback server the login's callback listener runs on: a free port on 127.0.0.1. */
export const CallbackServer = NodeHttpServer.layer(() => http.createServer(), { host: "127.0.0.1", port: 0 })

/** What the user's browser saw during a login. */
export interface Visit {
  /** The authorize URL the application gave. */
  readonly authorizeUrl: string
  /** Where the provider sent the browser back (the callback URL, with code and state). */
  readonly callbackUrl: string | undefined
  /** The callback page's status. */
  readonly callbackStatus: number | undefined
}

/**
 * The user's browser: opens the authorize URL (the emulator, in auto-approve or auto-deny mode, redirects at once),
 * then follows the redirect to the callback listener. `tamper` may change the authorize URL first. One redirect
 * followed, no more.
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
      callbackStatus = yield* client.get(callbackUrl).pipe(
        Effect.flatMap((response) => Effect.as(response.text, response.status)),
        Effect.scoped
      )
    }
    visits.push({ authorizeUrl, callbackUrl, callbackStatus })
  }).pipe(Effect.orDie)

/** Waits, on real time and a bounded number of times, until `n` fibers sleep on the TestClock. */
export const awaitSleepers = (n: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < 1000; i++) {
      if ((yield* TestClock.sleeps()).length >= n) return
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 2)))
    }
    return yield* Effect.dieMessage(`no ${n} sleeper(s) on the TestClock`)
  })
