/**
 * The stateless token-endpoint client: one HTTP exchange per call, no cache. It builds the form body, applies the
 * client authentication, decodes the answer leniently where RFC 6749 allows and strictly where it matters, and maps
 * every failure into the error family. {@link AccessTokens} caches on top of it.
 *
 * It always goes through the *plain* `HttpClient` from the context, never an authorised one, follows no redirects,
 * and gives up after the endpoint's request timeout.
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
import * as Endpoint from "./Endpoint.js"
import * as Grant from "./Grant.js"
import * as wire from "./internal/wire.js"
import * as Metrics from "./Metrics.js"
import { InvalidConfiguration, MalformedResponse, type OAuth2Error, TransportError, Unsupported } from "./OAuth2Error.js"

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

const KNOWN_MEMBERS = new Set(["access_token", "token_type", "expires_in", "scope", "refresh_token"])
const SENSITIVE_MEMBER = /token|secret|code|password|verifier|state/i

const splitScopes = (scope: string, delimiter: string): Array<string> =>
  scope.split(delimiter === " " ? /\s+/ : new RegExp(`[\\s${delimiter.replace(/[-\\^\]]/g, "\\$&")}]+`)).filter((s) =>
    s !== ""
  )

/**
 * Decodes a successful token response body into an {@link AccessToken}. Exported for testing and for providers with
 * custom transports; most code calls {@link Service.requestToken}.
 *
 * - `access_token` must be a non-empty string.
 * - `token_type` is matched case-insensitively against the accepted types; a missing one takes the endpoint's
 *   default when it has one; an unknown one is an error.
 * - `expires_in` may be a number or a numeric string; missing takes the endpoint's default lifetime; zero or negative
 *   means already expired; values beyond the endpoint's maximum are clamped.
 * - A missing `scope` means the scopes asked for; a missing `refresh_token` on a refresh keeps the old one.
 * - Unknown members are kept in `extra` (those whose name suggests a secret are wrapped in `Redacted`).
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
  if (typeof value !== "string" || value.trim() === "") {
    return malformed(value === undefined ? "the response has no access_token" : "access_token is not a non-empty string")
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
  } else {
    lifetimeMillis = Math.min(Math.max(0, seconds * 1000), Duration.toMillis(endpoint.maxLifetime))
  }
  const scopes = typeof body.scope === "string" && body.scope.trim() !== ""
    ? splitScopes(body.scope, endpoint.scopeDelimiter)
    : Grant.requestedScopes(grant)
  const refreshToken = typeof body.refresh_token === "string" && body.refresh_token !== ""
    ? Redacted.make(body.refresh_token)
    : grant._tag === "RefreshToken"
    ? grant.refreshToken
    : undefined
  const extra: Record<string, unknown> = {}
  for (const key of Object.keys(body)) {
    if (KNOWN_MEMBERS.has(key)) continue
    const member = body[key]
    extra[key] = SENSITIVE_MEMBER.test(key) && typeof member === "string" ? Redacted.make(member) : member
  }
  return Effect.succeed(
    new AccessToken({
      value: Redacted.make(value),
      type,
      issuedAt: AccessToken.issuedAtOf(issuedAt),
      expiresAt: AccessToken.expiryOf(issuedAt, lifetimeMillis),
      scopes,
      refreshToken,
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
    if (endpoint.authMethod !== "none" && credentials.clientSecret === undefined) {
      return yield* new InvalidConfiguration({
        provider: endpoint.provider,
        source: "configuration",
        description: `${endpoint.authMethod} needs a client secret, and none was given.`
      })
    }
    const auth = ClientAuth.fromMethod({
      method: endpoint.authMethod,
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
      basicEncoding: endpoint.basicEncoding
    })
    const authParts = ClientAuth.toRequestParts(auth)
    // Scoped, so that closing the exchange's scope aborts a response whose body was not (fully) read, e.g. one
    // refused for its declared length, instead of leaving the connection busy until garbage collection.
    const client = HttpClient.withScope(yield* HttpClient.HttpClient)
    const timeoutMillis = Duration.toMillis(endpoint.requestTimeout)
    // What the request carries that must never come back in an error, should the server echo it.
    const clientSecrets = [
      ...(credentials.clientSecret === undefined ? [] : [Redacted.value(credentials.clientSecret)]),
      ...Object.values(authParts.headers).map((value) => value.replace(/^Basic /, ""))
    ]
    const grantSecrets = (grant: Grant.Grant): Array<string> =>
      grant._tag === "AuthorizationCode"
        ? [Redacted.value(grant.code), ...(grant.codeVerifier === undefined ? [] : [Redacted.value(grant.codeVerifier)])]
        : grant._tag === "RefreshToken"
        ? [Redacted.value(grant.refreshToken)]
        : []

    const exchange = (
      url: string,
      params: ReadonlyArray<readonly [string, string]>,
      ctx: wire.Context
    ): Effect.Effect<{ readonly answer: wire.Answer; readonly sentAt: number }, OAuth2Error> =>
      Effect.gen(function*() {
        const request = HttpClientRequest.post(url).pipe(
          HttpClientRequest.setHeaders(endpoint.headers),
          HttpClientRequest.setHeaders(authParts.headers),
          HttpClientRequest.acceptJson,
          HttpClientRequest.bodyUrlParams([...params, ...authParts.params])
        )
        // Keep the RequestInit the user gave FetchHttpClient (dispatcher, proxy...), but never follow a redirect.
        const init = yield* Effect.serviceOption(FetchHttpClient.RequestInit)
        const sentAt = yield* Clock.currentTimeMillis
        const response = yield* client.execute(request).pipe(
          wire.redactEchoingHeaders,
          Effect.mapError((error) => wire.fromRequestError(error, ctx)),
          Effect.provideService(FetchHttpClient.RequestInit, { ...Option.getOrUndefined(init), redirect: "manual" })
        )
        const text = yield* wire.readBody(response, endpoint.maxResponseBytes, ctx)
        const contentType = response.headers["content-type"]
        const parsed = wire.parseBody(text, contentType)
        return {
          sentAt,
          answer: {
            status: response.status,
            contentType,
            headers: response.headers,
            body: parsed.body,
            parseFailure: parsed.parseFailure
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

    return OAuth2Client.of({ endpoint, clientId: credentials.clientId, requestToken, revoke, introspect })
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
