/**
 * How a confidential client proves its identity to the token, revocation and introspection endpoints: a secret in a
 * Basic header or the body (RFC 6749 §2.3.1), or a JWT client assertion signed with a private key or the secret
 * (RFC 7523, OpenID Connect Core §9), made fresh for every request, or the TLS client certificate of a mutual-TLS
 * connection (RFC 8705 §2), with only `client_id` in the body. Exactly one method is applied to a request: never a
 * Basic header and body credentials together.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Redacted from "effect/Redacted"
import * as assertion from "./internal/clientAssertion.js"
import { InvalidConfiguration } from "./OAuth2Error.js"

/**
 * How the client id and secret are put in a Basic header.
 *
 * - `"form"` (RFC 6749 §2.3.1): each is `application/x-www-form-urlencoded` first, then `id:secret` is base64-encoded.
 * - `"raw"`: `id:secret` is base64-encoded as is, for servers that do not form-decode (Openmarkets' sample does this).
 *
 * The two agree for ids and secrets made only of `[A-Za-z0-9._~-]`.
 *
 * @since 0.1.0
 * @category models
 */
export type BasicEncoding = "form" | "raw"

/**
 * `client_secret_basic`: the credentials in an `Authorization: Basic` header.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientSecretBasic {
  readonly _tag: "ClientSecretBasic"
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly encoding: BasicEncoding
}

/**
 * `client_secret_post`: `client_id` and `client_secret` in the form body.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientSecretPost {
  readonly _tag: "ClientSecretPost"
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
}

/**
 * `none`: a public client, identified by `client_id` in the body, with no secret.
 *
 * @since 0.1.0
 * @category models
 */
export interface None {
  readonly _tag: "None"
  readonly clientId: string
}

/**
 * `tls_client_auth` (RFC 8705 §2.1): the client proves itself with the TLS client certificate of the connection, issued
 * by a certificate authority the server trusts and bound to the client by its subject (or a subject alternative
 * name). Only `client_id` goes in the body. The certificate is presented by the transport, not by this value: give the
 * token-endpoint client an `HttpClient` that presents it (`MtlsHttpClient` of `@effect-oauth2/node`).
 *
 * @since 0.2.0
 * @category models
 */
export interface TlsClientAuth {
  readonly _tag: "TlsClientAuth"
  readonly clientId: string
}

/**
 * `self_signed_tls_client_auth` (RFC 8705 §2.2): as {@link TlsClientAuth}, with a self-signed certificate the server
 * knows from the client's registered JWK Set (`jwks` or `jwks_uri`) rather than from a certificate authority.
 *
 * @since 0.2.0
 * @category models
 */
export interface SelfSignedTlsClientAuth {
  readonly _tag: "SelfSignedTlsClientAuth"
  readonly clientId: string
}

/**
 * A JSON Web Key (RFC 7517) as a plain object: `kty` and the members of its type (`d` for a private key).
 *
 * @since 0.2.0
 * @category models
 */
export interface Jwk {
  readonly kty: string
  readonly kid?: string | undefined
  readonly alg?: string | undefined
  readonly [member: string]: unknown
}

/**
 * An algorithm `private_key_jwt` signs with: RSA (`RS*`, `PS*`, at least 2048 bits), ECDSA (`ES256` on P-256,
 * `ES384` on P-384, `ES512` on P-521) or Ed25519 (`EdDSA`, or its fully-specified name `Ed25519`).
 *
 * @since 0.2.0
 * @category models
 */
export type PrivateKeyAlgorithm =
  | "RS256"
  | "RS384"
  | "RS512"
  | "PS256"
  | "PS384"
  | "PS512"
  | "ES256"
  | "ES384"
  | "ES512"
  | "EdDSA"
  | "Ed25519"

/**
 * An algorithm `client_secret_jwt` signs with (HMAC with SHA-2).
 *
 * @since 0.2.0
 * @category models
 */
export type SecretAlgorithm = "HS256" | "HS384" | "HS512"

/**
 * `private_key_jwt` (RFC 7523 §2.2, OpenID Connect Core §9): a JWT signed with the client's private key, in
 * `client_assertion`. The key never leaves the process: only its signature goes on the wire.
 *
 * @since 0.2.0
 * @category models
 */
