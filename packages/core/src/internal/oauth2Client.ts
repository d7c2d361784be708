/**
 * The token-endpoint exchange behind `OAuth2Client`: request building, the token-response decoder, revocation and
 * introspection.
 *
 * @internal
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { AccessToken } from "../AccessToken.js"
import * as ClientAuth from "../ClientAuth.js"
import type * as Endpoint from "../Endpoint.js"
import * as Grant from "../Grant.js"
import * as clientAssertion from "./clientAssertion.js"
import { Dpop } from "../Dpop.js"
import * as dpopFlow from "./dpopFlow.js"
import * as endpointPost from "./endpointPost.js"
import * as wire from "./wire.js"
import * as Metrics from "../Metrics.js"
import {
  InvalidConfiguration,
  MalformedResponse,
  type OAuth2Error,
  Unsupported
} from "../OAuth2Error.js"

import type { Introspection, Service, TokenTypeHint } from "../OAuth2Client.js"

const KNOWN_MEMBERS = new Set(["access_token", "token_type", "expires_in", "scope", "refresh_token"])

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
    if (match === undefined && rawType.toLowerCase() === "dpop") {
      return malformed(
        "token_type is DPoP: the server bound the token to a DPoP key, but this client has no DPoP key (provide " +
          "Dpop.layer() to the OAuth2Client and the authorised client, or have the server issue Bearer tokens)"
      )
    }
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
  // The login's PKCE verifier and redirect URI, kept with the token where every refresh must re-send them (Saxo).
  const login = endpoint.refreshWithPkce !== true
    ? undefined
    : grant._tag === "AuthorizationCode" || grant._tag === "RefreshToken"
    ? { codeVerifier: grant.codeVerifier, redirectUri: grant.redirectUri }
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
      ...(refreshToken !== undefined && login?.codeVerifier !== undefined ? { codeVerifier: login.codeVerifier } : {}),
      ...(refreshToken !== undefined && login?.redirectUri !== undefined ? { redirectUri: login.redirectUri } : {}),
      extra
    }, { disableValidation: true }) // every field is checked above: validating again would only cost time
  )
}

export const make = (options: {
  readonly endpoint: Endpoint.Endpoint
  readonly credentials: Endpoint.Credentials
}): Effect.Effect<Service, InvalidConfiguration, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const { credentials, endpoint } = options
    const auth = yield* endpointPost.clientAuth(endpoint, credentials)
    // The JWT methods sign a new assertion for every request; the others add the same parts each time.
    const authParts = ClientAuth.requestParts(auth)
    const jwtAuth = auth._tag === "PrivateKeyJwt" || auth._tag === "ClientSecretJwt" ? auth : undefined
    // Scoped, so that closing the exchange's scope aborts a response whose body was not (fully) read, e.g. one
    // refused for its declared length, instead of leaving the connection busy until garbage collection.
    const client = HttpClient.withScope(yield* HttpClient.HttpClient)
    // DPoP (RFC 9449): on when a Dpop service is in the context; a DPoP-bound token is then accepted too.
    const dpop = Option.getOrUndefined(yield* Effect.serviceOption(Dpop))
    const decodeEndpoint = dpop === undefined || endpoint.acceptedTokenTypes.includes(dpopFlow.TOKEN_TYPE)
      ? endpoint
      : { ...endpoint, acceptedTokenTypes: [...endpoint.acceptedTokenTypes, dpopFlow.TOKEN_TYPE] }
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
        ? [
          Redacted.value(grant.refreshToken),
          ...(grant.codeVerifier === undefined ? [] : [Redacted.value(grant.codeVerifier)])
        ]
        : []

    // `client_secret_post` without `client_id` where the provider wants the secret alone (tastytrade).
    const authParams = (params: ReadonlyArray<readonly [string, string]>) =>
      endpoint.sendClientId === false && auth._tag === "ClientSecretPost"
        ? params.filter(([name]) => name !== "client_id")
        : params
    // A form (RFC 6749), or a JSON object of strings (tastytrade); a repeated name keeps its first value in JSON.
    const body = (params: ReadonlyArray<readonly [string, string]>) =>
      endpoint.bodyFormat === "json"
        ? HttpClientRequest.bodyUnsafeJson(
          params.reduce<Record<string, string>>(
            (json, [name, value]) => (Object.hasOwn(json, name) ? json : { ...json, [name]: value }),
            {}
          )
        )
        : HttpClientRequest.bodyUrlParams(params)

    const followed = (hop: HttpClientRequest.HttpClientRequest) =>
      new InvalidConfiguration({
        provider: endpoint.provider,
        source: "configuration",
        description: `the HttpClient follows redirects (HttpClient.followRedirects): the ${endpoint.provider} endpoint ` +
          `redirected to ${endpointPost.endpointOf(hop.url)}, and the client credentials are never sent after a redirect (RFC 9700); ` +
          "that request was not sent. Give OAuth2Client a client that does not follow redirects, and check the " +
          "endpoint URL."
      })

    const exchange = (
      url: string,
      params: ReadonlyArray<readonly [string, string]>,
      ctx: wire.Context,
      dpopProof?: string | undefined
    ): Effect.Effect<{ readonly answer: wire.Answer; readonly sentAt: number }, OAuth2Error> =>
      Effect.gen(function*() {
        const parts = yield* authParts
        const request = HttpClientRequest.post(url).pipe(
          HttpClientRequest.setHeaders(endpoint.headers),
          HttpClientRequest.setHeaders(parts.headers),
          dpopProof === undefined ? (r) => r : HttpClientRequest.setHeader("dpop", dpopProof),
          HttpClientRequest.acceptJson,
          body([...params, ...authParams(parts.params)])
        )
        const { answer, sentAt } = yield* endpointPost.post({ client, request, url, endpoint, ctx, followed })
        // The provider's own error shape, read as RFC 6749's before anything looks at `error`.
        const answerBody = answer.body === undefined || endpoint.errorBody === undefined
          ? answer.body
          : endpoint.errorBody(answer.body) as Record<string, unknown>
        if (jwtAuth === undefined) return { sentAt, answer: { ...answer, body: answerBody } }
        // A JWT client assertion the server echoes is scrubbed like any other secret of the request.
        const assertions = parts.params.filter(([name]) => name === "client_assertion").map(([, value]) => value)
        return {
          sentAt,
          answer: {
            ...answer,
            body: clientAssertion.scrubEcho(answerBody, parts.params),
            text: wire.scrub(answer.text, assertions)
          }
        }
      })

    const requestToken = (given: Grant.Grant): Effect.Effect<AccessToken, OAuth2Error> => {
      // A refresh re-sends the login's verifier and redirect URI only where the endpoint asks for them (Saxo).
      const grant: Grant.Grant = given._tag === "RefreshToken" && endpoint.refreshWithPkce !== true &&
          (given.codeVerifier !== undefined || given.redirectUri !== undefined)
        ? { ...given, codeVerifier: undefined, redirectUri: undefined }
        : given
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
        const { answer, sentAt } = yield* (dpop === undefined
          ? exchange(url, params, ctx)
          : dpopFlow.tokenRequest(dpop, url, ctx, (proof) => exchange(url, params, ctx, proof)))
        const ok = answer.status >= 200 && answer.status < 300
        if (!ok || answer.body === undefined || answer.body.error !== undefined) {
          return yield* Effect.fail(wire.toError(answer, ctx, yield* Clock.currentTimeMillis))
        }
        const token = yield* decodeTokenResponse({
          endpoint: decodeEndpoint,
          grant,
          body: answer.body,
          status: answer.status,
          contentType: answer.contentType,
          issuedAt: sentAt
        })
        return dpop === undefined ? token : yield* dpopFlow.checkTokenType(dpop, token, endpoint.provider)
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
            ? endpoint.revocationUnsupportedHint ??
              "Tokens expire on their own; drop the token from your cache, or contact the provider to revoke it."
            : endpoint.introspectionUnsupportedHint
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

    const service: Service = {
      endpoint,
      clientId: credentials.clientId,
      requestToken: (grant) => hinted(requestToken(grant)),
      revoke: (token, hint) => hinted(revoke(token, hint)),
      introspect: (token, hint) => hinted(introspect(token, hint))
    }
    return service
  })
