/**
 * Authorization server metadata (RFC 8414, OpenID Connect Discovery 1.0): from an issuer URL, the server's endpoints
 * and what it supports, fetched once, checked and kept for the life of the service.
 *
 * - The document comes from `/.well-known/openid-configuration` or `/.well-known/oauth-authorization-server`
 *   (both by default, the OpenID one first), through the plain `HttpClient`, with no redirect followed, a deadline
 *   and a body cap.
 * - Its `issuer` must be identical to the one configured (RFC 8414 §3.3): anything else is refused, since it is the
 *   mark of a mix-up or of a wrong URL.
 * - Every URL in it must be HTTPS (or HTTP on loopback), as for a hand-written {@link Endpoint}.
 * - {@link checkAuthMethod} and {@link checkPkce} refuse, before any token request, a configuration the server says
 *   it cannot serve.
 * - With `mtls: true` (a client that presents a TLS client certificate, RFC 8705), the endpoints named in
 *   `mtls_endpoint_aliases` replace the plain ones ({@link withMtlsAliases}).
 *
 * `OAuth2Client.layerDiscovery` builds a token-endpoint client from all of this in one step.
 *
 * @since 0.2.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as ClientAuth from "./ClientAuth.js"
import * as Endpoint from "./Endpoint.js"
import { sanitize } from "./internal/sanitize.js"
import * as internal from "./internal/discovery.js"
import * as wire from "./internal/wire.js"
import { InvalidConfiguration, MalformedResponse, type OAuth2Error } from "./OAuth2Error.js"

/**
 * What an authorization server says of itself: its endpoints and what it supports. Lists the server did not send
 * take RFC 8414's defaults where it has one, and are `undefined` where "not said" differs from any list.
 *
 * @since 0.2.0
 * @category models
 */
export interface Metadata {
  /** The short name used in logs, spans and errors. */
  readonly provider: string
  /** The issuer identifier, identical to the one configured. */
  readonly issuer: string
  /** Where the document was read. */
  readonly metadataUrl: string
  /** The authorization endpoint (RFC 6749 §3.1). */
  readonly authorizationEndpoint: string | undefined
  /** The token endpoint (RFC 6749 §3.2). */
  readonly tokenEndpoint: string | undefined
  /** The revocation endpoint (RFC 7009). */
  readonly revocationEndpoint: string | undefined
  /** The introspection endpoint (RFC 7662). */
  readonly introspectionEndpoint: string | undefined
  /** The pushed authorization request endpoint (RFC 9126). */
  readonly pushedAuthorizationRequestEndpoint: string | undefined
  /** The device authorization endpoint (RFC 8628). */
  readonly deviceAuthorizationEndpoint: string | undefined
  /** The server's public keys (RFC 7517 JWK Set). */
  readonly jwksUri: string | undefined
  /** How clients may authenticate to the token endpoint. Default (RFC 8414 §2): `["client_secret_basic"]`. */
  readonly tokenEndpointAuthMethodsSupported: ReadonlyArray<string>
  /** The algorithms accepted for JWT client assertions at the token endpoint, when said. */
  readonly tokenEndpointAuthSigningAlgValuesSupported: ReadonlyArray<string> | undefined
  /** The PKCE challenge methods accepted (RFC 7636), when said. */
  readonly codeChallengeMethodsSupported: ReadonlyArray<string> | undefined
  /** The grant types accepted. Default (RFC 8414 §2): `["authorization_code", "implicit"]`. */
  readonly grantTypesSupported: ReadonlyArray<string>
  /** The scopes the server names, when said. */
  readonly scopesSupported: ReadonlyArray<string> | undefined
  /** Whether the authorization response carries `iss` (RFC 9207). Default: `false`. */
  readonly authorizationResponseIssParameterSupported: boolean
  /** Whether authorization requests must be pushed (RFC 9126 §5). Default: `false`. */
  readonly requirePushedAuthorizationRequests: boolean
  /** The endpoints to use with mutual TLS (RFC 8705 §5), by metadata name. Default: none. */
  readonly mtlsEndpointAliases: Readonly<Record<string, string>>
  /** Whether the server binds access tokens to the client's TLS certificate (RFC 8705 §3.3). Default: `false`. */
  readonly tlsClientCertificateBoundAccessTokens: boolean
  /** The algorithms accepted for DPoP proofs (RFC 9449 §5.1), when said. */
  readonly dpopSigningAlgValuesSupported: ReadonlyArray<string> | undefined
  /** The whole document, for members not modelled here. */
  readonly raw: Readonly<Record<string, unknown>>
}

