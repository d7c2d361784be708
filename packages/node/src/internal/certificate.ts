/**
 * Reading and checking a client certificate and its key, the TLS context and dispatcher made from them, and the
 * messages for a handshake that fails. Nothing here ever puts a word of the key, or of an error about it, in a
 * message: errors about the key are replaced by a description of what to fix.
 *
 * @internal
 */
import { InvalidConfiguration } from "@effect-oauth2/core/OAuth2Error"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as crypto from "node:crypto"
import * as tls from "node:tls"
import * as Undici from "undici"
import type * as MtlsHttpClient from "../MtlsHttpClient.js"

/** A checked certificate, its TLS context (which holds the key), and what errors name. @internal */
export interface Loaded {
  readonly provider: string
  readonly info: MtlsHttpClient.ClientCertificate
  readonly secureContext: tls.SecureContext
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/** The OIDs of the extended key usages that allow TLS client authentication: clientAuth, anyExtendedKeyUsage. */
const CLIENT_AUTH_USAGES = ["1.3.6.1.5.5.7.3.2", "2.5.29.37.0"]

const invalid = (provider: string, description: string) =>
  new InvalidConfiguration({ provider, source: "configuration", description })

/** A distinguished name as Node prints it (one attribute a line), on one line. */
const oneLine = (name: string): string => name.split("\n").filter((part) => part !== "").join(", ")

const describe = (info: MtlsHttpClient.ClientCertificate): string =>
  `subject ${JSON.stringify(info.subject)}, issuer ${JSON.stringify(info.issuer)}, serial ${info.serialNumber}`

/** The certificates of a PEM text, parsed; `undefined` when there is none or one cannot be read. */
const parseCertificates = (text: string): ReadonlyArray<crypto.X509Certificate> | undefined => {
  const blocks = typeof text === "string" ? text.match(PEM_CERTIFICATE) ?? [] : []
  if (blocks.length === 0) return undefined
  try {
    return blocks.map((block) => new crypto.X509Certificate(block))
  } catch {
    return undefined
  }
}

const base64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url")

/** The RFC 8705 §3.1 thumbprint of a parsed certificate. @internal */
export const thumbprintOfCertificate = (certificate: crypto.X509Certificate): string =>
  base64url(crypto.createHash("sha256").update(certificate.raw).digest())

/** The thumbprint of the first certificate of a PEM text. @internal */
export const thumbprintOf = (pem: string): Effect.Effect<string, InvalidConfiguration> =>
  Effect.suspend(() => {
    const certificates = parseCertificates(pem)
    return certificates === undefined
      ? Effect.fail(invalid("mtls", "the certificate is not a readable PEM X.509 certificate (-----BEGIN CERTIFICATE-----)."))
      : Effect.succeed(thumbprintOfCertificate(certificates[0]!))
  })

const selfSigned = (certificate: crypto.X509Certificate): boolean => {
  try {
    // Not checkIssued: OpenSSL's check also asks for keyCertSign, which a self-signed client certificate rarely has.
    return certificate.subject === certificate.issuer && certificate.verify(certificate.publicKey)
  } catch {
    return false
  }
}

/** Reads and checks the certificate, key and CA certificates, and builds the TLS context. @internal */
export const load = (options: MtlsHttpClient.Options, now: number): Effect.Effect<Loaded, InvalidConfiguration> =>
  Effect.suspend(() => {
    const provider = options.provider ?? "mtls"
    const fail = (description: string) => Effect.fail(invalid(provider, description))
    const certificateText = options.certificate
    if (typeof certificateText !== "string" || certificateText.trim() === "") {
      return fail("the client certificate is empty: give the PEM certificate (-----BEGIN CERTIFICATE-----).")
    }
    if (/PRIVATE KEY-----/.test(certificateText)) {
      return fail(
        "the certificate option holds a private key: give the PEM certificate (-----BEGIN CERTIFICATE-----) as certificate and the key as privateKey. Treat that key as exposed if this text was logged or shared."
      )
    }
    const chain = parseCertificates(certificateText)
    if (chain === undefined) {
      return fail(
        "the client certificate is not a readable PEM X.509 certificate: give the certificate (-----BEGIN CERTIFICATE-----, then any intermediate CA certificates); convert DER or PKCS#12 with `openssl x509` / `openssl pkcs12 -nokeys`."
      )
    }
    const leaf = chain[0]!
    const validFrom = new Date(leaf.validFrom)
    const validTo = new Date(leaf.validTo)
    const info: MtlsHttpClient.ClientCertificate = {
      subject: oneLine(leaf.subject),
      issuer: oneLine(leaf.issuer),
      serialNumber: leaf.serialNumber,
      validFrom,
      validTo,
      thumbprint: thumbprintOfCertificate(leaf),
      selfSigned: selfSigned(leaf)
    }
    const keyText = Redacted.value(options.privateKey)
    if (typeof keyText !== "string" || keyText.trim() === "") {
      return fail(`the private key of the client certificate (${describe(info)}) is empty: give its PEM private key.`)
    }
    if (!/PRIVATE KEY-----/.test(keyText) && /BEGIN CERTIFICATE-----/.test(keyText)) {
      return fail("the privateKey option holds a certificate, not a private key: give the PEM private key there.")
    }
    const encrypted = /ENCRYPTED/.test(keyText)
    let key: crypto.KeyObject
    try {
      key = crypto.createPrivateKey({
        key: keyText,
        format: "pem",
        ...(options.passphrase === undefined ? {} : { passphrase: Redacted.value(options.passphrase) })
      })
    } catch {
      // Node's message is never passed on: it could quote the key.
      return fail(
        encrypted && options.passphrase === undefined
          ? "the private key is encrypted: give its passphrase."
          : encrypted
          ? "the passphrase does not open the private key: check the passphrase."
          : "the private key could not be read: give the certificate's private key as PEM (PKCS#8 -----BEGIN PRIVATE KEY-----, PKCS#1 RSA or SEC1 EC)."
      )
    }
    if (!leaf.checkPrivateKey(key)) {
      return fail(
        `the private key is not the one of the client certificate (${
          describe(info)
        }): give the key the certificate was issued for (the public keys differ).`
      )
    }
    if (now < validFrom.getTime()) {
      return fail(
        `the client certificate (${describe(info)}) is not valid before ${validFrom.toISOString()}: check this machine's clock, or use a certificate valid now.`
      )
    }
    if (now > validTo.getTime()) {
      return fail(
        `the client certificate (${describe(info)}) expired at ${validTo.toISOString()}: renew it, and register the new one with the server if it asks (self_signed_tls_client_auth, or a pinned subject).`
      )
    }
    const usages = leaf.keyUsage as ReadonlyArray<string> | undefined
    if (usages !== undefined && usages.length > 0 && !usages.some((usage) => CLIENT_AUTH_USAGES.includes(usage))) {
      return fail(
        `the client certificate (${
          describe(info)
        }) may not be used for TLS client authentication: its extended key usage lacks clientAuth (1.3.6.1.5.5.7.3.2), so servers refuse it. Ask for a certificate issued for client authentication.`
      )
    }
    const caTexts = options.ca === undefined ? [] : typeof options.ca === "string" ? [options.ca] : options.ca
    for (const [i, ca] of caTexts.entries()) {
      if (parseCertificates(ca) === undefined) {
        return fail(
          `the CA certificate${
            caTexts.length > 1 ? ` #${i + 1}` : ""
          } is not a readable PEM X.509 certificate: give the PEM certificate of the CA that signs the server's certificate.`
        )
      }
    }
    try {
      const secureContext = tls.createSecureContext({
        cert: certificateText,
        key: keyText,
        ...(options.passphrase === undefined ? {} : { passphrase: Redacted.value(options.passphrase) }),
        ...(caTexts.length === 0 ? {} : { ca: [...caTexts] })
      })
      return Effect.succeed({ provider, info, secureContext })
    } catch {
      return fail(
        `the client certificate (${
          describe(info)
        }) and its key could not be loaded into a TLS context: check that both are PEM and that the key is not of a type Node's TLS refuses.`
      )
    }
  })

