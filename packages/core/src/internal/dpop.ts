/**
 * DPoP (RFC 9449) machinery: the key pair (generated, or imported from a PEM or JWK), proofs signed with `jose`, the
 * `htu` of a request, the `ath` of an access token, the latest `DPoP-Nonce` per origin (a bounded map), and the
 * parsing of a `WWW-Authenticate: DPoP …` challenge. No message made here ever quotes a key, and a library's own
 * error text (which could) is never passed on.
 *
 * @internal
 */
import * as Encoding from "effect/Encoding"
import type * as Jose from "jose"
import { randomBase64Url } from "./authorizationCode.js"
import * as privateKey from "./privateKey.js"
import { KeyProblem } from "./privateKey.js"

const loadJose = (): Promise<typeof Jose> => import("jose")

/** The algorithms a DPoP key can sign with here. @internal */
export const ALGORITHMS: ReadonlyArray<string> = [
  "ES256",
  "ES384",
  "ES512",
  "PS256",
  "PS384",
  "PS512",
  "RS256",
  "RS384",
  "RS512",
  "EdDSA",
  "Ed25519"
]

/** A key pair ready to sign proofs. The private key is a non-extractable Web Crypto key. @internal */
export interface KeyPair {
  readonly algorithm: string
  readonly privateKey: CryptoKey
  /** The public key as a JWK: only the public members (what the `jwk` header of a proof carries). */
  readonly publicJwk: Readonly<Record<string, string>>
  /** The RFC 7638 SHA-256 thumbprint of the public key: the token's `cnf.jkt`, the authorization request's `dpop_jkt`. */
  readonly thumbprint: string
}

/** The members of a JWK that make up its public half, per key type. */
const PUBLIC_MEMBERS: Readonly<Record<string, ReadonlyArray<string>>> = {
  EC: ["kty", "crv", "x", "y"],
  RSA: ["kty", "n", "e"],
  OKP: ["kty", "crv", "x"]
}

const publicHalf = (jwk: Readonly<Record<string, unknown>>): Record<string, string> | undefined => {
  const members = PUBLIC_MEMBERS[String(jwk.kty)]
  if (members === undefined) return undefined
  const out: Record<string, string> = {}
  for (const member of members) {
    const value = jwk[member]
    if (typeof value !== "string") return undefined
    out[member] = value
  }
  return out
}

const finish = async (
  jose: typeof Jose,
  privateKey: CryptoKey,
  publicJwk: Record<string, string>,
  algorithm: string
): Promise<KeyPair> => {
  // A probe, so that a key that cannot sign (too short, wrong curve) fails at construction rather than per request.
  await new jose.SignJWT({}).setProtectedHeader({ alg: algorithm }).sign(privateKey)
  return { algorithm, privateKey, publicJwk, thumbprint: await jose.calculateJwkThumbprint(publicJwk, "sha256") }
}

/** A new key pair for `algorithm` (its private half not extractable). @internal */
export const generate = async (algorithm: string): Promise<KeyPair | KeyProblem> => {
  if (!ALGORITHMS.includes(algorithm)) {
    return new KeyProblem(`"${algorithm.slice(0, 20)}" is not a DPoP algorithm here: use one of ${ALGORITHMS.join(", ")}.`)
  }
  try {
    const jose = await loadJose()
    const pair = await jose.generateKeyPair(algorithm, { extractable: false })
    const publicJwk = publicHalf(await jose.exportJWK(pair.publicKey))
    if (publicJwk === undefined) return new KeyProblem(`the ${algorithm} public key could not be exported as a JWK.`)
    return await finish(jose, pair.privateKey, publicJwk, algorithm)
  } catch {
    return new KeyProblem(`this runtime cannot generate an ${algorithm} key (Web Crypto): choose another algorithm.`)
  }
}

/**
 * Imports a private key (PKCS#8 PEM, a JWK as JSON text, or a JWK object) for `algorithm`; with none, the one its type
 * calls for (EC: by curve, RSA: PS256, Ed25519: EdDSA). The public half is derived from it. @internal
 */
export const importKey = async (
  material: string | Readonly<Record<string, unknown>>,
  algorithm: string | undefined
): Promise<KeyPair | KeyProblem> => {
  if (algorithm !== undefined && !ALGORITHMS.includes(algorithm)) {
    return new KeyProblem(`"${algorithm.slice(0, 20)}" is not a DPoP algorithm here: use one of ${ALGORITHMS.join(", ")}.`)
  }
  const source = privateKey.read(material, {
    invalidJson: "the DPoP key looks like a JWK but is not valid JSON.",
    unrecognised: "the DPoP key is neither a PEM (-----BEGIN PRIVATE KEY-----) nor a JWK.",
    publicPem: "a public key or certificate was given: DPoP proofs are signed with the PRIVATE key.",
    notPkcs8: (kind) =>
      `a "${kind}" PEM is not a PKCS#8 private key: convert it (openssl pkcs8 -topk8 -nocrypt -in key.pem -out pkcs8.pem).`,
    noKty: "the DPoP JWK has no kty member.",
    symmetricJwk: "the DPoP JWK is a symmetric (oct) key: DPoP needs a key pair.",
    publicJwk: "the DPoP JWK is a public key (no \"d\" member): give the PRIVATE key."
  })
  if (source instanceof KeyProblem) return source
  const candidates = privateKey.candidates(source, algorithm, { pem: ["ES256", "ES384", "ES512", "PS256", "EdDSA"], rsa: "PS256" })
  if (candidates.length === 0) {
    return new KeyProblem("the DPoP JWK's key type is not one that signs proofs (EC P-256/384/521, RSA, Ed25519).")
  }
  const jose = await loadJose()
  for (const alg of candidates) {
    try {
      // Imported once extractable to derive the public half, then again not extractable for signing.
      const open = await privateKey.importFor(jose, source, alg, { extractable: true })
      if (open instanceof Uint8Array) continue
      const publicJwk = publicHalf(await jose.exportJWK(open))
      if (publicJwk === undefined) continue
      const signing = await privateKey.importFor(jose, source, alg)
      if (signing instanceof Uint8Array) continue
      return await finish(jose, signing, publicJwk, alg)
    } catch {
      // the next candidate
    }
  }
  return new KeyProblem(
    algorithm === undefined
      ? "the DPoP key could not be read (a damaged PEM or JWK, or a key type that does not sign proofs)."
      : `the DPoP key cannot sign ${algorithm}: it needs ${privateKey.keyTypeFor(algorithm)}. Give such a key, or set the algorithm that matches yours.`
  )
}

