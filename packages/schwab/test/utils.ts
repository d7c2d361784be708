import type * as LoopbackHttps from "@effect-oauth2/node/LoopbackHttps"
import { Clients } from "@effect-oauth2/emulator"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Https from "node:https"

export const demo = Clients.schwabDemo

/** A GET over TLS trusting `ca` only, following nothing: the status, and the body. */
export const httpsGet = (url: string, ca: string) =>
  Effect.async<{ readonly status: number; readonly body: string }, Error>((resume) => {
    const request = Https.get(url, { ca, timeout: 5000, agent: false }, (response) => {
      const chunks: Array<Buffer> = []
      response.on("data", (c: Buffer) => chunks.push(c))
      response.on("end", () => resume(Effect.succeed({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") })))
    })
    request.on("timeout", () => request.destroy(new Error("timeout")))
    request.on("error", (e) => resume(Effect.fail(e)))
  })

/** What the user's browser did: the callback URL Schwab (the emulator) sent it to, and the callback page's status. */
export interface Visit {
  readonly callbackUrl: string | undefined
  readonly callbackStatus: number | undefined
}

/**
 * The user's browser: opens the authorize URL (the emulator redirects at once), then, when `follow`, follows the
 * redirect to the HTTPS callback, trusting the run-time certificate (as the user does, past the browser's warning).
 */
export const browser = (
  visits: Array<Visit>,
  options: { readonly certificate?: LoopbackHttps.Certificate | undefined; readonly rewrite?: (url: URL) => void } = {}
) =>
(authorizeUrl: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const target = new URL(authorizeUrl)
    options.rewrite?.(target)
    const first = yield* client.execute(HttpClientRequest.get(target.toString())).pipe(Effect.scoped)
    const callbackUrl = first.status === 302 ? first.headers["location"] : undefined
    let callbackStatus: number | undefined
    if (callbackUrl !== undefined && options.certificate !== undefined) {
      callbackStatus = (yield* httpsGet(callbackUrl, options.certificate.certificate)).status
    }
    visits.push({ callbackUrl, callbackStatus })
  }).pipe(Effect.orDie)

/**
 * A paste-mode login's two ends: `onAuthorizeUrl` runs the browser (no listener: it does not follow the redirect),
 * and `paste` hands over the URL the browser landed on, through `tamper` first.
 */
export const pasteFromBrowser = (tamper: (landed: string) => string = (url) => url) =>
  Effect.map(Deferred.make<string>(), (landed) => ({
    onAuthorizeUrl: (url: string) =>
      Effect.gen(function*() {
        const visits: Array<Visit> = []
        yield* browser(visits)(url)
        yield* Deferred.succeed(landed, tamper(visits[0]?.callbackUrl ?? ""))
      }),
    paste: Deferred.await(landed)
  }))
