/**
 * What a provider package fills in to describe its authorization server: URLs, client authentication style, scope
 * syntax, and the defaults for what its responses leave out. Credentials are not part of it: they come from the
 * user, through {@link Credentials}.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as ClientAuth from "./ClientAuth.js"
import { InvalidConfiguration } from "./OAuth2Error.js"

/**
 * A provider's authorization server, as the token-endpoint client needs it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Endpoint {
  /** A short name used in logs, spans and errors, e.g. `"figure-markets"`. */
  readonly provider: string
  /** The environment name used in logs and store keys, e.g. `"uat"`. */
  readonly environment: string
  /**
   * The authorization server's issuer identifier (RFC 8414 §2), when known: from discovery, or given. It is the
   * default audience of JWT client assertions.
   */
  readonly issuer?: string | undefined
  /**
   * Whether the server puts `iss` on every authorization response (RFC 9207): the login then refuses a callback
   * without it. An `iss` that is there is checked against `issuer` either way.
   */
  readonly authorizationResponseIssParameterSupported?: boolean | undefined
  /** The token endpoint (RFC 6749 §3.2). */
  readonly tokenUrl: string
  /** Where `refresh_token` grants go, when not the token endpoint (Tradier: `/v1/oauth/refreshtoken`). */
  readonly refreshUrl: string | undefined
  /** The revocation endpoint (RFC 7009), when the provider has one. */
  readonly revocationUrl: string | undefined
  /** The introspection endpoint (RFC 7662), when the provider exposes one to clients. */
  readonly introspectionUrl: string | undefined
  /** What to do instead, said by the `Unsupported` of a revocation when there is no revocation endpoint. */
  readonly revocationUnsupportedHint?: string | undefined
  /** What to do instead, said by the `Unsupported` of an introspection when there is no introspection endpoint. */
  readonly introspectionUnsupportedHint?: string | undefined
  /** The authorization endpoint (RFC 6749 §3.1), for the authorization-code grant. */
  readonly authorizeUrl: string | undefined
  /** How the client authenticates to the token, revocation and introspection endpoints. */
  readonly authMethod: ClientAuth.Method
  /** How a Basic header encodes the credentials. */
  readonly basicEncoding: ClientAuth.BasicEncoding
  /** What separates scopes in token requests and responses (RFC 6749: a space). */
  readonly scopeDelimiter: string
  /** What separates scopes in the authorize URL (Tradier: a comma). */
  readonly authorizeScopeDelimiter: string
  /** The lifetime of a token whose response has no `expires_in`. */
  readonly defaultLifetime: Duration.Duration
  /** The longest lifetime believed; larger `expires_in` values are clamped to it. */
  readonly maxLifetime: Duration.Duration
  /** The token type assumed when a response has no `token_type`; `undefined` makes a missing type an error. */
  readonly defaultTokenType: string | undefined
  /** Token types accepted (compared case-insensitively); any other is an error rather than a silent Bearer. */
  readonly acceptedTokenTypes: ReadonlyArray<string>
  /**
   * The members of a token response, beyond RFC 6749's, kept readable in `AccessToken.extra`; every other one is
   * kept `Redacted` (see `OAuth2Client.decodeTokenResponse`).
   */
  readonly readableMembers: ReadonlyArray<string>
  /** Headers added to every request to the authorization server. */
  readonly headers: Readonly<Record<string, string>>
  /** Form parameters added to every token request. */
  readonly params: Readonly<Record<string, string>>
  /**
   * How the parameters of a request to the authorization server are sent: `"form"`
   * (`application/x-www-form-urlencoded`, RFC 6749) or `"json"` (a JSON object of strings: tastytrade).
   *
   * @since 0.2.0
   */
  readonly bodyFormat?: BodyFormat | undefined
  /**
   * Whether `client_secret_post` sends `client_id` beside `client_secret` (RFC 6749 §2.3.1). `false` sends the secret
   * alone, as tastytrade's SDKs do.
   *
   * @since 0.2.0
   */
  readonly sendClientId?: boolean | undefined
  /**
   * Reads a provider's own error body as RFC 6749 §5.2's (`error`, `error_description`, `error_uri`) before core
   * maps it to the error family: tastytrade's `error_code`, a JSON text nested in `error_description`. Called with
   * every parsed answer of the authorization server; returns it unchanged when it is already in that shape.
   *
   * @since 0.2.0
   */
  readonly errorBody?: ErrorBody | undefined
  /**
   * Whether every refresh re-sends the login's PKCE `code_verifier` and `redirect_uri` (Saxo's PKCE apps refuse a
   * refresh without them): the token of an authorization-code exchange then keeps both (`AccessToken.codeVerifier`,
   * `AccessToken.redirectUri`), every refresh sends them and hands them on to the new token.
   *
   * @since 0.2.0
   */
  readonly refreshWithPkce?: boolean | undefined
  /** How long a request to the authorization server may take. */
  readonly requestTimeout: Duration.Duration
  /** The largest response body read from the authorization server, in bytes. */
  readonly maxResponseBytes: number
}

