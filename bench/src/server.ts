/**
 * The loopback token server and protected resource every library is measured against.
 *
 * Plain `node:http`, so that the server costs the same whoever calls it. Each client id carries its own settings
 * (token latency, lifetime, whether `expires_in` is sent) and its own counters, so several runs can share one server
 * without reading each other's figures:
 *
 * - `POST /token`: `client_credentials` with `client_secret_post` or `client_secret_basic` (secret {@link SECRET}).
 *   Answers after the client's latency with `{ access_token, token_type: "Bearer", expires_in? }`. A token expires
 *   `lifetime` after it is issued (when the answer is sent), on the server's clock, whether or not `expires_in` says so.
 * - `GET /resource`: 200 `{"ok":true}` for a valid token; 401 `WWW-Authenticate: Bearer error="invalid_token"` for a
 *   missing, unknown or expired one.
 * - `/_control/clients/:id`: `PUT` settings, `GET` counters, `POST …/static` a never-expiring token (for the "bare"
 *   clients), `DELETE` forget the client and its tokens.
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

/** The client secret every client uses. */
export const SECRET = "bench-secret"

/** A client's token-endpoint behaviour. */
export interface ClientSettings {
  /** How long the token endpoint takes to answer, in milliseconds. */
  readonly latencyMs: number
  /** How long a token is valid, in seconds (whole seconds: some peers parse `expires_in` as an integer). */
  readonly lifetimeSec: number
  /** Leave `expires_in` out of the answer (the token still expires after `lifetimeSec`). */
  readonly omitExpiresIn: boolean
}

/** The default settings: 20 ms per token request, one-hour tokens, `expires_in` sent. */
export const defaultSettings: ClientSettings = { latencyMs: 20, lifetimeSec: 3600, omitExpiresIn: false }

/** What the server saw of one client. */
export interface Counters {
  /** Token requests received. */
  tokenRequests: number
  /** The most token requests in flight at once. */
  maxConcurrentTokenRequests: number
  /** Requests to the resource carrying one of this client's tokens. */
  resourceRequests: number
  /** Of those, requests answered 200. */
  resourceOk: number
  /** Of those, requests carrying a token of this client that had expired (answered 401). */
  expiredTokenSent: number
}

const zero = (): Counters => ({
  tokenRequests: 0,
  maxConcurrentTokenRequests: 0,
  resourceRequests: 0,
  resourceOk: 0,
  expiredTokenSent: 0
})

interface Client {
  settings: ClientSettings
  counters: Counters
  inflight: number
  tokens: Set<string>
}

interface Issued {
  readonly client: Client
  readonly expiresAt: number
}

/** A running server. */
export interface Server {
  readonly url: string
  /** Requests carrying a token the server never issued (or no token). */
  readonly unknownTokenRequests: () => number
  readonly close: () => Promise<void>
}

const readBody = (req: Http.IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    let body = ""
    req.setEncoding("utf8")
    req.on("data", (chunk: string) => {
      body += chunk
    })
    req.on("end", () => resolve(body))
    req.on("error", reject)
  })

const json = (res: Http.ServerResponse, status: number, body: unknown, headers: Http.OutgoingHttpHeaders = {}) => {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers
  })
  res.end(text)
}

const OK_BODY = "{\"ok\":true}"
const INVALID_TOKEN_BODY = "{\"error\":\"invalid_token\"}"

