/**
 * Reading a private key for signing (shared by client assertions and DPoP): telling a PKCS#8 PEM from a JWK (as JSON
 * text or an object), refusing what is not a private key with the caller's own words, the algorithm a JWK calls for,
 * and the import with `jose`. No message made here ever quotes a key.
 *
 * @internal
 */
import type * as Jose from "jose"

/** Why a key could not be used; the text is ours and never quotes the key. @internal */
export class KeyProblem {
  constructor(readonly description: string) {}
}

const PEM_KIND = /-----BEGIN ([A-Z0-9 ]+)-----/

/** What each refusal says: the caller's words, so that each names its own use of the key. @internal */
export interface Messages {
  /** Text that starts with `{` but does not parse. */
  readonly invalidJson: string
  /** Text that is neither a PEM nor a JWK. */
  readonly unrecognised: string
  /** A PEM of a public key or a certificate. */
  readonly publicPem: string
  /** Any other PEM that is not `PRIVATE KEY` (PKCS#8), by its label. */
  readonly notPkcs8: (kind: string) => string
  /** A JWK without `kty`. */
  readonly noKty: string
  /** A symmetric (`oct`) JWK. */
  readonly symmetricJwk: string
  /** A JWK without the private member `d`. */
  readonly publicJwk: string
}

/**
 * The key material as `jose` takes it: a PKCS#8 PEM (trimmed) or a private JWK object; a JWK given as JSON text is
 * parsed. Anything else is a `KeyProblem` in the caller's words. @internal
 */
export const read = (
  material: string | Readonly<Record<string, unknown>>,
  messages: Messages
): string | Readonly<Record<string, unknown>> | KeyProblem => {
  let source: string | Readonly<Record<string, unknown>> = material
  if (typeof material === "string") {
    const text = material.trim()
    if (text.startsWith("{")) {
      try {
        source = JSON.parse(text) as Record<string, unknown>
      } catch {
        return new KeyProblem(messages.invalidJson)
      }
    } else {
      const kind = PEM_KIND.exec(text)?.[1]
      if (kind === undefined) return new KeyProblem(messages.unrecognised)
      if (kind.includes("PUBLIC") || kind === "CERTIFICATE") return new KeyProblem(messages.publicPem)
      if (kind !== "PRIVATE KEY") return new KeyProblem(messages.notPkcs8(kind))
      source = text
    }
  }
  if (typeof source !== "string") {
    if (typeof source.kty !== "string") return new KeyProblem(messages.noKty)
    if (source.kty === "oct") return new KeyProblem(messages.symmetricJwk)
    if (source.d === undefined) return new KeyProblem(messages.publicJwk)
  }
  return source
}

/** Which algorithm a JWK calls for: its `alg`, else by `kty` and `crv` (RSA: `rsa`). */
const algorithmOfJwk = (jwk: Readonly<Record<string, unknown>>, rsa: string): string | undefined => {
  if (typeof jwk.alg === "string") return jwk.alg
  switch (jwk.kty) {
    case "RSA":
      return rsa
    case "EC":
      return jwk.crv === "P-256" ? "ES256" : jwk.crv === "P-384" ? "ES384" : jwk.crv === "P-521" ? "ES512" : undefined
    case "OKP":
      return jwk.crv === "Ed25519" ? "EdDSA" : undefined
    default:
      return undefined
  }
}

/**
 * The algorithms to try, in order: the one asked for; else, for a PEM, `pem` (its type is only known by trying); for a
 * JWK, the one it calls for (RSA: `rsa`), or none. @internal
 */
export const candidates = (
  source: string | Readonly<Record<string, unknown>>,
  algorithm: string | undefined,
  defaults: { readonly pem: ReadonlyArray<string>; readonly rsa: string }
): ReadonlyArray<string> =>
  algorithm !== undefined
    ? [algorithm]
    : typeof source === "string"
    ? defaults.pem
    : [algorithmOfJwk(source, defaults.rsa)].filter((a): a is string => a !== undefined)

/** What a key needs for an algorithm, for the error message. @internal */
export const keyTypeFor = (alg: string): string =>
  alg.startsWith("RS") || alg.startsWith("PS")
    ? "an RSA key of at least 2048 bits"
    : alg === "ES256"
    ? "an EC key on curve P-256"
    : alg === "ES384"
    ? "an EC key on curve P-384"
    : alg === "ES512"
    ? "an EC key on curve P-521"
    : "an Ed25519 key"

/** Imports what `read` gave for `alg` (rejects as `jose` does). @internal */
export const importFor = (
  jose: typeof Jose,
  source: string | Readonly<Record<string, unknown>>,
  alg: string,
  options?: Jose.KeyImportOptions
): Promise<CryptoKey | Uint8Array> =>
  typeof source === "string"
    ? jose.importPKCS8(source, alg, options)
    : jose.importJWK(source as Jose.JWK, alg, options)
