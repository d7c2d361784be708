/**
 * A loopback HTTPS server for tests that asks for a client certificate, closed with the scope. The handler sees the
 * certificate the client presented (its RFC 8705 thumbprint and subject), or none.
 */
import * as Effect from "effect/Effect"
import * as crypto from "node:crypto"
import type * as http from "node:http"
import * as https from "node:https"
import type * as tls from "node:tls"

/** The client certificate of a request, as the server saw it. */
export interface Peer {
  readonly thumbprint: string
  readonly subject: string
}

export interface ServerOptions {
  readonly certificate: string
  readonly privateKey: string
  /** The CAs that issue client certificates. Default: none (self-signed certificates only, checked by the handler). */
  readonly ca?: string | undefined
  /** Refuse, in the handshake, a client certificate the CAs did not issue (or none). Default: `true`. */
  readonly rejectUnauthorized?: boolean | undefined
  /** The highest TLS version. Default: Node's (TLS 1.3). */
  readonly maxVersion?: tls.SecureVersion | undefined
}

export type Handler = (
  request: http.IncomingMessage,
  body: string,
  peer: Peer | undefined
) => { readonly status: number; readonly json: unknown }

export const peerOf = (socket: tls.TLSSocket): Peer | undefined => {
  const certificate = socket.getPeerCertificate()
  if (certificate === null || certificate.raw === undefined) return undefined
  return {
    thumbprint: crypto.createHash("sha256").update(certificate.raw).digest("base64url"),
    subject: certificate.subject?.CN === undefined ? "" : String(certificate.subject.CN)
  }
}

/** Starts the server on 127.0.0.1; its URL is `https://127.0.0.1:<port>`. */
export const serve = (options: ServerOptions, handler: Handler) =>
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly server: https.Server }>((resume) => {
      const server = https.createServer({
        key: options.privateKey,
        cert: options.certificate,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        requestCert: true,
        ...(options.maxVersion === undefined ? {} : { maxVersion: options.maxVersion }),
        rejectUnauthorized: options.rejectUnauthorized ?? true
      }, (request, response) => {
        const chunks: Array<Buffer> = []
        request.on("data", (chunk: Buffer) => chunks.push(chunk))
        request.on("end", () => {
          const answer = handler(
            request,
            Buffer.concat(chunks).toString("utf8"),
            peerOf(request.socket as tls.TLSSocket)
          )
          response.writeHead(answer.status, { "content-type": "application/json" })
          response.end(JSON.stringify(answer.json))
        })
      })
      // A refused handshake is the point of some tests: keep it out of the test output.
      server.on("tlsClientError", () => undefined)
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        if (address === null || typeof address === "string") throw new Error("no TCP address")
        resume(Effect.succeed({ url: `https://127.0.0.1:${address.port}`, server }))
      })
    }),
    ({ server }) =>
      Effect.sync(() => {
        server.closeAllConnections()
        server.close()
      })
  )
