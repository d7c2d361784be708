/**
 * A mutual-TLS `HttpClient` (RFC 8705) for Node: every connection presents the client's TLS certificate, so that
 *
 * - the token, revocation and introspection endpoints authenticate the client by it (`tls_client_auth`,
 *   `self_signed_tls_client_auth` in `ClientAuth`), and
 * - the server binds the access tokens it issues to it (`cnf.x5t#S256`, RFC 8705 §3), which the API then accepts
 *   only over a connection that presents the same certificate.
 *
 * Provide its layer as the `HttpClient` of both `OAuth2Client` (the token endpoint) and `OAuth2HttpClient` (the API
 * calls): a certificate-bound token sent without the certificate is refused by the resource server.
 *
 * The certificate and key are checked when the layer is built: that they can be read, that the key is the
 * certificate's, that the certificate is valid now and may be used for client authentication. Every problem is an
 * `InvalidConfiguration` that says what to fix. A certificate that expires while the service runs is refused before
 * any request, and a handshake the server refuses (or whose server certificate is not trusted) fails with a
 * `RequestError` whose description says what to check. The private key is read into a TLS context once: it never
 * appears in an error, a log, `inspect` or JSON.
 *
 * It lives in this Node-only package because it needs Node's TLS stack and undici; `@effect-oauth2/core` stays
 * platform-neutral and takes any `HttpClient`.
 *
 * @since 0.2.0
 */
import { type InvalidConfiguration } from "@effect-oauth2/core/OAuth2Error"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type * as Undici from "undici"
import * as internal from "./internal/certificate.js"

/**
 * The options of {@link make} and {@link layer}.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /**
   * The client certificate, PEM (`-----BEGIN CERTIFICATE-----`). Intermediate CA certificates may follow it: the whole
   * chain is sent to the server.
   */
  readonly certificate: string
  /** The certificate's private key, PEM (PKCS#8, PKCS#1 RSA or SEC1 EC; encrypted PKCS#8 with `passphrase`). */
  readonly privateKey: Redacted.Redacted<string>
  /** The passphrase of an encrypted private key. Default: none. */
  readonly passphrase?: Redacted.Redacted<string> | undefined
  /**
   * The CA certificates (PEM) that sign the servers' certificates, for a private PKI. They are trusted in place of
   * Node's default roots; to keep those as well, pass `[...tls.rootCertificates, ca]`. Default: Node's roots.
   */
  readonly ca?: string | ReadonlyArray<string> | undefined
  /** A short name used in errors. Default: `"mtls"`. */
  readonly provider?: string | undefined
}

/**
 * What the client certificate says of itself. No secret: the certificate is public.
 *
 * @since 0.2.0
 * @category models
 */
export interface ClientCertificate {
  /** The subject distinguished name, e.g. `"CN=client-1"`. */
  readonly subject: string
  /** The issuer distinguished name (the same as the subject for a self-signed certificate). */
  readonly issuer: string
  /** The serial number, hexadecimal. */
  readonly serialNumber: string
  /** When the certificate starts being valid. */
  readonly validFrom: Date
  /** When it expires. */
  readonly validTo: Date
  /**
   * Its SHA-256 thumbprint, base64url (RFC 8705 §3.1): the `cnf.x5t#S256` a server puts in the access tokens bound to
   * it.
   */
  readonly thumbprint: string
  /** Whether it is self-signed (for `self_signed_tls_client_auth`). */
  readonly selfSigned: boolean
}

/**
 * Reads and checks a client certificate and its key: both readable, the key the certificate's, the certificate valid
 * now (wall-clock time, as the server judges it) and not restricted to other uses than client authentication, the CA
 * certificates readable. Fails with an `InvalidConfiguration` that says what to fix, never with a word of the key.
 *
 * @since 0.2.0
 * @category constructors
 */
export const check = (options: Options): Effect.Effect<ClientCertificate, InvalidConfiguration> =>
  Effect.map(internal.load(options, Date.now()), (loaded) => loaded.info)

/**
 * The certificate of the mutual-TLS client in a context where {@link layer} was provided.
 *
 * @since 0.2.0
 * @category tags
 */
export class Certificate extends Context.Tag("@effect-oauth2/node/MtlsHttpClient/Certificate")<
  Certificate,
  ClientCertificate
>() {}

/**
 * An undici dispatcher whose connections present the client certificate, closed with the scope. For users who build
 * their own client (`NodeHttpClient.makeUndici`, or `fetch`'s `dispatcher`); {@link make} wraps it with the checks
 * and error messages.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeDispatcher = (
  options: Options
): Effect.Effect<Undici.Dispatcher, InvalidConfiguration, Scope.Scope> =>
  Effect.flatMap(internal.load(options, Date.now()), (loaded) => internal.dispatcher(loaded))

/**
 * A mutual-TLS `HttpClient`: an undici client on a dispatcher that presents the certificate, which refuses to send
 * once the certificate has expired and explains a handshake the server refuses. The dispatcher is closed with the
 * scope.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<HttpClient.HttpClient, InvalidConfiguration, Scope.Scope> =>
  Effect.map(makeWithCertificate(options), ([client]) => client)

const makeWithCertificate = (options: Options) =>
  Effect.gen(function*() {
    const loaded = yield* internal.load(options, Date.now())
    const dispatcher = yield* internal.dispatcher(loaded)
    const client = HttpClient.transform(NodeHttpClient.makeUndici(dispatcher), (effect, request) =>
      Effect.suspend(() => {
        const expired = internal.expiredNow(loaded, Date.now())
        return expired === undefined
          ? Effect.mapError(effect, (error) => internal.explain(error, loaded))
          : Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", description: expired }))
      }))
    return [client, loaded.info] as const
  })

/**
 * A layer of the mutual-TLS `HttpClient` (and of its {@link Certificate}): give it to `OAuth2Client` and to
 * `OAuth2HttpClient` alike, so that the token requests and the API calls present the certificate.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<HttpClient.HttpClient | Certificate, InvalidConfiguration> =>
  Layer.scopedContext(
    Effect.map(
      makeWithCertificate(options),
      ([client, info]) => Context.make(HttpClient.HttpClient, client).pipe(Context.add(Certificate, info))
    )
  )

/**
 * {@link layer} from `Config`: e.g. `layerConfig({ certificate: Config.string("TLS_CERT"), privateKey:
 * Config.redacted("TLS_KEY") })`.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<Options>
): Layer.Layer<HttpClient.HttpClient | Certificate, InvalidConfiguration | ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), layer))

/**
 * The RFC 8705 §3.1 thumbprint of a certificate (PEM; the first one of a chain): the base64url SHA-256 of its DER,
 * as in `cnf.x5t#S256`.
 *
 * @since 0.2.0
 * @category getters
 */
export const thumbprint = (certificate: string): Effect.Effect<string, InvalidConfiguration> =>
  internal.thumbprintOf(certificate)
