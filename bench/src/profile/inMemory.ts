/**
 * The in-memory setup shared by `fake.ts` and `work.ts`: a transport that answers in memory (one `setImmediate` per
 * answer, a 2-byte body with a Content-Length), a fixed valid token, and the two clients compared over it: the bare
 * one with a fixed header, and `withAccessToken`.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as AccessToken from "@effect-oauth2/core/AccessToken"
import type * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as OAuth2HttpClient from "@effect-oauth2/core/OAuth2HttpClient"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"

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
export const variants: Record<string, Effect.Effect<number, unknown>> = {
  bare: call(transport.pipe(HttpClient.mapRequest(HttpClientRequest.setHeader("authorization", "Bearer tok-0123456789abcdef")))),
  auth: call(OAuth2HttpClient.withAccessToken(transport, tokens))
}
