/**
 * DPoP (RFC 9449): sender-constrained access tokens. With a {@link Dpop} service in the context, the token-endpoint
 * client (`OAuth2Client.make`, every provider layer built on it) and the authorised client (`OAuth2HttpClient.make`,
 * or `withAccessToken` with the `dpop` option) prove possession of one key pair on every request:
 *
 * - **Token requests** (client credentials, refresh, code exchange) carry a `DPoP` proof (`typ: dpop+jwt`, the
 *   public key as `jwk`, `htm`, `htu` without query or fragment, `iat`, a fresh `jti`); the server binds the token to
 *   the key (`cnf.jkt`) and answers `token_type: DPoP`, which is only accepted while DPoP is on.
 * - **API calls** with a DPoP-bound token send `Authorization: DPoP <token>` and a proof that also carries `ath`
 *   (the token's SHA-256).
 * - **Nonces** (RFC 9449 §8, §9): a server that answers `use_dpop_nonce` (400 from the token endpoint, 401 with
 *   `WWW-Authenticate: DPoP error="use_dpop_nonce"` from an API) with a `DPoP-Nonce` gets the request once more with
 *   that nonce; a second refusal fails with `Unauthorized` (`use_dpop_nonce`), never a loop. The latest nonce of each
 *   origin (at most 64 origins) is remembered and used on the next proof to that origin.
 * - **A Bearer answer** to a request that carried a proof (a server that does not do DPoP may do so, RFC 9449 §5)
 *   fails with `InvalidConfiguration` by default, since the token would not be bound to the key; with
 *   `onBearerToken: "accept"` it is used as a Bearer token (no proof on API calls) and a warning is logged.
 * - **Off costs nothing**: without a `Dpop` service no proof is made, no header is added, and the Bearer path is
 *   unchanged.
 *
 * The key pair is made once per service: generated (ES256 by default, non-extractable) or read from a PEM/JWK you
 * give as `Redacted`. A generated key dies with the process, and so do the tokens bound to it (a token from a
 * `TokenStore` bound to another key is refused by the API and replaced); give a key to keep tokens across restarts.
 * The private key never appears in an error, a log, a span, `util.inspect` or `JSON.stringify`.
 *
 * @since 0.2.0
 */
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as ClientAuth from "./ClientAuth.js"
import { Discovery } from "./Discovery.js"
import { KeyProblem } from "./internal/privateKey.js"
import * as internal from "./internal/dpop.js"
import { InvalidConfiguration } from "./OAuth2Error.js"

/**
 * What to do with a `token_type: Bearer` answer to a token request that carried a DPoP proof.
 *
 * - `"fail"`: an `InvalidConfiguration` error (the token is not used).
 * - `"accept"`: use it as a Bearer token, and log a warning.
 *
 * @since 0.2.0
 * @category models
 */
export type OnBearerToken = "fail" | "accept"

/**
 * The options of {@link make}.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /**
   * The private key proofs are signed with: a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), a JWK object, or a JWK as
   * JSON text (read it with `Config.redacted`). Default: a new key pair, generated for the `algorithm`.
   */
  readonly privateKey?: Redacted.Redacted<string | ClientAuth.Jwk> | undefined
  /**
   * The JWS algorithm of the proofs: `ES256`, `ES384`, `ES512`, `PS256`…`PS512`, `RS256`…`RS512`, `EdDSA`/`Ed25519`.
   * Default: with a key, the one its type calls for (EC by curve, RSA `PS256`, Ed25519 `EdDSA`); without, `ES256`,
   * or, when a `Discovery` in the context lists `dpop_signing_alg_values_supported` without ES256, the first of
   * those this library can generate. An algorithm the discovered server does not list is refused here.
   */
  readonly algorithm?: string | undefined
  /** What to do with a Bearer token answered to a DPoP token request. Default: `"fail"`. */
  readonly onBearerToken?: OnBearerToken | undefined
}

/**
 * What a proof is made for.
 *
 * @since 0.2.0
 * @category models
 */
export interface ProofRequest {
  /** The HTTP method (`htm`). */
  readonly method: string
  /** The request URL; its query and fragment are left out of `htu`. */
  readonly url: string
  /** The access token the request carries, for `ath`. Default: none (token requests). */
  readonly accessToken?: Redacted.Redacted<string> | undefined
  /** The nonce to put in the proof. Default: the latest one the URL's origin gave, if any. */
  readonly nonce?: string | undefined
}

/**
 * A DPoP key pair and the nonces servers gave.
 *
 * @since 0.2.0
 * @category models
 */
export interface Service extends Inspectable.Inspectable {
  /** The JWS algorithm of the proofs. */
  readonly algorithm: string
  /** The public key as a JWK (the `jwk` header of every proof). */
  readonly publicJwk: Readonly<Record<string, string>>
  /** The RFC 7638 SHA-256 thumbprint of the public key: a bound token's `cnf.jkt`, a login's `dpop_jkt`. */
  readonly thumbprint: string
  /** What a Bearer answer to a DPoP token request becomes. */
  readonly onBearerToken: OnBearerToken
  /** Signs a new proof (a fresh `jti`, `iat` from `Clock`). */
  readonly proof: (request: ProofRequest) => Effect.Effect<string, InvalidConfiguration>
  /** The latest nonce the URL's origin gave, if any. */
  readonly nonce: (url: string) => string | undefined
  /**
   * Remembers the `DPoP-Nonce` of an answer from `url`'s origin (a malformed one is ignored); returns it when there
   * was a usable one.
   */
  readonly rememberNonce: (url: string, headers: Readonly<Record<string, string | undefined>>) => string | undefined
}