const OptionalString = Schema.optionalWith(Schema.String, { nullable: true })
const OptionalStrings = Schema.optionalWith(Schema.Array(Schema.String), { nullable: true })
const OptionalBoolean = Schema.optionalWith(Schema.Boolean, { nullable: true })

/**
 * The members of the metadata document read here (RFC 8414 §2, RFC 9126 §5, RFC 9207 §3, RFC 8705 §5, RFC 9449 §5.1);
 * other members are kept in `raw`, unchecked.
 *
 * @since 0.2.0
 * @category schemas
 */
export const MetadataDocument = Schema.Struct({
  issuer: Schema.String,
  authorization_endpoint: OptionalString,
  token_endpoint: OptionalString,
  revocation_endpoint: OptionalString,
  introspection_endpoint: OptionalString,
  pushed_authorization_request_endpoint: OptionalString,
  device_authorization_endpoint: OptionalString,
  jwks_uri: OptionalString,
  token_endpoint_auth_methods_supported: OptionalStrings,
  token_endpoint_auth_signing_alg_values_supported: OptionalStrings,
  code_challenge_methods_supported: OptionalStrings,
  grant_types_supported: OptionalStrings,
  scopes_supported: OptionalStrings,
  authorization_response_iss_parameter_supported: OptionalBoolean,
  require_pushed_authorization_requests: OptionalBoolean,
  mtls_endpoint_aliases: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.String }), {
    nullable: true
  }),
  dpop_signing_alg_values_supported: OptionalStrings,
  tls_client_certificate_bound_access_tokens: OptionalBoolean
})

/**
 * Which well-known document to read: `"auto"` reads `openid-configuration` and, when the server has none (404),
 * `oauth-authorization-server`.
 *
 * @since 0.2.0
 * @category models
 */
export type WellKnown = "auto" | "oauth-authorization-server" | "openid-configuration"

/**
 * The options of {@link make}.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** The issuer identifier, e.g. `"https://auth.example.com"`. Required; compared exactly with the document's. */
  readonly issuer: string
  /** Which document to read. Default: `"auto"`. */
  readonly wellKnown?: WellKnown | undefined
  /** A short name used in logs, spans and errors. Default: the issuer's host. */
  readonly provider?: string | undefined
  /** How long the request may take. Default: 30 seconds. */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** The largest document read, in bytes. Default: 1 MiB. */
  readonly maxResponseBytes?: number | undefined
  /** Headers added to the request. Default: none. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Allow `http://` URLs on hosts other than loopback. Default: `false` (RFC 9700). Never in production. */
  readonly allowInsecureHttp?: boolean | undefined
  /**
   * The client presents a TLS client certificate (RFC 8705: `tls_client_auth`, `self_signed_tls_client_auth`, or
   * certificate-bound tokens): use the server's `mtls_endpoint_aliases` in place of the endpoints they name
   * ({@link withMtlsAliases}). Default: `false`.
   */
  readonly mtls?: boolean | undefined
}

/**
 * The metadata members `mtls_endpoint_aliases` may stand in for, and the {@link Metadata} field each one fills. The
 * authorization endpoint is not among them: the browser, not the client, goes there.
 */
