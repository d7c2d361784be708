/**
 * oidc-provider with mutual TLS (RFC 8705) on 127.0.0.1, as a bank deploys it:
 *
 * - the issuer and its usual endpoints on one HTTPS server that asks for no client certificate;
 * - the same endpoints, for clients with a certificate, on a second HTTPS server that asks for one, published in
 *   `mtls_endpoint_aliases` (so a client that does not use the aliases sends no certificate, and fails);
 * - a resource server (a third HTTPS server asking for a certificate) that accepts an access token only over a
 *   connection presenting the certificate whose thumbprint the token is bound to (`cnf.x5t#S256`).
 *
 * oidc-provider reads the client certificate through its `features.mTLS.getCertificate(ctx)` hook: here, the peer
 * certificate of the TLS socket.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as crypto from "node:crypto"
import type * as http from "node:http"
import * as https from "node:https"
import type * as net from "node:net"
import type * as tls from "node:tls"
import Provider from "oidc-provider"
import type * as Pki from "@effect-oauth2/node/testing"

/** The resource indicator every token is issued for (RFC 8707). */
const RESOURCE = "urn:effect-oauth2:trader"

/** The API scopes the server knows. */
export const SCOPES = ["TRADER_READ", "TRADER_TRADE"] as const

/** The registered mutual-TLS clients. */
export const clients = {
  /** tls_client_auth: a certificate from the test CA whose subject is `CN=trader-mtls`. */
  tls: "trader-mtls",
  /** self_signed_tls_client_auth: a self-signed certificate registered in the client's `jwks` (`x5c`). */
  selfSigned: "trader-mtls-self-signed"
} as const

export interface Options {
  readonly pki: Pki.Pki
  /** The self-signed certificate registered for {@link clients.selfSigned}. */
  readonly selfSigned: Pki.Issued
  /** Its public JWK with `x5c` (`Pki.publicJwk`). */
  readonly selfSignedJwk: Record<string, unknown>
}

export interface MtlsServer {
  /** The issuer (the server without client certificates). */
  readonly issuer: string
  /** The origin of the endpoints that ask for a client certificate (the aliases). */
  readonly mtlsOrigin: string
  /** The protected resource: `GET` answers `{ client_id, thumbprint }` for a token bound to the presented certificate. */
  readonly apiUrl: string
  /** What the resource server answered, and why when it refused. */
  readonly apiCalls: Effect.Effect<ReadonlyArray<{ readonly status: number; readonly reason: string }>>
  /** The token requests: grant type and `"success"` or the error (with its description) the provider answered. */
  readonly tokenRequests: Effect.Effect<ReadonlyArray<{ readonly grantType: string; readonly outcome: string }>>
}

/** The peer certificate of a request's TLS socket, or `undefined` when the client presented none. */
const peerCertificate = (socket: net.Socket): crypto.X509Certificate | undefined => {
  const peer = (socket as tls.TLSSocket).getPeerCertificate?.()
  return peer === undefined || peer === null || peer.raw === undefined ? undefined : new crypto.X509Certificate(peer.raw)
}

const thumbprintOf = (certificate: crypto.X509Certificate): string =>
  crypto.createHash("sha256").update(certificate.raw).digest("base64url")

const listen = (
  options: https.ServerOptions,
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void
): Effect.Effect<string, never, Scope.Scope> => {
  const server = https.createServer(options, handler)
  const sockets = new Set<net.Socket>()
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })
  server.on("tlsClientError", () => undefined)
  return Effect.acquireRelease(
    Effect.async<string>((resume) => {
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(`https://127.0.0.1:${(server.address() as net.AddressInfo).port}`)))
    }),
    () =>
      Effect.async<void>((resume) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resume(Effect.void))
      })
  )
}

