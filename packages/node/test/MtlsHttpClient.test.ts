/**
 * The mutual-TLS HttpClient against a real loopback HTTPS server that asks for client certificates, with a PKI made in
 * memory for the run: the certificate presented, `tls_client_auth` on the token endpoint, a certificate-bound token on
 * the API (refused without the certificate), refused and untrusted handshakes explained, and every certificate or
 * key problem refused at build with a message that says what to fix and never a word of the key.
 */
import { AccessTokens, Endpoint, Grant, OAuth2Client, OAuth2HttpClient } from "@effect-oauth2/core"
import type { TransportError } from "@effect-oauth2/core/OAuth2Error"
import { MtlsHttpClient } from "@effect-oauth2/node"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as crypto from "node:crypto"
import * as util from "node:util"
import * as Undici from "undici"
import * as Internal from "../src/internal/certificate.js"
import * as Pki from "@effect-oauth2/node/testing"
import * as TlsServer from "./utils/tlsServer.js"

const pki = await Pki.makePki()
const DAY = 24 * 60 * 60 * 1000

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) return assert.fail("expected a failure, got a success")
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) return assert.fail(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
  return failure.value
}

/**
 * Slices of a PEM key's body that hold private material (for a P-256 PKCS#8 key, its private scalar; the header is
 * the same for every key and the tail is the public key, which the certificate shows): none may appear anywhere.
 */
const keySlices = (pem: string): ReadonlyArray<string> => {
  const body = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "")
  return [body.slice(48, 88)]
}

const assertNoKey = (value: unknown, pem: string) => {
  const texts = [
    String(value),
    JSON.stringify(value),
    util.inspect(value, { depth: 10, showHidden: true }),
    value instanceof Error ? value.message : ""
  ]
  for (const text of texts) {
    for (const slice of keySlices(pem)) assert.notInclude(text, slice)
  }
}

const mtls = (client: Pki.Issued = pki.client, extra: Partial<MtlsHttpClient.Options> = {}) =>
  MtlsHttpClient.layer({
    certificate: client.certificate,
    privateKey: Redacted.make(client.privateKey),
    ca: pki.ca.certificate,
    provider: "bank",
    ...extra
  })

/** A token endpoint (tls_client_auth) and an API that accepts a token only over the certificate it is bound to. */
const bank = (options: { readonly rejectUnauthorized: boolean }) => {
  const bound = new Map<string, string>()
  const seen: Array<{ readonly path: string; readonly authorization: string | undefined; readonly body: string }> = []
  return Effect.map(
    TlsServer.serve({
      certificate: pki.server.certificate,
      privateKey: pki.server.privateKey,
      ca: pki.ca.certificate,
      rejectUnauthorized: options.rejectUnauthorized
    }, (request, body, peer) => {
      seen.push({ path: request.url ?? "", authorization: request.headers.authorization, body })
      if (request.url === "/token") {
        const form = new URLSearchParams(body)
        if (peer === undefined || request.headers.authorization !== undefined || form.has("client_secret")) {
          return { status: 401, json: { error: "invalid_client" } }
        }
        // RFC 8705 §2.1: the certificate's subject is the one registered for the client.
        if (form.get("client_id") !== peer.subject) return { status: 401, json: { error: "invalid_client" } }
        const token = `at-${crypto.randomUUID()}`
        bound.set(token, peer.thumbprint)
        return { status: 200, json: { access_token: token, token_type: "Bearer", expires_in: 3600 } }
      }
      const token = request.headers.authorization?.replace(/^Bearer /, "")
      const thumbprint = token === undefined ? undefined : bound.get(token)
      // RFC 8705 §3: the token is good only over a connection presenting the certificate it is bound to.
      return thumbprint !== undefined && peer?.thumbprint === thumbprint
        ? { status: 200, json: { balance: 42 } }
        : { status: 401, json: { error: "invalid_token" } }
    }),
    (server) => ({ ...server, bound, seen })
  )
}

const tokenLayers = (url: string) =>
  AccessTokens.layer().pipe(
    Layer.provideMerge(OAuth2Client.layer({
      endpoint: { provider: "bank", tokenUrl: `${url}/token`, authMethod: "tls_client_auth" },
      credentials: Endpoint.credentials("client-1")
    }))
  )

