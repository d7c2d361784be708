/**
 * Test helpers shared by provider packages (`@effect-oauth2/core/provider-testing`): a capturing wrapper around the
 * plain HTTP client, a captured logger, a tiny loopback server, and a check that no secret shows in a value.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as http from "node:http"
import type * as net from "node:net"

/** A request as it left the plain client. */
export interface Captured {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  /** The body when it is a form. */
  readonly form: URLSearchParams | undefined
}

const decoder = new TextDecoder()

const capture = (request: HttpClientRequest.HttpClientRequest): Captured => {
  const body = request.body
  const text = body._tag === "Uint8Array" ? decoder.decode(body.body) : undefined
  return {
    method: request.method,
    url: request.url,
    headers: request.headers,
    form: text !== undefined && (body.contentType ?? "").startsWith("application/x-www-form-urlencoded")
      ? new URLSearchParams(text)
      : undefined
  }
}

/**
 * The real (undici) client, recording every request that goes through it: provide `layer` to the layer under test.
 */
export const capturingClient = Effect.gen(function*() {
  const ref = yield* Ref.make<ReadonlyArray<Captured>>([])
  // Built in the caller's scope, so that the connection pool lives as long as the test.
  const plain = Context.get(yield* Layer.build(NodeHttpClient.layerUndici), HttpClient.HttpClient)
  // Recorded after every `mapRequest` of the clients built on top (those run in `preprocess`): what goes on the wire.
  const client = HttpClient.makeWith<never, never, HttpClientError.HttpClientError, never>(
    (effect) =>
      Effect.flatMap(effect, (request) =>
        Effect.zipRight(Ref.update(ref, (all) => [...all, capture(request)]), plain.execute(request))),
    Effect.succeed
  )
  return { layer: Layer.succeed(HttpClient.HttpClient, client), requests: Ref.get(ref) }
})

/** Every log line (logfmt, all levels) of the effect, and of the fibers it forks, into `lines`. */
export const captureLogs = (lines: Array<string>) =>
  Layer.merge(
    Logger.replace(Logger.defaultLogger, Logger.make((options) => void lines.push(Logger.logfmtLogger.log(options)))),
    Logger.minimumLogLevel(LogLevel.All)
  )

/** Runs an effect with every log line (all levels, logfmt with annotations) captured. */
export const withLogs = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const result = yield* effect.pipe(Effect.either, Effect.provide(captureLogs(lines)))
    return { result, logs: lines as ReadonlyArray<string> }
  })

/** Everything an error (or any value) shows: message, string form, JSON form. */
export const errorText = (error: unknown): string =>
  [String(error), error instanceof Error ? error.message : "", JSON.stringify(error)].join("\n")

/** Fails when a secret appears in the text (and shows the line with the secret masked). */
export const assertNoSecrets = (text: string, secrets: ReadonlyArray<string>) => {
  for (const secret of secrets) {
    assert.isNotEmpty(secret)
    const line = text.split("\n").find((l) => l.includes(secret))
    assert.isUndefined(line, `a secret leaked into: ${line?.replaceAll(secret, "<SECRET>")}`)
  }
}

/** Asserts that none of `secrets` shows in `value` (as a string, as JSON, or its message). */
export const assertNoSecret = (value: unknown, secrets: ReadonlyArray<string>) =>
  assertNoSecrets(errorText(value), secrets)

/** A request a {@link loopbackServer} received. */
export interface Received {
  readonly method: string
  readonly path: string
  readonly headers: Readonly<Record<string, string | Array<string> | undefined>>
}

/** What a {@link loopbackServer} answers. */
export interface Answer {
  readonly status: number
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly body?: string | undefined
  /** Never answer (a host that accepts and keeps silent); the connection is closed with the server's scope. */
  readonly hang?: boolean | undefined
}

/** A real HTTP server on 127.0.0.1 (port picked by the system) answering from `handler`; closed with the scope. */
export const loopbackServer = (
  handler: (request: Received) => Answer
): Effect.Effect<{ readonly url: string; readonly received: Effect.Effect<ReadonlyArray<Received>> }, never, Scope.Scope> =>
  Effect.gen(function*() {
    const received: Array<Received> = []
    const server = http.createServer((req, res) => {
      req.resume()
      req.on("end", () => {
        const request: Received = { method: req.method ?? "", path: req.url ?? "", headers: req.headers }
        received.push(request)
        const answer = handler(request)
        if (answer.hang === true) return
        res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers })
        res.end(answer.body ?? "")
      })
    })
    const port = yield* Effect.acquireRelease(
      Effect.async<number>((resume) => {
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as net.AddressInfo).port)))
      }),
      () =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    )
    return { url: `http://127.0.0.1:${port}`, received: Effect.sync(() => [...received]) }
  })
