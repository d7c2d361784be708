/**
 * The stateless token-endpoint client: one HTTP exchange per call, no cache. It builds the form body, applies the
 * client authentication, decodes the answer leniently where RFC 6749 allows and strictly where it matters, and maps
 * every failure into the error family. {@link AccessTokens} caches on top of it.
 *
 * It always goes through the *plain* `HttpClient` from the context, never an authorised one, follows no redirects
 * (not even when that client is wrapped in `HttpClient.followRedirects`: such a hop is not sent, and the request fails
 * with `InvalidConfiguration`), and gives up after the endpoint's request timeout.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import { type AccessToken } from "./AccessToken.js"
import * as ClientAuth from "./ClientAuth.js"
import * as Discovery from "./Discovery.js"
import * as Endpoint from "./Endpoint.js"
import type * as Grant from "./Grant.js"
import * as internal from "./internal/oauth2Client.js"
import type { InvalidConfiguration, MalformedResponse, OAuth2Error } from "./OAuth2Error.js"

/**
 * What an introspection endpoint said of a token (RFC 7662 §2.2).
 *
 * @since 0.1.0
 * @category models
 */
export interface Introspection {
  /** Whether the token is currently active: the only member RFC 7662 requires. */
  readonly active: boolean
  /** The token's scopes, when the server said. */
  readonly scopes: ReadonlyArray<string> | undefined
  /** The client the token was issued to, when the server said. */
  readonly clientId: string | undefined
  /** When the token expires (epoch milliseconds), when the server said. */
  readonly expiresAt: number | undefined
  /** Every other member of the answer. */
  readonly extra: Readonly<Record<string, unknown>>
}

/**
 * A token-type hint for revocation and introspection (RFC 7009 §2.1).
 *
 * @since 0.1.0
 * @category models
 */
export type TokenTypeHint = "access_token" | "refresh_token"

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The authorization server this client talks to. */
  readonly endpoint: Endpoint.Endpoint
  /** The client id (not a secret). */
  readonly clientId: string
  /** Sends one token request for a grant. */
  readonly requestToken: (grant: Grant.Grant) => Effect.Effect<AccessToken, OAuth2Error>
  /** Revokes a token (RFC 7009). Fails with `Unsupported` when the provider has no revocation endpoint. */
  readonly revoke: (
    token: Redacted.Redacted<string>,
    hint?: TokenTypeHint | undefined
  ) => Effect.Effect<void, OAuth2Error>
  /** Asks the introspection endpoint about a token (RFC 7662). Fails with `Unsupported` when there is none. */
  readonly introspect: (
    token: Redacted.Redacted<string>,
    hint?: TokenTypeHint | undefined
  ) => Effect.Effect<Introspection, OAuth2Error>
}

/**
 * The token-endpoint client as a service.
 *
 * @since 0.1.0
 * @category tags
 */
export class OAuth2Client extends Context.Tag("@effect-oauth2/core/OAuth2Client")<OAuth2Client, Service>() {}

/**
 * The members of a token response, beyond RFC 6749's, that are known to be harmless and stay readable in
 * `AccessToken.extra` when their value is a string, a number, a boolean or null: Tradier's `issued_at` and `status`,
 * and the lifetimes and dates some servers add. Every other member is kept `Redacted`, unless the endpoint's
 * `readableMembers` names it.
 *
 * @since 0.1.0
 * @category decoding
 */
export const readableMembers: ReadonlyArray<string> = internal.readableMembers