const MTLS_ALIASED = [
  ["token_endpoint", "tokenEndpoint"],
  ["revocation_endpoint", "revocationEndpoint"],
  ["introspection_endpoint", "introspectionEndpoint"],
  ["pushed_authorization_request_endpoint", "pushedAuthorizationRequestEndpoint"],
  ["device_authorization_endpoint", "deviceAuthorizationEndpoint"]
] as const

/**
 * The metadata as a client that presents a TLS client certificate sees it (RFC 8705 §5): each endpoint named in
 * `mtls_endpoint_aliases` (token, revocation, introspection, pushed authorization request, device authorization) is
 * replaced by its alias; the others stay as they are. A server with no aliases serves mutual TLS on its usual
 * endpoints, so its metadata comes back unchanged.
 *
 * @since 0.2.0
 * @category combinators
 */
export const withMtlsAliases = (metadata: Metadata): Metadata => {
  const replaced: { -readonly [K in keyof Metadata]: Metadata[K] } = { ...metadata }
  for (const [name, field] of MTLS_ALIASED) {
    const alias = metadata.mtlsEndpointAliases[name]
    if (alias !== undefined) replaced[field] = alias
  }
  return replaced
}

/** The provider name of an issuer when none is given: its host. */
const providerOf = (options: Options): string => {
  if (options.provider !== undefined) return options.provider
  try {
    return new URL(options.issuer).host
  } catch {
    return "discovery"
  }
}

/** Server-provided text, made safe for a message. */
const quote = (text: string): string => JSON.stringify(sanitize(text, 200))

/**
 * Decodes and checks a metadata document: its shape, its `issuer` (identical to the configured one), its URLs (HTTPS,
 * or HTTP on loopback).
 *
 * @since 0.2.0
 * @category decoding
 */
export const decode = (options: {
  readonly issuer: string
  readonly provider: string
  readonly metadataUrl: string
  readonly body: Record<string, unknown>
  readonly status?: number | undefined
  readonly contentType?: string | undefined
  readonly allowInsecureHttp?: boolean | undefined
}): Effect.Effect<Metadata, MalformedResponse | InvalidConfiguration> =>
  Effect.gen(function*() {
    const { provider } = options
    const document = yield* Schema.decodeUnknown(MetadataDocument)(options.body).pipe(
      Effect.mapError((error) => {
        const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
        const where = issue === undefined || issue.path.length === 0 ? "the document" : issue.path.join(".")
        return new MalformedResponse({
          provider,
          source: "metadata-endpoint",
          status: options.status ?? 200,
          contentType: options.contentType,
          reason: `the metadata at ${options.metadataUrl} is not RFC 8414 metadata: ${sanitize(where, 80)}: ${
            sanitize(issue?.message ?? "invalid", 160)
          }`
        })
      })
    )
    if (document.issuer !== options.issuer) {
      return yield* new InvalidConfiguration({
        provider,
        source: "metadata-endpoint",
        description: `the metadata at ${options.metadataUrl} names the issuer ${
          quote(document.issuer)
        }, not the configured ${
          JSON.stringify(options.issuer)
        }; RFC 8414 §3.3 requires them to be identical, so nothing from it is used. If that is the server you meant (a trailing slash or a path differs), set issuer to exactly its value; otherwise the URL leads to another server (a mix-up).`
      })
    }
    const insecure = options.allowInsecureHttp ?? false
    const url = (name: string, value: string | undefined) =>
      value === undefined
        ? Effect.succeed(undefined)
        : Endpoint.validateUrl(provider, `the metadata's ${name}`, value, insecure).pipe(
          Effect.mapError((error) =>
            new InvalidConfiguration({ provider, source: "metadata-endpoint", description: error.description })
          )
        )
    const aliases: Record<string, string> = {}
    for (const [name, value] of Object.entries(document.mtls_endpoint_aliases ?? {})) {
      aliases[name] = (yield* url(`mtls_endpoint_aliases.${sanitize(name, 60)}`, value))!
    }
    return {
      provider,
      issuer: document.issuer,
      metadataUrl: options.metadataUrl,
      authorizationEndpoint: yield* url("authorization_endpoint", document.authorization_endpoint),
      tokenEndpoint: yield* url("token_endpoint", document.token_endpoint),
      revocationEndpoint: yield* url("revocation_endpoint", document.revocation_endpoint),
      introspectionEndpoint: yield* url("introspection_endpoint", document.introspection_endpoint),
      pushedAuthorizationRequestEndpoint: yield* url(
        "pushed_authorization_request_endpoint",
        document.pushed_authorization_request_endpoint
      ),
      deviceAuthorizationEndpoint: yield* url("device_authorization_endpoint", document.device_authorization_endpoint),
      jwksUri: yield* url("jwks_uri", document.jwks_uri),
      tokenEndpointAuthMethodsSupported: document.token_endpoint_auth_methods_supported ?? ["client_secret_basic"],
      tokenEndpointAuthSigningAlgValuesSupported: document.token_endpoint_auth_signing_alg_values_supported,
      codeChallengeMethodsSupported: document.code_challenge_methods_supported,
      grantTypesSupported: document.grant_types_supported ?? ["authorization_code", "implicit"],
      scopesSupported: document.scopes_supported,
      authorizationResponseIssParameterSupported: document.authorization_response_iss_parameter_supported ?? false,
      requirePushedAuthorizationRequests: document.require_pushed_authorization_requests ?? false,
      mtlsEndpointAliases: aliases,
      tlsClientCertificateBoundAccessTokens: document.tls_client_certificate_bound_access_tokens ?? false,
      dpopSigningAlgValuesSupported: document.dpop_signing_alg_values_supported,
      raw: options.body
    } satisfies Metadata
  })