/**
 * How request parameters go to the authorization server: a form (RFC 6749) or a JSON object of strings.
 *
 * @since 0.2.0
 * @category models
 */
export type BodyFormat = "form" | "json"

/**
 * A provider's own error body read as RFC 6749 §5.2's: the parsed answer in, the same object or one with `error`,
 * `error_description` and `error_uri` out. The answer is the server's: expect any shape, and never throw.
 *
 * @since 0.2.0
 * @category models
 */
export type ErrorBody = (body: Readonly<Record<string, unknown>>) => Readonly<Record<string, unknown>>

/**
 * An {@link ErrorBody} for servers that name RFC 6749's members differently, e.g. tastytrade's
 * `errorMembers({ error: "error_code" })`: each member named is read as the RFC's when the RFC's is absent.
 *
 * @since 0.2.0
 * @category constructors
 */
export const errorMembers = (names: {
  readonly error?: string | undefined
  readonly error_description?: string | undefined
  readonly error_uri?: string | undefined
}): ErrorBody =>
(body) => {
  let out: Record<string, unknown> | undefined
  for (const [rfc, own] of Object.entries(names)) {
    if (own === undefined || body[rfc] !== undefined || body[own] === undefined) continue
    out ??= { ...body }
    out[rfc] = body[own]
  }
  return out ?? body
}