/**
 * Decodes a successful token response body into an {@link AccessToken}. Exported for testing and for providers with
 * custom transports; most code calls {@link Service.requestToken}.
 *
 * - `access_token` must be a non-empty string of visible ASCII characters without spaces (a token with a space, a
 *   control character or a non-ASCII character cannot be sent in an `Authorization` header); so must a
 *   `refresh_token`. The error never shows the value.
 * - `token_type` is matched case-insensitively against the accepted types; a missing one takes the endpoint's
 *   default when it has one; an unknown one is an error.
 * - `expires_in` may be a number or a numeric string; missing takes the endpoint's default lifetime; zero means
 *   already expired; a negative value is a `MalformedResponse` (RFC 6749 Appendix A.14 allows digits only); values
 *   beyond the endpoint's maximum are clamped.
 * - `refresh_token_expires_in` (the refresh token's lifetime, e.g. Saxo's) is read like `expires_in` (a number or a
 *   numeric string; negative is a `MalformedResponse`) into `refreshTokenExpiresAt`; it also stays in `extra`.
 * - A missing `scope` means the scopes asked for; a missing (or empty) `refresh_token` on a refresh keeps the old one.
 *   RFC 6749 gives neither a `null` form: `"scope": null`, `"refresh_token": null` (or any value that is not a
 *   string) are a `MalformedResponse`, as in oauth4webapi and oauth2-rs, rather than silently taken as absent.
 * - Unknown members are kept in `extra`: the harmless ones ({@link readableMembers} with a plain value, and those the
 *   endpoint's `readableMembers` names) as they came, every other one wrapped whole in `Redacted`.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeTokenResponse = (options: {
  readonly endpoint: Endpoint.Endpoint
  readonly grant: Grant.Grant
  readonly body: Record<string, unknown>
  readonly status: number
  readonly contentType: string | undefined
  readonly issuedAt: number
  readonly source?: "token-endpoint" | undefined
}): Effect.Effect<AccessToken, MalformedResponse> =>
  internal.decodeTokenResponse(options)

/**
 * Builds a token-endpoint client from an endpoint description and the client's credentials, using the
 * `HttpClient` from the context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: {
  readonly endpoint: Endpoint.Endpoint
  readonly credentials: Endpoint.Credentials
}): Effect.Effect<Service, InvalidConfiguration, HttpClient.HttpClient> =>
  internal.make(options)

/**
 * A layer of the token-endpoint client, from endpoint options (validated) and credentials.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: {
  readonly endpoint: Endpoint.Options
  readonly credentials: Endpoint.Credentials
}): Layer.Layer<OAuth2Client, InvalidConfiguration, HttpClient.HttpClient> =>
  Layer.effect(
    OAuth2Client,
    Endpoint.make(options.endpoint).pipe(
      Effect.flatMap((endpoint) => make({ endpoint, credentials: options.credentials }))
    )
  )

/**
 * {@link layer} with its endpoint and credentials read from a `Config`, e.g.
 * `OAuth2Client.layerConfig({ endpoint: { provider: Config.succeed("my-broker"), tokenUrl: Config.string("TOKEN_URL") },
 * credentials: { clientId: Config.string("CLIENT_ID"), clientSecret: Config.redacted("CLIENT_SECRET") } })`. For a
 * provider with environments, hosts and a documented variable table, write an `OAuth2Provider.Definition` instead.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<{ readonly endpoint: Endpoint.Options; readonly credentials: Endpoint.Credentials }>
): Layer.Layer<OAuth2Client, ConfigError.ConfigError | InvalidConfiguration, HttpClient.HttpClient> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), layer))

/**
 * A layer of the token-endpoint client from the issuer alone: the server's metadata is read once (RFC 8414 / OpenID
 * Connect Discovery, the issuer checked), its endpoints used, and a configuration it says it cannot serve refused
 * before any token request: an auth method it does not list, a JWT algorithm it does not accept, PKCE S256 when it
 * lists other methods only. The metadata is provided too, as {@link Discovery.Discovery}.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerDiscovery = (options: {
  /** The issuer identifier, e.g. `"https://auth.example.com"`, compared exactly with the metadata's. */
  readonly issuer: string
  /** The client id and its secret or private key (and how assertions are made). */
  readonly credentials: Endpoint.Credentials
  /**
   * The client authentication method. Default: `private_key_jwt` with a private key; with a secret the first of
   * `client_secret_basic`, `client_secret_post`, `client_secret_jwt` the server lists; with neither and
   * `discovery.mtls`, the first of `tls_client_auth`, `self_signed_tls_client_auth` it lists; `none` otherwise.
   */
  readonly method?: ClientAuth.Method | undefined
  /** Whether the client logs in with PKCE (`AuthorizationCode`'s `pkce: true`): checked against the metadata. Default: `false`. */
  readonly pkce?: boolean | undefined
  /** Endpoint settings the metadata does not hold (provider name, lifetimes, scope syntax...). Default: `Endpoint`'s. */
  readonly endpoint?:
    | Omit<Endpoint.Options, "tokenUrl" | "provider" | "issuer" | "authMethod"> & {
      readonly provider?: string | undefined
    }
    | undefined
  /** How the metadata is read (document, timeout, body cap). Default: `Discovery`'s. */
  readonly discovery?: Omit<Discovery.Options, "issuer"> | undefined
}): Layer.Layer<OAuth2Client | Discovery.Discovery, OAuth2Error, HttpClient.HttpClient> => {
  const provider = options.endpoint?.provider ?? options.discovery?.provider
  const allowInsecureHttp = options.discovery?.allowInsecureHttp ?? options.endpoint?.allowInsecureHttp
  return Layer.effect(
    OAuth2Client,
    Effect.gen(function*() {
      const metadata = yield* Discovery.Discovery
      const { credentials } = options
      const method = options.method ?? (yield* Discovery.chooseAuthMethod(metadata, {
        secret: credentials.clientSecret !== undefined,
        privateKey: credentials.privateKey !== undefined,
        // With the mTLS aliases asked for, the transport presents a client certificate: a client with neither a
        // secret nor a key then authenticates with it.
        certificate: options.discovery?.mtls === true
      }))
      yield* Discovery.checkAuthMethod(metadata, method)
      if (options.pkce === true) yield* Discovery.checkPkce(metadata)
      const endpointOptions = yield* Discovery.endpointOptions(metadata, { ...options.endpoint, provider })
      const endpoint = yield* Endpoint.make({ ...endpointOptions, authMethod: method, allowInsecureHttp })
      // The algorithm of a JWT method is known once the key is read: check it against the metadata as well.
      const auth = yield* ClientAuth.make({
        method,
        clientId: credentials.clientId,
        clientSecret: credentials.clientSecret,
        privateKey: credentials.privateKey,
        assertion: credentials.assertion,
        defaultAudience: metadata.issuer,
        provider: endpoint.provider
      })
      yield* Discovery.checkAuthMethod(
        metadata,
        method,
        auth._tag === "PrivateKeyJwt" || auth._tag === "ClientSecretJwt" ? auth.algorithm : undefined
      )
      return yield* make({ endpoint, credentials })
    })
  ).pipe(
    Layer.provideMerge(Discovery.layer({ ...options.discovery, provider, allowInsecureHttp, issuer: options.issuer }))
  )
}
