/**
 * The README's "Proxies and custom agents" and "Observability" samples, run: requests really go through the proxy
 * the sample builds (a loopback CONNECT proxy here), and the spans and metrics the README names really reach the
 * OpenTelemetry exporters.
 */
import { Clients, Emulator } from "@effect-oauth2/emulator"
import { FigureMarkets, Trader } from "@effect-oauth2/figure-markets"
import { assert, describe, it } from "@effect/vitest"
import type { PushMetricExporter, ResourceMetrics } from "@opentelemetry/sdk-metrics"
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer } from "effect"
import * as http from "node:http"
import * as net from "node:net"
import * as Observability from "../src/readme/observability.js"
import * as Proxies from "../src/readme/proxies.js"
import * as QuickStart from "../src/readme/quick-start.js"

/** A forwarding proxy on loopback (CONNECT tunnels and absolute-form requests), recording what it was asked for. */
const loopbackProxy = (options: { readonly refuse: boolean }) =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: http.Server; readonly url: string; readonly seen: Array<string> }>((resume) => {
      const seen: Array<string> = []
      const sockets = new Set<net.Socket>()
      const server = http.createServer((req, res) => {
        seen.push(`${req.method} ${req.url}`)
        if (options.refuse) return void res.writeHead(403).end()
        const upstream = http.request(req.url!, { method: req.method, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode!, answer.headers)
          answer.pipe(res)
        })
        upstream.on("error", () => res.destroy())
        req.pipe(upstream)
      })
      server.on("connection", (socket) => {
        sockets.add(socket)
        socket.on("close", () => sockets.delete(socket))
      })
      server.on("connect", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
        seen.push(`CONNECT ${req.url}`)
        if (options.refuse) return void socket.end("HTTP/1.1 403 Forbidden\r\n\r\n")
        const url = new URL(`http://${req.url}`)
        const upstream = net.connect(Number(url.port), url.hostname, () => {
          socket.write("HTTP/1.1 200 Connection Established\r\n\r\n")
          upstream.write(head)
          upstream.pipe(socket)
          socket.pipe(upstream)
        })
        sockets.add(upstream)
        upstream.on("close", () => sockets.delete(upstream))
        upstream.on("error", () => socket.destroy())
        socket.on("error", () => upstream.destroy())
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as net.AddressInfo
        resume(Effect.succeed({ server, url: `http://127.0.0.1:${port}`, seen }))
      })
      ;(server as http.Server & { sockets?: Set<net.Socket> }).sockets = sockets
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        for (const socket of (server as http.Server & { sockets?: Set<net.Socket> }).sockets ?? []) socket.destroy()
        server.close(() => resume(Effect.void))
      })
  )

const figureMarkets = (emulator: Emulator.Emulator, proxy: string) =>
  FigureMarkets.layer({
    clientId: Clients.figureMarketsDemo.clientId,
    clientSecret: Clients.figureMarketsDemo.clientSecret,
    hosts: emulator.hosts["figure-markets"]
  }).pipe(Layer.provide(Proxies.viaProxy(proxy)))

describe("README: proxies and custom agents", () => {
  it.live("the token request and the API call both go through the proxy", () =>
    Effect.gen(function*() {
      const proxy = yield* loopbackProxy({ refuse: false })
      const emulator = yield* Emulator.make()
      const me = yield* Trader.whoAmI.pipe(Effect.provide(figureMarkets(emulator, proxy.url)))
      assert.strictEqual(me.user, `firms/demo-firm/users/${Clients.figureMarketsDemo.clientId}`)
      const host = new URL(emulator.urls.figureMarkets.main).host
      assert.isTrue(proxy.seen.some((line) => line.includes(host)), `the proxy saw: ${proxy.seen.join(", ")}`)
    }).pipe(Effect.scoped))

  it.live("a proxy that refuses means no token: nothing bypasses it", () =>
    Effect.gen(function*() {
      const proxy = yield* loopbackProxy({ refuse: true })
      const emulator = yield* Emulator.make()
      const exit = yield* Trader.whoAmI.pipe(Effect.provide(figureMarkets(emulator, proxy.url)), Effect.exit)
      assert.isTrue(exit._tag === "Failure")
      assert.isAtLeast(proxy.seen.length, 1)
      const counters = yield* emulator.countersFor("figure-markets.token")
      assert.strictEqual(counters.requests, 0)
    }).pipe(Effect.scoped))
})

describe("README: observability", () => {
  it.live("the quick start's spans and metrics reach the OpenTelemetry exporters", () =>
    Effect.gen(function*() {
      const spans: Array<ReadableSpan> = []
      const metrics: Array<ResourceMetrics> = []
      const spanExporter: SpanExporter = {
        export: (batch, done) => {
          spans.push(...batch)
          done({ code: 0 })
        },
        shutdown: () => Promise.resolve()
      }
      const metricExporter: PushMetricExporter = {
        export: (batch, done) => {
          metrics.push(batch)
          done({ code: 0 })
        },
        forceFlush: () => Promise.resolve(),
        shutdown: () => Promise.resolve()
      }
      yield* QuickStart.program.pipe(Effect.provide(Observability.telemetry(spanExporter, metricExporter)))

      const names = spans.map((span) => span.name)
      for (const name of ["AccessTokens.acquire", "OAuth2Client.requestToken", "FigureMarkets.Trader.get_who_am_i"]) {
        assert.include(names, name)
      }
      const request = spans.find((span) => span.name === "OAuth2Client.requestToken")!
      assert.strictEqual(request.attributes["oauth2.provider"], "figure-markets")
      const metricNames = metrics.flatMap((m) => m.scopeMetrics.flatMap((s) => s.metrics.map((x) => x.descriptor.name)))
      assert.include(metricNames, "oauth2_token_requests_total")
      assert.include(metricNames, "oauth2_cache_misses_total")
      // No secret in any attribute.
      const text = JSON.stringify(spans.map((span) => span.attributes))
      assert.notInclude(text, Clients.figureMarketsDemo.clientSecret)
    }))
})
