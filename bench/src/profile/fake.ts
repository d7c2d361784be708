/**
 * CPU per request of the authorised client over a transport that answers in memory (one `setImmediate` per answer,
 * a 2-byte body with a Content-Length), against the same transport with a fixed header: what `withAccessToken`
 * itself costs, without the network's noise. `tsx bench/src/profile/fake.ts [rounds] [segmentMs] [concurrency]`.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as AccessToken from "@effect-oauth2/core/AccessToken"
import type * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as OAuth2HttpClient from "@effect-oauth2/core/OAuth2HttpClient"
import * as Redacted from "effect/Redacted"
import * as Effect from "effect/Effect"
import { segment } from "../ours.js"

const rounds = Number(process.argv[2] ?? 6)
const segmentMs = Number(process.argv[3] ?? 300)
const concurrency = Number(process.argv[4] ?? 50)

const transport = HttpClient.make((request) =>
  Effect.async<HttpClientResponse.HttpClientResponse>((resume) => {
    const handle = setImmediate(() =>
      resume(Effect.succeed(HttpClientResponse.fromWeb(request, new Response("ok", { status: 200, headers: { "content-length": "2" } }))))
    )
    return Effect.sync(() => clearImmediate(handle))
  })
)

const now = Date.now()
const token = new AccessToken.AccessToken({
  value: Redacted.make("tok-0123456789abcdef"),
  type: "Bearer",
  extra: {},
  issuedAt: now,
  expiresAt: now + 3_600_000,
  scopes: []
} as never)
const tokens: AccessTokens.Service = {
  provider: "fake",
  get: Effect.succeed(token),
  refresh: Effect.succeed(token),
  invalidate: () => Effect.void,
  revoke: Effect.void,
  current: Effect.die("unused"),
  set: () => Effect.void
} as never

const url = "http://127.0.0.1:1/resource"
const call = (client: HttpClient.HttpClient.With<unknown>) =>
  Effect.flatMap(client.get(url), (response) => Effect.as(Effect.orDie(response.arrayBuffer), response.status))
const variants: Record<string, Effect.Effect<number, unknown>> = {
  bare: call(transport.pipe(HttpClient.mapRequest(HttpClientRequest.setHeader("authorization", "Bearer tok-0123456789abcdef")))),
  auth: call(OAuth2HttpClient.withAccessToken(transport, tokens))
}
const names = (process.env.VARIANTS ?? "bare,auth").split(",")
const results = new Map<string, Array<number>>(names.map((n) => [n, []]))
await Effect.runPromise(Effect.gen(function*() {
  for (const n of names) yield* segment(variants[n]!, segmentMs, concurrency)
  for (let r = 0; r < rounds; r++) {
    for (const n of r % 2 ? [...names].reverse() : names) {
      results.get(n)!.push((yield* segment(variants[n]!, segmentMs, concurrency)).cpuUsPerRequest)
    }
  }
}))
const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const base = median(results.get(names[0]!)!)
for (const [n, xs] of results) {
  console.log(`${n.padEnd(8)} ${median(xs).toFixed(1).padStart(7)} µs/req  +${(median(xs) - base).toFixed(1)}  (${xs.map((x) => x.toFixed(0)).join(" ")})`)
}
