/**
 * DPoP (RFC 9449) for the interop suite: panva's oidc-provider with `features.dPoP` on and nonces required at its
 * token endpoint (`nonceSecret` + `requireNonce`), and, on an origin of its own, a protected resource that checks
 * what a resource server must (RFC 9449 §7.1, §4.3): `Authorization: DPoP <token>`, a proof signed by the key in its
 * `jwk` header (`typ: dpop+jwt`), `htm`, `htu` (no query), `ath`, a recent `iat`, an unused `jti`, its own nonce
 * (§9), and that the token is live at the provider and bound to that key (`cnf.jkt` = the key's thumbprint).
 *
 * The provider runs on the live clock (it reads `Date.now()`), so lifetimes here are real seconds.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as jose from "jose"
import * as crypto from "node:crypto"
import * as http from "node:http"
import Provider, { type StoredToken as DpopStoredToken } from "oidc-provider"
import { listen } from "./authServer.js"

/** A registered client. The secret protects nothing: it exists for this test server only. */
export const client = { id: "trader-dpop", secret: "dpop-Secret-4e8a0c2b7d9f13" } as const

/** A client that gets DPoP-bound tokens only when it sends a proof (dpop_bound_access_tokens: false). */
export const optionalClient = { id: "trader-dpop-optional", secret: "dpop-optional-Secret-9b1c" } as const

/** authorization_code + refresh_token, a native app with a loopback redirect (any port), DPoP-bound tokens only. */
export const appClient = { id: "trader-dpop-app", secret: "dpop-app-Secret-2c7e5a90" } as const

/** What the protected resource saw of one call. */
export interface ApiCall {
  readonly status: number
  /** Why it refused, when it did (`use_dpop_nonce`, `invalid_dpop_proof`, `invalid_token`). */
  readonly error: string | undefined
  /** The nonce the proof carried. */
  readonly nonce: string | undefined
}

/** A running authorization server and DPoP resource server. */
export interface DpopServer {
  readonly issuer: string
  readonly tokenUrl: string
  readonly introspectionUrl: string
  readonly authorizeUrl: string
  /** The protected resource (another origin than the issuer's): `GET` answers `{ client_id, jkt }`. */
  readonly apiUrl: string
  /** Every token request so far: its grant type and `"success"` or the error code answered. */
  readonly tokenRequests: Effect.Effect<ReadonlyArray<string>>
  /** Every call the protected resource answered, in order. */
  readonly apiCalls: Effect.Effect<ReadonlyArray<ApiCall>>
  /** Every DPoP proof either server received (short-lived credentials, for the hygiene checks), in order. */
  readonly proofs: Effect.Effect<ReadonlyArray<string>>
  /** Makes the resource server's nonce change: the next proof with the old one is refused (`use_dpop_nonce`). */
  readonly rotateApiNonce: Effect.Effect<void>
}

const sha256 = (text: string) => crypto.createHash("sha256").update(text).digest("base64url")

