/**
 * JWT client assertions (RFC 7523 §2.2, OpenID Connect Core §9) with `jose`: importing a private key from PEM or
 * JWK, choosing its algorithm, and signing one assertion per request. No message made here ever quotes a key, and a
 * library's own error text (which could) is never passed on.
 *
 * @internal
 */
import type * as Jose from "jose"
import type { PrivateKeyAlgorithm, SecretAlgorithm } from "../ClientAuth.js"
import { type OAuth2Error, Unauthorized } from "../OAuth2Error.js"
import { randomBase64Url } from "./authorizationCode.js"
import * as privateKey from "./privateKey.js"
import { KeyProblem } from "./privateKey.js"
import { scrub } from "./wire.js"

/**
 * jose, loaded on first use: a program that authenticates with a secret never loads it. @internal
 */
const loadJose = (): Promise<typeof Jose> => import("jose")

/** The algorithms `private_key_jwt` signs with. @internal */
export const ASYMMETRIC_ALGORITHMS: ReadonlyArray<PrivateKeyAlgorithm> = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519"
]

/** The algorithms `client_secret_jwt` signs with. @internal */
export const HMAC_ALGORITHMS: ReadonlyArray<SecretAlgorithm> = ["HS256", "HS384", "HS512"]

/** A private key ready to sign (a non-extractable Web Crypto key). @internal */
export type SigningKey = CryptoKey

/** Why a key could not be used; the text is ours and never quotes the key. @internal */
export { KeyProblem }

/** The probe claims signed once at import, so that a key that cannot sign fails at construction, not per request. */
const probe = async (key: SigningKey | Uint8Array, alg: string): Promise<string> =>
  new (await loadJose()).SignJWT({}).setProtectedHeader({ alg }).setIssuer("probe").sign(key)

const tryImport = async (
  material: string | Readonly<Record<string, unknown>>,
  alg: string
): Promise<SigningKey | undefined> => {
  try {
    const jose = await loadJose()
    const key = await privateKey.importFor(jose, material, alg)
    if (key instanceof Uint8Array) return undefined
    await probe(key, alg)
    return key
  } catch {
    return undefined
  }
}

/**
 * Imports a private key (PKCS#8 PEM, a JWK as JSON text, or a JWK object) for an algorithm; with no algorithm, the
 * one its type calls for (RSA: RS256, EC: by curve, Ed25519: EdDSA). Signs a probe once, so that a key too short or
 * of the wrong type fails here. @internal
 */
export const importPrivateKey = async (
  material: string | Readonly<Record<string, unknown>>,
  algorithm: string | undefined
): Promise<{ readonly key: SigningKey; readonly algorithm: string; readonly keyId: string | undefined } | KeyProblem> => {
  if (algorithm !== undefined && !(ASYMMETRIC_ALGORITHMS as ReadonlyArray<string>).includes(algorithm)) {
    return new KeyProblem(
      `"${algorithm.slice(0, 20)}" is not a private_key_jwt algorithm: use one of ${ASYMMETRIC_ALGORITHMS.join(", ")}.`
    )
  }
  const source = privateKey.read(material, {
    invalidJson: "the private key looks like a JWK but is not valid JSON.",
    unrecognised:
      "the private key is neither a PEM (-----BEGIN PRIVATE KEY-----) nor a JWK: give the PKCS#8 PEM or the JWK.",
    publicPem:
      "a public key or certificate was given: private_key_jwt signs with the PRIVATE key (its public half is what the server holds).",
    notPkcs8: (kind) =>
      kind === "ENCRYPTED PRIVATE KEY"
        ? "the private key PEM is encrypted: decrypt it first (openssl pkcs8 -in key.pem -nocrypt -out plain.pem)."
        : kind === "RSA PRIVATE KEY" || kind === "EC PRIVATE KEY"
        ? `the private key is a ${kind} PEM (PKCS#1/SEC1): convert it to PKCS#8 (openssl pkcs8 -topk8 -nocrypt -in key.pem -out pkcs8.pem).`
        : `a "${kind}" PEM is not a PKCS#8 private key: give -----BEGIN PRIVATE KEY-----.`,
    noKty: "the JWK has no kty member.",
    symmetricJwk: "the JWK is a symmetric (oct) key: use client_secret_jwt for a shared secret.",
    publicJwk:
      "the JWK is a public key (no \"d\" member): private_key_jwt signs with the PRIVATE key (its public half is what the server holds)."
  })
  if (source instanceof KeyProblem) return source
  const keyId = typeof source !== "string" && typeof source.kid === "string" ? source.kid : undefined
  const candidates = privateKey.candidates(source, algorithm, { pem: ["RS256", "ES256", "ES384", "ES512", "EdDSA"], rsa: "RS256" })
  if (candidates.length === 0) {
    return new KeyProblem("the JWK's key type is not one private_key_jwt signs with (RSA, EC P-256/384/521, Ed25519).")
  }
  for (const alg of candidates) {
    const key = await tryImport(source, alg)
    if (key !== undefined) return { key, algorithm: alg, keyId }
  }
  return new KeyProblem(
    algorithm === undefined
      ? "the private key could not be read (a damaged PEM or JWK, or a key type private_key_jwt does not sign with)."
      : `the private key cannot sign ${algorithm}: it needs ${privateKey.keyTypeFor(algorithm)}. Give such a key, or set the algorithm that matches yours.`
  )
}