/**
 * Fetches and checks the metadata of an issuer: one request (two when `"auto"` finds no OpenID document), bounded by
 * the request timeout, through the `HttpClient` in the context.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Metadata, OAuth2Error, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const provider = providerOf(options)
    const issuer = yield* Endpoint.validateUrl(provider, "issuer", options.issuer, options.allowInsecureHttp)
    const parsed = new URL(issuer)
    if (parsed.search !== "" || parsed.hash !== "" || issuer.includes("?") || issuer.includes("#")) {
      return yield* new InvalidConfiguration({
        provider,
        source: "configuration",
        description: `the issuer ${
          JSON.stringify(issuer.replace(/[?#].*$/s, ""))
        }... has a query or fragment, which an issuer identifier never has (RFC 8414 §2): give the issuer alone.`
      })
    }
    const maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024
    if (!(maxResponseBytes > 0)) {
      return yield* new InvalidConfiguration({
        provider,
        source: "configuration",
        description: "maxResponseBytes must be a positive number of bytes."
      })
    }
    const client = yield* HttpClient.HttpClient
    const timeout = Duration.decode(options.requestTimeout ?? Duration.seconds(30))
    const documents: ReadonlyArray<internal.WellKnown> = options.wellKnown === undefined || options.wellKnown === "auto"
      ? ["openid-configuration", "oauth-authorization-server"]
      : [options.wellKnown]
    const missing: Array<string> = []
    for (const [i, document] of documents.entries()) {
      const metadataUrl = internal.wellKnownUrl(issuer, document)
      const answer = yield* internal.get(client, metadataUrl, {
        provider,
        timeout,
        maxResponseBytes,
        headers: options.headers ?? {}
      })
      if ((answer.status === 404 || answer.status === 410) && i < documents.length - 1) {
        missing.push(`${metadataUrl} (HTTP ${answer.status})`)
        continue
      }
      if (answer.status === 404 || answer.status === 410) {
        missing.push(`${metadataUrl} (HTTP ${answer.status})`)
        return yield* new InvalidConfiguration({
          provider,
          source: "metadata-endpoint",
          description: `no authorization server metadata at ${
            missing.join(" nor at ")
          }: check the issuer URL (scheme, host, path) against the provider's documentation.`
        })
      }
      if (answer.status !== 200 || answer.body === undefined) {
        return yield* Effect.fail(
          answer.status === 200
            ? new MalformedResponse({
              provider,
              source: "metadata-endpoint",
              status: answer.status,
              contentType: answer.contentType,
              reason: `the metadata at ${metadataUrl} is unusable: ${answer.parseFailure ?? "no JSON object"}`
            })
            : wire.toError(
              answer,
              { provider, source: "metadata-endpoint", requestedScopes: [] },
              yield* Clock.currentTimeMillis
            )
        )
      }
      const metadata = yield* decode({
        issuer,
        provider,
        metadataUrl,
        body: answer.body,
        status: answer.status,
        contentType: answer.contentType,
        allowInsecureHttp: options.allowInsecureHttp
      })
      yield* Effect.logDebug("authorization server metadata read").pipe(
        Effect.annotateLogs({ provider, metadataUrl })
      )
      return options.mtls === true ? withMtlsAliases(metadata) : metadata
    }
    return yield* Effect.dieMessage("discovery: no well-known document to read")
  }).pipe(
    Effect.withSpan("Discovery.make", { kind: "client", attributes: { "oauth2.issuer": options.issuer } })
  )

/**
 * The metadata of the authorization server, fetched once for the life of the layer.
 *
 * @since 0.2.0
 * @category tags
 */