/**
 * The DPoP key pair of a client, as a service. Provide it to the layers that build `OAuth2Client` and the authorised
 * client, so that both use the same key.
 *
 * @since 0.2.0
 * @category tags
 */
export class Dpop extends Context.Tag("@effect-oauth2/core/Dpop")<Dpop, Service>() {}

class DpopService extends Inspectable.Class implements Service {
  readonly algorithm: string
  readonly publicJwk: Readonly<Record<string, string>>
  readonly thumbprint: string
  readonly proof: Service["proof"]
  readonly nonce: Service["nonce"]
  readonly rememberNonce: Service["rememberNonce"]
  constructor(key: internal.KeyPair, readonly onBearerToken: OnBearerToken, provider: string | undefined) {
    super()
    const nonces = new internal.NonceCache()
    this.algorithm = key.algorithm
    this.publicJwk = key.publicJwk
    this.thumbprint = key.thumbprint
    // The key stays in this closure: it is no property of the service, so nothing that prints the service shows it.
    this.proof = (request) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.tryPromise({
          try: () =>
            internal.sign(key, {
              method: request.method,
              url: request.url,
              accessToken: request.accessToken === undefined ? undefined : Redacted.value(request.accessToken),
              nonce: request.nonce ?? nonces.get(request.url),
              now
            }),
          catch: () =>
            new InvalidConfiguration({
              provider,
              source: "configuration",
              description: `the DPoP proof for ${request.method} ${internal.htuOf(request.url) ?? "a URL that does not parse"} ` +
                "could not be signed."
            })
        }))
    this.nonce = (url) => nonces.get(url)
    this.rememberNonce = (url, headers) => nonces.remember(url, headers)
  }
  toJSON(): unknown {
    return { _id: "@effect-oauth2/core/Dpop", algorithm: this.algorithm, thumbprint: this.thumbprint }
  }
}

const problem = (provider: string | undefined, description: string) =>
  new InvalidConfiguration({ provider, source: "configuration", description: `DPoP: ${description}` })

/**
 * Makes the DPoP service: reads the key, or generates one. When a `Discovery` is in the context, the algorithm is
 * checked against (or, when not given, chosen from) the server's `dpop_signing_alg_values_supported`.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (
  options: Options & {
    /** The provider name errors carry. Default: none. */
    readonly provider?: string | undefined
  } = {}
): Effect.Effect<Service, InvalidConfiguration> =>
  Effect.gen(function*() {
    const provider = options.provider
    const metadata = Option.getOrUndefined(yield* Effect.serviceOption(Discovery))
    const listed = metadata?.dpopSigningAlgValuesSupported
    const onBearerToken = options.onBearerToken ?? "fail"
    if (onBearerToken !== "fail" && onBearerToken !== "accept") {
      return yield* problem(provider, `onBearerToken must be "fail" or "accept".`)
    }
    const algorithm = options.algorithm ??
      (options.privateKey !== undefined || listed === undefined || listed.includes("ES256")
        ? undefined
        : listed.find((alg) => internal.ALGORITHMS.includes(alg)))
    if (options.privateKey === undefined && listed !== undefined && algorithm === undefined && !listed.includes("ES256")) {
      return yield* problem(
        provider,
        `the server accepts DPoP proofs signed with ${listed.join(", ") || "no algorithm"} only, none of which this ` +
          `library signs with (${internal.ALGORITHMS.join(", ")}).`
      )
    }
    const made = yield* Effect.promise(() =>
      (options.privateKey === undefined
        ? internal.generate(algorithm ?? "ES256")
        : internal.importKey(Redacted.value(options.privateKey), algorithm)).catch(() =>
          new KeyProblem("the DPoP key could not be read.")
        )
    )
    if (made instanceof KeyProblem) return yield* problem(provider, made.description)
    if (listed !== undefined && !listed.includes(made.algorithm)) {
      return yield* problem(
        provider,
        `the server (${metadata!.issuer}) accepts DPoP proofs signed with ${listed.join(", ") || "no algorithm"}, ` +
          `not ${made.algorithm}: set the algorithm (and give a key) that it accepts.`
      )
    }
    return new DpopService(made, onBearerToken, provider)
  })

/**
 * The DPoP service as a layer. Provide it to (or merge it with) the layers of `OAuth2Client` and the authorised
 * client, so that both sign with the same key.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Dpop, InvalidConfiguration> =>
  Layer.effect(Dpop, make(options))

/**
 * The DPoP service as a layer whose options come from `Config`, e.g.
 * `Dpop.layerConfig({ privateKey: Config.option(Config.redacted("DPOP_KEY")).pipe(Config.map(Option.getOrUndefined)) })`.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<Omit<Options, "privateKey"> & { readonly privateKey?: Redacted.Redacted | undefined }>
): Layer.Layer<Dpop, InvalidConfiguration | ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), (options) => layer(options)))
