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
 * - **Where the token goes.** Only to `allowedOrigins`; without them, only to the origin of the first request sent
 *   through the client (it is pinned then). `allowedOrigins: "any"` is the explicit opt-in to every origin.
 * - **Redirects.** The token never crosses to an origin it may not go to, even when the base client follows
 *   redirects itself (`HttpClient.followRedirects`): every hop is checked before it is sent, and a hop elsewhere is
 *   not sent (`InvalidConfiguration`). (`fetch`, following on its own, drops `Authorization` across origins.)
 * - **Bounds.** No answer within `requestTimeout` is a `TransportError` (`"Timeout"`); a body is read up to
 *   `maxResponseBytes` and within `requestTimeout` of the start of its read, else the read fails with a
 *   `ResponseError` whose `cause` is the family's error (`MalformedResponse`, `TransportError`). A small body (its
 *   length declared, up to 64 KiB and `maxResponseBytes`, not compressed) is read with the answer, within the
 *   answer's `requestTimeout`, and served from memory: one that stalls is a `TransportError` (`"Timeout"`) of the
 *   request itself.
 * - **Nothing leaks.** Every error and answer it hands back carries a copy of the request with `Authorization:
 *   <redacted>`, so that `JSON.stringify`, `util.inspect`, `String` and `console.error` never print the token.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import { dual } from "effect/Function"
import * as Redacted from "effect/Redacted"
import type { AccessToken } from "./AccessToken.js"
import { AccessTokens, type Service as AccessTokensService } from "./AccessTokens.js"
import { Dpop, type Service as DpopService } from "./Dpop.js"
import * as dpopInternal from "./internal/dpop.js"
import * as dpopFlow from "./internal/dpopFlow.js"
import * as authorisedResponse from "./internal/authorisedResponse.js"
import { guardedExit } from "./internal/hopGuard.js"
import * as wire from "./internal/wire.js"
import { InvalidConfiguration, InvalidScope, type OAuth2Error, TransportError, Unauthorized } from "./OAuth2Error.js"

/**
 * An `HttpClient` that puts an access token on every request (and replays once after a 401): what
 * {@link withAccessToken} makes of a plain client, and the service of every provider package's API-client tag.
 *
 * @since 0.2.0
 * @category models
 */
export type Authorized = HttpClient.HttpClient.With<HttpClientError.HttpClientError | OAuth2Error>

/**
 * The options of {@link withAccessToken}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * The origins (`https://host[:port]`) the token may be sent to; a request (or a redirect's hop) elsewhere fails
   * with `InvalidConfiguration` and is not sent. `"any"` sends it to every origin (a redirect still never carries it
   * to another origin than the request's). Default: the origin of the first request sent through this client.
   */
  readonly allowedOrigins?: ReadonlyArray<string> | "any" | undefined
  /** Replay a request once with a new token after a 401. Default: `true`. */
  readonly replayOnUnauthorized?: boolean | undefined
  /**
   * How long to wait for an answer (its status and headers), and, separately, for its body once reading starts.
   * Default: 30 seconds.
   */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** The largest answer body read, in bytes. Default: 16 MiB ({@link defaultMaxResponseBytes}). */
  readonly maxResponseBytes?: number | undefined
  /**
   * The DPoP key (RFC 9449, see `Dpop`): a DPoP-bound token is then sent as `Authorization: DPoP …` with a proof, and
   * a resource server's `use_dpop_nonce` refusal is retried once with its nonce. It must be the key the tokens were
   * requested with (the `Dpop` given to `OAuth2Client`). Default: none (`make` takes the `Dpop` from the context).
   *
   * @since 0.2.0
   */
  readonly dpop?: DpopService | undefined
}

/**
 * The bounds of a provider's API calls, as provider packages take them among their options (and hand them to
 * {@link withAccessToken} with {@link boundsOptions}).
 *
 * @since 0.1.0
 * @category models
 */
