import { assert, describe, it } from "@effect/vitest"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Http from "node:http"
import * as Https from "node:https"
import * as Net from "node:net"
import type { TLSSocket } from "node:tls"
import { inspect } from "node:util"
import { X509Certificate } from "node:crypto"
import * as LoopbackHttps from "../src/LoopbackHttps.js"

/** One GET over TLS, trusting `ca` only (or nothing but Node's roots). */
const get = (port: number, ca: string | undefined) =>
  Effect.async<{ status: number; body: string; fingerprint: string }, Error>((resume) => {
    const request = Https.get({ host: "127.0.0.1", port, path: "/hello", ca, timeout: 5000, agent: false }, (response) => {
      const fingerprint = (response.socket as TLSSocket).getPeerCertificate().fingerprint256
      const chunks: Array<Buffer> = []
      response.on("data", (c: Buffer) => chunks.push(c))
      response.on("end", () =>
        resume(Effect.succeed({
          status: response.statusCode ?? 0,
          body: Buffer.concat(chunks).toString("utf8"),
          fingerprint
        })))
    })
    request.on("timeout", () => request.destroy(new Error("timeout")))
    request.on("error", (e) => resume(Effect.fail(e)))
  })

/**
 * Builds `server`, serves it, leaves `connections` open on it (a socket that sends nothing, and one whose request's
 * headers never end, as a browser's speculative connection or a stalled tab), then closes the scope: how long the
 * close took, in ms.
 */
const closeWithOpenConnections = (server: Layer.Layer<HttpServer.HttpServer, unknown>) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(server, scope)
    const http = Context.get(context, HttpServer.HttpServer)
    yield* http.serve(Effect.succeed(HttpServerResponse.text("ok"))).pipe(Scope.extend(scope))
    const port = (http.address as HttpServer.TcpAddress).port
    const sockets = [Net.connect(port, "127.0.0.1"), Net.connect(port, "127.0.0.1")]
    yield* Effect.forEach(sockets, (socket) =>
      Effect.async<void>((resume) => {
        socket.once("connect", () => resume(Effect.void))
        socket.once("error", () => resume(Effect.void))
      }))
    sockets[1]!.write("GET /callback?code=x HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    yield* Effect.sleep("50 millis")
    const start = performance.now()
    yield* Scope.close(scope, Exit.void)
    const ms = performance.now() - start
    for (const socket of sockets) socket.destroy()
    return ms
  })

describe("LoopbackHttps", () => {
  it.effect("a certificate for 127.0.0.1 and localhost, valid now, its key redacted", () =>
    Effect.gen(function*() {
      const certificate = yield* LoopbackHttps.makeCertificate({ validity: "2 hours" })
      const parsed = new X509Certificate(certificate.certificate)
      assert.isTrue(parsed.checkIP("127.0.0.1") !== undefined)
      assert.isTrue(parsed.checkHost("localhost") !== undefined)
      assert.strictEqual(parsed.fingerprint256, certificate.fingerprint256)
      assert.isTrue(parsed.checkPrivateKey((yield* Effect.promise(() => import("node:crypto"))).createPrivateKey(Redacted.value(certificate.privateKey))))
      const key = Redacted.value(certificate.privateKey)
      for (const shown of [inspect(certificate), JSON.stringify(certificate), String(certificate.privateKey)]) {
        assert.notInclude(shown, key.split("\n")[1]!)
      }
      const second = yield* LoopbackHttps.makeCertificate()
      assert.notStrictEqual(second.fingerprint256, certificate.fingerprint256, "a fresh one each time")
    }))

  it.live("serves HTTPS on 127.0.0.1: a client trusting the certificate gets the answer, another is refused", () =>
    Effect.gen(function*() {
      const certificate = yield* LoopbackHttps.makeCertificate()
      const context = yield* Layer.build(LoopbackHttps.layer({ port: 0, certificate }))
      const server = yield* HttpServer.HttpServer.pipe(Effect.provide(Layer.succeedContext(context)))
      yield* server.serve(Effect.succeed(HttpServerResponse.text("hello")))
      assert.strictEqual(server.address._tag, "TcpAddress")
      const port = (server.address as HttpServer.TcpAddress).port
      const answer = yield* get(port, certificate.certificate)
      assert.deepStrictEqual([answer.status, answer.body], [200, "hello"])
      assert.strictEqual(answer.fingerprint, certificate.fingerprint256)
      const refused = yield* Effect.flip(get(port, undefined))
      assert.match(refused.message, /self-signed|self signed|unable to verify/i)
    }).pipe(Effect.scoped))

  it.effect("layerFor refuses a callback that is not https on loopback; layer refuses a non-loopback host", () =>
    Effect.gen(function*() {
      for (const uri of ["http://127.0.0.1:8182", "https://example.com:8182", "not a url"]) {
        const error = yield* Effect.flip(Effect.scoped(Layer.build(LoopbackHttps.layerFor(uri))))
        assert.strictEqual(error._tag, "InvalidConfiguration", uri)
      }
      const error = yield* Effect.flip(Effect.scoped(Layer.build(LoopbackHttps.layer({ port: 0, host: "0.0.0.0" }))))
      assert.strictEqual(error._tag, "InvalidConfiguration")
    }))

  it.live("closing ends within the grace although connections stay open (HTTPS, and plain HTTP through withBoundedClose)", () =>
    Effect.gen(function*() {
      const certificate = yield* LoopbackHttps.makeCertificate()
      const https = yield* closeWithOpenConnections(LoopbackHttps.layer({ port: 0, certificate, shutdownGrace: "200 millis" }))
      const http = yield* closeWithOpenConnections(
        NodeHttpServer.layer(() => LoopbackHttps.withBoundedClose(Http.createServer(), "200 millis"), { host: "127.0.0.1", port: 0 })
      )
      // Without the bound, Node's close waits for these connections: two minutes for the TLS handshake that never
      // came, a minute for the unfinished headers.
      for (const ms of [https, http]) {
        assert.isAtLeast(ms, 150)
        assert.isBelow(ms, 5_000)
      }
    }))
})
