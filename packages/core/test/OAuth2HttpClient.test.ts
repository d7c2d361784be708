import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as AccessTokens from "../src/AccessTokens.js"
import * as Endpoint from "../src/Endpoint.js"
import * as OAuth2Client from "../src/OAuth2Client.js"
import * as OAuth2HttpClient from "../src/OAuth2HttpClient.js"
import * as TokenServer from "./utils/tokenServer.js"

/**
 * One loopback server playing both roles: `/token` issues `tok-<n>`, `/api/...` answers 200 only to tokens in
 * `accepted`, 401 (RFC 6750 invalid_token) otherwise; `/api/scoped` answers 403 insufficient_scope.
 */
const setup = (accepted: (token: string) => boolean) =>
  Effect.gen(function*() {
    let issued = 0
    const apiCalls: Array<{ path: string; authorization: string | undefined }> = []
    const server = yield* TokenServer.make((request) => {
      if (request.path === "/token") {
        return TokenServer.token({ access_token: `tok-${issued++}`, scope: "read" })
      }
      apiCalls.push({ path: request.path, authorization: request.headers.authorization })
      const token = (request.headers.authorization ?? "").replace(/^Bearer /, "")
      if (request.path === "/api/scoped") {
        return TokenServer.reply("", {
          status: 403,
          headers: { "www-authenticate": `Bearer error="insufficient_scope", scope="trade", error_description="needs trade"` }
        })
      }
      if (!accepted(token)) {
        return TokenServer.reply("", {
          status: 401,
          headers: { "www-authenticate": `Bearer realm="api", error="invalid_token"` }
        })
      }
      return TokenServer.json({ ok: true, path: request.path })
    })
    const http = yield* Layer.build(NodeHttpClient.layerUndici)
    const base = yield* HttpClient.HttpClient.pipe(Effect.provide(http))
    const client = yield* Endpoint.make({ provider: "test", tokenUrl: server.url("/token"), authMethod: "client_secret_post" }).pipe(
      Effect.flatMap((endpoint) => OAuth2Client.make({ endpoint, credentials: Endpoint.credentials("id", "secret") })),
      Effect.provide(http),
      Effect.orDie
    )
    const tokens = yield* AccessTokens.make().pipe(Effect.provideService(OAuth2Client.OAuth2Client, client))
    const tokenRequests = Effect.map(server.requests, (all) => all.filter((r) => r.path === "/token").length)
    return { server, base, tokens, apiCalls, tokenRequests }
  })