export class Discovery extends Context.Tag("@effect-oauth2/core/Discovery")<Discovery, Metadata>() {}

/**
 * A layer of the metadata: fetched and checked once when the layer is built, then served from memory.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Discovery, OAuth2Error, HttpClient.HttpClient> =>
  Layer.effect(Discovery, make(options))

const list = (values: ReadonlyArray<string>) =>
  values.length === 0 ? "(none)" : values.map((v) => quote(v)).join(", ")

const refuse = (metadata: Metadata, description: string) =>
  new InvalidConfiguration({
    provider: metadata.provider,
    source: "configuration",
    description: `${description} (the server's metadata: ${metadata.metadataUrl}).`
  })

/**
 * Refuses a client authentication method the server does not list in `token_endpoint_auth_methods_supported`, and,
 * for the JWT methods, an algorithm outside `token_endpoint_auth_signing_alg_values_supported` when it says.
 *
 * @since 0.2.0
 * @category validation
 */
export const checkAuthMethod = (
  metadata: Metadata,
  method: ClientAuth.Method,
  algorithm?: string | undefined
): Effect.Effect<void, InvalidConfiguration> => {
  const supported = metadata.tokenEndpointAuthMethodsSupported
  if (!supported.includes(method)) {
    return Effect.fail(
      refuse(
        metadata,
        `the server does not accept ${method} client authentication: its token_endpoint_auth_methods_supported is ${
          list(supported)
        }. Register the client for one of those and configure it (method, with a secret, a private key or a TLS client certificate), or ask the provider to enable ${method}`
      )
    )
  }
  const algorithms = metadata.tokenEndpointAuthSigningAlgValuesSupported
  if (
    algorithm !== undefined && algorithms !== undefined && algorithms.length > 0 && !algorithms.includes(algorithm) &&
    (method === "private_key_jwt" || method === "client_secret_jwt")
  ) {
    return Effect.fail(
      refuse(
        metadata,
        `the server does not accept ${algorithm} client assertions: its token_endpoint_auth_signing_alg_values_supported is ${
          list(algorithms)
        }. Use a key of one of those types, or set assertion.algorithm`
      )
    )
  }
  return Effect.void
}