export interface ApiBounds {
  /** How long an API call waits for an answer, and then for its body. Default: 30 seconds. */
  readonly apiRequestTimeout?: Duration.DurationInput | undefined
  /** The largest API answer body read, in bytes. Default: 16 MiB. */
  readonly apiMaxResponseBytes?: number | undefined
}

/**
 * The options of {@link withAccessToken} that {@link ApiBounds} give.
 *
 * @since 0.1.0
 * @category constructors
 */
export const boundsOptions = (bounds: ApiBounds): Pick<Options, "requestTimeout" | "maxResponseBytes"> => ({
  requestTimeout: bounds.apiRequestTimeout,
  maxResponseBytes: bounds.apiMaxResponseBytes
})

/**
 * The default `requestTimeout` of API calls: 30 seconds.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultRequestTimeout: Duration.Duration = Duration.seconds(30)

/**
 * The default `maxResponseBytes` of API calls: 16 MiB.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMaxResponseBytes = 16 * 1024 * 1024

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

const parseOrigin = (url: string): string | undefined => {
  try {
    return new URL(url).origin
  } catch {
    return undefined
  }
}

// A request's origin is asked for several times per request (the check, every hop, the answer's request), mostly of
// the same URL: the last one is remembered (parsing a URL is the dearest step of those checks).
let lastUrl: string | undefined
let lastOrigin: string | undefined
const originOf = (url: string): string | undefined => {
  if (url !== lastUrl) {
    lastOrigin = parseOrigin(url)
    lastUrl = url
  }
  return lastOrigin
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
    const any = options.allowedOrigins === "any"
    const listed = options.allowedOrigins === undefined || options.allowedOrigins === "any"
      ? undefined
      : new Set(options.allowedOrigins.map((o) => originOf(o) ?? o))
    // Without a list, the first request's origin is the only one (pinned when it is sent).
    let pinned: string | undefined
    const replay = options.replayOnUnauthorized ?? true
    const provider = tokens.provider
    const dpop = options.dpop
    const limits: authorisedResponse.Limits = {
      provider,
      maxBytes: options.maxResponseBytes ?? defaultMaxResponseBytes,
      timeout: Duration.decode(options.requestTimeout ?? defaultRequestTimeout)
    }

    const badBounds = !(Number.isSafeInteger(limits.maxBytes) && limits.maxBytes > 0) ||
        !(Duration.toMillis(limits.timeout) > 0)
      ? new InvalidConfiguration({
        provider,
        source: "configuration",
        description: "withAccessToken: maxResponseBytes must be a positive whole number of bytes, and requestTimeout " +
          "a positive duration."
      })
      : undefined

    // A DPoP-bound token's refusals come in a `DPoP` challenge (RFC 9449 §7.1), a Bearer token's in a `Bearer` one.
    const challengeOf = dpop === undefined
      ? parseBearerChallenge
      : (header: string | undefined) => dpopInternal.parseDpopChallenge(header) ?? parseBearerChallenge(header)

    const allowedOrigin = (origin: string | undefined): boolean =>
      origin !== undefined && (listed !== undefined ? listed.has(origin) : origin === pinned)

    const receivers = () => (listed !== undefined ? [...listed].join(", ") : pinned ?? "the request's origin")
    const refused = (origin: string | undefined, how: "request" | "redirect" | "followed") =>
      new InvalidConfiguration({
        provider,
        source: "configuration",
        description: how === "redirect"
          ? `refusing to follow a redirect to ${origin ?? "a relative URL"} with the ${provider} access token: the ` +
            `base client follows redirects (HttpClient.followRedirects), and the token only goes to ${receivers()}. ` +
            "The redirected request was not sent."
          : how === "followed"
          ? `the base client followed a redirect to ${origin ?? "a relative URL"} with the ${provider} access token, ` +
            `which only goes to ${receivers()} (its own wrappers hid the redirect from the check). The token is ` +
            "dropped from the cache; revoke it if that origin is not yours, and do not let the client follow redirects."
          : `refusing to send the ${provider} access token to ${origin ?? "a relative URL"}: only ${
            listed !== undefined ? [...listed].join(", ") : pinned
          } may receive it${
            listed === undefined ? " (the origin of the first request; give allowedOrigins to allow others)" : ""
          }. Apply the base URL outside withAccessToken, or add the origin to allowedOrigins.`
      })

    const timedOut = (request: HttpClientRequest.HttpClientRequest) =>
      new TransportError({
        provider,
        source: "resource-server",
        reason: "Timeout",
        request: authorisedResponse.describeRequest(request),
        description: `no answer within ${Duration.format(limits.timeout)} (requestTimeout)`
      })

    /**
     * One exchange with `token`: the request runs in a fiber of its own with every hop checked and within the
     * deadline (`guardedExit`); what comes back is scrubbed of the token, and an answer from an origin the token may
     * not go to is refused.
     */
    const send = (
      request: HttpClientRequest.HttpClientRequest,
      token: AccessToken
    ): Effect.Effect<HttpClientResponse.HttpClientResponse, E | OAuth2Error, R> => {
      const secret = Redacted.value(token.value)
      const origin = originOf(request.url)
      const hopAllowed = (hop: HttpClientRequest.HttpClientRequest) => {
        const hopOrigin = originOf(hop.url)
        return any ? hopOrigin === origin : allowedOrigin(hopOrigin)
      }
      return Effect.flatMap(
        guardedExit(
          Effect.flatMap(
            dpop === undefined
              ? client.execute(HttpClientRequest.setHeader(request, "authorization", `Bearer ${secret}`))
              : dpopFlow.execute(dpop, client, request, token, provider),
            // A small body is read here, under the request's deadline: its reading then needs no fiber of its own.
            (response) => authorisedResponse.readSmall(response, limits)
          ),
          {
            allow: hopAllowed,
            refuse: (hop) => refused(originOf(hop.url), "redirect"),
            redact: wire.addEchoingHeaders,
            timeout: limits.timeout,
            onTimeout: () => timedOut(request)
          }
        ),
        (exit): Effect.Effect<HttpClientResponse.HttpClientResponse, E | OAuth2Error> => {
          if (Exit.isFailure(exit)) {
            return Effect.failCause(exit.cause).pipe(
              Effect.mapError((error) => authorisedResponse.scrubError(error, secret, limits)),
              Effect.catchAllDefect((defect) => Effect.die(authorisedResponse.scrubUnknown(defect, secret)))
            )
          }
          const [response, body] = exit.value
          // A client whose own wrappers hide its hops from the check: the answer must still come from an allowed
          // origin. The token went there, so it is dropped here.
          if (!hopAllowed(response.request)) {
            return drain(response).pipe(
              Effect.zipRight(tokens.invalidate(token)),
              Effect.zipRight(Effect.fail(refused(originOf(response.request.url), "followed")))
            )
          }
          // Its request is scrubbed when first read.
          return Effect.succeed(
            new authorisedResponse.AuthorisedResponse(response, response.request, secret, limits, body)
          )
        }
      )
    }

    const insufficientScope = (
      response: HttpClientResponse.HttpClientResponse,
      token: AccessToken
    ): InvalidScope | undefined => {
      if (response.status !== 403) return undefined
      const challenge = challengeOf(response.headers["www-authenticate"])
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
      if (badBounds !== undefined) return Effect.fail(badBounds)
      if (!any) {
        const origin = originOf(request.url)
        if (listed === undefined && pinned === undefined && origin !== undefined) pinned = origin
        if (!allowedOrigin(origin)) return Effect.fail(refused(origin, "request"))
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
                          challengeOf(second.headers["www-authenticate"])?.error_description,
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
 * The `HttpClient` from the context, wrapped with the `AccessTokens` from the context (and the `Dpop` key from the
 * context, when there is one and `options.dpop` is not given).
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
    const dpop = options?.dpop ?? Option.getOrUndefined(yield* Effect.serviceOption(Dpop))
    return withAccessToken(client, tokens, dpop === undefined ? options : { ...options, dpop })
  })