/**
 * The `htu` of a request (RFC 9449 §4.2): its URI without query and fragment (and without user info), in the form
 * the WHATWG URL parser normalises it to (lower-case scheme and host, no default port, `/` for an empty path).
 * `undefined` for a URL that does not parse. @internal
 */
export const htuOf = (url: string): string | undefined => {
  try {
    const parsed = new URL(url)
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`
  } catch {
    return undefined
  }
}

/** The origin whose nonce a request uses. @internal */
export const originOf = (url: string): string | undefined => {
  try {
    const parsed = new URL(url)
    return `${parsed.protocol}//${parsed.host}`
  } catch {
    return undefined
  }
}

/** `base64url(SHA-256(ASCII(access token)))`: the `ath` claim (RFC 9449 §4.2). @internal */
export const athOf = async (accessToken: string): Promise<string> => {
  const digest = await globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(accessToken))
  return Encoding.encodeBase64Url(new Uint8Array(digest))
}

/** What one proof is for. @internal */
export interface ProofClaims {
  readonly method: string
  readonly url: string
  /** The access token the request carries (resource requests): its hash becomes `ath`. */
  readonly accessToken?: string | undefined
  readonly nonce?: string | undefined
  /** Now, in epoch milliseconds. */
  readonly now: number
}

/** Signs one proof: `typ: dpop+jwt`, the public `jwk`, `htm`, `htu`, `iat`, a fresh `jti`, and `ath`/`nonce`. @internal */
export const sign = async (key: KeyPair, claims: ProofClaims): Promise<string> => {
  const jose = await loadJose()
  const payload: Record<string, string> = { htm: claims.method.toUpperCase(), htu: htuOf(claims.url) ?? claims.url }
  if (claims.accessToken !== undefined) payload.ath = await athOf(claims.accessToken)
  if (claims.nonce !== undefined) payload.nonce = claims.nonce
  return new jose.SignJWT(payload)
    .setProtectedHeader({ alg: key.algorithm, typ: "dpop+jwt", jwk: key.publicJwk })
    .setIssuedAt(Math.floor(claims.now / 1000))
    .setJti(randomBase64Url(32))
    .sign(key.privateKey)
}

/** A nonce as RFC 9449 §8.1 allows it (`1*NQCHAR`), bounded in length. @internal */
export const isNonce = (value: string): boolean => value.length <= 2048 && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(value)

/** The most origins whose latest nonce is remembered. @internal */
export const NONCE_ORIGINS = 64

/**
 * The latest `DPoP-Nonce` each origin gave, for at most `NONCE_ORIGINS` origins (the least recently given dropped
 * first). @internal
 */
export class NonceCache {
  private readonly nonces = new Map<string, string>()
  constructor(private readonly max: number = NONCE_ORIGINS) {}
  get(url: string): string | undefined {
    const origin = originOf(url)
    return origin === undefined ? undefined : this.nonces.get(origin)
  }
  /** Remembers a response's `DPoP-Nonce`; returns it when it is a usable nonce. */
  remember(url: string, headers: Readonly<Record<string, string | undefined>>): string | undefined {
    const nonce = headers["dpop-nonce"]?.trim()
    const origin = originOf(url)
    if (nonce === undefined || origin === undefined || !isNonce(nonce)) return undefined
    this.nonces.delete(origin)
    this.nonces.set(origin, nonce)
    if (this.nonces.size > this.max) this.nonces.delete(this.nonces.keys().next().value!)
    return nonce
  }
  get size(): number {
    return this.nonces.size
  }
}

/**
 * The auth-params of the `DPoP` challenge of a `WWW-Authenticate` header (RFC 9449 §7.1), names lower-cased;
 * `undefined` when there is none. @internal
 */
export const parseDpopChallenge = (header: string | undefined): Record<string, string> | undefined => {
  if (header === undefined) return undefined
  const start = /(?:^|,)\s*DPoP(?=\s|,|$)/i.exec(header)
  if (start === null) return undefined
  const params: Record<string, string> = {}
  const param = /\s*,?\s*([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/y
  param.lastIndex = start.index + start[0].length
  let m: RegExpExecArray | null
  // Each match consumes at least one character, so the loop ends; a scheme name without `=` ends the challenge.
  while ((m = param.exec(header)) !== null) {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3]!
  }
  return params
}
