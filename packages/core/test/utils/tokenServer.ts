/**
 * A scriptable loopback HTTP server that stands in for an authorization server in tests.
 *
 * It listens on 127.0.0.1 with a port picked by the OS, records every request (method, path, headers, raw and parsed
 * form body) and answers from a script: a fixed action, a list of actions (one per request, the last one repeating),
 * or a function of the request (which may be an Effect, e.g. to wait on a `Deferred`).
 *
 * ```ts
 * const server = yield* TokenServer.make(TokenServer.json({ access_token: "t", token_type: "Bearer" }))
 * const endpoint = yield* Endpoint.make({ provider: "test", tokenUrl: server.url("/token") })
 * // ...
 * const request = yield* server.last
 * assert.strictEqual(request.form.grant_type, "client_credentials")
 * ```
 *
 * Handlers run on the runtime of the fiber that started the server, so a `delay` (and any Effect a handler runs)
 * follows that fiber's `Clock`: under `it.effect` it elapses only with `TestClock.adjust`. Closing the scope closes
 * every connection, including requests left hanging, and interrupts running handlers.
 */
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as http from "node:http"
import type * as net from "node:net"

/** A request the server received. */
export interface RecordedRequest {
  /** The position of the request, from 0. */
  readonly index: number
  readonly method: string
  /** The path and query, e.g. `/token`. */
  readonly path: string
  /** The headers, names lower-cased, repeated headers joined with `", "`. */
  readonly headers: Readonly<Record<string, string>>
  /** The body as received. */
  readonly body: string
  /** The body parsed as `application/x-www-form-urlencoded` (the last value of a repeated name wins). */
  readonly form: Readonly<Record<string, string>>
  /** Every name/value pair of the form body, in order, repeats included. */
  readonly formPairs: ReadonlyArray<readonly [string, string]>
}

/** What the server does with a request. Build one with {@link reply}, {@link json}, {@link destroy}, ... */
export type Action =
  | {
    readonly _tag: "Reply"
    readonly status: number
    readonly headers: Readonly<Record<string, string>>
    readonly body: string
    readonly delay: Duration.Duration | undefined
  }
  | { readonly _tag: "Destroy" }
  | { readonly _tag: "Hang" }
  | { readonly _tag: "Raw"; readonly f: (req: http.IncomingMessage, res: http.ServerResponse) => void }

/** An action computed from the request. */
export type Handler = (request: RecordedRequest) => Action | Effect.Effect<Action>

/** A fixed action, a handler, or a list of them used one per request (the last one repeats). */
export type Script = Action | Handler | ReadonlyArray<Action | Handler>

/** Options of a reply. */
export interface ReplyOptions {
  /** The status. Default: 200. */
  readonly status?: number | undefined
  /** Headers of the answer. Default: none besides the content type of {@link json}. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** How long to wait before answering, on the server fiber's `Clock`. Default: no wait. */
  readonly delay?: Duration.DurationInput | undefined
}

/** Answers with a status, headers and a raw body. */
export const reply = (body: string = "", options: ReplyOptions = {}): Action => ({
  _tag: "Reply",
  status: options.status ?? 200,
  headers: options.headers ?? {},
  body,
  delay: options.delay === undefined ? undefined : Duration.decode(options.delay)
})

/** Answers with a JSON body (`Content-Type: application/json` unless the headers say otherwise). */
export const json = (body: unknown, options: ReplyOptions = {}): Action =>
  reply(JSON.stringify(body), { ...options, headers: { "content-type": "application/json", ...options.headers } })

/** Answers with a body of the given content type. */
export const text = (body: string, contentType: string, options: ReplyOptions = {}): Action =>
  reply(body, { ...options, headers: { "content-type": contentType, ...options.headers } })

/** A successful token response (RFC 6749 §5.1): `access_token` "server-access-token", Bearer, 3600 s, plus `fields`. */
export const token = (fields: Record<string, unknown> = {}, options: ReplyOptions = {}): Action =>
  json({ access_token: "server-access-token", token_type: "Bearer", expires_in: 3600, ...fields }, options)

/** An RFC 6749 §5.2 error response: status 400 unless said otherwise. */
export const oauthError = (
  error: string,
  fields: Record<string, unknown> = {},
  options: ReplyOptions = {}
): Action => json({ error, ...fields }, { status: 400, ...options })

/** Destroys the connection once the request is read: the client sees a reset. */
export const destroy: Action = { _tag: "Destroy" }

/** Never answers (until the server's scope closes). */
export const hang: Action = { _tag: "Hang" }

/** Hands the node request and response to `f`, for anything the other actions cannot do. */
export const raw = (f: (req: http.IncomingMessage, res: http.ServerResponse) => void): Action => ({ _tag: "Raw", f })