export interface PrivateKeyJwt {
  readonly _tag: "PrivateKeyJwt"
  readonly clientId: string
  /** The imported private key (non-extractable). */
  readonly key: Redacted.Redacted<assertion.SigningKey>
  readonly algorithm: PrivateKeyAlgorithm
  /** The `kid` header, naming the key among those the server holds for the client. */
  readonly keyId: string | undefined
  /** The `aud` claim. */
  readonly audience: string | ReadonlyArray<string>
  /** How long each assertion is valid (`exp` - `iat`). */
  readonly lifetime: Duration.Duration
}

/**
 * `client_secret_jwt` (RFC 7523 §2.2, OpenID Connect Core §9): a JWT signed with HMAC keyed by the client secret, in
 * `client_assertion`. The secret itself never goes on the wire.
 *
 * @since 0.2.0
 * @category models
 */
export interface ClientSecretJwt {
  readonly _tag: "ClientSecretJwt"
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly algorithm: SecretAlgorithm
  /** The `aud` claim. */
  readonly audience: string | ReadonlyArray<string>
  /** How long each assertion is valid (`exp` - `iat`). */
  readonly lifetime: Duration.Duration
}

/**
 * @since 0.1.0
 * @category models
 */
export type ClientAuth =
  | ClientSecretBasic
  | ClientSecretPost
  | None
  | PrivateKeyJwt
  | ClientSecretJwt
  | TlsClientAuth
  | SelfSignedTlsClientAuth

/**
 * The name of a client authentication method, as in RFC 8414's `token_endpoint_auth_methods_supported`.
 *
 * @since 0.1.0
 * @category models
 */
export type Method =
  | "client_secret_basic"
  | "client_secret_post"
  | "none"
  | "private_key_jwt"
  | "client_secret_jwt"
  | "tls_client_auth"
  | "self_signed_tls_client_auth"

/**
 * The methods that authenticate with the TLS client certificate (RFC 8705 §2): they need a transport that presents
 * one, and no secret or key.
 *
 * @since 0.2.0
 * @category models
 */
export const mtlsMethods: ReadonlyArray<"tls_client_auth" | "self_signed_tls_client_auth"> = [
  "tls_client_auth",
  "self_signed_tls_client_auth"
]

/**
 * Whether a method authenticates with the TLS client certificate (RFC 8705 §2).
 *
 * @since 0.2.0
 * @category predicates
 */
export const isMtlsMethod = (method: Method): method is "tls_client_auth" | "self_signed_tls_client_auth" =>
  method === "tls_client_auth" || method === "self_signed_tls_client_auth"

/**
 * Every method name, in the order a client with a secret prefers them.
 *
 * @since 0.2.0
 * @category models
 */
export const methods: ReadonlyArray<Method> = [
  "client_secret_basic",
  "client_secret_post",
  "client_secret_jwt",
  "private_key_jwt",
  "tls_client_auth",
  "self_signed_tls_client_auth",
  "none"
]

/**
 * How a JWT client assertion is made. Every field has a default.
 *
 * @since 0.2.0
 * @category models
 */