/** Starts oidc-provider and the DPoP resource server on 127.0.0.1 for the life of the scope. */
export const make = (): Effect.Effect<DpopServer, never, Scope.Scope> =>
  Effect.gen(function*() {
    const tokenRequests: Array<string> = []
    const apiCalls: Array<ApiCall> = []
    const proofs: Array<string> = []
    let handler: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_req, res) => {
      res.writeHead(503).end()
    }
    const authServer = http.createServer((req, res) => handler(req, res))
    const issuer = `http://127.0.0.1:${yield* listen(authServer)}`
    const ccClient = (id: string, secret: string, bound: boolean) => ({
      client_id: id,
      client_secret: secret,
      grant_types: ["client_credentials"],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: "client_secret_basic",
      dpop_bound_access_tokens: bound,
      scope: "TRADER_READ TRADER_TRADE"
    })
    const provider = new Provider(issuer, {
      clients: [
        ccClient(client.id, client.secret, true),
        ccClient(optionalClient.id, optionalClient.secret, false),
        {
          client_id: appClient.id,
          client_secret: appClient.secret,
          application_type: "native",
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          redirect_uris: ["http://127.0.0.1/callback"],
          token_endpoint_auth_method: "client_secret_basic",
          dpop_bound_access_tokens: true,
          scope: "openid offline_access"
        }
      ],
      scopes: ["openid", "offline_access", "TRADER_READ", "TRADER_TRADE"],
      findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
      cookies: { keys: ["interop-cookie-key-not-a-secret"] },
      pkce: { required: () => true },
      ttl: { ClientCredentials: 60, AccessToken: 60, AuthorizationCode: 60, RefreshToken: 600, IdToken: 60 },
      features: {
        devInteractions: { enabled: true },
        clientCredentials: { enabled: true },
        introspection: { enabled: true },
        dPoP: { enabled: true, nonceSecret: crypto.randomBytes(32), requireNonce: () => true }
      }
    })
    const grantTypeOf = (ctx: unknown): string =>
      String((ctx as { oidc?: { params?: { grant_type?: unknown } } }).oidc?.params?.grant_type ?? "unknown")
    provider.on("grant.success", (ctx: unknown) => tokenRequests.push(`${grantTypeOf(ctx)}: success`))
    provider.on("grant.error", (ctx: unknown, error: { error?: string }) =>
      tokenRequests.push(`${grantTypeOf(ctx)}: ${error.error ?? "error"}`))
    provider.use(async (ctx, next) => {
      const proof = (ctx as unknown as { get(name: string): string }).get("dpop")
      if (proof !== "") proofs.push(proof)
      await next()
    })
    handler = provider.callback()

    // The resource server: its own origin, its own nonce, its own replay check.
    let apiNonce = crypto.randomBytes(16).toString("base64url")
    const seenJti = new Set<string>()
    let apiOrigin = ""
    const api = async (req: http.IncomingMessage, res: http.ServerResponse) => {
      const refuse = (error: string, description: string, nonce: string | undefined) => {
        apiCalls.push({ status: 401, error, nonce })
        res.writeHead(401, {
          "www-authenticate": `DPoP error="${error}", error_description="${description}", algs="ES256 EdDSA"`,
          ...(error === "use_dpop_nonce" ? { "dpop-nonce": apiNonce } : {})
        }).end()
      }
      const match = /^DPoP (\S+)$/.exec(req.headers.authorization ?? "")
      const proof = req.headers.dpop
      if (typeof proof === "string") proofs.push(proof)
      if (match === null || typeof proof !== "string") return refuse("invalid_token", "a DPoP token and proof are required", undefined)
      const value = match[1]!
      let verified: jose.JWTVerifyResult & { readonly protectedHeader: jose.JWTHeaderParameters }
      try {
        verified = await jose.jwtVerify(proof, jose.EmbeddedJWK, { typ: "dpop+jwt", algorithms: ["ES256", "EdDSA"] })
      } catch {
        return refuse("invalid_dpop_proof", "the proof does not verify", undefined)
      }
      const { payload, protectedHeader } = verified
      const nonce = typeof payload.nonce === "string" ? payload.nonce : undefined
      const url = new URL(req.url ?? "/", apiOrigin)
      const problems = [
        payload.htm !== req.method && "htm",
        payload.htu !== `${url.origin}${url.pathname}` && "htu",
        payload.ath !== sha256(value) && "ath",
        (typeof payload.iat !== "number" || Math.abs(payload.iat - Date.now() / 1000) > 60) && "iat",
        (typeof payload.jti !== "string" || seenJti.has(payload.jti)) && "jti"
      ].filter((p) => p !== false)
      if (problems.length > 0) return refuse("invalid_dpop_proof", `bad ${problems.join(", ")}`, nonce)
      seenJti.add(payload.jti!)
      if (nonce !== apiNonce) return refuse("use_dpop_nonce", "Resource server requires nonce in DPoP proof", nonce)
      // oidc-provider keeps the thumbprint a token is bound to as `jkt` (its `cnf.jkt`).
      const token = ((await provider.ClientCredentials.find(value)) ?? (await provider.AccessToken.find(value))) as
        | (DpopStoredToken & { readonly jkt?: string | undefined })
        | undefined
      const jkt = await jose.calculateJwkThumbprint(protectedHeader.jwk!, "sha256")
      if (token === undefined || !token.isValid || token.jkt !== jkt) {
        return refuse("invalid_token", token === undefined ? "unknown token" : "the token is not bound to this key", nonce)
      }
      apiCalls.push({ status: 200, error: undefined, nonce })
      res.writeHead(200, { "content-type": "application/json" })
      res.end(JSON.stringify({ client_id: token.clientId, jkt: token.jkt }))
    }
    const apiServer = http.createServer((req, res) => {
      api(req, res).catch(() => res.writeHead(500).end())
    })
    apiOrigin = `http://127.0.0.1:${yield* listen(apiServer)}`
    return {
      issuer,
      tokenUrl: `${issuer}/token`,
      introspectionUrl: `${issuer}/token/introspection`,
      authorizeUrl: `${issuer}/auth`,
      apiUrl: `${apiOrigin}/v1/accounts`,
      tokenRequests: Effect.sync(() => [...tokenRequests]),
      apiCalls: Effect.sync(() => [...apiCalls]),
      proofs: Effect.sync(() => [...proofs]),
      rotateApiNonce: Effect.sync(() => {
        apiNonce = crypto.randomBytes(16).toString("base64url")
      })
    }
  })
