/**
 * oidc-provider configured to *require* pushed authorization requests for every client (RFC 9126 §5: its metadata
 * then says `require_pushed_authorization_requests: true`), started on 127.0.0.1 by the test itself. One native
 * authorization-code client with a loopback redirect. The headless browser of `authServer.ts` drives its pages.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as http from "node:http"
import type * as net from "node:net"
import Provider from "oidc-provider"
import { clients, RESOURCE, TRADER_SCOPES } from "./authServer.js"

/** A running server that requires PAR. */
export interface ParRequiredServer {
  readonly issuer: string
  /** How many requests reached the authorization endpoint (`/auth`) and the PAR endpoint (`/request`). */
  readonly hits: Effect.Effect<{ readonly authorize: number; readonly par: number; readonly token: number }>
}

/** Starts the server for the life of the scope. */
export const make = (): Effect.Effect<ParRequiredServer, never, Scope.Scope> =>
  Effect.gen(function*() {
    const hits = { authorize: 0, par: 0, token: 0 }
    let handler: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_req, res) => {
      res.writeHead(503).end()
    }
    const server = http.createServer((req, res) => handler(req, res))
    const sockets = new Set<net.Socket>()
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
    const issuer = `http://127.0.0.1:${port}`
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: clients.app.id,
          client_secret: clients.app.secret,
          application_type: "native",
          grant_types: ["authorization_code"],
          response_types: ["code"],
          redirect_uris: ["http://127.0.0.1/callback"],
          token_endpoint_auth_method: "client_secret_basic",
          scope: "openid TRADER_READ TRADER_TRADE"
        }
      ],
      scopes: ["openid", ...TRADER_SCOPES],
      findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
      cookies: { keys: ["interop-cookie-key-not-a-secret"] },
      pkce: { required: () => true },
      ttl: { AccessToken: 60, AuthorizationCode: 60, IdToken: 60, Interaction: 60, Session: 600, Grant: 600 },
      features: {
        devInteractions: { enabled: true },
        pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => RESOURCE,
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({ scope: TRADER_SCOPES.join(" "), accessTokenFormat: "opaque" })
        }
      }
    })
    const callback = provider.callback()
    handler = (req, res) => {
      const path = (req.url ?? "").split("?")[0]
      if (path === "/auth") hits.authorize++
      if (path === "/request") hits.par++
      if (path === "/token") hits.token++
      callback(req, res)
    }
    return { issuer, hits: Effect.sync(() => ({ ...hits })) }
  })