export interface AssertionOptions {
  /**
   * The signing algorithm. Default for `private_key_jwt`: the JWK's `alg`, else the one the key type calls for (RSA:
   * `RS256`, EC: `ES256`/`ES384`/`ES512` by curve, Ed25519: `EdDSA`); for `client_secret_jwt`: `HS256`.
   */
  readonly algorithm?: PrivateKeyAlgorithm | SecretAlgorithm | undefined
  /** The `kid` header (`private_key_jwt`). Default: the JWK's `kid`, else none. */
  readonly keyId?: string | undefined
  /**
   * The `aud` claim. Default: the server's issuer identifier when it is known (from discovery or `Endpoint`'s
   * `issuer`), as RFC 7523bis and FAPI 2.0 ask, else the token endpoint URL (OpenID Connect Core §9).
   */
  readonly audience?: string | ReadonlyArray<string> | undefined
  /** How long each assertion is valid. Default: 60 seconds. */
  readonly lifetime?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const basic = (
  clientId: string,
  clientSecret: Redacted.Redacted<string>,
  encoding: BasicEncoding = "form"
): ClientSecretBasic => ({ _tag: "ClientSecretBasic", clientId, clientSecret, encoding })

/**
 * @since 0.1.0
 * @category constructors
 */
export const post = (clientId: string, clientSecret: Redacted.Redacted<string>): ClientSecretPost => ({
  _tag: "ClientSecretPost",
  clientId,
  clientSecret
})

/**
 * @since 0.1.0
 * @category constructors
 */
export const none = (clientId: string): None => ({ _tag: "None", clientId })

/**
 * `tls_client_auth`: `client_id` in the body; the TLS client certificate, presented by the transport, authenticates.
 *
 * @since 0.2.0
 * @category constructors
 */
export const tlsClientAuth = (clientId: string): TlsClientAuth => ({ _tag: "TlsClientAuth", clientId })

/**
 * `self_signed_tls_client_auth`: `client_id` in the body; the self-signed TLS client certificate, presented by the
 * transport, authenticates.
 *
 * @since 0.2.0
 * @category constructors
 */
export const selfSignedTlsClientAuth = (clientId: string): SelfSignedTlsClientAuth => ({
  _tag: "SelfSignedTlsClientAuth",
  clientId
})

/**
 * Builds the client authentication for a method name. A secret is required for the two secret methods; the mutual-TLS
 * methods take none (the certificate is the transport's). The JWT methods need a key import and checks: build them
 * with {@link make}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromMethod = (options: {
  readonly method: "client_secret_basic" | "client_secret_post" | "none" | "tls_client_auth" | "self_signed_tls_client_auth"
  readonly clientId: string
  readonly clientSecret?: Redacted.Redacted<string> | undefined
  readonly basicEncoding?: BasicEncoding | undefined
}): ClientSecretBasic | ClientSecretPost | None | TlsClientAuth | SelfSignedTlsClientAuth => {
  switch (options.method) {
    case "none":
      return none(options.clientId)
    case "tls_client_auth":
      return tlsClientAuth(options.clientId)
    case "self_signed_tls_client_auth":
      return selfSignedTlsClientAuth(options.clientId)
    case "client_secret_post":
      return post(options.clientId, options.clientSecret ?? Redacted.make(""))
    case "client_secret_basic":
      return basic(options.clientId, options.clientSecret ?? Redacted.make(""), options.basicEncoding ?? "form")
  }
}

/**
 * `application/x-www-form-urlencoded` encoding of one value, as RFC 6749 Appendix B asks: spaces become `+`, every
 * character outside `[A-Za-z0-9*._~-]` is percent-encoded. `~` (an RFC 3986 unreserved character, which form decoders
 * read either way) is left as is, so that the `"form"` and `"raw"` Basic encodings agree for `[A-Za-z0-9._~-]`.
 *
 * @since 0.1.0
 * @category encoding
 */
export const formEncode = (value: string): string =>
  // URLSearchParams escapes "~" as "%7E"; a literal "%" comes out as "%25", so "%7E" only ever stands for "~".
  new URLSearchParams([["", value]]).toString().slice(1).replace(/%7E/g, "~")

/**
 * The value of the `Authorization: Basic` header for a client id and secret.
 *
 * @since 0.1.0
 * @category encoding
 */
export const basicHeader = (clientId: string, clientSecret: string, encoding: BasicEncoding = "form"): string => {
  const pair = encoding === "form"
    ? `${formEncode(clientId)}:${formEncode(clientSecret)}`
    : `${clientId}:${clientSecret}`
  return `Basic ${Encoding.encodeBase64(pair)}`
}

/**
 * What a client authentication adds to a request: headers and form parameters. The secret is unwrapped here, at the
 * HTTP boundary, and nowhere else. The mutual-TLS methods add `client_id` alone (RFC 8705 §2: the certificate, not the
 * request, authenticates).
 *
 * @since 0.1.0
 * @category combinators
 */
export const toRequestParts = (
  auth: ClientSecretBasic | ClientSecretPost | None | TlsClientAuth | SelfSignedTlsClientAuth
): { readonly headers: Record<string, string>; readonly params: ReadonlyArray<readonly [string, string]> } => {
  switch (auth._tag) {
    case "ClientSecretBasic":
      return {
        headers: { authorization: basicHeader(auth.clientId, Redacted.value(auth.clientSecret), auth.encoding) },
        params: []
      }
    case "ClientSecretPost":
      return {
        headers: {},
        params: [["client_id", auth.clientId], ["client_secret", Redacted.value(auth.clientSecret)]]
      }
    case "None":
    case "TlsClientAuth":
    case "SelfSignedTlsClientAuth":
      return { headers: {}, params: [["client_id", auth.clientId]] }
  }
}

/**
 * The method name of a client authentication.
 *
 * @since 0.1.0
 * @category getters
 */
export const method = (auth: ClientAuth): Method => {
  switch (auth._tag) {
    case "ClientSecretBasic":
      return "client_secret_basic"
    case "ClientSecretPost":
      return "client_secret_post"
    case "None":
      return "none"
    case "PrivateKeyJwt":
      return "private_key_jwt"
    case "ClientSecretJwt":
      return "client_secret_jwt"
    case "TlsClientAuth":
      return "tls_client_auth"
    case "SelfSignedTlsClientAuth":
      return "self_signed_tls_client_auth"
  }
}

/** The `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2). */
const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

/** The longest assertion lifetime accepted: servers may refuse "unreasonably far" expiry (RFC 7523 §3). */
const MAX_ASSERTION_LIFETIME = Duration.minutes(10)

const invalid = (provider: string | undefined, description: string) =>
  new InvalidConfiguration({ ...(provider === undefined ? {} : { provider }), source: "configuration", description })

const assertionLifetime = (
  provider: string | undefined,
  input: Duration.DurationInput | undefined
): Effect.Effect<Duration.Duration, InvalidConfiguration> => {
  const lifetime = Duration.decode(input ?? Duration.seconds(60))
  return Duration.toMillis(lifetime) >= 1000 && Duration.lessThanOrEqualTo(lifetime, MAX_ASSERTION_LIFETIME)
    ? Effect.succeed(lifetime)
    : Effect.fail(
      invalid(
        provider,
        `the client assertion lifetime must be between 1 second and ${
          Duration.format(MAX_ASSERTION_LIFETIME)
        } (short-lived, as RFC 7523 asks); the default is 60 seconds.`
      )
    )
}

const checkAudience = (
  provider: string | undefined,
  audience: string | ReadonlyArray<string>
): Effect.Effect<string | ReadonlyArray<string>, InvalidConfiguration> =>
  (typeof audience === "string" ? audience !== "" : audience.length > 0 && audience.every((a) => a !== ""))
    ? Effect.succeed(audience)
    : Effect.fail(invalid(provider, "the client assertion audience is empty: give the server's issuer identifier."))

/**
 * `private_key_jwt`: imports the private key (PKCS#8 PEM, or a JWK as an object or JSON text) and signs a probe with
 * it, so that a key that cannot work (unreadable, public, too short, of another type than the algorithm) fails here
 * with `InvalidConfiguration`, never on a token request.
 *
 * @since 0.2.0
 * @category constructors
 */
export const privateKeyJwt = (options: {
  readonly clientId: string
  /** The private key: a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), a JWK object, or a JWK as JSON text. */
  readonly privateKey: Redacted.Redacted<string | Jwk>
  /** The `aud` claim: usually the server's issuer identifier. */
  readonly audience: string | ReadonlyArray<string>
  /** The algorithm. Default: the JWK's `alg`, else the one the key type calls for (RSA: RS256, EC: by curve, Ed25519: EdDSA). */
  readonly algorithm?: PrivateKeyAlgorithm | undefined
  /** The `kid` header. Default: the JWK's `kid`, else none. */
  readonly keyId?: string | undefined
  /** How long each assertion is valid. Default: 60 seconds. */
  readonly lifetime?: Duration.DurationInput | undefined
  /** The provider name, for errors. */
  readonly provider?: string | undefined
}): Effect.Effect<PrivateKeyJwt, InvalidConfiguration> =>
  Effect.gen(function*() {
    const lifetime = yield* assertionLifetime(options.provider, options.lifetime)
    const audience = yield* checkAudience(options.provider, options.audience)
    const imported = yield* Effect.promise(() =>
      assertion.importPrivateKey(Redacted.value(options.privateKey), options.algorithm).catch(() =>
        new assertion.KeyProblem("the private key could not be read.")
      )
    )
    if (imported instanceof assertion.KeyProblem) {
      return yield* invalid(options.provider, `private_key_jwt: ${imported.description}`)
    }
    return {
      _tag: "PrivateKeyJwt",
      clientId: options.clientId,
      key: Redacted.make(imported.key),
      algorithm: imported.algorithm as PrivateKeyAlgorithm,
      keyId: options.keyId ?? imported.keyId,
      audience,
      lifetime
    } satisfies PrivateKeyJwt
  })

/**
 * `client_secret_jwt`: assertions signed with HMAC keyed by the client secret.
 *
 * @since 0.2.0
 * @category constructors
 */
export const clientSecretJwt = (options: {
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  /** The `aud` claim: usually the server's issuer identifier. */
  readonly audience: string | ReadonlyArray<string>
  /** The algorithm. Default: `HS256`. */
  readonly algorithm?: SecretAlgorithm | undefined
  /** How long each assertion is valid. Default: 60 seconds. */
  readonly lifetime?: Duration.DurationInput | undefined
  /** The provider name, for errors. */
  readonly provider?: string | undefined
}): Effect.Effect<ClientSecretJwt, InvalidConfiguration> =>
  Effect.gen(function*() {
    const algorithm = options.algorithm ?? "HS256"
    if (!(assertion.HMAC_ALGORITHMS as ReadonlyArray<string>).includes(algorithm)) {
      return yield* invalid(
        options.provider,
        `client_secret_jwt signs with ${assertion.HMAC_ALGORITHMS.join(", ")}; for an asymmetric algorithm use private_key_jwt with a private key.`
      )
    }
    if (Redacted.value(options.clientSecret) === "") {
      return yield* invalid(options.provider, "client_secret_jwt needs a client secret, and it is empty.")
    }
    const lifetime = yield* assertionLifetime(options.provider, options.lifetime)
    const audience = yield* checkAudience(options.provider, options.audience)
    return {
      _tag: "ClientSecretJwt",
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      algorithm,
      audience,
      lifetime
    } satisfies ClientSecretJwt
  })

/**
 * Builds the client authentication for any method, checking what it needs: a secret for the secret methods, a
 * private key for `private_key_jwt` (imported and probed here), nothing for `none` and the mutual-TLS methods (whose
 * certificate is presented by the `HttpClient`). Every problem is an `InvalidConfiguration` that says what to give.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (options: {
  readonly method: Method
  readonly clientId: string
  readonly clientSecret?: Redacted.Redacted<string> | undefined
  /** The private key, for `private_key_jwt`. */
  readonly privateKey?: Redacted.Redacted<string | Jwk> | undefined
  readonly basicEncoding?: BasicEncoding | undefined
  readonly assertion?: AssertionOptions | undefined
  /** The `aud` used when `assertion.audience` is not given: the issuer when known, else the token endpoint URL. */
  readonly defaultAudience: string
  /** The provider name, for errors. */
  readonly provider?: string | undefined
}): Effect.Effect<ClientAuth, InvalidConfiguration> => {
  const { method: name, provider } = options
  const audience = options.assertion?.audience ?? options.defaultAudience
  const lifetime = options.assertion?.lifetime
  const algorithm = options.assertion?.algorithm
  switch (name) {
    case "none":
      return Effect.succeed(none(options.clientId))
    case "tls_client_auth":
    case "self_signed_tls_client_auth":
      return options.clientId === ""
        ? Effect.fail(invalid(provider, `${name} needs the client id the certificate is registered for, and it is empty.`))
        : Effect.succeed(fromMethod({ method: name, clientId: options.clientId }))
    case "private_key_jwt": {
      if (options.privateKey === undefined) {
        return Effect.fail(
          invalid(provider, "private_key_jwt needs the client's private key (PKCS#8 PEM or JWK), and none was given.")
        )
      }
      if (algorithm !== undefined && (assertion.HMAC_ALGORITHMS as ReadonlyArray<string>).includes(algorithm)) {
        return Effect.fail(
          invalid(provider, `${algorithm} is an HMAC algorithm: use client_secret_jwt for it, or an asymmetric one here.`)
        )
      }
      return privateKeyJwt({
        clientId: options.clientId,
        privateKey: options.privateKey,
        audience,
        algorithm: algorithm as PrivateKeyAlgorithm | undefined,
        keyId: options.assertion?.keyId,
        lifetime,
        provider
      })
    }
    default: {
      const secret = options.clientSecret
      if (secret === undefined) {
        return Effect.fail(invalid(provider, `${name} needs a client secret, and none was given.`))
      }
      if (name === "client_secret_jwt") {
        return clientSecretJwt({
          clientId: options.clientId,
          clientSecret: secret,
          audience,
          algorithm: algorithm as SecretAlgorithm | undefined,
          lifetime,
          provider
        })
      }
      return Effect.succeed(fromMethod({
        method: name,
        clientId: options.clientId,
        clientSecret: secret,
        basicEncoding: options.basicEncoding
      }))
    }
  }
}

