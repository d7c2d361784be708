/**
 * `@effect-oauth2/node`: what needs Node itself. A mutual-TLS `HttpClient` (RFC 8705) that presents a client
 * certificate, for `tls_client_auth` / `self_signed_tls_client_auth` and certificate-bound access tokens.
 *
 * @since 0.2.0
 */

/**
 * An HTTPS loopback `HttpServer` for login callbacks, with a self-signed certificate made in memory at run time.
 *
 * @since 0.2.0
 */
export * as LoopbackHttps from "./LoopbackHttps.js"

/**
 * The mutual-TLS `HttpClient`: `make`, `layer`, `layerConfig`, and the certificate checks.
 *
 * @since 0.2.0
 */
export * as MtlsHttpClient from "./MtlsHttpClient.js"
