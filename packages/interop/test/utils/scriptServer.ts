/**
 * A small scriptable loopback server for the hygiene suite: an authorization server and an API that answer whatever
 * a test scripts, including answers that echo the secrets a request carried (servers do), resets and hangs.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as http from "node:http"
import type * as net from "node:net"

/** A request as the server saw it. */
export interface Received {
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly form: URLSearchParams
}

/** An answer: a reply, a TCP reset, or none at all (until the scope closes). */
export type Answer =
  | { readonly _tag: "Reply"; readonly status: number; readonly headers: Record<string, string>; readonly body: string }
  | { readonly _tag: "Reset" }
  | { readonly _tag: "Hang" }

export const reply = (status: number, body: string | object = "", headers: Record<string, string> = {}): Answer => ({
  _tag: "Reply",
  status,
  body: typeof body === "string" ? body : JSON.stringify(body),
  headers: typeof body === "string" ? headers : { "content-type": "application/json", ...headers }
})
export const reset: Answer = { _tag: "Reset" }
export const hang: Answer = { _tag: "Hang" }

export type Handler = (request: Received) => Answer

export interface ScriptServer {
  readonly origin: string
  /** Sets the handler of a path (e.g. `/token`); unscripted paths answer 404. */
  readonly on: (path: string, handler: Handler) => void
  /** Every request received, in order. */
  readonly received: ReadonlyArray<Received>
}

export const make: Effect.Effect<ScriptServer, never, Scope.Scope> = Effect.gen(function*() {
  const handlers = new Map<string, Handler>()
  const received: Array<Received> = []
  const sockets = new Set<net.Socket>()
  const server = http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1")
      const request: Received = {
        method: req.method ?? "",
        path: url.pathname,
        query: url.searchParams,
        headers: { ...req.headers } as Record<string, string | undefined>,
        form: new URLSearchParams(Buffer.concat(chunks).toString("utf8"))
      }
      received.push(request)
      const answer = handlers.get(url.pathname)?.(request) ?? reply(404, { error: "not_found" })
      switch (answer._tag) {
        case "Reset":
          req.socket.resetAndDestroy()
          return
        case "Hang":
          return
        case "Reply":
          res.writeHead(answer.status, answer.headers)
          res.end(answer.body)
      }
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
  return { origin: `http://127.0.0.1:${port}`, on: (path, handler) => void handlers.set(path, handler), received }
})