/** A running server. */
export interface TokenServer {
  /** The port the server listens on. */
  readonly port: number
  /** `http://127.0.0.1:<port>` */
  readonly origin: string
  /** The absolute URL of a path on the server. Default path: `/token`. */
  readonly url: (path?: string) => string
  /** Replaces the script for the requests to come (the request count is not reset). */
  readonly setScript: (script: Script) => Effect.Effect<void>
  /** Every request received so far, in order. */
  readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>>
  /** How many requests were received so far. */
  readonly count: Effect.Effect<number>
  /** The last request received; dies when there is none. */
  readonly last: Effect.Effect<RecordedRequest>
  /** Waits until at least `n` requests were received (their bodies read, before any answer). */
  readonly awaitRequests: (n: number) => Effect.Effect<void>
}

/** The server as a service, for {@link layer}. */
export class TokenServerTag extends Context.Tag("@effect-oauth2/core/test/TokenServer")<TokenServerTag, TokenServer>() {}

const toAction = (script: Script, request: RecordedRequest): Effect.Effect<Action> => {
  const entry = Array.isArray(script)
    ? (script as ReadonlyArray<Action | Handler>)[Math.min(request.index, script.length - 1)]!
    : (script as Action | Handler)
  if (typeof entry === "function") {
    return Effect.suspend(() => {
      const out = entry(request)
      return Effect.isEffect(out) ? out : Effect.succeed(out)
    })
  }
  return Effect.succeed(entry)
}

const headersOf = (req: http.IncomingMessage): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value
  }
  return out
}

/** Starts a server on 127.0.0.1 (port 0) for the life of the scope. Default script: {@link token}(). */
export const make = (initial: Script = token()): Effect.Effect<TokenServer, never, Scope.Scope> =>
  Effect.gen(function*() {
    let script = initial
    const recorded: Array<RecordedRequest> = []
    let waiters: Array<{ readonly n: number; readonly deferred: Deferred.Deferred<void> }> = []
    const run = yield* FiberSet.makeRuntime<never>()

    const handle = (req: http.IncomingMessage, res: http.ServerResponse, body: string) =>
      Effect.gen(function*() {
        const pairs = [...new URLSearchParams(body)].map(([k, v]) => [k, v] as const)
        const request: RecordedRequest = {
          index: recorded.length,
          method: req.method ?? "",
          path: req.url ?? "",
          headers: headersOf(req),
          body,
          form: Object.fromEntries(pairs),
          formPairs: pairs
        }
        recorded.push(request)
        const ready = waiters.filter((w) => w.n <= recorded.length)
        waiters = waiters.filter((w) => w.n > recorded.length)
        yield* Effect.forEach(ready, (w) => Deferred.succeed(w.deferred, undefined), { discard: true })
        const action = yield* toAction(script, request)
        switch (action._tag) {
          case "Destroy":
            req.socket.destroy()
            return
          case "Hang":
            return
          case "Raw":
            action.f(req, res)
            return
          case "Reply":
            if (action.delay !== undefined) yield* Effect.sleep(action.delay)
            res.writeHead(action.status, { ...action.headers })
            res.end(action.body)
        }
      }).pipe(
        // A handler that throws answers 500 with the defect, so that the test fails visibly instead of hanging.
        Effect.catchAllDefect((defect) =>
          Effect.sync(() => {
            if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" })
            res.end(`token server handler died: ${String(defect)}`)
          })
        )
      )

    const sockets = new Set<net.Socket>()
    const server = http.createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (chunk: Buffer) => chunks.push(chunk))
      req.on("end", () => {
        run(handle(req, res, Buffer.concat(chunks).toString("utf8")))
      })
    })
    server.on("connection", (socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
    })
    const port = yield* Effect.acquireRelease(
      Effect.async<number>((resume) => {
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as net.AddressInfo).port)))
      }),
      () =>
        Effect.async<void>((resume) => {
          for (const socket of sockets) socket.destroy()
          server.close(() => resume(Effect.void))
        })
    )
    const origin = `http://127.0.0.1:${port}`
    return {
      port,
      origin,
      url: (path = "/token") => `${origin}${path}`,
      setScript: (next) => Effect.sync(() => void (script = next)),
      requests: Effect.sync(() => [...recorded]),
      count: Effect.sync(() => recorded.length),
      last: Effect.suspend(() => {
        const last = recorded[recorded.length - 1]
        return last === undefined ? Effect.dieMessage("the token server received no request") : Effect.succeed(last)
      }),
      awaitRequests: (n) =>
        Effect.fiberIdWith((id) => {
          if (recorded.length >= n) return Effect.void
          const deferred = Deferred.unsafeMake<void>(id)
          waiters.push({ n, deferred })
          return Deferred.await(deferred)
        })
    } satisfies TokenServer
  })

/** The server as a scoped layer. */
export const layer = (script?: Script): Layer.Layer<TokenServerTag> => Layer.scoped(TokenServerTag, make(script))

/**
 * A URL on 127.0.0.1 where nothing listens (a port that was just bound and released): connections are refused.
 */
export const closedPortUrl: Effect.Effect<string> = Effect.async<string>((resume) => {
  const probe = http.createServer()
  probe.listen(0, "127.0.0.1", () => {
    const { port } = probe.address() as net.AddressInfo
    probe.close(() => resume(Effect.succeed(`http://127.0.0.1:${port}/token`)))
  })
})