/**
 * The options of {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** A short name used in logs, spans and errors. */
  readonly provider: string
  /** The environment name. Default: `"default"`. */
  readonly environment?: string | undefined
  /** The issuer identifier (RFC 8414 §2). Default: unknown (JWT assertions then go to the token endpoint URL). */
  readonly issuer?: string | undefined
  /** Whether the server puts `iss` on every authorization response (RFC 9207). Default: `false`. */
  readonly authorizationResponseIssParameterSupported?: boolean | undefined
  /** The token endpoint. Required. */
  readonly tokenUrl: string
  /** Where refresh grants go. Default: the token endpoint. */
  readonly refreshUrl?: string | undefined
  /** The revocation endpoint. Default: none (revocation fails with `Unsupported`). */
  readonly revocationUrl?: string | undefined
  /** The introspection endpoint. Default: none (introspection fails with `Unsupported`). */
  readonly introspectionUrl?: string | undefined
  /** Without a revocation endpoint: what revocation's `Unsupported` tells the user to do instead. Default: a generic hint. */
  readonly revocationUnsupportedHint?: string | undefined
  /** Without an introspection endpoint: what introspection's `Unsupported` says to do instead. Default: none. */
  readonly introspectionUnsupportedHint?: string | undefined
  /** The authorization endpoint. Default: none. */
  readonly authorizeUrl?: string | undefined
  /** The client authentication method. Default: `"client_secret_basic"` (RFC 6749 §2.3.1's must-support). */
  readonly authMethod?: ClientAuth.Method | undefined
  /** The Basic encoding. Default: `"form"` (RFC 6749 §2.3.1). */
  readonly basicEncoding?: ClientAuth.BasicEncoding | undefined
  /** The scope delimiter in token requests. Default: `" "`. */
  readonly scopeDelimiter?: string | undefined
  /** The scope delimiter in the authorize URL. Default: the token scope delimiter. */
  readonly authorizeScopeDelimiter?: string | undefined
  /** The lifetime of a token whose response has no `expires_in`. Default: 1 hour. */
  readonly defaultLifetime?: Duration.DurationInput | undefined
  /** The longest lifetime believed. Default: 7 days. */
  readonly maxLifetime?: Duration.DurationInput | undefined
  /** The token type assumed when a response has none. Default: none (a missing type is an error). */
  readonly defaultTokenType?: string | undefined
  /** Token types accepted. Default: `["Bearer"]`. */
  readonly acceptedTokenTypes?: ReadonlyArray<string> | undefined
  /**
   * More members of the token response that are not secrets and may stay readable in `AccessToken.extra` (and so
   * be printed with the token), beyond the built-in few (`issued_at`, `status`, `expires_at`, ...). Default: none.
   * Every member named neither here nor there is kept `Redacted`, nested objects and arrays whole.
   */
  readonly readableMembers?: ReadonlyArray<string> | undefined
  /** Headers added to every request to the authorization server. Default: none. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Form parameters added to every token request. Default: none. */
  readonly params?: Readonly<Record<string, string>> | undefined
  /** How request parameters are sent. Default: `"form"`. */
  readonly bodyFormat?: BodyFormat | undefined
  /** Whether `client_secret_post` sends `client_id`. Default: `true`. */
  readonly sendClientId?: boolean | undefined
  /** Reads a provider's own error body as RFC 6749 §5.2's. Default: none (the body is RFC 6749's). */
  readonly errorBody?: ErrorBody | undefined
  /**
   * Re-send the login's PKCE `code_verifier` and `redirect_uri` on every refresh, keeping them with the token (Saxo).
   * Default: `false` (RFC 6749 §6: a refresh sends neither, and the verifier is dropped after the exchange).
   */
  readonly refreshWithPkce?: boolean | undefined
  /** How long a request may take. Default: 30 seconds. */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** The largest response body read, in bytes. Default: 1 MiB. */
  readonly maxResponseBytes?: number | undefined
  /** Allow `http://` URLs on hosts other than loopback. Default: `false` (RFC 9700). Never in production. */
  readonly allowInsecureHttp?: boolean | undefined
}

/**
 * Whether a host name is a loopback address: `localhost`, 127.0.0.0/8 or `[::1]`.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isLoopbackHost = (hostname: string): boolean =>
  hostname === "localhost" || hostname === "[::1]" || hostname === "::1" || /^127(\.\d{1,3}){3}$/.test(hostname)

/**
 * A URL as it may appear in an error: without anything that looks like credentials (`user:password@`), a query or a
 * fragment, which could carry secrets.
 */
