/**
 * `loopbackCallback({ path: "" })`: the redirect URI is the bare origin (`http://localhost:31022`, TradeStation's
 * default Allowed Callback URLs, which Auth0 compares byte for byte), and the listener answers the callback at `/`.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as http from "node:http"
import * as AuthorizationCode from "../src/AuthorizationCode.js"
import * as Endpoint from "../src/Endpoint.js"

const Live = Layer.merge(
  NodeHttpServer.layer(() => http.createServer(), { host: "127.0.0.1", port: 0 }),
  NodeHttpClient.layerUndici
)

const status = (url: string) =>
  Effect.flatMap(HttpClient.HttpClient, (client) => client.get(url)).pipe(
    Effect.flatMap((response) => Effect.as(response.text, response.status)),
    Effect.scoped,
    Effect.orDie
  )

describe("loopbackCallback with path \"\"", () => {
  it.scoped("the redirect URI is the bare origin, with no trailing slash; the callback is answered at /", () =>
    Effect.gen(function*() {
      const callback = yield* AuthorizationCode.loopbackCallback({ path: "", redirectHost: "localhost" })
      assert.match(callback.redirectUri, /^http:\/\/localhost:\d+$/)
      const origin = callback.redirectUri.replace("localhost", "127.0.0.1")
      const endpoint = yield* Endpoint.make({
        provider: "bare-origin-test",
        tokenUrl: "https://auth.example.com/oauth/token",
        authorizeUrl: "https://auth.example.com/authorize",
        authMethod: "client_secret_post"
      })
      const session = yield* AuthorizationCode.authorize({
        endpoint,
        clientId: "client",
        scopes: ["openid"],
        redirectUri: callback.redirectUri
      })
      assert.strictEqual(new URL(session.url).searchParams.get("redirect_uri"), callback.redirectUri)
      const state = Redacted.value(session.state)
      const fiber = yield* Effect.fork(callback.awaitCode(session))
      assert.strictEqual(yield* status(`${origin}/callback?code=x&state=${state}`), 404, "no /callback path")
      assert.strictEqual(yield* status(`${origin}/?code=the-code&state=${state}`), 200)
      assert.strictEqual(Redacted.value(yield* Fiber.join(fiber)), "the-code")
    }).pipe(Effect.provide(Live)))

  it.scoped("a path that is neither \"\" nor starts with / is refused", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(AuthorizationCode.loopbackCallback({ path: "callback" }))
      assert.strictEqual(error._tag, "InvalidConfiguration")
      assert.include(error.message, "\"\" or start with \"/\"")
    }).pipe(Effect.provide(Live)))
})