/** The claims of a client assertion. @internal */
export interface Claims {
  readonly clientId: string
  readonly audience: string | ReadonlyArray<string>
  /** Now, in epoch milliseconds. */
  readonly now: number
  readonly lifetimeSeconds: number
}

/**
 * Signs one assertion: `iss` = `sub` = the client id, `aud`, `iat` = now, `exp` = now + lifetime, and a fresh
 * 256-bit `jti`, so that no two assertions are alike (servers refuse a replayed `jti`). @internal
 */
export const sign = async (
  key: SigningKey | Uint8Array,
  header: { readonly alg: string; readonly kid?: string | undefined },
  claims: Claims
): Promise<string> => {
  const iat = Math.floor(claims.now / 1000)
  return new (await loadJose()).SignJWT({})
    .setProtectedHeader(header.kid === undefined ? { alg: header.alg } : { alg: header.alg, kid: header.kid })
    .setIssuer(claims.clientId)
    .setSubject(claims.clientId)
    .setAudience(typeof claims.audience === "string" ? claims.audience : [...claims.audience])
    .setIssuedAt(iat)
    .setExpirationTime(iat + claims.lifetimeSeconds)
    .setJti(randomBase64Url(43))
    .sign(key)
}

/**
 * Removes the request's client assertion from the members of an answer that end up in errors, should the server
 * echo it: an assertion is a credential until it expires. @internal
 */
export const scrubEcho = (
  body: Record<string, unknown> | undefined,
  params: ReadonlyArray<readonly [string, string]>
): Record<string, unknown> | undefined => {
  const sent = params.find(([name]) => name === "client_assertion")?.[1]
  if (body === undefined || sent === undefined) return body
  let out: Record<string, unknown> | undefined
  for (const member of ["error", "error_description", "error_uri"]) {
    const value = body[member]
    const scrubbed = typeof value === "string" ? scrub(value, [sent]) : value
    if (scrubbed !== value) {
      out ??= { ...body }
      out[member] = scrubbed
    }
  }
  return out ?? body
}

/**
 * Adds what to check to an `invalid_client` refusal of a JWT client assertion: servers rarely say which part (key,
 * audience, clock) was wrong. @internal
 */
export const withHint = (error: OAuth2Error, hint: string): OAuth2Error =>
  error._tag === "Unauthorized" && error.reason === "invalid_client" && error.hint === undefined
    ? new Unauthorized({
      provider: error.provider,
      source: error.source,
      reason: error.reason,
      status: error.status,
      description: error.description,
      hint
    })
    : error