const displayUrl = (url: string): string =>
  url.replace(/[?#].*$/s, "").replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/@]*@/i, "$1<credentials>@")

/**
 * Checks that a URL is absolute and uses HTTPS, or HTTP on loopback (RFC 9700 §2.6). Returns the URL unchanged.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateUrl = (
  provider: string,
  name: string,
  url: string,
  allowInsecureHttp = false
): Effect.Effect<string, InvalidConfiguration> =>
  Effect.suspend(() => {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      return Effect.fail(
        new InvalidConfiguration({
          provider,
          source: "configuration",
          description: `${name} "${displayUrl(url)}" is not an absolute URL: give the full https:// address.`
        })
      )
    }
    if (parsed.username !== "" || parsed.password !== "") {
      return Effect.fail(
        new InvalidConfiguration({
          provider,
          source: "configuration",
          description: `${name} carries credentials in the URL: pass them as client credentials instead.`
        })
      )
    }
    if (parsed.protocol === "https:") return Effect.succeed(url)
    if (parsed.protocol === "http:" && (allowInsecureHttp || isLoopbackHost(parsed.hostname))) {
      return Effect.succeed(url)
    }
    return Effect.fail(
      new InvalidConfiguration({
        provider,
        source: "configuration",
        description: `${name} "${
          displayUrl(url)
        }" must use https:// (plain http is only allowed on loopback), so that secrets and tokens never cross the network in clear.`
      })
    )
  })

/**
 * Builds and validates an endpoint description: every URL must be HTTPS, or HTTP on loopback.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Endpoint, InvalidConfiguration> =>
  Effect.gen(function*() {
    const insecure = options.allowInsecureHttp ?? false
    const check = (name: string, url: string | undefined) =>
      url === undefined ? Effect.succeed(undefined) : validateUrl(options.provider, name, url, insecure)
    const issuer = yield* check("issuer", options.issuer)
    const tokenUrl = yield* validateUrl(options.provider, "tokenUrl", options.tokenUrl, insecure)
    const refreshUrl = yield* check("refreshUrl", options.refreshUrl)
    const revocationUrl = yield* check("revocationUrl", options.revocationUrl)
    const introspectionUrl = yield* check("introspectionUrl", options.introspectionUrl)
    const authorizeUrl = yield* check("authorizeUrl", options.authorizeUrl)
    const scopeDelimiter = options.scopeDelimiter ?? " "
    const maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024
    if (!(maxResponseBytes > 0)) {
      return yield* new InvalidConfiguration({
        provider: options.provider,
        source: "configuration",
        description: "maxResponseBytes must be a positive number of bytes."
      })
    }
    return {
      provider: options.provider,
      environment: options.environment ?? "default",
      issuer,
      authorizationResponseIssParameterSupported: options.authorizationResponseIssParameterSupported ?? false,
      tokenUrl,
      refreshUrl,
      revocationUrl,
      introspectionUrl,
      revocationUnsupportedHint: options.revocationUnsupportedHint,
      introspectionUnsupportedHint: options.introspectionUnsupportedHint,
      authorizeUrl,
      authMethod: options.authMethod ?? "client_secret_basic",
      basicEncoding: options.basicEncoding ?? "form",
      scopeDelimiter,
      authorizeScopeDelimiter: options.authorizeScopeDelimiter ?? scopeDelimiter,
      defaultLifetime: Duration.decode(options.defaultLifetime ?? Duration.hours(1)),
      maxLifetime: Duration.decode(options.maxLifetime ?? Duration.days(7)),
      defaultTokenType: options.defaultTokenType,
      acceptedTokenTypes: options.acceptedTokenTypes ?? ["Bearer"],
      readableMembers: options.readableMembers ?? [],
      headers: options.headers ?? {},
      params: options.params ?? {},
      bodyFormat: options.bodyFormat ?? "form",
      sendClientId: options.sendClientId ?? true,
      errorBody: options.errorBody,
      refreshWithPkce: options.refreshWithPkce ?? false,
      requestTimeout: Duration.decode(options.requestTimeout ?? Duration.seconds(30)),
      maxResponseBytes
    }
  })

/**
 * The client's identity: its id and, for a confidential client, its secret.
 *
 * @since 0.1.0
 * @category models
 */
export interface Credentials {
  readonly clientId: string
  readonly clientSecret?: Redacted.Redacted<string> | undefined
  /**
   * The client's private key, for `private_key_jwt`: a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), a JWK object, or
   * a JWK as JSON text (read it with `Config.redacted`).
   */
  readonly privateKey?: Redacted.Redacted<string | ClientAuth.Jwk> | undefined
  /** How JWT client assertions are made (`private_key_jwt`, `client_secret_jwt`). Default: see each field. */
  readonly assertion?: ClientAuth.AssertionOptions | undefined
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const credentials = (clientId: string, clientSecret?: string | Redacted.Redacted<string>): Credentials => ({
  clientId,
  clientSecret: clientSecret === undefined
    ? undefined
    : Redacted.isRedacted(clientSecret)
    ? clientSecret
    : Redacted.make(clientSecret)
})
