/**
 * The `oauth2` mode with mutual TLS (`--cert`, `--key`, `--ca`): `tls_client_auth` through the server's
 * `mtls_endpoint_aliases`, against a loopback HTTPS server that asks for client certificates, with a PKI made in
 * memory for the run; and the usage errors (a key file others may read, a certificate without its key).
 */
import "reflect-metadata"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import type * as http from "node:http"
import * as https from "node:https"
import type * as net from "node:net"
import * as path from "node:path"
import type * as tls from "node:tls"
import * as Pki from "@effect-oauth2/node/testing"
import { cli, tempDir } from "./utils.js"

const pki = await Pki.makePki()
const clientId = "client-1" // the subject of pki.client

interface Seen {
  readonly path: string
  readonly authorization: string | undefined
  readonly body: string
  readonly subject: string | undefined
}

/** An authorization server whose token endpoint, under its mTLS alias, authenticates clients by certificate. */
const server = Effect.acquireRelease(
  Effect.async<{ readonly issuer: string; readonly seen: Array<Seen>; readonly server: https.Server }>((resume) => {
    const seen: Array<Seen> = []
    let issuer = ""
    const answer = (res: http.ServerResponse, status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" })
      res.end(JSON.stringify(body))
    }
    const server = https.createServer({
      key: pki.server.privateKey,
      cert: pki.server.certificate,
      ca: pki.ca.certificate,
      requestCert: true,
      rejectUnauthorized: false
    }, (req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (chunk: Buffer) => chunks.push(chunk))
      req.on("end", () => {
        const socket = req.socket as tls.TLSSocket
        const peer = socket.getPeerCertificate()
        const subject = socket.authorized && peer?.raw !== undefined
          ? new crypto.X509Certificate(peer.raw).subject
          : undefined
        const body = Buffer.concat(chunks).toString("utf8")
        seen.push({ path: req.url ?? "", authorization: req.headers.authorization, body, subject })
        if (req.url === "/.well-known/openid-configuration") {
          return answer(res, 200, {
            issuer,
            token_endpoint: `${issuer}/token`,
            token_endpoint_auth_methods_supported: ["tls_client_auth", "self_signed_tls_client_auth"],
            mtls_endpoint_aliases: { token_endpoint: `${issuer}/mtls/token` }
          })
        }
        const form = new URLSearchParams(body)
        if (req.url === "/mtls/token" && subject === `CN=${form.get("client_id")}`) {
          return answer(res, 200, { access_token: `at-${crypto.randomUUID()}`, token_type: "Bearer", expires_in: 300 })
        }
        return answer(res, 401, { error: "invalid_client" })
      })
    })
    server.listen(0, "127.0.0.1", () => {
      issuer = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`
      resume(Effect.succeed({ issuer, seen, server }))
    })
  }),
  ({ server }) =>
    Effect.sync(() => {
      server.closeAllConnections()
      server.close()
    })
)

const write = (dir: string, name: string, content: string, mode = 0o600) => {
  const file = path.join(dir, name)
  fs.writeFileSync(file, content, { mode })
  fs.chmodSync(file, mode)
  return file
}

/** Lines of the client's private key body: none may ever be printed. */
const keyLines = pki.client.privateKey.split("\n").filter((line) => line !== "" && !line.startsWith("-----"))

describe("oauth2: mutual TLS", () => {
  it.scopedLive("--cert/--key/--ca: tls_client_auth at the mtls alias, client_id alone, from flags, env or config", () =>
    Effect.gen(function*() {
      const as = yield* server
      const dir = yield* tempDir
      const cert = write(dir, "client.pem", pki.client.certificate, 0o644)
      const key = write(dir, "client-key.pem", pki.client.privateKey)
      const ca = write(dir, "ca.pem", pki.ca.certificate, 0o644)
      const fromFlags = yield* cli(
        ["token", "oauth2", "--issuer", as.issuer, "--client-id", clientId, "--cert", cert, "--key", key, "--ca", ca]
      )
      assert.strictEqual(fromFlags.code, 0, fromFlags.stderr)
      assert.match(fromFlags.stdout, /^Bearer token for oauth2/)
      const tokenRequest = as.seen.find((s) => s.path.endsWith("/token"))!
      assert.strictEqual(tokenRequest.path, "/mtls/token")
      assert.strictEqual(tokenRequest.subject, `CN=${clientId}`)
      assert.isUndefined(tokenRequest.authorization)
      assert.deepStrictEqual([...new URLSearchParams(tokenRequest.body).keys()].sort(), ["client_id", "grant_type"])

      const fromEnv = yield* cli(["token", "oauth2", "--json"], {
        env: {
          EFFECT_OAUTH2_ISSUER: as.issuer,
          EFFECT_OAUTH2_CLIENT_ID: clientId,
          EFFECT_OAUTH2_CERT_FILE: cert,
          EFFECT_OAUTH2_KEY_FILE: key,
          EFFECT_OAUTH2_CA_FILE: ca
        }
      })
      assert.strictEqual(fromEnv.code, 0, fromEnv.stderr)
      const file = write(
        dir,
        "effect-oauth2.json",
        JSON.stringify({ oauth2: { issuer: as.issuer, clientId, certFile: cert, keyFile: key, caFile: ca } })
      )
      const fromFile = yield* cli(["token", "oauth2", "--config", file])
      assert.strictEqual(fromFile.code, 0, fromFile.stderr)
      assert.strictEqual(as.seen.filter((s) => s.path === "/mtls/token").length, 3)
      for (const run of [fromFlags, fromEnv, fromFile]) {
        for (const line of keyLines) assert.notInclude(run.stdout + run.stderr, line)
      }
    }))

  it.scopedLive("a TLS key file other users may read is refused before any request, the key unread and unshown", () =>
    Effect.gen(function*() {
      const as = yield* server
      const dir = yield* tempDir
      const cert = write(dir, "client.pem", pki.client.certificate, 0o644)
      const key = write(dir, "client-key.pem", pki.client.privateKey, 0o644)
      const result = yield* cli(
        ["token", "oauth2", "--issuer", as.issuer, "--client-id", clientId, "--cert", cert, "--key", key]
      )
      assert.strictEqual(result.code, 2)
      assert.include(result.stderr, `TLS key file ${key}`)
      assert.include(result.stderr, `chmod 600 ${key}`)
      for (const line of keyLines) assert.notInclude(result.stdout + result.stderr, line)
      assert.deepStrictEqual(as.seen, [])
    }))

  it.scopedLive("a certificate without its key, a key of another certificate, --cert for a built-in provider", () =>
    Effect.gen(function*() {
      const as = yield* server
      const dir = yield* tempDir
      const cert = write(dir, "client.pem", pki.client.certificate, 0o644)
      const alone = yield* cli(["token", "oauth2", "--issuer", as.issuer, "--client-id", clientId, "--cert", cert])
      assert.strictEqual(alone.code, 2)
      assert.include(alone.stderr, "mutual TLS needs the certificate and its key together: --key")

      const otherKey = write(dir, "other-key.pem", pki.server.privateKey)
      const mismatched = yield* cli(
        ["token", "oauth2", "--issuer", as.issuer, "--client-id", clientId, "--cert", cert, "--key", otherKey]
      )
      assert.strictEqual(mismatched.code, 2)
      assert.include(mismatched.stderr, "is not the one of the client certificate")
      for (
        const line of pki.server.privateKey.split("\n").filter((l) => l !== "" && !l.startsWith("-----"))
      ) assert.notInclude(mismatched.stdout + mismatched.stderr, line)
      assert.deepStrictEqual(as.seen, [])

      const builtIn = yield* cli(["token", "figure-markets", "--cert", cert])
      assert.strictEqual(builtIn.code, 2)
      assert.include(builtIn.stderr, "--cert is for the oauth2 mode")
    }))
})
