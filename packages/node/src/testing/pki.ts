/**
 * Test helpers for mutual TLS (`@effect-oauth2/node/testing`; needs the optional peers `@peculiar/x509` and
 * `reflect-metadata`): a throw-away PKI made in memory at test time (nothing is written to disk or committed): a CA,
 * a server certificate for 127.0.0.1 / localhost, and client certificates (CA-issued or self-signed, with chosen
 * validity and usages), all on ECDSA P-256, with PEM private keys.
 */
// @peculiar/x509 resolves its services through tsyringe, which needs a Reflect metadata polyfill loaded first.
import "reflect-metadata"
import * as x509 from "@peculiar/x509"
import { webcrypto } from "node:crypto"

x509.cryptoProvider.set(webcrypto as unknown as Crypto)

const EC = { name: "ECDSA", namedCurve: "P-256" } as const
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const
const DAY = 24 * 60 * 60 * 1000

/** A certificate and its private key, both PEM. */
export interface Issued {
  readonly certificate: string
  readonly privateKey: string
  /** The key pair, to issue certificates with (a CA's) or to publish the public key as a JWK. */
  readonly keys: CryptoKeyPair
}

const keyPair = () => webcrypto.subtle.generateKey(EC, true, ["sign", "verify"]) as Promise<CryptoKeyPair>

const pemKey = async (key: CryptoKey): Promise<string> => {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key))
  return `-----BEGIN PRIVATE KEY-----\n${der.toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END PRIVATE KEY-----\n`
}

/** Makes a CA. */
export const makeCa = async (name = "effect-oauth2 test CA"): Promise<Issued> => {
  const keys = await keyPair()
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}`,
    keys,
    signingAlgorithm: SIGN,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 30 * DAY),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)
    ]
  })
  return { certificate: certificate.toString("pem"), privateKey: await pemKey(keys.privateKey), keys }
}

/** What a leaf certificate is issued with. */
export interface LeafOptions {
  readonly name: string
  /** The issuing CA; none for a self-signed certificate. */
  readonly ca?: Issued | undefined
  readonly notBefore?: Date | undefined
  readonly notAfter?: Date | undefined
  /** The extended key usages. Default: clientAuth. */
  readonly usages?: ReadonlyArray<x509.ExtendedKeyUsage> | undefined
  /** Subject alternative names. Default: none. */
  readonly altNames?: ReadonlyArray<{ readonly type: "dns" | "ip"; readonly value: string }> | undefined
}

/** Issues a leaf certificate (a client's by default). */
export const issue = async (options: LeafOptions): Promise<Issued> => {
  const keys = await keyPair()
  const common = {
    notBefore: options.notBefore ?? new Date(Date.now() - DAY),
    notAfter: options.notAfter ?? new Date(Date.now() + 7 * DAY),
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([...(options.usages ?? [x509.ExtendedKeyUsage.clientAuth])], false),
      ...(options.altNames === undefined
        ? []
        : [new x509.SubjectAlternativeNameExtension(options.altNames.map((n) => ({ type: n.type, value: n.value })))])
    ]
  }
  const certificate = options.ca === undefined
    ? await x509.X509CertificateGenerator.createSelfSigned({ ...common, name: `CN=${options.name}`, keys })
    : await x509.X509CertificateGenerator.create({
      ...common,
      subject: `CN=${options.name}`,
      issuer: new x509.X509Certificate(options.ca.certificate).subject,
      publicKey: keys.publicKey,
      signingKey: options.ca.keys.privateKey
    })
  return { certificate: certificate.toString("pem"), privateKey: await pemKey(keys.privateKey), keys }
}

/** A CA, a server certificate for 127.0.0.1 and localhost, and a client certificate, all issued by the CA. */
export interface Pki {
  readonly ca: Issued
  readonly server: Issued
  readonly client: Issued
}

export const makePki = async (): Promise<Pki> => {
  const ca = await makeCa()
  const server = await issue({
    name: "localhost",
    ca,
    usages: [x509.ExtendedKeyUsage.serverAuth],
    altNames: [{ type: "ip", value: "127.0.0.1" }, { type: "dns", value: "localhost" }]
  })
  const client = await issue({ name: "client-1", ca })
  return { ca, server, client }
}

/** The public JWK of a key pair (for a client's registered `jwks`), with the certificate in `x5c`. */
export const publicJwk = async (issued: Issued): Promise<Record<string, unknown>> => {
  const jwk = await webcrypto.subtle.exportKey("jwk", issued.keys.publicKey)
  const der = new x509.X509Certificate(issued.certificate).rawData
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, x5c: [Buffer.from(der).toString("base64")] }
}
