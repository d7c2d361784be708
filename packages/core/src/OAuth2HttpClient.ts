/**
 * `HttpClient` middleware that puts the access token on requests.
 *
 * `withAccessToken(tokens)(client)` adds `Authorization: Bearer …` from {@link AccessTokens} to every request. On a
 * 401 (RFC 6750 §3.1 `invalid_token`, or any 401), it invalidates that token and replays the request once with a
 * new one; a second 401 fails with `Unauthorized` (`rejected-token`). A 403 with `error="insufficient_scope"` fails
 * with `InvalidScope`. It never loops.
 *
 * Wrap the *base* client (never use the authorised client for the token endpoint), and apply a base URL *outside*
 * the middleware (`HttpClient.mapRequest(HttpClientRequest.prependUrl(url))` after `withAccessToken`), so that the
 * origin check sees the full URL and a replay never prepends it twice.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"
import { dual } from "effect/Function"
import * as Redacted from "effect/Redacted"
import type { AccessToken } from "./AccessToken.js"
import { AccessTokens, type Service as AccessTokensService } from "./AccessTokens.js"
import * as wire from "./internal/wire.js"
import { InvalidConfiguration, InvalidScope, type OAuth2Error, Unauthorized } from "./OAuth2Error.js"

/**
 * The options of {@link withAccessToken}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * The origins (`https://host[:port]`) the token may be sent to; a request elsewhere fails with
   * `InvalidConfiguration` and is not sent. Default: every origin.
   */
  readonly allowedOrigins?: ReadonlyArray<string> | undefined
  /** Replay a request once with a new token after a 401. Default: `true`. */
  readonly replayOnUnauthorized?: boolean | undefined
}

/**
 * Parses the auth-params of a `WWW-Authenticate: Bearer …` challenge (RFC 6750 §3). Returns `undefined` when there is
 * no Bearer challenge.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseBearerChallenge = (header: string | undefined): Record<string, string> | undefined => {
  if (header === undefined) return undefined
  const match = /(?:^|,)\s*Bearer\b(.*)$/i.exec(header)
  if (match === null) return undefined
  const params: Record<string, string> = {}
  const re = /([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g
  let m: RegExpExecArray | null
  while ((m = re.exec(match[1]!)) !== null) {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3]!
  }
  return params
}

const drain = (response: HttpClientResponse.HttpClientResponse) => Effect.ignore(response.arrayBuffer)

const originOf = (url: string): string | undefined => {
  try {
    return new URL(url).origin
  } catch {
    return undefined
  }
}

/**
 * Wraps a client so that every request carries the access token. See the module documentation.
 *
 * @since 0.1.0
 * @category middleware
 */
export const withAccessToken: {
  (tokens: AccessTokensService, options?: Options): <E, R>(
    client: HttpClient.HttpClient.With<E, R>
  ) => HttpClient.HttpClient.With<E | OAuth2Error, R>
  <E, R>(
    client: HttpClient.HttpClient.With<E, R>,
    tokens: AccessTokensService,
    options?: Options
  ): HttpClient.HttpClient.With<E | OAuth2Error, R>
} = dual(
  (args) => Predicate.hasProperty(args[0], HttpClient.TypeId),
  <E, R>(
    client: HttpClient.HttpClient.With<E, R>,
    tokens: AccessTokensService,
    options: Options = {}
  ): HttpClient.HttpClient.With<E | OAuth2Error, R> => {
    const allowed = options.allowedOrigins === undefined
      ? undefined
      : new Set(options.allowedOrigins.map((o) => originOf(o) ?? o))
    const replay = options.replayOnUnauthorized ?? true
    const provider = tokens.provider

    const send = (request: HttpClientRequest.HttpClientRequest, token: AccessToken) =>
      client.execute(HttpClientRequest.setHeader(request, "authorization", `Bearer ${Redacted.value(token.value)}`)).pipe(
        wire.redactEchoingHeaders
      )

    const insufficientScope = (
      response: HttpClientResponse.HttpClientResponse,
      token: AccessToken
    ): InvalidScope | undefined => {
      if (response.status !== 403) return undefined
      const challenge = parseBearerChallenge(response.headers["www-authenticate"])
      if (challenge?.error !== "insufficient_scope") return undefined
      return new InvalidScope({
        provider,
        source: "resource-server",
        requestedScopes: token.scopes,
        requiredScope: challenge.scope,
        status: 403,
        description: wire.scrub(challenge.error_description, [Redacted.value(token.value)])
      })
    }

    const check = (
      response: HttpClientResponse.HttpClientResponse,
      token: AccessToken
    ): Effect.Effect<HttpClientResponse.HttpClientResponse, OAuth2Error> => {
      const scopeError = insufficientScope(response, token)
      return scopeError === undefined ? Effect.succeed(response) : Effect.zipRight(drain(response), Effect.fail(scopeError))
    }

    const authorised = (
      request: HttpClientRequest.HttpClientRequest
    ): Effect.Effect<HttpClientResponse.HttpClientResponse, E | OAuth2Error, R> => {
      if (allowed !== undefined) {
        const origin = originOf(request.url)
        if (origin === undefined || !allowed.has(origin)) {
          return Effect.fail(
            new InvalidConfiguration({
              provider,
              source: "configuration",
              description: `refusing to send the ${provider} access token to ${
                origin ?? "a relative URL"
              }: only ${[...allowed].join(", ")} may receive it. Apply the base URL outside withAccessToken, or add the origin to allowedOrigins.`
            })
          )
        }
      }
      return Effect.flatMap(tokens.get, (token) =>
        Effect.flatMap(send(request, token), (response) => {
          if (response.status !== 401 || !replay) return check(response, token)
          return drain(response).pipe(
            Effect.zipRight(tokens.invalidate(token)),
            Effect.zipRight(Effect.logInfo("the API answered 401; replaying once with a new token")),
            Effect.annotateLogs({ provider, url: request.url }),
            Effect.zipRight(tokens.get),
            Effect.flatMap((fresh) =>
              Effect.flatMap(send(request, fresh), (second): Effect.Effect<
                HttpClientResponse.HttpClientResponse,
                OAuth2Error
              > =>
                second.status === 401
                  ? Effect.zipRight(
                    drain(second),
                    Effect.fail(
                      new Unauthorized({
                        provider,
                        source: "resource-server",
                        reason: "rejected-token",
                        status: 401,
                        description: wire.scrub(
                          parseBearerChallenge(second.headers["www-authenticate"])?.error_description,
                          [Redacted.value(fresh.value)]
                        )
                      })
                    )
                  )
                  : check(second, fresh))
            )
          )
        }))
    }

    return HttpClient.makeWith<never, never, E | OAuth2Error, R>(
      (request) => Effect.flatMap(request, authorised),
      Effect.succeed
    )
  }
)

/**
 * The `HttpClient` from the context, wrapped with the `AccessTokens` from the context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options?: Options
): Effect.Effect<
  HttpClient.HttpClient.With<OAuth2Error | HttpClientError.HttpClientError>,
  never,
  HttpClient.HttpClient | AccessTokens
> =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const tokens = yield* AccessTokens
    return withAccessToken(client, tokens, options)
  })
