/**
 * `--dpop` in the `oauth2` mode: a loopback server that advertises DPoP (RFC 9449) in its metadata, asks for a nonce
 * once (`use_dpop_nonce`), verifies the proof's signature with the key in its `jwk` header (node:crypto), its `typ`,
 * `htm`, `htu` and nonce, and answers a DPoP-bound token.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { createPublicKey, randomBytes, verify } from "node:crypto"
import * as http from "node:http"
import { cli } from "./utils.js"

const clientId = "bot-client"
const clientSecret = "s3cret-for-the-bot-client"

interface Seen {
  /** The proof's verdict: `ok`, `no proof` or why it was refused; then the nonce it carried. */
  readonly proof: string
  readonly nonce: string | undefined
}

const b64 = (part: string) => JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>

const dpopServer = (algs: ReadonlyArray<string>): Effect.Effect<{ issuer: string; seen: Array<Seen> }, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: http.Server; readonly issuer: string; readonly seen: Array<Seen> }>((resume) => {
      const seen: Array<Seen> = []
      const nonce = randomBytes(12).toString("base64url")
      let issuer = ""
      const server = http.createServer((req, res) => {
        req.resume()
        req.on("end", () => {
          const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
            res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body))
          }
          if (req.url === "/.well-known/oauth-authorization-server") {
            return send(200, {
              issuer,
              token_endpoint: `${issuer}/token`,
              token_endpoint_auth_methods_supported: ["client_secret_basic"],
              grant_types_supported: ["client_credentials"],
              dpop_signing_alg_values_supported: algs
            })
          }
          if (req.method !== "POST" || req.url !== "/token") return send(404, { error: "not_found" })
          const proof = req.headers.dpop
          if (typeof proof !== "string") {
            seen.push({ proof: "no proof", nonce: undefined })
            return send(200, { access_token: randomBytes(16).toString("hex"), token_type: "Bearer", expires_in: 60 })
          }
          const [h, p, s] = proof.split(".") as [string, string, string]
          const header = b64(h)
          const claims = b64(p)
          const key = createPublicKey({ key: header.jwk as never, format: "jwk" })
          const valid = header.typ === "dpop+jwt" && header.alg === "ES256" &&
            verify("sha256", Buffer.from(`${h}.${p}`), { key, dsaEncoding: "ieee-p1363" }, Buffer.from(s, "base64url")) &&
            claims.htm === "POST" && claims.htu === `${issuer}/token` && typeof claims.jti === "string"
          const carried = typeof claims.nonce === "string" ? claims.nonce : undefined
          seen.push({ proof: valid ? "ok" : "refused", nonce: carried })
          if (!valid) return send(400, { error: "invalid_dpop_proof" })
          if (carried !== nonce) return send(400, { error: "use_dpop_nonce" }, { "dpop-nonce": nonce })
          send(200, { access_token: randomBytes(16).toString("hex"), token_type: "DPoP", expires_in: 60 })
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        issuer = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`
        resume(Effect.succeed({ server, issuer, seen }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

describe("oauth2: --dpop", () => {
  it.scopedLive("a DPoP-bound token through the server's nonce round; without --dpop no proof is sent", () =>
    Effect.gen(function*() {
      const as = yield* dpopServer(["ES256", "EdDSA"])
      const env = { EFFECT_OAUTH2_CLIENT_SECRET: clientSecret }
      const run = yield* cli(["token", "oauth2", "--issuer", as.issuer, "--client-id", clientId, "--dpop"], { env })
      assert.strictEqual(run.code, 0, run.stderr)
      assert.match(run.stdout, /^DPoP token for oauth2 /)
      assert.deepStrictEqual(as.seen.map((s) => s.proof), ["ok", "ok"])
      assert.isUndefined(as.seen[0]!.nonce)
      assert.isString(as.seen[1]!.nonce, "the retry carries the server's nonce")

      const fromEnv = yield* cli(["token", "oauth2", "--issuer", as.issuer, "--client-id", clientId], {
        env: { ...env, EFFECT_OAUTH2_DPOP: "true" }
      })
      assert.strictEqual(fromEnv.code, 0, fromEnv.stderr)
      assert.match(fromEnv.stdout, /^DPoP token for oauth2 /)

      const bare = yield* cli(["token", "oauth2", "--issuer", as.issuer, "--client-id", clientId], { env })
      assert.strictEqual(bare.code, 0, bare.stderr)
      assert.match(bare.stdout, /^Bearer token for oauth2 /)
      assert.strictEqual(as.seen.at(-1)!.proof, "no proof")
    }))

  it.scopedLive("a server whose DPoP algorithms we cannot sign with: a configuration error before any token request", () =>
    Effect.gen(function*() {
      const as = yield* dpopServer(["XYZ512"])
      const run = yield* cli(["token", "oauth2", "--issuer", as.issuer, "--client-id", clientId, "--dpop"], {
        env: { EFFECT_OAUTH2_CLIENT_SECRET: clientSecret }
      })
      assert.notStrictEqual(run.code, 0)
      assert.match(run.stderr, /DPoP: the server accepts DPoP proofs signed with XYZ512 only/)
      assert.deepStrictEqual(as.seen, [])
    }))

  it.effect("--dpop is refused for the providers whose endpoints are built in", () =>
    Effect.gen(function*() {
      const run = yield* cli(["token", "figure-markets", "--dpop"], {
        env: { FIGURE_MARKETS_CLIENT_ID: "id", FIGURE_MARKETS_CLIENT_SECRET: "secret" }
      })
      assert.notStrictEqual(run.code, 0)
      assert.match(run.stderr, /--dpop is for the oauth2 mode/)
    }))
})