describe("OAuth2HttpClient.withAccessToken", () => {
  it.scoped("adds the bearer token; the token is requested once for many calls", () =>
    Effect.gen(function*() {
      const { apiCalls, base, server, tokenRequests, tokens } = yield* setup(() => true)
      const authorised = OAuth2HttpClient.withAccessToken(base, tokens)
      for (let i = 0; i < 5; i++) {
        const response = yield* authorised.get(server.url("/api/accounts"))
        assert.strictEqual(response.status, 200)
      }
      assert.strictEqual(yield* tokenRequests, 1)
      assert.deepStrictEqual(apiCalls.map((c) => c.authorization), Array(5).fill("Bearer tok-0"))
    }))

  it.scoped("a 401 invalidates the token and replays the request once with a new one", () =>
    Effect.gen(function*() {
      // tok-0 is dead at the API (revoked behind our back); tok-1 works.
      const { apiCalls, base, server, tokenRequests, tokens } = yield* setup((t) => t !== "tok-0")
      const authorised = OAuth2HttpClient.withAccessToken(base, tokens)
      const response = yield* authorised.post(server.url("/api/orders"), { body: undefined })
      assert.strictEqual(response.status, 200)
      assert.deepStrictEqual(apiCalls.map((c) => [c.path, c.authorization]), [
        ["/api/orders", "Bearer tok-0"],
        ["/api/orders", "Bearer tok-1"]
      ])
      assert.strictEqual(yield* tokenRequests, 2)
      // The new token is now the cached one.
      yield* authorised.get(server.url("/api/orders"))
      assert.strictEqual(apiCalls[2]!.authorization, "Bearer tok-1")
      assert.strictEqual(yield* tokenRequests, 2)
    }))

  it.scoped("a second 401 fails with Unauthorized (rejected-token) and never loops", () =>
    Effect.gen(function*() {
      const { apiCalls, base, server, tokenRequests, tokens } = yield* setup(() => false)
      const authorised = OAuth2HttpClient.withAccessToken(base, tokens)
      const error = yield* Effect.flip(authorised.get(server.url("/api/accounts")))
      assert.strictEqual(error._tag, "Unauthorized")
      if (error._tag === "Unauthorized") {
        assert.strictEqual(error.reason, "rejected-token")
        assert.strictEqual(error.source, "resource-server")
        assert.include(error.message, "freshly acquired token")
      }
      assert.strictEqual(apiCalls.length, 2)
      assert.strictEqual(yield* tokenRequests, 2)
    }))

  it.scoped("a 403 insufficient_scope becomes InvalidScope naming the token's scopes and the scope required", () =>
    Effect.gen(function*() {
      const { base, server, tokenRequests, tokens } = yield* setup(() => true)
      const authorised = OAuth2HttpClient.withAccessToken(base, tokens)
      const error = yield* Effect.flip(authorised.get(server.url("/api/scoped")))
      assert.strictEqual(error._tag, "InvalidScope")
      if (error._tag === "InvalidScope") {
        assert.deepStrictEqual(error.requestedScopes, ["read"])
        assert.strictEqual(error.requiredScope, "trade")
        assert.strictEqual(error.source, "resource-server")
        assert.isFalse(error.retryable)
      }
      assert.strictEqual(yield* tokenRequests, 1, "a new token would not help, so none is requested")
    }))

  it.scoped("a base URL applied outside the middleware is not doubled on replay", () =>
    Effect.gen(function*() {
      const { apiCalls, base, server, tokens } = yield* setup((t) => t !== "tok-0")
      const authorised = OAuth2HttpClient.withAccessToken(base, tokens).pipe(
        HttpClient.mapRequest(HttpClientRequest.prependUrl(server.url("/api")))
      )
      const response = yield* authorised.get("/positions")
      assert.strictEqual(response.status, 200)
      assert.deepStrictEqual(apiCalls.map((c) => c.path), ["/api/positions", "/api/positions"])
    }))

  it.scoped("the token is only sent to allowed origins", () =>
    Effect.gen(function*() {
      const { apiCalls, base, server, tokenRequests, tokens } = yield* setup(() => true)
      const authorised = OAuth2HttpClient.withAccessToken(base, tokens, { allowedOrigins: [server.origin] })
      assert.strictEqual((yield* authorised.get(server.url("/api/ok"))).status, 200)
      const elsewhere = yield* Effect.flip(authorised.get("http://127.0.0.2:9/steal"))
      assert.strictEqual(elsewhere._tag, "InvalidConfiguration")
      assert.include(elsewhere.message, "refusing to send")
      const relative = yield* Effect.exit(authorised.get("/relative"))
      assert.isTrue(Exit.isFailure(relative))
      assert.strictEqual(apiCalls.length, 1)
      assert.strictEqual(yield* tokenRequests, 1)
    }))

  it.scoped("make takes the client and the tokens from the context", () =>
    Effect.gen(function*() {
      const { base, server, tokens } = yield* setup(() => true)
      const authorised = yield* OAuth2HttpClient.make().pipe(
        Effect.provideService(HttpClient.HttpClient, base),
        Effect.provideService(AccessTokens.AccessTokens, tokens)
      )
      assert.strictEqual((yield* authorised.get(server.url("/api/ok"))).status, 200)
    }))

  it.effect("works with the test layer of AccessTokens, with no token endpoint at all", () =>
    Effect.gen(function*() {
      const tokens = yield* AccessTokens.AccessTokens
      const server = yield* TokenServer.make((request) =>
        request.headers.authorization === "Bearer scripted" ? TokenServer.json({ ok: true }) : TokenServer.reply("", { status: 401 })
      )
      const base = yield* HttpClient.HttpClient
      const response = yield* OAuth2HttpClient.withAccessToken(base, tokens).get(server.url("/api"))
      assert.strictEqual(response.status, 200)
    }).pipe(
      Effect.provide(AccessTokens.layerTest({ script: ["scripted"] })),
      Effect.provide(NodeHttpClient.layerUndici),
      Effect.scoped
    ))

  it("parses Bearer challenges (RFC 6750 §3)", () => {
    assert.deepStrictEqual(OAuth2HttpClient.parseBearerChallenge(`Bearer realm="example", error="invalid_token", error_description="The access token expired"`), {
      realm: "example",
      error: "invalid_token",
      error_description: "The access token expired"
    })
    assert.deepStrictEqual(OAuth2HttpClient.parseBearerChallenge(`Basic realm="x", Bearer error=insufficient_scope, scope="a b"`), {
      error: "insufficient_scope",
      scope: "a b"
    })
    assert.isUndefined(OAuth2HttpClient.parseBearerChallenge(`Basic realm="x"`))
    assert.isUndefined(OAuth2HttpClient.parseBearerChallenge(undefined))
  })
})
