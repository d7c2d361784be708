import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"

/** A plain HTTP client (fetch), redirects not followed: no part of @effect-oauth2/core. */
export const HttpLive = NodeHttpClient.layer

export interface Reply {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

export const send = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(request)
    const body = yield* response.text
    return { status: response.status, headers: response.headers, body } satisfies Reply
  }).pipe(Effect.scoped)

export const postForm = (url: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
  send(HttpClientRequest.post(url).pipe(HttpClientRequest.bodyUrlParams(form), HttpClientRequest.setHeaders(headers)))

export const postText = (url: string, body: string, contentType: string, headers: Record<string, string> = {}) =>
  send(HttpClientRequest.post(url).pipe(HttpClientRequest.bodyText(body, contentType), HttpClientRequest.setHeaders(headers)))

export const get = (url: string, headers: Record<string, string> = {}) =>
  send(HttpClientRequest.get(url).pipe(HttpClientRequest.setHeaders(headers)))

export const request = (method: "GET" | "POST" | "PUT" | "DELETE" | "PATCH", url: string, body?: string) =>
  send(
    HttpClientRequest.make(method)(url).pipe(
      body === undefined ? (r) => r : HttpClientRequest.bodyText(body, "application/json")
    )
  )

export const json = (reply: Reply): any => JSON.parse(reply.body)

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** `Basic base64(id:secret)`, without form-encoding (Openmarkets' sample). */
export const basicRaw = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${id}:${secret}`, "utf8").toString("base64")}`
})

const formEncode = (s: string) => new URLSearchParams({ s }).toString().slice(2)

/** `Basic base64(form(id):form(secret))`, RFC 6749 §2.3.1. */
export const basicForm = (id: string, secret: string) => basicRaw(formEncode(id), formEncode(secret))

/** Waits, on real time and a bounded number of times, until `n` fibers sleep on the TestClock. */
export const awaitSleepers = (n: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < 1000; i++) {
      if ((yield* TestClock.sleeps()).length >= n) return
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 2)))
    }
    return yield* Effect.dieMessage(`no ${n} sleeper(s) on the TestClock`)
  })

/** The query parameters of a redirect's Location. */
export const location = (reply: Reply): URL => new URL(reply.headers["location"]!)
