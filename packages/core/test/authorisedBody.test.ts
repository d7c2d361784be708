/**
 * Small answers of the authorised client (issue 17): a body whose length is declared (up to 64 KiB and
 * `maxResponseBytes`, not compressed) is read with the answer, under the request's deadline, and served from memory
 * by every reader; one that stalls times the request out; larger or undeclared bodies are read as before.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as AccessTokens from "../src/AccessTokens.js"
import * as OAuth2HttpClient from "../src/OAuth2HttpClient.js"
import * as TokenServer from "./utils/tokenServer.js"

const transports = { undici: NodeHttpClient.layerUndici, "node:http": NodeHttpClient.layer, fetch: FetchHttpClient.layer }

const baseClient = (layer: Layer.Layer<HttpClient.HttpClient>) =>
  Effect.flatMap(Layer.build(layer), (context) => HttpClient.HttpClient.pipe(Effect.provide(context)))

const decode = (bytes: ArrayBuffer | Uint8Array) => new TextDecoder().decode(bytes)

describe("small answers of the authorised client", () => {
  for (const [name, layer] of Object.entries(transports)) {
    it.scoped(`${name}: a small declared body is the same to every reader, read as often as asked`, () =>
      Effect.gen(function*() {
        const body = JSON.stringify({ ok: true, n: 42 })
        const declared = (text: string, contentType: string) =>
          TokenServer.raw((_req, res) => {
            res.writeHead(200, { "content-type": contentType, "content-length": String(Buffer.byteLength(text)) })
            res.end(text)
          })
        const server = yield* TokenServer.make((request) =>
          request.path === "/form"
            ? declared("a=1&b=two", "application/x-www-form-urlencoded")
            : declared(body, "application/json")
        )
        const tokens = yield* AccessTokens.AccessTokens
        const api = OAuth2HttpClient.withAccessToken(yield* baseClient(layer), tokens)
        const response = yield* api.get(server.url("/api"))
        assert.strictEqual(response.status, 200)
        assert.strictEqual(decode(yield* response.arrayBuffer), body)
        assert.strictEqual(yield* response.text, body)
        assert.deepStrictEqual(yield* response.json, { ok: true, n: 42 })
        const chunks = yield* Stream.runCollect(response.stream)
        assert.strictEqual(decode(Buffer.concat(Chunk.toReadonlyArray(chunks))), body)
        const form = yield* Effect.flatMap(api.get(server.url("/form")), (r) => r.formData)
        assert.strictEqual(form.get("b"), "two")
        const params = yield* Effect.flatMap(api.get(server.url("/form")), (r) => r.urlParamsBody)
        assert.deepStrictEqual(params, [["a", "1"], ["b", "two"]])
      }).pipe(Effect.provide(AccessTokens.layerTest({ script: ["scripted"] }))))
  }

  it.scoped("a small declared body that stalls: the request itself times out (TransportError Timeout)", () =>
    Effect.gen(function*() {
      const server = yield* TokenServer.make(() =>
        TokenServer.raw((_req, res) => {
          res.writeHead(200, { "content-type": "application/json", "content-length": "100" })
          res.write("{\"partial\":")
        })
      )
      const tokens = yield* AccessTokens.AccessTokens
      const api = OAuth2HttpClient.withAccessToken(yield* baseClient(NodeHttpClient.layerUndici), tokens, {
        requestTimeout: "10 seconds"
      })
      const fiber = yield* Effect.fork(Effect.flip(api.get(server.url("/api"))))
      yield* server.awaitRequests(1)
      yield* TestClock.adjust("10 seconds")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "TransportError")
      if (error._tag === "TransportError") assert.strictEqual(error.reason, "Timeout")
    }).pipe(Effect.provide(AccessTokens.layerTest({ script: ["scripted"] }))))

  it.scoped("a declared body over maxResponseBytes is refused at its read, and never read with the answer", () =>
    Effect.gen(function*() {
      const text = JSON.stringify({ data: "x".repeat(2000) })
      const server = yield* TokenServer.make(() =>
        TokenServer.raw((_req, res) => {
          res.writeHead(200, { "content-type": "application/json", "content-length": String(text.length) })
          res.end(text)
        })
      )
      const tokens = yield* AccessTokens.AccessTokens
      const api = OAuth2HttpClient.withAccessToken(yield* baseClient(NodeHttpClient.layerUndici), tokens, {
        maxResponseBytes: 1024
      })
      const response = yield* api.get(server.url("/api"))
      assert.strictEqual(response.status, 200)
      const error = yield* Effect.flip(response.text)
      assert.strictEqual(error._tag, "ResponseError")
      assert.include(error.message, "1024-byte limit")
    }).pipe(Effect.provide(AccessTokens.layerTest({ script: ["scripted"] }))))
})