/** An undici agent whose connections present the certificate; destroyed with the scope, without waiting. @internal */
export const dispatcher = (loaded: Loaded) =>
  Effect.acquireRelease(
    Effect.sync(() =>
      // The connector holds the TLS context in a closure, so that no inspect of the agent shows its options.
      new Undici.Agent({ connect: Undici.buildConnector({ secureContext: loaded.secureContext }) })
    ),
    // Destroying aborts every open socket at once; the promise is not awaited, so a shutdown never waits on it.
    (agent) => Effect.sync(() => void agent.destroy().catch(() => undefined))
  )

/** Why a certificate cannot be used now (it expired), or `undefined`. @internal */
export const expiredNow = (loaded: Loaded, now: number): string | undefined =>
  now > loaded.info.validTo.getTime()
    ? `the TLS client certificate (${describe(loaded.info)}) expired at ${
      loaded.info.validTo.toISOString()
    }: renew it and restart with the new one; the request was not sent.`
    : undefined

/** The error codes of a TLS alert a server sends when it refuses the client's certificate. */
const REFUSED =
  /ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED|HANDSHAKE_FAILURE|DECRYPT_ERROR)$/

/** The error codes of a server certificate that Node does not trust. */
const UNTRUSTED = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "ERR_TLS_CERT_ALTNAME_INVALID"
])

/**
 * The error codes of a connection closed under the client before any answer: what a client sees when the server
 * refuses its certificate after a TLS 1.3 handshake without sending an alert (Node's TLS servers, many proxies).
 */
const CLOSED = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE"])

/** The first `code` along an error's `cause` chain (a few links at most). */
const codeOf = (error: unknown): string | undefined => {
  let current: unknown = error
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === "string") return code
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

const hostOf = (url: string): string => {
  try {
    return new URL(url).host
  } catch {
    return "the server"
  }
}

/**
 * A transport error that a refused or untrusted handshake caused, replaced by one that says what to check (the
 * original's code kept in the text); any other error as it is. @internal
 */
export const explain = (
  error: HttpClientError.HttpClientError,
  loaded: Loaded
): HttpClientError.HttpClientError => {
  if (error._tag !== "RequestError" || error.reason !== "Transport") return error
  const code = codeOf(error.cause)
  if (code === undefined) return error
  const host = hostOf(error.request.url)
  const description = REFUSED.test(code)
    ? `${host} refused the TLS client certificate (${describe(loaded.info)}; TLS alert ${code}): check that it is the certificate registered for this client, issued by a CA the server trusts (for self_signed_tls_client_auth: that it is in the client's registered JWK Set), not expired and not revoked.`
    : CLOSED.has(code)
    ? `${host} closed the connection before any answer (${code}). A server that requires a TLS client certificate does this when it refuses the one presented (${describe(loaded.info)}): check that it is the certificate registered for this client, issued by a CA the server trusts (for self_signed_tls_client_auth: that it is in the client's registered JWK Set), not expired and not revoked. Otherwise the server or a proxy dropped the connection.`
    : UNTRUSTED.has(code)
    ? `the certificate of ${host} is not trusted (${code}): if the server uses a private PKI, give its CA certificate as ca; check that the URL names the server the certificate was issued for.`
    : undefined
  return description === undefined
    ? error
    : new HttpClientError.RequestError({
      request: error.request,
      reason: "Transport",
      cause: new Error(description),
      description
    })
}