/**
 * Signs one client assertion for a JWT method: `iss` = `sub` = the client id, `aud`, `iat` (from `Clock`), `exp`,
 * a fresh random `jti`, and the `kid` header when there is one. Every call gives a new assertion.
 *
 * @since 0.2.0
 * @category combinators
 */
export const signAssertion = (auth: PrivateKeyJwt | ClientSecretJwt): Effect.Effect<string, InvalidConfiguration> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.tryPromise({
      try: () =>
        assertion.sign(
          auth._tag === "PrivateKeyJwt"
            ? Redacted.value(auth.key)
            : new TextEncoder().encode(Redacted.value(auth.clientSecret)),
          { alg: auth.algorithm, kid: auth._tag === "PrivateKeyJwt" ? auth.keyId : undefined },
          {
            clientId: auth.clientId,
            audience: auth.audience,
            now,
            lifetimeSeconds: Math.max(1, Math.round(Duration.toSeconds(auth.lifetime)))
          }
        ),
      // jose's message could name the key's parameters: it is never passed on.
      catch: () =>
        invalid(undefined, `the ${method(auth)} client assertion could not be signed with ${auth.algorithm}.`)
    }))

/**
 * What a client authentication adds to a request, for every method: for the JWT methods a freshly signed assertion
 * in `client_assertion` (with `client_assertion_type` and `client_id`), for the others {@link toRequestParts}.
 *
 * @since 0.2.0
 * @category combinators
 */
