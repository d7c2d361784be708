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
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { AccessToken } from "./AccessToken.js"
import * as ClientAuth from "./ClientAuth.js"
import * as Discovery from "./Discovery.js"
import * as Endpoint from "./Endpoint.js"
import * as Grant from "./Grant.js"
import * as clientAssertion from "./internal/clientAssertion.js"
import { guardHops } from "./internal/hopGuard.js"
import { CODE_MAX, sanitize } from "./internal/sanitize.js"
import * as wire from "./internal/wire.js"
import * as Metrics from "./Metrics.js"
import {
  InvalidConfiguration,
  isOAuth2Error,
  MalformedResponse,
  type OAuth2Error,
  TransportError,
  Unsupported
} from "./OAuth2Error.js"

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

/** `origin/path` of a URL (no query, no fragment), or the URL as it is when it does not parse. */
const endpointOf = (url: string): string => {
  try {
    const parsed = new URL(url)
    return `${parsed.origin}${parsed.pathname}`
  } catch {
    return url.split(/[?#]/)[0]!
  }
}

const sameEndpoint = (a: string, b: string): boolean => endpointOf(a) === endpointOf(b)

const KNOWN_MEMBERS = new Set(["access_token", "token_type", "expires_in", "scope", "refresh_token"])

/**
 * The members of a token response, beyond RFC 6749's, that are known to be harmless and stay readable in
 * `AccessToken.extra` when their value is a string, a number, a boolean or null: Tradier's `issued_at` and `status`,
 * and the lifetimes and dates some servers add. Every other member is kept `Redacted`, unless the endpoint's
 * `readableMembers` names it.
 *
 * @since 0.1.0
 * @category decoding
 */
export const readableMembers: ReadonlyArray<string> = [
  "issued_at",
  "status",
  "expires_at",
  "ext_expires_in",
  "refresh_expires_in",
  "refresh_token_expires_in",
  "not-before-policy"
]

const READABLE = new Set(readableMembers)

const isPlain = (u: unknown): boolean =>
  u === null || typeof u === "string" || typeof u === "number" || typeof u === "boolean"

/**
 * The characters a token may have: visible ASCII, no space (RFC 6750 §2.1's `b64token` is a subset; some providers
 * issue tokens with other visible characters, e.g. `|`). Anything else cannot be sent in an `Authorization` header.
 */
const TOKEN_CHARACTERS = /^[\x21-\x7e]+$/

const splitScopes = (scope: string, delimiter: string): Array<string> =>
  scope.split(delimiter === " " ? /\s+/ : new RegExp(`[\\s${delimiter.replace(/[-\\^\]]/g, "\\$&")}]+`)).filter((s) =>
    s !== ""
  )

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
}): Effect.Effect<AccessToken, MalformedResponse> => {
  const { body, endpoint, grant, issuedAt } = options
  const malformed = (reason: string) =>
    Effect.fail(
      new MalformedResponse({
        provider: endpoint.provider,
        source: "token-endpoint",
        status: options.status,
        contentType: options.contentType,
        reason
      })
    )
  const value = body.access_token
  if (typeof value !== "string" || value === "") {
    return malformed(value === undefined ? "the response has no access_token" : "access_token is not a non-empty string")
  }
  if (!TOKEN_CHARACTERS.test(value)) {
    return malformed(
      "access_token has a character that cannot be sent in an Authorization header (a space, a control character " +
        "or a non-ASCII character); the token is not used"
    )
  }
  let type: string
  const rawType = body.token_type
  if (rawType === undefined || rawType === null || rawType === "") {
    if (endpoint.defaultTokenType === undefined) {
      return malformed("the response has no token_type and this provider is not known to omit it")
    }
    type = endpoint.defaultTokenType
  } else if (typeof rawType !== "string") {
    return malformed("token_type is not a string")
  } else {
    const match = endpoint.acceptedTokenTypes.find((t) => t.toLowerCase() === rawType.toLowerCase())
    if (match === undefined) {
      // Quote the type only when it looks like a type name and is not the value of another member (a token).
      const quotable = /^[A-Za-z][\w.-]{0,19}$/.test(rawType) &&
        !Object.keys(body).some((key) => key !== "token_type" && body[key] === rawType)
      return malformed(
        `token_type ${quotable ? `"${rawType}"` : "(not shown)"} is not one of ${
          endpoint.acceptedTokenTypes.join(", ")
        }; it is not sent as a Bearer token`
      )
    }
    type = match
  }
  let lifetimeMillis: number
  const rawExpires = body.expires_in
  const seconds = typeof rawExpires === "number"
    ? rawExpires
    : typeof rawExpires === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(rawExpires)
    ? Number(rawExpires)
    : undefined
  if (rawExpires === undefined || rawExpires === null || rawExpires === "") {
    lifetimeMillis = Math.min(Duration.toMillis(endpoint.defaultLifetime), Duration.toMillis(endpoint.maxLifetime))
  } else if (seconds === undefined || !Number.isFinite(seconds)) {
    return malformed("expires_in is neither a number nor a numeric string")
  } else if (seconds < 0) {
    return malformed("expires_in is negative; RFC 6749 allows only a number of seconds from 0 up (Appendix A.14)")
  } else {
    lifetimeMillis = Math.min(Math.max(0, seconds * 1000), Duration.toMillis(endpoint.maxLifetime))
  }
  // The refresh token's lifetime (Saxo, and servers configured to send it), parsed like `expires_in` but not clamped:
  // it is the server's word on when the refresh token dies.
  let refreshLifetimeMillis: number | undefined
  const rawRefreshExpires = body.refresh_token_expires_in
  if (rawRefreshExpires !== undefined && rawRefreshExpires !== null && rawRefreshExpires !== "") {
    const refreshSeconds = typeof rawRefreshExpires === "number"
      ? rawRefreshExpires
      : typeof rawRefreshExpires === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(rawRefreshExpires)
      ? Number(rawRefreshExpires)
      : undefined
    if (refreshSeconds === undefined || !Number.isFinite(refreshSeconds)) {
      return malformed("refresh_token_expires_in is neither a number nor a numeric string")
    }
    if (refreshSeconds < 0) {
      return malformed("refresh_token_expires_in is negative; a lifetime is a number of seconds from 0 up")
    }
    refreshLifetimeMillis = refreshSeconds * 1000
  }
  const rawScope = body.scope
  if (rawScope !== undefined && typeof rawScope !== "string") {
    return malformed(
      `scope is ${rawScope === null ? "null" : "not a string"}; RFC 6749 §5.1 gives it no such form (omit it instead)`
    )
  }
  const scopes = rawScope !== undefined && rawScope.trim() !== ""
    ? splitScopes(rawScope, endpoint.scopeDelimiter)
    : Grant.requestedScopes(grant)
  const rawRefresh = body.refresh_token
  if (rawRefresh !== undefined && typeof rawRefresh !== "string") {
    return malformed(
      `refresh_token is ${
        rawRefresh === null ? "null" : "not a string"
      }; RFC 6749 §5.1 gives it no such form (omit it instead)`
    )
  }
  if (rawRefresh !== undefined && rawRefresh !== "" && !TOKEN_CHARACTERS.test(rawRefresh)) {
    return malformed(
      "refresh_token has a character outside visible ASCII (a space, a control character or a non-ASCII " +
        "character); the token is not used"
    )
  }
  const refreshToken = rawRefresh !== undefined && rawRefresh !== ""
    ? Redacted.make(rawRefresh)
    : grant._tag === "RefreshToken"
    ? grant.refreshToken
    : undefined
  const extra: Record<string, unknown> = {}
  for (const key of Object.keys(body)) {
    if (KNOWN_MEMBERS.has(key)) continue
    const member = body[key]
    const readable = (READABLE.has(key) && isPlain(member)) || endpoint.readableMembers.includes(key)
    extra[key] = readable ? member : Redacted.make(member)
  }
  return Effect.succeed(
    new AccessToken({
      value: Redacted.make(value),
      type,
      issuedAt: AccessToken.issuedAtOf(issuedAt),
      expiresAt: AccessToken.expiryOf(issuedAt, lifetimeMillis),
      scopes,
      refreshToken,
      ...(refreshToken !== undefined && refreshLifetimeMillis !== undefined
        ? { refreshTokenExpiresAt: AccessToken.expiryOf(issuedAt, refreshLifetimeMillis) }
        : {}),
      extra
    }, { disableValidation: true }) // every field is checked above: validating again would only cost time
  )
}

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
  Effect.gen(function*() {
    const { credentials, endpoint } = options
    const auth = yield* ClientAuth.make({
      method: endpoint.authMethod,
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
      privateKey: credentials.privateKey,
      basicEncoding: endpoint.basicEncoding,
      assertion: credentials.assertion,
      defaultAudience: endpoint.issuer ?? endpoint.tokenUrl,
      provider: endpoint.provider
    })
    // The JWT methods sign a new assertion for every request; the others add the same parts each time.
    const authParts = ClientAuth.requestParts(auth)
    const jwtAuth = auth._tag === "PrivateKeyJwt" || auth._tag === "ClientSecretJwt" ? auth : undefined
    // Scoped, so that closing the exchange's scope aborts a response whose body was not (fully) read, e.g. one
    // refused for its declared length, instead of leaving the connection busy until garbage collection.
    const client = HttpClient.withScope(yield* HttpClient.HttpClient)
    const timeoutMillis = Duration.toMillis(endpoint.requestTimeout)
    // What the request carries that must never come back in an error, should the server echo it.
    const clientSecrets = [
      ...(credentials.clientSecret === undefined ? [] : [Redacted.value(credentials.clientSecret)]),
      ...(auth._tag === "ClientSecretBasic" ? Object.values(ClientAuth.toRequestParts(auth).headers) : [])
        .map((value) => value.replace(/^Basic /, ""))
    ]
    const grantSecrets = (grant: Grant.Grant): Array<string> =>
      grant._tag === "AuthorizationCode"
        ? [Redacted.value(grant.code), ...(grant.codeVerifier === undefined ? [] : [Redacted.value(grant.codeVerifier)])]
        : grant._tag === "RefreshToken"
        ? [Redacted.value(grant.refreshToken)]
        : []

    const followed = (hop: HttpClientRequest.HttpClientRequest) =>
      new InvalidConfiguration({
        provider: endpoint.provider,
        source: "configuration",
        description: `the HttpClient follows redirects (HttpClient.followRedirects): the ${endpoint.provider} endpoint ` +
          `redirected to ${endpointOf(hop.url)}, and the client credentials are never sent after a redirect (RFC 9700); ` +
          "that request was not sent. Give OAuth2Client a client that does not follow redirects, and check the " +
          "endpoint URL."
      })

    const exchange = (
      url: string,
      params: ReadonlyArray<readonly [string, string]>,
      ctx: wire.Context
    ): Effect.Effect<{ readonly answer: wire.Answer; readonly sentAt: number }, OAuth2Error> =>
      Effect.gen(function*() {
        const parts = yield* authParts
        const request = HttpClientRequest.post(url).pipe(
          HttpClientRequest.setHeaders(endpoint.headers),
          HttpClientRequest.setHeaders(parts.headers),
          HttpClientRequest.acceptJson,
          HttpClientRequest.bodyUrlParams([...params, ...parts.params])
        )
        // Keep the RequestInit the user gave FetchHttpClient (dispatcher, proxy...), but never follow a redirect.
        const init = yield* Effect.serviceOption(FetchHttpClient.RequestInit)
        const sentAt = yield* Clock.currentTimeMillis
        // Nor may a client that follows redirects itself (HttpClient.followRedirects) take the credentials along: a
        // hop anywhere but the endpoint is not sent.
        const response = yield* guardHops(client.execute(request), (hop) => sameEndpoint(hop.url, url), followed).pipe(
          wire.redactEchoingHeaders,
          Effect.mapError((error) => isOAuth2Error(error) ? error : wire.fromRequestError(error, ctx)),
          Effect.provideService(FetchHttpClient.RequestInit, { ...Option.getOrUndefined(init), redirect: "manual" })
        )
        if (!sameEndpoint(response.request.url, url)) return yield* followed(response.request)
        const text = yield* wire.readBody(response, endpoint.maxResponseBytes, ctx)
        const contentType = response.headers["content-type"]
        const parsed = wire.parseBody(text, contentType)
        return {
          sentAt,
          answer: {
            status: response.status,
            contentType: contentType === undefined ? undefined : sanitize(contentType, CODE_MAX),
            headers: response.headers,
            // A JWT client assertion the server echoes is scrubbed like any other secret of the request.
            body: jwtAuth === undefined ? parsed.body : clientAssertion.scrubEcho(parsed.body, parts.params),
            parseFailure: parsed.parseFailure,
            text: response.status < 300
              ? undefined
              : jwtAuth === undefined
              ? text
              : wire.scrub(text, parts.params.filter(([name]) => name === "client_assertion").map(([, value]) => value))
          }
        }
      }).pipe(
        Effect.scoped,
        Effect.timeoutFail({
          duration: timeoutMillis,
          onTimeout: () =>
            new TransportError({
              provider: endpoint.provider,
              source: ctx.source,
              reason: "Timeout",
              request: `POST ${url}`,
              description: `no complete answer within ${Duration.format(endpoint.requestTimeout)}`
            })
        })
      )

    const requestToken = (grant: Grant.Grant): Effect.Effect<AccessToken, OAuth2Error> => {
      const url = grant._tag === "RefreshToken" ? endpoint.refreshUrl ?? endpoint.tokenUrl : endpoint.tokenUrl
      const grantType = grant._tag === "ClientCredentials"
        ? "client_credentials"
        : grant._tag === "AuthorizationCode"
        ? "authorization_code"
        : "refresh_token"
      const ctx: wire.Context = {
        provider: endpoint.provider,
        source: "token-endpoint",
        requestedScopes: Grant.requestedScopes(grant),
        secrets: [...clientSecrets, ...grantSecrets(grant)]
      }
      const params = [...Grant.toParams(grant, endpoint.scopeDelimiter), ...Object.entries(endpoint.params)]
      return Effect.gen(function*() {
        const { answer, sentAt } = yield* exchange(url, params, ctx)
        const ok = answer.status >= 200 && answer.status < 300
        if (!ok || answer.body === undefined || answer.body.error !== undefined) {
          return yield* Effect.fail(wire.toError(answer, ctx, yield* Clock.currentTimeMillis))
        }
        return yield* decodeTokenResponse({
          endpoint,
          grant,
          body: answer.body,
          status: answer.status,
          contentType: answer.contentType,
          issuedAt: sentAt
        })
      }).pipe(
        Effect.tapBoth({
          onFailure: (error) =>
            Metrics.tokenRequests(endpoint.provider, grantType, "failure").pipe(
              Effect.zipRight(
                Effect.logWarning(`token request failed: ${error._tag}`).pipe(
                  Effect.annotateLogs({ provider: endpoint.provider, grant: grantType, error: error._tag })
                )
              )
            ),
          onSuccess: (token) =>
            Metrics.tokenRequests(endpoint.provider, grantType, "success").pipe(
              Effect.zipRight(
                Effect.logDebug("token acquired").pipe(
                  Effect.annotateLogs({
                    provider: endpoint.provider,
                    grant: grantType,
                    lifetime: Duration.format(token.lifetime)
                  })
                )
              )
            )
        }),
        Effect.withSpan("OAuth2Client.requestToken", {
          kind: "client",
          attributes: {
            "oauth2.provider": endpoint.provider,
            "oauth2.environment": endpoint.environment,
            "oauth2.grant_type": grantType,
            "http.url": url
          }
        })
      )
    }

    const unsupported = (operation: string) =>
      Effect.fail(
        new Unsupported({
          provider: endpoint.provider,
          source: "configuration",
          operation,
          hint: operation === "revocation"
            ? "Tokens expire on their own; drop the token from your cache, or contact the provider to revoke it."
            : undefined
        })
      )

    const tokenParams = (token: Redacted.Redacted<string>, hint: TokenTypeHint | undefined) => {
      const params: Array<readonly [string, string]> = [["token", Redacted.value(token)]]
      if (hint !== undefined) params.push(["token_type_hint", hint])
      return params
    }

    const revoke = (token: Redacted.Redacted<string>, hint?: TokenTypeHint | undefined) => {
      const url = endpoint.revocationUrl
      if (url === undefined) return unsupported("revocation")
      const ctx: wire.Context = {
        provider: endpoint.provider,
        source: "revocation-endpoint",
        requestedScopes: [],
        secrets: [...clientSecrets, Redacted.value(token)]
      }
      return exchange(url, tokenParams(token, hint), ctx).pipe(
        Effect.flatMap(({ answer }) =>
          answer.status >= 200 && answer.status < 300 && answer.body?.error === undefined
            ? Effect.void
            : Clock.currentTimeMillis.pipe(Effect.flatMap((now) => Effect.fail(wire.toError(answer, ctx, now))))
        ),
        Effect.tap(() => Effect.logInfo("token revoked").pipe(Effect.annotateLogs({ provider: endpoint.provider }))),
        Effect.withSpan("OAuth2Client.revoke", {
          kind: "client",
          attributes: { "oauth2.provider": endpoint.provider, "http.url": url }
        })
      )
    }

    const introspect = (token: Redacted.Redacted<string>, hint?: TokenTypeHint | undefined) => {
      const url = endpoint.introspectionUrl
      if (url === undefined) return unsupported("introspection")
      const ctx: wire.Context = {
        provider: endpoint.provider,
        source: "introspection-endpoint",
        requestedScopes: [],
        secrets: [...clientSecrets, Redacted.value(token)]
      }
      return exchange(url, tokenParams(token, hint), ctx).pipe(
        Effect.flatMap(({ answer }): Effect.Effect<Introspection, OAuth2Error> => {
          const body = answer.body
          if (answer.status < 200 || answer.status >= 300 || body === undefined || body.error !== undefined) {
            return Clock.currentTimeMillis.pipe(Effect.flatMap((now) => Effect.fail(wire.toError(answer, ctx, now))))
          }
          if (typeof body.active !== "boolean") {
            return Effect.fail(
              new MalformedResponse({
                provider: endpoint.provider,
                source: "introspection-endpoint",
                status: answer.status,
                contentType: answer.contentType,
                reason: "the answer has no boolean `active` member (RFC 7662 §2.2)"
              })
            )
          }
          const { active, client_id, exp, scope, ...extra } = body
          return Effect.succeed({
            active,
            scopes: typeof scope === "string" ? splitScopes(scope, endpoint.scopeDelimiter) : undefined,
            clientId: typeof client_id === "string" ? client_id : undefined,
            expiresAt: typeof exp === "number" ? exp * 1000 : undefined,
            extra
          })
        }),
        Effect.withSpan("OAuth2Client.introspect", {
          kind: "client",
          attributes: { "oauth2.provider": endpoint.provider, "http.url": url }
        })
      )
    }

    // A refused JWT assertion is `invalid_client` with no detail from the server: say what to check.
    const assertionHint = jwtAuth === undefined ? undefined : ClientAuth.assertionRejectedHint(jwtAuth)
    const hinted = <A>(effect: Effect.Effect<A, OAuth2Error>): Effect.Effect<A, OAuth2Error> =>
      assertionHint === undefined
        ? effect
        : Effect.mapError(effect, (error) => clientAssertion.withHint(error, assertionHint))

    return OAuth2Client.of({
      endpoint,
      clientId: credentials.clientId,
      requestToken: (grant) => hinted(requestToken(grant)),
      revoke: (token, hint) => hinted(revoke(token, hint)),
      introspect: (token, hint) => hinted(introspect(token, hint))
    })
  })

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
   * `client_secret_basic`, `client_secret_post`, `client_secret_jwt` the server lists; `none` otherwise.
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
        privateKey: credentials.privateKey !== undefined
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