describe("MtlsHttpClient", () => {
  it.scoped("presents the client certificate: the server sees the thumbprint of Certificate", () =>
    Effect.gen(function*() {
      const server = yield* TlsServer.serve(
        { certificate: pki.server.certificate, privateKey: pki.server.privateKey, ca: pki.ca.certificate },
        (_request, _body, peer) => ({ status: 200, json: { thumbprint: peer?.thumbprint ?? null } })
      )
      const { certificate, json } = yield* Effect.gen(function*() {
        const client = yield* HttpClient.HttpClient
        const response = yield* client.get(`${server.url}/whoami`)
        return { certificate: yield* MtlsHttpClient.Certificate, json: yield* response.json }
      }).pipe(Effect.provide(mtls()))
      assert.deepStrictEqual(json, { thumbprint: certificate.thumbprint })
      assert.strictEqual(certificate.thumbprint, yield* MtlsHttpClient.thumbprint(pki.client.certificate))
      assert.strictEqual(certificate.subject, "CN=client-1")
      assert.isFalse(certificate.selfSigned)
    }))

  it.scoped("tls_client_auth: only client_id in the body; the certificate-bound token works over the certificate only", () =>
    Effect.gen(function*() {
      const server = yield* bank({ rejectUnauthorized: false })
      const { balance, token } = yield* Effect.gen(function*() {
        const tokens = yield* AccessTokens.AccessTokens
        const api = yield* OAuth2HttpClient.make()
        const balance = yield* api.get(`${server.url}/api/balance`).pipe(
          Effect.flatMap(HttpClientResponse.filterStatusOk),
          Effect.flatMap((response) => response.json)
        )
        return { balance, token: yield* tokens.get }
      }).pipe(Effect.provide(tokenLayers(server.url).pipe(Layer.provideMerge(mtls()))))
      assert.deepStrictEqual(balance, { balance: 42 })
      const tokenRequest = server.seen.find((r) => r.path === "/token")!
      assert.isUndefined(tokenRequest.authorization)
      assert.deepStrictEqual(
        [...new URLSearchParams(tokenRequest.body).keys()].sort(),
        ["client_id", "grant_type"]
      )
      assert.strictEqual(server.bound.get(Redacted.value(token.value)), yield* MtlsHttpClient.thumbprint(pki.client.certificate))

      // The same token over a connection without the certificate: refused.
      const plain = NodeHttpClient.makeUndici(new Undici.Agent({ connect: { ca: pki.ca.certificate } }))
      const status = yield* plain.get(`${server.url}/api/balance`, {
        headers: { authorization: `Bearer ${Redacted.value(token.value)}` }
      }).pipe(Effect.map((response) => response.status))
      assert.strictEqual(status, 401)
    }))

  it.scoped("a certificate the server does not accept fails the handshake with what to check", () =>
    Effect.gen(function*() {
      const server = yield* bank({ rejectUnauthorized: true })
      const stranger = yield* Effect.promise(() => Pki.issue({ name: "client-1" })) // self-signed: not from the CA
      const layers = tokenLayers(server.url).pipe(Layer.provideMerge(mtls(stranger)))
      const error = failureOf(
        yield* OAuth2Client.OAuth2Client.pipe(
          Effect.flatMap((client) => client.requestToken(Grant.clientCredentials())),
          Effect.provide(layers),
          Effect.exit
        )
      ) as TransportError
      assert.strictEqual(error._tag, "TransportError", error.message)
      // Node's TLS server closes the connection without an alert: the message names the likely cause and the checks.
      assert.include(error.description, "does this when it refuses the one presented", error.description)
      assert.include(error.description, "CN=client-1")
      assertNoKey(error, stranger.privateKey)

      const direct = failureOf(
        yield* HttpClient.HttpClient.pipe(
          Effect.flatMap((client) => client.get(`${server.url}/api/balance`)),
          Effect.provide(mtls(stranger)),
          Effect.exit
        )
      )
      assert.strictEqual(direct._tag, "RequestError")
      assert.include(direct.message, "check that it is the certificate registered for this client")
      assertNoKey(direct, stranger.privateKey)
      assert.isFalse(server.seen.some((r) => r.path === "/token"))
    }))

  it.effect("a TLS alert refusing the certificate is explained, any other error kept as it is", () =>
    Effect.gen(function*() {
      // Node's TLS servers close without an alert (above); OpenSSL-based servers (nginx, envoy) send one, which Node
      // reports with these codes on the client's socket error.
      const loaded = yield* Internal.load({
        certificate: pki.client.certificate,
        privateKey: Redacted.make(pki.client.privateKey)
      }, Date.now())
      const request = HttpClientRequest.get("https://bank.example/token")
      const transport = (code: string) =>
        new HttpClientError.RequestError({
          request,
          reason: "Transport",
          cause: Object.assign(new Error("socket"), { cause: Object.assign(new Error(`alert`), { code }) })
        })
      for (
        const code of [
          "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED",
          "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE",
          "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA",
          "ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED"
        ]
      ) {
        const explained = Internal.explain(transport(code), loaded)
        assert.include(explained.message, `bank.example refused the TLS client certificate`)
        assert.include(explained.message, code)
        assertNoKey(explained, pki.client.privateKey)
      }
      const other = transport("ENOTFOUND")
      assert.strictEqual(Internal.explain(other, loaded), other)
    }))

  it.effect("a certificate that expires while the service runs is refused before any request is sent", () =>
    Effect.gen(function*() {
      const loaded = yield* Internal.load({
        certificate: pki.client.certificate,
        privateKey: Redacted.make(pki.client.privateKey)
      }, Date.now())
      const validTo = loaded.info.validTo.getTime()
      assert.isUndefined(Internal.expiredNow(loaded, validTo))
      const message = Internal.expiredNow(loaded, validTo + 1)
      assert.include(message, `expired at ${loaded.info.validTo.toISOString()}: renew it`)
      assert.include(message, "the request was not sent")
    }))

  it.scoped("a server certificate from a private CA not given as ca is reported as untrusted, with the fix", () =>
    Effect.gen(function*() {
      const server = yield* bank({ rejectUnauthorized: true })
      const error = failureOf(
        yield* HttpClient.HttpClient.pipe(
          Effect.flatMap((client) => client.get(`${server.url}/api/balance`)),
          Effect.provide(mtls(pki.client, { ca: undefined })),
          Effect.exit
        )
      )
      assert.include(error.message, "is not trusted")
      assert.include(error.message, "give its CA certificate as ca")
    }))

  it.effect("a self-signed certificate is marked so (self_signed_tls_client_auth)", () =>
    Effect.gen(function*() {
      const self = yield* Effect.promise(() => Pki.issue({ name: "client-ss" }))
      const info = yield* MtlsHttpClient.check({ certificate: self.certificate, privateKey: Redacted.make(self.privateKey) })
      assert.isTrue(info.selfSigned)
      assert.strictEqual(info.subject, "CN=client-ss")
    }))

  describe("refuses at build, saying what to fix, never showing the key", () => {
    const refused = (options: MtlsHttpClient.Options, expected: string, key: string) =>
      Effect.gen(function*() {
        const error = failureOf(yield* Effect.exit(MtlsHttpClient.check(options)))
        assert.strictEqual(error._tag, "InvalidConfiguration")
        assert.include(error.description, expected)
        assertNoKey(error, key)
        // The layer refuses the same way.
        const fromLayer = failureOf(
          yield* Effect.exit(Effect.provide(HttpClient.HttpClient, MtlsHttpClient.layer(options)))
        )
        assert.strictEqual(fromLayer.description, error.description)
      })
    const key = Redacted.make(pki.client.privateKey)

    it.effect("an expired certificate", () =>
      Effect.gen(function*() {
        const old = yield* Effect.promise(() =>
          Pki.issue({
            name: "client-old",
            ca: pki.ca,
            notBefore: new Date(Date.now() - 30 * DAY),
            notAfter: new Date(Date.now() - DAY)
          })
        )
        yield* refused(
          { certificate: old.certificate, privateKey: Redacted.make(old.privateKey) },
          "expired at",
          old.privateKey
        )
      }))

    it.effect("a certificate not valid yet", () =>
      Effect.gen(function*() {
        const future = yield* Effect.promise(() =>
          Pki.issue({ name: "client-new", ca: pki.ca, notBefore: new Date(Date.now() + DAY) })
        )
        yield* refused(
          { certificate: future.certificate, privateKey: Redacted.make(future.privateKey) },
          "check this machine's clock",
          future.privateKey
        )
      }))

    it.effect("a key that is not the certificate's", () =>
      refused(
        { certificate: pki.client.certificate, privateKey: Redacted.make(pki.server.privateKey) },
        "is not the one of the client certificate",
        pki.server.privateKey
      ))

    it.effect("a certificate for servers only (no clientAuth usage)", () =>
      refused(
        { certificate: pki.server.certificate, privateKey: Redacted.make(pki.server.privateKey) },
        "lacks clientAuth",
        pki.server.privateKey
      ))

    it.effect("no certificate, or a key where the certificate goes", () =>
      Effect.gen(function*() {
        yield* refused({ certificate: "", privateKey: key }, "the client certificate is empty", pki.client.privateKey)
        yield* refused(
          { certificate: "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----", privateKey: key },
          "not a readable PEM X.509 certificate",
          pki.client.privateKey
        )
        yield* refused(
          { certificate: pki.client.privateKey, privateKey: key },
          "the certificate option holds a private key",
          pki.client.privateKey
        )
      }))

    it.effect("an unreadable key, a certificate as key", () =>
      Effect.gen(function*() {
        const broken = pki.client.privateKey.replace(/[A-Za-z]/g, (c) => (c === "A" ? "B" : "A")).replace(
          /-----[A-Z ]+-----/g,
          (marker) => marker.replace(/[AB]/g, "")
        )
        yield* refused(
          { certificate: pki.client.certificate, privateKey: Redacted.make(broken) },
          "the private key could not be read",
          broken
        )
        yield* refused(
          { certificate: pki.client.certificate, privateKey: Redacted.make(pki.client.certificate) },
          "holds a certificate, not a private key",
          pki.client.privateKey
        )
      }))

    it.effect("an encrypted key without its passphrase, or with a wrong one; the right one opens it", () =>
      Effect.gen(function*() {
        const encrypted = crypto.createPrivateKey(pki.client.privateKey).export({
          type: "pkcs8",
          format: "pem",
          cipher: "aes-256-cbc",
          passphrase: "correct horse"
        }) as string
        yield* refused(
          { certificate: pki.client.certificate, privateKey: Redacted.make(encrypted) },
          "the private key is encrypted: give its passphrase",
          encrypted
        )
        yield* refused(
          {
            certificate: pki.client.certificate,
            privateKey: Redacted.make(encrypted),
            passphrase: Redacted.make("wrong horse")
          },
          "the passphrase does not open the private key",
          encrypted
        )
        const info = yield* MtlsHttpClient.check({
          certificate: pki.client.certificate,
          privateKey: Redacted.make(encrypted),
          passphrase: Redacted.make("correct horse")
        })
        assert.strictEqual(info.subject, "CN=client-1")
      }))

    it.effect("a CA that is not a certificate", () =>
      refused(
        { certificate: pki.client.certificate, privateKey: key, ca: "not a certificate" },
        "the CA certificate is not a readable PEM X.509 certificate",
        pki.client.privateKey
      ))
  })

  it.scoped("the dispatcher, the client and the certificate show no key in inspect or JSON", () =>
    Effect.gen(function*() {
      const options: MtlsHttpClient.Options = {
        certificate: pki.client.certificate,
        privateKey: Redacted.make(pki.client.privateKey),
        ca: pki.ca.certificate
      }
      const dispatcher = yield* MtlsHttpClient.makeDispatcher(options)
      const client = yield* MtlsHttpClient.make(options)
      const info = yield* MtlsHttpClient.check(options)
      for (const value of [dispatcher, client, info, options]) assertNoKey(value, pki.client.privateKey)
    }))

  it.effect("the test PKI is what it claims (guards the fixtures)", () =>
    Effect.sync(() => {
      const client = new crypto.X509Certificate(pki.client.certificate)
      assert.isTrue(client.checkIssued(new crypto.X509Certificate(pki.ca.certificate)))
      assert.isTrue(crypto.createPrivateKey(pki.client.privateKey).asymmetricKeyType === "ec")
    }))
})