/** Starts the three servers for the life of the scope. */
export const make = (options: Options): Effect.Effect<MtlsServer, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { pki } = options
    const tlsOptions = { key: pki.server.privateKey, cert: pki.server.certificate }
    // Client certificates are asked for, not required in the handshake: the provider decides (a self-signed one is
    // never from the CA, and tls_client_auth needs `certificateAuthorized`).
    const mtlsOptions = { ...tlsOptions, ca: pki.ca.certificate, requestCert: true, rejectUnauthorized: false }
    let route: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_req, res) => {
      res.writeHead(503).end()
    }
    const issuer = yield* listen(tlsOptions, (req, res) => route(req, res))
    const mtlsOrigin = yield* listen(mtlsOptions, (req, res) => route(req, res))
    const tokenRequests: Array<{ grantType: string; outcome: string }> = []
    const apiCalls: Array<{ status: number; reason: string }> = []

    const client = (id: string, method: string, extra: Record<string, unknown>) => ({
      client_id: id,
      grant_types: ["client_credentials"],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: method,
      tls_client_certificate_bound_access_tokens: true,
      scope: SCOPES.join(" "),
      ...extra
    })
    const provider = new Provider(issuer, {
      clients: [
        client(clients.tls, "tls_client_auth", { tls_client_auth_subject_dn: `CN=${clients.tls}` }),
        client(clients.selfSigned, "self_signed_tls_client_auth", { jwks: { keys: [options.selfSignedJwk] } })
      ],
      clientAuthMethods: ["client_secret_basic", "tls_client_auth", "self_signed_tls_client_auth"],
      scopes: ["openid", ...SCOPES],
      findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
      cookies: { keys: ["interop-cookie-key-not-a-secret"] },
      discovery: {
        mtls_endpoint_aliases: {
          token_endpoint: `${mtlsOrigin}/token`,
          revocation_endpoint: `${mtlsOrigin}/token/revocation`,
          introspection_endpoint: `${mtlsOrigin}/token/introspection`
        }
      },
      ttl: { ClientCredentials: 300, AccessToken: 300 },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        introspection: { enabled: true },
        revocation: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: (_ctx: unknown, _client: unknown, oneOf?: string) => oneOf ?? RESOURCE,
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({ scope: SCOPES.join(" "), accessTokenFormat: "opaque" })
        },
        mTLS: {
          enabled: true,
          certificateBoundAccessTokens: true,
          tlsClientAuth: true,
          selfSignedTlsClientAuth: true,
          getCertificate: (ctx: { readonly req: http.IncomingMessage }) => peerCertificate(ctx.req.socket),
          certificateAuthorized: (ctx: { readonly req: http.IncomingMessage }) =>
            (ctx.req.socket as tls.TLSSocket).authorized === true,
          certificateSubjectMatches: (ctx: { readonly req: http.IncomingMessage }, property: string, expected: string) =>
            property === "tls_client_auth_subject_dn" && peerCertificate(ctx.req.socket)?.subject === expected
        }
      }
    })
    const grantTypeOf = (ctx: unknown): string =>
      String((ctx as { oidc?: { params?: { grant_type?: unknown } } }).oidc?.params?.grant_type ?? "unknown")
    provider.on("grant.success", (ctx: unknown) => tokenRequests.push({ grantType: grantTypeOf(ctx), outcome: "success" }))
    provider.on("grant.error", (ctx: unknown, error: { error?: string; error_description?: string }) =>
      tokenRequests.push({
        grantType: grantTypeOf(ctx),
        outcome: `${error.error ?? "error"}: ${error.error_description ?? ""}`
      }))
    const callback = provider.callback()
    route = callback

    // The resource server: RFC 8705 §3 — the token must be bound to the certificate of this very connection.
    const api = async (req: http.IncomingMessage, res: http.ServerResponse) => {
      const refuse = (reason: string) => {
        apiCalls.push({ status: 401, reason })
        res.writeHead(401, { "www-authenticate": `Bearer error="invalid_token"` }).end()
      }
      const value = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1]
      const token = value === undefined ? undefined : await provider.ClientCredentials.find(value)
      if (token === undefined || !token.isValid) return refuse("no valid token")
      const bound = (token as unknown as { readonly "x5t#S256"?: string })["x5t#S256"]
      if (bound === undefined) return refuse("the token is not certificate-bound")
      const presented = peerCertificate(req.socket)
      if (presented === undefined) return refuse("no client certificate presented")
      if (thumbprintOf(presented) !== bound) return refuse("the certificate is not the one the token is bound to")
      apiCalls.push({ status: 200, reason: "bound" })
      res.writeHead(200, { "content-type": "application/json" })
      res.end(JSON.stringify({ client_id: token.clientId, thumbprint: bound }))
    }
    const resource = yield* listen(mtlsOptions, (req, res) => {
      api(req, res).catch(() => res.writeHead(500).end())
    })
    return {
      issuer,
      mtlsOrigin,
      apiUrl: `${resource}/api/whoami`,
      apiCalls: Effect.sync(() => [...apiCalls]),
      tokenRequests: Effect.sync(() => [...tokenRequests])
    } satisfies MtlsServer
  })
