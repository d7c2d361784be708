/**
 * A small loopback authorization server for the `oauth2` (discovery) mode: it serves RFC 8414 metadata, and a token,
 * revocation and introspection endpoint that authenticate the client with `client_secret_basic` or
 * `private_key_jwt` (the assertion's ES256 signature, `iss`, `sub`, `aud`, `exp` and `jti` checked with node:crypto).
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { randomBytes, verify, type KeyObject } from "node:crypto"
import * as http from "node:http"

/** What the token endpoint saw of one request. */
export interface Seen {
  readonly path: string
  /** How the client authenticated: `basic`, `private_key_jwt`, or why it was refused. */
  readonly auth: string
  readonly body: string
}

/** The options of {@link make}. */
export interface Options {
  readonly clientId: string
  readonly clientSecret: string
  /** The client's public key, for `private_key_jwt` (ES256). */
  readonly publicKey: KeyObject
  /** The issuer the metadata states. Default: the server's own origin (`http://127.0.0.1:<port>`). */
  readonly statedIssuer?: ((origin: string) => string) | undefined
  /** The methods the metadata lists. Default: `client_secret_basic`, `private_key_jwt`. */
  readonly methods?: ReadonlyArray<string> | undefined
}

/** A running server: its issuer, and every request its endpoints received. */
export interface AuthServer {
  readonly issuer: string
  readonly seen: Array<Seen>
  /** The access tokens it handed out. */
  readonly issued: Array<string>
}

const b64url = (text: string): Buffer => Buffer.from(text, "base64url")

/** Checks a `private_key_jwt` assertion; returns `"private_key_jwt"` or why it is refused. */
const checkAssertion = (jwt: string, options: Options, issuer: string, usedJti: Set<string>): string => {
  const parts = jwt.split(".")
  if (parts.length !== 3) return "refused: not a JWT"
  const [h, p, s] = parts as [string, string, string]
  const header = JSON.parse(b64url(h).toString("utf8")) as Record<string, unknown>
  const claims = JSON.parse(b64url(p).toString("utf8")) as Record<string, unknown>
  if (header["alg"] !== "ES256") return `refused: alg ${String(header["alg"])}`
  const ok = verify("sha256", Buffer.from(`${h}.${p}`), { key: options.publicKey, dsaEncoding: "ieee-p1363" }, b64url(s))
  if (!ok) return "refused: bad signature"
  if (claims["iss"] !== options.clientId || claims["sub"] !== options.clientId) return "refused: iss/sub"
  if (claims["aud"] !== issuer) return `refused: aud ${String(claims["aud"])}`
  const now = Math.floor(Date.now() / 1000)
  if (typeof claims["exp"] !== "number" || claims["exp"] < now || claims["exp"] > now + 600) return "refused: exp"
  const jti = claims["jti"]
  if (typeof jti !== "string" || usedJti.has(jti)) return "refused: jti"
  usedJti.add(jti)
  return `private_key_jwt${typeof header["kid"] === "string" ? ` kid=${header["kid"]}` : ""}`
}

/** Starts the server on 127.0.0.1 (any free port); it stops when the scope closes. */
export const make = (options: Options): Effect.Effect<AuthServer, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: http.Server; readonly state: AuthServer }>((resume) => {
      const seen: Array<Seen> = []
      const issued: Array<string> = []
      const usedJti = new Set<string>()
      let issuer = ""
      const server = http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (chunk: Buffer) => chunks.push(chunk))
        req.on("end", () => {
          const path = new URL(req.url ?? "/", issuer).pathname
          const send = (status: number, body: unknown) => {
            res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" })
            res.end(JSON.stringify(body))
          }
          if (req.method === "GET" && path === "/.well-known/oauth-authorization-server") {
            return send(200, {
              issuer: options.statedIssuer?.(issuer) ?? issuer,
              token_endpoint: `${issuer}/token`,
              revocation_endpoint: `${issuer}/revoke`,
              introspection_endpoint: `${issuer}/introspect`,
              token_endpoint_auth_methods_supported: options.methods ?? ["client_secret_basic", "private_key_jwt"],
              token_endpoint_auth_signing_alg_values_supported: ["ES256"],
              revocation_endpoint_auth_methods_supported: options.methods ?? ["client_secret_basic", "private_key_jwt"],
              introspection_endpoint_auth_methods_supported: options.methods ??
                ["client_secret_basic", "private_key_jwt"],
              grant_types_supported: ["client_credentials"]
            })
          }
          if (req.method !== "POST" || !["/token", "/revoke", "/introspect"].includes(path)) {
            return send(404, { error: "not_found" })
          }
          const body = Buffer.concat(chunks).toString("utf8")
          const form = new URLSearchParams(body)
          const basic = req.headers.authorization
          let auth = "refused: no client authentication"
          if (basic !== undefined && basic.startsWith("Basic ")) {
            const [id, secret] = Buffer.from(basic.slice(6), "base64").toString("utf8").split(":").map(decodeURIComponent)
            auth = id === options.clientId && secret === options.clientSecret ? "basic" : "refused: bad secret"
          } else if (form.get("client_assertion_type") === "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
            auth = checkAssertion(form.get("client_assertion") ?? "", options, issuer, usedJti)
          }
          seen.push({ path, auth, body })
          if (auth.startsWith("refused")) return send(401, { error: "invalid_client" })
          if (path === "/revoke") return send(200, {})
          if (path === "/introspect") {
            return send(200, { active: issued.includes(form.get("token") ?? ""), scope: "read" })
          }
          if (form.get("grant_type") !== "client_credentials") return send(400, { error: "unsupported_grant_type" })
          const token = randomBytes(24).toString("base64url")
          issued.push(token)
          const scope = form.get("scope")
          send(200, {
            access_token: token,
            token_type: "Bearer",
            expires_in: 3600,
            ...(scope === null ? {} : { scope })
          })
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        issuer = `http://127.0.0.1:${port}`
        resume(Effect.succeed({ server, state: { issuer, seen, issued } }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ state }) => state))