/**
 * Refuses PKCE with a method the server does not list in `code_challenge_methods_supported` (this library sends
 * `S256`). A server that does not say is given the benefit of the doubt: many support PKCE without advertising it.
 *
 * @since 0.2.0
 * @category validation
 */
export const checkPkce = (metadata: Metadata, method: "S256" = "S256"): Effect.Effect<void, InvalidConfiguration> => {
  const supported = metadata.codeChallengeMethodsSupported
  return supported === undefined || supported.includes(method)
    ? Effect.void
    : Effect.fail(
      refuse(
        metadata,
        `the server does not accept PKCE ${method} challenges: its code_challenge_methods_supported is ${
          list(supported)
        }. Log in without PKCE only if the provider documents that it is safe, or ask it to support ${method}`
      )
    )
}

/**
 * The client authentication method to use when none is configured: `private_key_jwt` with a private key, otherwise
 * the first of `client_secret_basic`, `client_secret_post`, `client_secret_jwt` the server accepts with a secret,
 * otherwise, with a TLS client certificate, `tls_client_auth` or `self_signed_tls_client_auth`, otherwise `none`.
 * Refuses when the server accepts none of the candidates.
 *
 * @since 0.2.0
 * @category validation
 */
export const chooseAuthMethod = (
  metadata: Metadata,
  has: {
    readonly secret: boolean
    readonly privateKey: boolean
    /** Whether the transport presents a TLS client certificate. Default: `false`. */
    readonly certificate?: boolean | undefined
  }
): Effect.Effect<ClientAuth.Method, InvalidConfiguration> => {
  const candidates: ReadonlyArray<ClientAuth.Method> = has.privateKey
    ? ["private_key_jwt"]
    : has.secret
    ? ["client_secret_basic", "client_secret_post", "client_secret_jwt"]
    : has.certificate === true
    ? ["tls_client_auth", "self_signed_tls_client_auth"]
    : ["none"]
  const chosen = candidates.find((m) => metadata.tokenEndpointAuthMethodsSupported.includes(m))
  if (chosen !== undefined) return Effect.succeed(chosen)
  const given = has.privateKey
    ? "a private key"
    : has.secret
    ? "a client secret"
    : has.certificate === true
    ? "a TLS client certificate"
    : "no secret and no key"
  return Effect.fail(
    refuse(
      metadata,
      `with ${given}, the client can use ${candidates.join(" or ")}, and the server accepts none of them: its token_endpoint_auth_methods_supported is ${
        list(metadata.tokenEndpointAuthMethodsSupported)
      }. Give the credentials one of those methods needs (a secret, a private key for private_key_jwt, or a TLS client certificate for tls_client_auth)`
    )
  )
}

/**
 * The endpoint options of a discovered server: its issuer (and whether it puts `iss` on authorization responses,
 * RFC 9207), token, revocation, introspection and authorization endpoints, with `overrides` for what metadata does not say (provider name, environment, lifetimes, scope syntax).
 * Fails when the server has no token endpoint.
 *
 * @since 0.2.0
 * @category constructors
 */
export const endpointOptions = (
  metadata: Metadata,
  overrides: Omit<Endpoint.Options, "tokenUrl" | "provider" | "issuer"> & { readonly provider?: string | undefined } =
    {}
): Effect.Effect<Endpoint.Options, InvalidConfiguration> =>
  metadata.tokenEndpoint === undefined
    ? Effect.fail(
      refuse(metadata, "the server's metadata has no token_endpoint, so no token can be requested from it")
    )
    : Effect.succeed({
      revocationUrl: metadata.revocationEndpoint,
      introspectionUrl: metadata.introspectionEndpoint,
      authorizeUrl: metadata.authorizationEndpoint,
      authorizationResponseIssParameterSupported: metadata.authorizationResponseIssParameterSupported,
      ...overrides,
      provider: overrides.provider ?? metadata.provider,
      issuer: metadata.issuer,
      tokenUrl: metadata.tokenEndpoint
    })
