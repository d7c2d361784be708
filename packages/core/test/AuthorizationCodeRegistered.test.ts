/**
 * A registered redirect URI used verbatim by the loopback listener (its scheme, port and path), and the
 * paste-the-redirect-URL login (`completeFromRedirect`, `loginByPaste`): the state and the issuer checked as the
 * listener checks them, the code exchanged at once, a refused code explained.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as http from "node:http"
import * as AuthorizationCode from "../src/AuthorizationCode.js"
import * as Endpoint from "../src/Endpoint.js"
import * as OAuth2Client from "../src/OAuth2Client.js"
import * as TokenServer from "./utils/tokenServer.js"

const Client = NodeHttpClient.layerWithoutAgent.pipe(Layer.provide(NodeHttpClient.makeAgentLayer({ keepAlive: false })))

/** A token server answering with `script`, an endpoint (issuer `issuer` when given) and its client. */
const setup = (script: TokenServer.Script, issuer?: string) =>
  Effect.gen(function*() {
    const server = yield* TokenServer.make(script)
    const endpoint = yield* Endpoint.make({
      provider: "test",
      tokenUrl: server.url("/token"),
      authorizeUrl: server.url("/authorize"),
      authMethod: "client_secret_basic",
      issuer
    }).pipe(Effect.orDie)
    const client = yield* OAuth2Client.make({ endpoint, credentials: Endpoint.credentials("client-id", "s3cret") }).pipe(
      Effect.orDie
    )
    return { server, endpoint, client }
  })

const landing = (session: AuthorizationCode.Session, params: Record<string, string>) => {
  const url = new URL(session.redirectUri!)
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value)
  return url.toString()
}

describe("loopbackCallback with a registered redirect URI", () => {
  it.scoped("used verbatim: its scheme, and its path (`/` when it has none); the code read once decoded", () =>
    Effect.gen(function*() {
      const server = yield* HttpServer.HttpServer
      const port = (server.address as HttpServer.TcpAddress).port
      const registered = `https://127.0.0.1:${port}`
      const loopback = yield* AuthorizationCode.loopbackCallback({ redirectUri: registered, path: "/ignored" })
      assert.strictEqual(loopback.redirectUri, registered, "no trailing slash added")
      const { endpoint } = yield* setup(TokenServer.token())
      const session = yield* AuthorizationCode.authorize({ endpoint, clientId: "client-id", redirectUri: registered })
      assert.strictEqual(new URL(session.url).searchParams.get("redirect_uri"), registered)
      const wait = yield* loopback.expect(session)
      // The callback comes to `/` (the registered URI has no path), code ending in %40.
      const client = yield* HttpClient.HttpClient
      const answer = yield* client.execute(
        HttpClientRequest.get(`http://127.0.0.1:${port}/?code=abc%40&state=${Redacted.value(session.state)}`)
      ).pipe(Effect.scoped)
      assert.strictEqual(answer.status, 200)
      assert.strictEqual(Redacted.value(yield* wait), "abc@")
    }).pipe(Effect.provide(Layer.merge(NodeHttpServer.layer(() => http.createServer(), { host: "127.0.0.1", port: 0 }), Client))))

  it.scoped("refused before listening: another port, a host that is not loopback, a query, another scheme", () =>
    Effect.gen(function*() {
      const server = yield* HttpServer.HttpServer
      const port = (server.address as HttpServer.TcpAddress).port
      const cases: ReadonlyArray<readonly [string, string]> = [
        [`https://127.0.0.1:${port === 1 ? 2 : 1}`, "port"],
        ["https://127.0.0.1", "443 usually needs root"],
        [`https://example.com:${port}`, "not a loopback name"],
        [`https://127.0.0.1:${port}/cb?x=1`, "no query"],
        [`ftp://127.0.0.1:${port}`, "http or https"],
        ["not a url", "absolute URL"]
      ]
      for (const [redirectUri, says] of cases) {
        const error = yield* Effect.flip(AuthorizationCode.loopbackCallback({ redirectUri }))
        assert.strictEqual(error._tag, "InvalidConfiguration", redirectUri)
        assert.include(error.message, says, redirectUri)
      }
    }).pipe(Effect.provide(NodeHttpServer.layer(() => http.createServer(), { host: "127.0.0.1", port: 0 }))))
})

describe("completeFromRedirect", () => {
  it.scoped("the pasted URL's state and iss are checked as the listener's; the code is exchanged once", () =>
    Effect.gen(function*() {
      const { client, endpoint, server } = yield* setup(TokenServer.token({ access_token: "at", expires_in: 60 }), "https://issuer.example")
      const redirectUri = "https://127.0.0.1:8182"
      const start = AuthorizationCode.authorize({ endpoint, clientId: "client-id", redirectUri })
      const complete = (session: AuthorizationCode.Session, pasted: string) =>
        AuthorizationCode.completeFromRedirect(session, pasted).pipe(Effect.provideService(OAuth2Client.OAuth2Client, client))

      const session = yield* start
      const state = Redacted.value(session.state)
      const reasons: Array<string> = []
      for (
        const pasted of [
          landing(session, { code: "c1@", state: "forged" }),
          landing(session, { code: "c1@", state, iss: "https://evil.example" }),
          landing(session, { code: "c1@" }),
          `https://127.0.0.1:9999/?code=c1%40&state=${state}`,
          session.url,
          "just text"
        ]
      ) {
        const error = yield* Effect.flip(complete(session, pasted))
        reasons.push(error._tag === "AuthorizationFailed" ? error.reason : error._tag)
      }
      assert.deepStrictEqual(reasons, [
        "state_mismatch",
        "issuer_mismatch",
        "state_mismatch",
        "invalid_redirect",
        "invalid_redirect",
        "invalid_redirect"
      ])
      assert.strictEqual(yield* server.count, 0, "nothing of a refused paste was sent")

      const token = yield* complete(session, `  ${landing(session, { code: "c1@", state, iss: "https://issuer.example" })}\n`)
      assert.strictEqual(Redacted.value(token.value), "at")
      const sent = yield* server.last
      assert.deepStrictEqual([sent.form.code, sent.form.redirect_uri], ["c1@", redirectUri])
      // The state is good for one callback.
      const again = yield* Effect.flip(complete(session, landing(session, { code: "c1@", state })))
      assert.strictEqual(again._tag === "AuthorizationFailed" && again.reason, "state_mismatch")
      assert.strictEqual(yield* server.count, 1)
    }).pipe(Effect.provide(Client)))

  it.scoped("loginByPaste: a refused code says how long after the URL was shown, and to paste faster", () =>
    Effect.gen(function*() {
      const { client, server } = yield* setup(TokenServer.oauthError("invalid_grant", { status: 400 }))
      let shown = ""
      const error = yield* Effect.flip(
        AuthorizationCode.loginByPaste({
          redirectUri: "https://127.0.0.1:8182/cb",
          codeLifetime: "30 seconds",
          onAuthorizeUrl: (url) => Effect.sync(() => void (shown = url)),
          paste: Effect.sync(() => {
            const url = new URL(shown)
            return `https://127.0.0.1:8182/cb?code=C0.x%40&state=${url.searchParams.get("state")}`
          })
        }).pipe(Effect.provideService(OAuth2Client.OAuth2Client, client))
      )
      assert.strictEqual(error._tag, "Unauthorized")
      assert.include(error.message, "test's authorization codes live about 30s")
      assert.include(error.message, "paste faster")
      assert.notInclude(error.message, "C0.x")
      assert.strictEqual((yield* server.last).form.code, "C0.x@")
    }).pipe(Effect.provide(Client)))
})
