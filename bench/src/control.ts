/**
 * Talks to the server's control API with `node:http`, so that setting a run up warms neither `fetch` nor undici.
 */
import * as Http from "node:http"
import type { ClientSettings, Counters } from "./server.js"

const call = <A>(base: string, method: string, path: string, body?: unknown): Promise<A> =>
  new Promise((resolve, reject) => {
    const text = body === undefined ? "" : JSON.stringify(body)
    const req = Http.request(
      `${base}${path}`,
      {
        method,
        agent: false,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(text) }
      },
      (res) => {
        let data = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => {
          data += chunk
        })
        res.on("end", () => {
          if ((res.statusCode ?? 500) >= 400) reject(new Error(`control ${method} ${path}: ${res.statusCode} ${data}`))
          else resolve(JSON.parse(data) as A)
        })
        res.on("error", reject)
      }
    )
    req.on("error", reject)
    req.end(text)
  })

/** The control API of the server at `base`, for one client id. */
export interface Control {
  readonly base: string
  readonly clientId: string
  readonly tokenUrl: string
  readonly resourceUrl: string
  readonly configure: (settings: Partial<ClientSettings>) => Promise<void>
  readonly counters: () => Promise<Counters>
  /** A token that never expires, counted under this client id. */
  readonly staticToken: () => Promise<string>
  readonly forget: () => Promise<void>
}

export const control = (base: string, clientId: string): Control => {
  const path = `/_control/clients/${encodeURIComponent(clientId)}`
  return {
    base,
    clientId,
    tokenUrl: `${base}/token`,
    resourceUrl: `${base}/resource`,
    configure: async (settings) => {
      await call(base, "PUT", path, settings)
    },
    counters: () => call<Counters>(base, "GET", path),
    staticToken: async () => (await call<{ token: string }>(base, "POST", `${path}/static`, {})).token,
    forget: async () => {
      await call(base, "DELETE", path)
    }
  }
}