export const requestParts = (
  auth: ClientAuth
): Effect.Effect<
  { readonly headers: Record<string, string>; readonly params: ReadonlyArray<readonly [string, string]> },
  InvalidConfiguration
> =>
  auth._tag === "PrivateKeyJwt" || auth._tag === "ClientSecretJwt"
    ? Effect.map(signAssertion(auth), (jwt) => ({
      headers: {},
      params: [["client_id", auth.clientId], ["client_assertion_type", JWT_BEARER], ["client_assertion", jwt]]
    }))
    : Effect.succeed(toRequestParts(auth))

/**
 * What to check when a server refuses a JWT client assertion (`invalid_client`): servers rarely say which part.
 *
 * @since 0.2.0
 * @category getters
 */
export const assertionRejectedHint = (auth: PrivateKeyJwt | ClientSecretJwt): string => {
  const audience = typeof auth.audience === "string" ? auth.audience : auth.audience.join(", ")
  const key = auth._tag === "PrivateKeyJwt"
    ? `that the public half of this private key${
      auth.keyId === undefined ? "" : ` (kid "${auth.keyId}")`
    } is registered with the server for client "${auth.clientId}" and that ${auth.algorithm} is allowed for it`
    : `that the client secret is right for client "${auth.clientId}" and that it is registered for client_secret_jwt with ${auth.algorithm}`
  return `The server refused the client assertion (${method(auth)}). Check ${key}; that the audience "${audience}" is one the server accepts (usually its issuer identifier; set assertion.audience otherwise); and that this machine's clock is right (each assertion is valid for ${
    Duration.format(auth.lifetime)
  }). Retrying will not help.`
}