/** Starts the server on 127.0.0.1 (a free port unless `port` is given). */
export const start = async (options: { readonly port?: number } = {}): Promise<Server> => {
  const clients = new Map<string, Client>()
  const tokens = new Map<string, Issued>()
  let unknown = 0
  let seq = 0

  const clientOf = (id: string): Client => {
    let client = clients.get(id)
    if (client === undefined) {
      client = { settings: defaultSettings, counters: zero(), inflight: 0, tokens: new Set() }
      clients.set(id, client)
    }
    return client
  }
  const forget = (id: string) => {
    const client = clients.get(id)
    if (client === undefined) return
    for (const token of client.tokens) tokens.delete(token)
    clients.delete(id)
  }
  const issue = (client: Client, id: string, lifetimeMs: number): string => {
    const value = `${id}.${(++seq).toString(36)}.${Math.random().toString(36).slice(2, 10)}`
    tokens.set(value, { client, expiresAt: Date.now() + lifetimeMs })
    client.tokens.add(value)
    return value
  }

  const token = async (req: Http.IncomingMessage, res: Http.ServerResponse) => {
    const params = new URLSearchParams(await readBody(req))
    let id = params.get("client_id")
    let secret = params.get("client_secret")
    const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? "")
    if (basic !== null) {
      const decoded = Buffer.from(basic[1]!, "base64").toString("utf8")
      const colon = decoded.indexOf(":")
      id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, " "))
      secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, " "))
    }
    if (params.get("grant_type") !== "client_credentials") {
      return json(res, 400, { error: "unsupported_grant_type" })
    }
    if (id === null || secret !== SECRET) return json(res, 401, { error: "invalid_client" })
    const client = clientOf(id)
    const { latencyMs, lifetimeSec, omitExpiresIn } = client.settings
    client.counters.tokenRequests++
    client.inflight++
    if (client.inflight > client.counters.maxConcurrentTokenRequests) {
      client.counters.maxConcurrentTokenRequests = client.inflight
    }
    const answer = () => {
      client.inflight--
      const value = issue(client, id, lifetimeSec * 1000)
      json(
        res,
        200,
        omitExpiresIn
          ? { access_token: value, token_type: "Bearer" }
          : { access_token: value, token_type: "Bearer", expires_in: lifetimeSec },
        { "cache-control": "no-store" }
      )
    }
    if (latencyMs > 0) setTimeout(answer, latencyMs)
    else answer()
  }

  const resource = (req: Http.IncomingMessage, res: Http.ServerResponse) => {
    req.resume()
    const header = req.headers.authorization
    const issued = header !== undefined && header.startsWith("Bearer ") ? tokens.get(header.slice(7)) : undefined
    if (issued === undefined) unknown++
    else issued.client.counters.resourceRequests++
    if (issued !== undefined && Date.now() < issued.expiresAt) {
      issued.client.counters.resourceOk++
      res.writeHead(200, { "content-type": "application/json", "content-length": OK_BODY.length })
      return res.end(OK_BODY)
    }
    if (issued !== undefined) issued.client.counters.expiredTokenSent++
    res.writeHead(401, {
      "content-type": "application/json",
      "content-length": INVALID_TOKEN_BODY.length,
      "www-authenticate": "Bearer error=\"invalid_token\""
    })
    res.end(INVALID_TOKEN_BODY)
  }

  const control = async (req: Http.IncomingMessage, res: Http.ServerResponse, path: string) => {
    const match = /^\/_control\/clients\/([^/]+)(\/static)?$/.exec(path)
    if (match === null) return json(res, 404, { error: "not_found" })
    const id = decodeURIComponent(match[1]!)
    const body = await readBody(req)
    if (match[2] !== undefined && req.method === "POST") {
      return json(res, 200, { token: issue(clientOf(id), id, Number.POSITIVE_INFINITY) })
    }
    switch (req.method) {
      case "PUT": {
        const client = clientOf(id)
        client.settings = { ...defaultSettings, ...(JSON.parse(body) as Partial<ClientSettings>) }
        return json(res, 200, client.settings)
      }
      case "GET":
        return json(res, 200, clientOf(id).counters)
      case "DELETE":
        forget(id)
        return json(res, 200, {})
      default:
        return json(res, 405, { error: "method_not_allowed" })
    }
  }

  const server = Http.createServer((req, res) => {
    const url = req.url ?? "/"
    const path = url.split("?", 1)[0]!
    const done = (p: Promise<void> | void) => {
      if (p instanceof Promise) {
        p.catch((error: unknown) => {
          if (!res.headersSent) json(res, 500, { error: "server_error", error_description: String(error) })
          else res.destroy()
        })
      }
    }
    if (path === "/resource") return resource(req, res)
    if (path === "/token" && req.method === "POST") return done(token(req, res))
    if (path.startsWith("/_control/")) return done(control(req, res, path))
    req.resume()
    json(res, 404, { error: "not_found" })
  })
  server.keepAliveTimeout = 30_000
  server.headersTimeout = 60_000
  server.requestTimeout = 0
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen({ host: "127.0.0.1", port: options.port ?? 0, backlog: 4096 }, () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    unknownTokenRequests: () => unknown,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
