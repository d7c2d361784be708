/**
 * The authorization-code grant (RFC 6749 §4.1) from the client's side, with PKCE (RFC 7636) and a loopback redirect
 * listener for command-line and desktop programs (RFC 8252 §7.3).
 *
 * The steps, each usable on its own:
 *
 * 1. {@link authorize} builds the authorization URL with a fresh `state` (256 random bits) and, when asked, a PKCE
 *    S256 challenge, and returns a {@link Session} that remembers what the callback and the exchange need.
 * 2. The user's browser visits the URL; the provider redirects it back with `?code=...&state=...` (or `?error=...`).
 *    {@link loopbackCallback} receives that redirect on `127.0.0.1`.
 * 3. {@link validateCallback} checks the callback against the session: the state is compared exactly (in constant
 *    time) and accepted once; an `error` becomes an `AuthorizationFailed`.
 * 4. {@link exchange} trades the code for an {@link AccessToken} through the {@link OAuth2Client.OAuth2Client}.
 *
 * {@link login} runs all four. With a pushed authorization request (RFC 9126), {@link pushAuthorization} replaces
 * step 1: the parameters go to the server's PAR endpoint in an authenticated POST, and the URL carries only
 * `client_id` and the `request_uri` answered (`login`'s `par` option).
 *
 * Secrets (the state, the code, the PKCE verifier) are `Redacted` everywhere, and appear in no error and no log
 * line. The one exception is the authorization URL itself, which must carry the state: show it to the user, do not
 * log it (printing a {@link Session} shows it with the state redacted).
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { format, NodeInspectSymbol } from "effect/Inspectable"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import type { AccessToken } from "./AccessToken.js"
import * as Discovery from "./Discovery.js"
import * as Endpoint from "./Endpoint.js"
import * as Grant from "./Grant.js"
import * as internal from "./internal/authorizationCode.js"
import * as par from "./internal/par.js"
import { sanitize } from "./internal/sanitize.js"
import * as OAuth2Client from "./OAuth2Client.js"
import {
  AuthorizationFailed,
  InvalidConfiguration,
  isOAuth2Error,
  type OAuth2Error,
  Unauthorized,
  Unsupported
} from "./OAuth2Error.js"

// -----------------------------------------------------------------------------
// state and PKCE
// -----------------------------------------------------------------------------

/**
 * A fresh `state` value (RFC 6749 §10.12): 256 bits from the platform's cryptographically secure generator
 * (`crypto.getRandomValues`), base64url-encoded without padding (43 characters).
 *
 * @since 0.1.0
 * @category state
 */
export const makeState: Effect.Effect<Redacted.Redacted<string>> = Effect.sync(() =>
  Redacted.make(internal.randomBase64Url(43))
)

/**
 * A fresh PKCE code verifier (RFC 7636 §4.1): `length` characters of `[A-Za-z0-9_-]` (a subset of the RFC's
 * `[A-Za-z0-9-._~]`), 6 random bits each, from the platform's cryptographically secure generator.
 *
 * A length outside 43–128 is a programming error: the effect dies with a `RangeError`.
 *
 * @since 0.1.0
 * @category pkce
 */
export const makeVerifier = (options?: {
  /** The number of characters, from 43 to 128. Default: `64` (384 bits). */
  readonly length?: number | undefined
}): Effect.Effect<Redacted.Redacted<string>> =>
  Effect.suspend(() => {
    const length = options?.length ?? 64
    if (!Number.isInteger(length) || length < 43 || length > 128) {
      return Effect.die(new RangeError(`a PKCE code verifier has 43 to 128 characters (RFC 7636 §4.1), not ${length}`))
    }
    return Effect.succeed(Redacted.make(internal.randomBase64Url(length)))
  })

/**
 * The S256 code challenge of a verifier (RFC 7636 §4.2): `BASE64URL(SHA-256(ASCII(verifier)))`, computed with Web
 * Crypto (`crypto.subtle`). The challenge is not a secret: it goes in the authorization URL.
 *
 * @since 0.1.0
 * @category pkce
 */
export const challengeS256 = (verifier: Redacted.Redacted<string>): Effect.Effect<string> =>
  Effect.promise(() => internal.sha256Base64Url(Redacted.value(verifier)))

/**
 * Whether a string is a well-formed PKCE code verifier: 43 to 128 characters of `[A-Za-z0-9-._~]` (RFC 7636 §4.1).
 *
 * @since 0.1.0
 * @category pkce
 */
export const isVerifier = (verifier: string): boolean => internal.VERIFIER_PATTERN.test(verifier)

// -----------------------------------------------------------------------------
// authorize
// -----------------------------------------------------------------------------

/**
 * One authorization request in flight: the URL to send the user to, and what the callback check and the code
 * exchange need to remember.
 *
 * Printing or `JSON.stringify`-ing a session shows the URL with its state redacted.
 *
 * @since 0.1.0
 * @category models
 */
export interface Session {
  /** The provider's name, from the endpoint (for logs and errors). */
  readonly provider: string
  /** The authorization URL to send the user's browser to. It carries the state: show it, do not log it. */
  readonly url: string
  /** The state sent, to be matched by the callback. */
  readonly state: Redacted.Redacted<string>
  /** The PKCE code verifier, when the request carried a challenge. */
  readonly codeVerifier: Redacted.Redacted<string> | undefined
  /** The `redirect_uri` sent, when one was (it is then sent again with the code, RFC 6749 §4.1.3). */
  readonly redirectUri: string | undefined
  /** The scopes asked for. */
  readonly scopes: ReadonlyArray<string>
  /**
   * Whether a callback has already used this session's state. {@link validateCallback} sets it; a state is good
   * for one callback only (RFC 6749 §10.12). Read it if you like; never reset it.
   */
  readonly consumed: Ref.Ref<boolean>
  /**
   * The pushed authorization request (RFC 9126) the URL refers to, when the request was pushed
   * ({@link pushAuthorization}); `undefined` when the URL carries the request itself.
   *
   * @since 0.2.0
   */
  readonly pushed?: Pushed | undefined
}

/**
 * What the PAR endpoint answered (RFC 9126 §2.2): the `request_uri` the authorization URL carries, and until when the
 * server accepts it. The user must open the URL before then; the server's own login pages may take longer.
 *
 * @since 0.2.0
 * @category models
 */
export interface Pushed {
  /** The `request_uri`, e.g. `"urn:ietf:params:oauth:request_uri:..."`. Good for one authorization. */
  readonly requestUri: string
  /** The `expires_in` answered, in seconds. */
  readonly expiresIn: Duration.Duration
  /** When the `request_uri` expires (epoch milliseconds, `Clock` time, counted from when the request was sent). */
  readonly expiresAt: number
}

class SessionImpl implements Session {
  constructor(
    readonly provider: string,
    readonly url: string,
    readonly state: Redacted.Redacted<string>,
    readonly codeVerifier: Redacted.Redacted<string> | undefined,
    readonly redirectUri: string | undefined,
    readonly scopes: ReadonlyArray<string>,
    readonly consumed: Ref.Ref<boolean>,
    readonly pushed?: Pushed | undefined
  ) {}
  toJSON(): unknown {
    const url = new URL(this.url)
    if (url.searchParams.has("state")) url.searchParams.set("state", "<redacted>")
    if (url.searchParams.has("request_uri")) url.searchParams.set("request_uri", "<redacted>")
    return {
      _id: "AuthorizationCode.Session",
      provider: this.provider,
      url: url.toString(),
      redirectUri: this.redirectUri,
      scopes: this.scopes,
      pkce: this.codeVerifier !== undefined,
      ...(this.pushed === undefined
        ? {}
        : { pushed: { expiresIn: Duration.format(this.pushed.expiresIn), expiresAt: this.pushed.expiresAt } })
    }
  }
  toString(): string {
    return format(this.toJSON())
  }
  [NodeInspectSymbol](): unknown {
    return this.toJSON()
  }
}

/**
 * The options of {@link authorize}.
 *
 * @since 0.1.0
 * @category models
 */
export interface AuthorizeOptions {
  /** The provider's authorization server. It must have an `authorizeUrl`. Required. */
  readonly endpoint: Endpoint.Endpoint
  /** The client id, sent as `client_id`. Required. */
  readonly clientId: string
  /**
   * The scopes to ask for, joined with the endpoint's `authorizeScopeDelimiter` (a comma for Tradier). Default: none
   * (no `scope` parameter).
   */
  readonly scopes?: ReadonlyArray<string> | undefined
  /**
   * The `redirect_uri` to send. Default: none, and the provider uses the callback URL registered with the client
   * (Tradier documents only that). When sent, it is sent again with the code.
   */
  readonly redirectUri?: string | undefined
  /** Whether to send a PKCE S256 challenge (RFC 7636). Default: `false` (Tradier does not document PKCE). */
  readonly pkce?: boolean | undefined
  /**
   * Whether to send `response_type=code`. Default: `true` (RFC 6749 requires it; Tradier does not document it but
   * tolerates it).
   */
  readonly sendResponseType?: boolean | undefined
  /**
   * More query parameters (e.g. `prompt`, `audience`). Default: none. They may not name a parameter this module
   * sets (`response_type`, `client_id`, `redirect_uri`, `scope`, `state`, `code_challenge`,
   * `code_challenge_method`): that fails with `InvalidConfiguration`.
   */
  readonly extraParams?: Readonly<Record<string, string>> | undefined
}

const RESERVED_PARAMS = new Set([
  "response_type",
  "client_id",
  "redirect_uri",
  "scope",
  "state",
  "code_challenge",
  "code_challenge_method"
])

/**
 * Starts an authorization request: a fresh state, a PKCE verifier when asked, and the authorization URL.
 *
 * Fails with `Unsupported` when the endpoint has no `authorizeUrl`, and with `InvalidConfiguration` for an empty
 * client id, a scope that is empty or contains whitespace or the delimiter, a `redirectUri` that is not an absolute
 * URL without fragment, or an extra parameter that would override one this module sets.
 *
 * @since 0.1.0
 * @category authorize
 */
export const authorize = (options: AuthorizeOptions): Effect.Effect<Session, Unsupported | InvalidConfiguration> => {
  const { endpoint } = options
  const pkce = options.pkce ?? false
  return Effect.gen(function*() {
    const request = yield* prepare(options)
    const url = new URL(request.authorizeUrl)
    for (const [name, value] of request.params) url.searchParams.set(name, value)
    const consumed = yield* Ref.make(false)
    return new SessionImpl(
      endpoint.provider,
      url.toString(),
      request.state,
      request.codeVerifier,
      request.redirectUri,
      request.scopes,
      consumed
    )
  }).pipe(
    Effect.withSpan("AuthorizationCode.authorize", {
      attributes: {
        "oauth2.provider": endpoint.provider,
        "oauth2.environment": endpoint.environment,
        "oauth2.pkce": pkce
      }
    })
  )
}

interface Prepared {
  readonly authorizeUrl: string
  readonly params: ReadonlyArray<readonly [string, string]>
  readonly state: Redacted.Redacted<string>
  readonly codeVerifier: Redacted.Redacted<string> | undefined
  readonly redirectUri: string | undefined
  readonly scopes: ReadonlyArray<string>
}

/** Checks the options and makes the request's parameters, its fresh state and (when asked) PKCE verifier. */
const prepare = (options: AuthorizeOptions): Effect.Effect<Prepared, Unsupported | InvalidConfiguration> => {
  const { endpoint } = options
  const provider = endpoint.provider
  return Effect.gen(function*() {
    const invalid = (description: string) => new InvalidConfiguration({ provider, source: "configuration", description })
    if (endpoint.authorizeUrl === undefined) {
      return yield* new Unsupported({
        provider,
        source: "configuration",
        operation: "the authorization-code grant",
        hint: "The endpoint has no authorizeUrl: give one in the provider's endpoint options."
      })
    }
    if (options.clientId.trim() === "") return yield* invalid("clientId is empty.")
    const scopes = options.scopes ?? []
    const delimiter = endpoint.authorizeScopeDelimiter
    for (const scope of scopes) {
      if (scope === "" || /\s/.test(scope) || (delimiter !== "" && scope.includes(delimiter))) {
        return yield* invalid(
          `scope "${sanitize(scope, 64)}" is empty or contains whitespace or the scope delimiter "${delimiter}".`
        )
      }
    }
    const redirectUri = options.redirectUri
    if (redirectUri !== undefined) {
      let parsed: URL | undefined
      try {
        parsed = new URL(redirectUri)
      } catch {
        parsed = undefined
      }
      if (parsed === undefined || parsed.hash !== "") {
        return yield* invalid("redirectUri must be an absolute URL without a fragment (RFC 6749 §3.1.2).")
      }
    }
    const extra = Object.entries(options.extraParams ?? {})
    const clash = extra.find(([name]) => RESERVED_PARAMS.has(name))
    if (clash !== undefined) {
      return yield* invalid(`extraParams may not set "${clash[0]}": it is set by the authorization request itself.`)
    }

    const state = yield* makeState
    const codeVerifier = (options.pkce ?? false) ? yield* makeVerifier() : undefined
    const params: Array<readonly [string, string]> = []
    if (options.sendResponseType ?? true) params.push(["response_type", "code"])
    params.push(["client_id", options.clientId])
    if (redirectUri !== undefined) params.push(["redirect_uri", redirectUri])
    if (scopes.length > 0) params.push(["scope", scopes.join(delimiter)])
    params.push(["state", Redacted.value(state)])
    if (codeVerifier !== undefined) {
      params.push(["code_challenge", yield* challengeS256(codeVerifier)])
      params.push(["code_challenge_method", "S256"])
    }
    for (const [name, value] of extra) params.push([name, value])
    return { authorizeUrl: endpoint.authorizeUrl, params, state, codeVerifier, redirectUri, scopes }
  })
}

// -----------------------------------------------------------------------------
// pushed authorization requests (RFC 9126)
// -----------------------------------------------------------------------------

/**
 * How an authorization request is pushed (RFC 9126).
 *
 * @since 0.2.0
 * @category models
 */
export interface ParOptions {
  /**
   * The PAR endpoint. Default: the `pushed_authorization_request_endpoint` of the server's metadata, when a
   * {@link Discovery.Discovery} of the endpoint's issuer is in the context (as `OAuth2Client.layerDiscovery` provides
   * it); without either, pushing fails with `InvalidConfiguration`.
   */
  readonly url?: string | undefined
  /**
   * The client's credentials: the client authenticates to the PAR endpoint exactly as to the token endpoint, with
   * the endpoint's `authMethod` (`client_secret_basic`, `client_secret_post`, `private_key_jwt`, `client_secret_jwt`
   * or `none`). Give the same credentials as the `OAuth2Client`'s. Default: the client id alone, which is enough for
   * a public client (`none`) only.
   */
  readonly credentials?: Endpoint.Credentials | undefined
  /** Allow an `http://` PAR endpoint on a host other than loopback. Default: `false` (RFC 9700). Never in production. */
  readonly allowInsecureHttp?: boolean | undefined
}

/**
 * The options of {@link pushAuthorization}.
 *
 * @since 0.2.0
 * @category models
 */
export interface PushOptions extends AuthorizeOptions {
  /** Where and how to push. Default: the PAR endpoint from discovery, and the client id alone as credentials. */
  readonly par?: ParOptions | undefined
}

/** What a pushed request may not carry among its extra parameters, beyond what {@link authorize} refuses. */
const PAR_RESERVED_PARAMS = new Set(["request_uri", "client_secret", "client_assertion", "client_assertion_type"])

/** The server's metadata in the context, when it describes the endpoint's server (the same issuer). */
const metadataOf = (endpoint: Endpoint.Endpoint): Effect.Effect<Discovery.Metadata | undefined> =>
  Effect.map(
    Effect.serviceOption(Discovery.Discovery),
    (metadata) =>
      Option.isSome(metadata) && endpoint.issuer !== undefined && metadata.value.issuer === endpoint.issuer
        ? metadata.value
        : undefined
  )

/**
 * Starts an authorization request as {@link authorize} does, but pushes its parameters to the server's PAR endpoint
 * (RFC 9126) first: the parameters (state, PKCE challenge, redirect URI, scopes, extra parameters) go in an
 * authenticated POST, never through the browser, and the authorization URL carries only `client_id` and the
 * `request_uri` the server answered. The returned {@link Session} is used as any other (callback, exchange); its
 * `pushed` says until when the server accepts the `request_uri`.
 *
 * The client authenticates exactly as at the token endpoint (the endpoint's `authMethod`, with `par.credentials`),
 * the answer is read with the same bounds (the endpoint's request timeout and body cap) and the request is sent
 * once: no retry, no redirect followed. Failures:
 *
 * - `InvalidConfiguration`: the options are wrong (as for {@link authorize}), there is no PAR endpoint (neither
 *   `par.url` nor one in the server's metadata), `par.credentials` names another client, or the credentials do not
 *   fit the endpoint's `authMethod`. Nothing is sent.
 * - `Unauthorized` (`invalid_client`): the server refused the client authentication (401).
 * - `ProtocolError`: the server refused the request (400 `invalid_request`, `invalid_scope`..., with its sanitised
 *   description), or failed (5xx, retryable).
 * - `MalformedResponse`: not JSON, too large, a redirect, or no usable `request_uri` / `expires_in`.
 * - `TransportError`: no answer within the request timeout, or the connection failed.
 *
 * No error and no log line carries the state, the PKCE verifier, the client secret or a client assertion.
 *
 * @since 0.2.0
 * @category authorize
 */
export const pushAuthorization = (
  options: PushOptions
): Effect.Effect<Session, OAuth2Error, HttpClient.HttpClient> => {
  const { endpoint } = options
  const provider = endpoint.provider
  return Effect.gen(function*() {
    const invalid = (description: string) => new InvalidConfiguration({ provider, source: "configuration", description })
    const refused = Object.keys(options.extraParams ?? {}).find((name) => PAR_RESERVED_PARAMS.has(name))
    if (refused !== undefined) {
      return yield* invalid(
        `extraParams may not set "${refused}" in a pushed authorization request: ${
          refused === "request_uri"
            ? "the server issues the request_uri (RFC 9126 §2.1)"
            : "the client authentication sets it"
        }.`
      )
    }
    const request = yield* prepare(options)
    const metadata = yield* metadataOf(endpoint)
    const given = options.par?.url
    const parUrl = given ?? metadata?.pushedAuthorizationRequestEndpoint
    if (parUrl === undefined) {
      return yield* invalid(
        metadata === undefined
          ? "no PAR endpoint is known: give par.url, or build the client with OAuth2Client.layerDiscovery so that the server's metadata names it."
          : `the server ${
            JSON.stringify(metadata.issuer)
          } advertises no pushed_authorization_request_endpoint (RFC 9126 §5): give par.url if it has one, or log in without PAR.`
      )
    }
    const url = yield* Endpoint.validateUrl(provider, "par.url", parUrl, options.par?.allowInsecureHttp)
    const credentials = options.par?.credentials ?? { clientId: options.clientId }
    if (credentials.clientId !== options.clientId) {
      return yield* invalid(
        `par.credentials are those of client "${sanitize(credentials.clientId, 64)}", but the authorization request is ` +
          `for client "${sanitize(options.clientId, 64)}": give the same client's credentials.`
      )
    }
    if (
      options.par?.credentials === undefined && endpoint.authMethod !== "none"
    ) {
      return yield* invalid(
        `the PAR endpoint authenticates the client as the token endpoint does (${endpoint.authMethod}), and no ` +
          "credentials were given: give par.credentials (the same as the OAuth2Client's)."
      )
    }
    const pushed = yield* par.push({
      endpoint,
      credentials,
      url,
      params: request.params,
      secrets: [Redacted.value(request.state)]
    })
    const authorizeUrl = new URL(request.authorizeUrl)
    authorizeUrl.searchParams.set("client_id", options.clientId)
    authorizeUrl.searchParams.set("request_uri", pushed.requestUri)
    const expiresIn = Duration.seconds(pushed.expiresInSeconds)
    const consumed = yield* Ref.make(false)
    yield* Effect.logDebug("authorization request pushed").pipe(
      Effect.annotateLogs({ provider, expiresIn: Duration.format(expiresIn) })
    )
    return new SessionImpl(
      provider,
      authorizeUrl.toString(),
      request.state,
      request.codeVerifier,
      request.redirectUri,
      request.scopes,
      consumed,
      { requestUri: pushed.requestUri, expiresIn, expiresAt: pushed.sentAt + Duration.toMillis(expiresIn) }
    )
  }).pipe(
    Effect.withSpan("AuthorizationCode.pushAuthorization", {
      kind: "client",
      attributes: {
        "oauth2.provider": provider,
        "oauth2.environment": endpoint.environment,
        "oauth2.pkce": options.pkce ?? false
      }
    })
  )
}

// -----------------------------------------------------------------------------
// callback
// -----------------------------------------------------------------------------

/**
 * Checks an authorization callback against its session and returns the code.
 *
 * - The `state` must be present, single, and exactly equal to the session's (compared in constant time); otherwise
 *   `AuthorizationFailed` with reason `"state_mismatch"`, and the session stays usable for the genuine callback.
 * - The first callback whose state matches consumes the session, whatever it carries: any later callback fails with
 *   `"state_mismatch"` (a state is used once, RFC 6749 §10.12).
 * - An `error` parameter fails with the provider's code as the reason (`"access_denied"`, `"invalid_scope"`, ...) and
 *   its `error_description`. A callback with an `error` and no state at all is reported the same way (some servers
 *   drop the state on errors): it carries no code, so there is nothing to protect. The loopback listener
 *   ({@link loopbackCallback}) never hands such a callback over, though: anyone can send it, so there it does not
 *   end the wait.
 * - No single non-empty `code` fails with `"missing_code"`.
 *
 * The state and the code never appear in the error.
 *
 * @since 0.1.0
 * @category callback
 */
export const validateCallback = (
  session: Session,
  params: URLSearchParams | Readonly<Record<string, string | undefined>>
): Effect.Effect<Redacted.Redacted<string>, AuthorizationFailed> =>
  Effect.suspend(() => {
    const search = params instanceof URLSearchParams ? params : new URLSearchParams()
    if (!(params instanceof URLSearchParams)) {
      for (const [name, value] of Object.entries(params)) if (value !== undefined) search.append(name, value)
    }
    const failed = (reason: string, description?: string | undefined) =>
      new AuthorizationFailed({ provider: session.provider, source: "authorization", reason, description })
    const error = search.get("error")
    const providerError = () => {
      const description = search.get("error_description")
      return failed(
        sanitize(error ?? "", 64),
        description === null || description === "" ? undefined : sanitize(description, 500)
      )
    }
    const states = search.getAll("state")
    if (states.length === 0 && error !== null && error !== "") return Effect.fail(providerError())
    const state = states.length === 1 ? states[0] : undefined
    if (state === undefined || !internal.timingSafeEqual(state, Redacted.value(session.state))) {
      return Effect.fail(failed("state_mismatch")).pipe(
        Effect.tapError(() =>
          Effect.logWarning("authorization callback rejected: state mismatch").pipe(
            Effect.annotateLogs({ provider: session.provider, reason: "state_mismatch" })
          )
        )
      )
    }
    return Ref.getAndSet(session.consumed, true).pipe(
      Effect.flatMap((used) => {
        if (used) {
          return Effect.fail(failed("state_mismatch")).pipe(
            Effect.tapError(() =>
              Effect.logWarning("authorization callback rejected: state already used").pipe(
                Effect.annotateLogs({ provider: session.provider, reason: "state_mismatch" })
              )
            )
          )
        }
        if (error !== null && error !== "") return Effect.fail(providerError())
        const codes = search.getAll("code")
        const code = codes.length === 1 ? codes[0] : undefined
        if (code === undefined || code === "") return Effect.fail(failed("missing_code"))
        return Effect.succeed(Redacted.make(code))
      })
    )
  })

// -----------------------------------------------------------------------------
// exchange
// -----------------------------------------------------------------------------

/**
 * Trades an authorization code for a token through the {@link OAuth2Client.OAuth2Client} in the context (RFC 6749
 * §4.1.3), sending the session's `redirect_uri` and PKCE verifier when it has them. The session's scopes are the
 * token's scopes when the response names none.
 *
 * @since 0.1.0
 * @category exchange
 */
export const exchange = (
  session: Session,
  code: Redacted.Redacted<string>
): Effect.Effect<AccessToken, OAuth2Error, OAuth2Client.OAuth2Client> =>
  Effect.flatMap(OAuth2Client.OAuth2Client, (client) =>
    client.requestToken(
      Grant.authorizationCode({
        code,
        redirectUri: session.redirectUri,
        codeVerifier: session.codeVerifier,
        scopes: session.scopes
      })
    )).pipe(
      Effect.withSpan("AuthorizationCode.exchange", {
        attributes: { "oauth2.provider": session.provider, "oauth2.pkce": session.codeVerifier !== undefined }
      })
    )

// -----------------------------------------------------------------------------
// loopback callback listener
// -----------------------------------------------------------------------------

/**
 * The options of {@link loopbackCallback}.
 *
 * @since 0.1.0
 * @category models
 */
export interface LoopbackOptions {
  /**
   * The path the provider redirects to. Default: `"/callback"`. `""` makes the redirect URI the bare origin
   * (`http://localhost:31022`, the form of TradeStation's default callback URLs, which Auth0 matches byte for byte),
   * answered at `/`.
   */
  readonly path?: string | undefined
  /**
   * How long to wait for the callback, counted from the moment the listener starts (`Clock` time). Default: 10
   * minutes.
   */
  readonly timeout?: Duration.DurationInput | undefined
  /**
   * The host name written in the redirect URI, for providers whose registered callback says `localhost`. It must be a
   * loopback name. Default: the server's address (e.g. `127.0.0.1`, as RFC 8252 §7.3 recommends).
   */
  readonly redirectHost?: string | undefined
  /** The provider's name, for errors and logs. Default: none. */
  readonly provider?: string | undefined
  /**
   * The callback URL registered with the provider, used verbatim as the redirect URI (sent and compared byte for
   * byte by providers such as Schwab, e.g. `"https://127.0.0.1:8182"`): its scheme is written as given (`https` for
   * a TLS listener, which the `HttpServer` in the context must then be), its path is the callback path (`/` when it
   * has none), and its host must be a loopback name and its port the listener's (the scheme's default port when it
   * names none): otherwise `InvalidConfiguration`, before anything is shown. It may carry no query or fragment.
   * `path` and `redirectHost` are then ignored. Default: none (`http://<host>:<port><path>`).
   *
   * @since 0.2.0
   */
  readonly redirectUri?: string | undefined
}

/**
 * A listening callback endpoint.
 *
 * @since 0.1.0
 * @category models
 */
export interface Loopback {
  /** The redirect URI to register with the provider / send in the authorization request. */
  readonly redirectUri: string
  /**
   * Waits for the callback of `session` and returns its authorization code, checked with {@link validateCallback}.
   *
   * Only a callback whose `state` is exactly the session's ends the wait: any other (no state, another state, a
   * foreign `Host`) gets a 400 page and the listener keeps waiting, so that no web page or local process can abort
   * the login or end it with words of its own. The matching callback ends it: with its code, or with
   * `AuthorizationFailed` carrying the provider's `error` (e.g. `"access_denied"`) or `"missing_code"`. Fails with
   * `AuthorizationFailed` (reason `"timeout"`) when none came before the listener's timeout; is interrupted once the
   * listener's scope has closed.
   */
  readonly awaitCode: (session: Session) => Effect.Effect<Redacted.Redacted<string>, AuthorizationFailed>
  /**
   * Starts expecting the callback of `session` at once, and returns the wait of {@link Loopback.awaitCode}: call it
   * before showing the authorization URL, so that a callback arriving before the wait begins still counts. A later
   * `expect` or `awaitCode` replaces the session expected. `check` runs on the callback that carries the session's
   * state, before {@link validateCallback}: {@link login} passes {@link validateIssuer} (RFC 9207); a failure ends the
   * wait with it, and the code is never handed out.
   */
  readonly expect: (
    session: Session,
    check?: ((params: URLSearchParams) => Effect.Effect<void, AuthorizationFailed>) | undefined
  ) => Effect.Effect<Effect.Effect<Redacted.Redacted<string>, AuthorizationFailed>>
}

interface Waiting {
  readonly session: Session
  readonly check: ((params: URLSearchParams) => Effect.Effect<void, AuthorizationFailed>) | undefined
  readonly done: Deferred.Deferred<Redacted.Redacted<string>, AuthorizationFailed>
}

/**
 * Listens for the authorization callback on the `HttpServer` in the context, which must be bound to a loopback
 * address (e.g. `NodeHttpServer.layer(() => http.createServer(), { host: "127.0.0.1", port: 0 })`: port 0, a free
 * port chosen by the system, is the best choice wherever the provider accepts the `redirect_uri` sent, since nothing
 * else can know it in advance; use the registered callback's port for a provider that only redirects there); any
 * other address fails with `InvalidConfiguration`.
 *
 * - Every request must name the listener in its `Host` header (`127.0.0.1`, `localhost` or `[::1]`, with the
 *   listener's port): any other gets a 400 page (a DNS-rebinding page cannot reach the listener).
 * - A `GET` of the callback path whose `state` matches the session given to {@link Loopback.awaitCode} is the
 *   callback: it ends the wait, and the browser gets a short page (a success note, or the provider's error). Any other
 *   `GET` of the callback path (no state, another state, one before or after the wait) gets a 400 page and does not
 *   count, nor does it quote anything the request carried. Another method gets 405; any other path gets 404.
 *
 * The pages are self-contained (no scripts, styles inline, `Referrer-Policy: no-referrer`, `Cache-Control:
 * no-store`) and quote nothing but the provider's error code and description of the matching callback, sanitised
 * and escaped. The listener stops when the scope closes.
 *
 * @since 0.1.0
 * @category callback
 */
export const loopbackCallback = (
  options?: LoopbackOptions | undefined
): Effect.Effect<Loopback, InvalidConfiguration, HttpServer.HttpServer | Scope.Scope> =>
  Effect.gen(function*() {
    const provider = options?.provider
    const invalid = (description: string) => new InvalidConfiguration({ provider, source: "configuration", description })
    const server = yield* HttpServer.HttpServer
    const address = server.address
    if (address._tag !== "TcpAddress" || !Endpoint.isLoopbackHost(address.hostname)) {
      const where = address._tag === "TcpAddress" ? `${address.hostname}:${address.port}` : "a Unix socket"
      return yield* invalid(
        `the callback listener must be bound to a loopback address such as 127.0.0.1 (RFC 8252 §8.3), not ${where}: ` +
          "give the HTTP server host \"127.0.0.1\"."
      )
    }
    const registered = options?.redirectUri === undefined
      ? undefined
      : yield* Effect.mapError(internal.parseRegisteredRedirect(options.redirectUri, address.port), invalid)
    const path = registered?.path ?? options?.path ?? "/callback"
    if (path !== "" && !/^\/[^?#\s]*$/.test(path)) {
      return yield* invalid(`the callback path must be "" or start with "/", and carry no query or fragment.`)
    }
    const host = registered?.host ?? options?.redirectHost ?? address.hostname
    if (!Endpoint.isLoopbackHost(host)) {
      return yield* invalid(`redirectHost "${sanitize(host, 64)}" is not a loopback name.`)
    }
    const redirectUri = registered?.uri ?? `http://${internal.urlHost(host)}:${address.port}${path}`
    // The port a browser leaves out of the Host header: the scheme's default.
    const defaultPort = registered?.defaultPort ?? 80
    const timeout = Duration.decode(options?.timeout ?? Duration.minutes(10))
    // The Host names a request may carry: the loopback names with the listener's port (a browser leaves out ":80").
    const hosts = new Set(
      ["127.0.0.1", "localhost", "[::1]", internal.urlHost(host), internal.urlHost(address.hostname)].flatMap((name) => [
        `${name.toLowerCase()}:${address.port}`,
        ...(address.port === defaultPort ? [name.toLowerCase()] : [])
      ])
    )

    // Ends every wait: fails at the timeout, is interrupted when the scope closes.
    const ended = yield* Deferred.make<never, AuthorizationFailed>()
    yield* Effect.addFinalizer(() => Deferred.interrupt(ended))
    yield* Effect.sleep(timeout).pipe(
      Effect.zipRight(
        Deferred.fail(ended, new AuthorizationFailed({ provider, source: "authorization", reason: "timeout" }))
      ),
      Effect.forkScoped
    )
    const waiting = yield* Ref.make<Waiting | undefined>(undefined)
    // One callback is judged at a time, so that of two matching ones, the first decides.
    const judge = yield* Effect.makeSemaphore(1)

    const respond = (status: number, title: string, detail: string, headers?: Record<string, string>) =>
      HttpServerResponse.text(internal.page(title, detail), {
        status,
        contentType: "text/html; charset=utf-8",
        headers: { ...internal.pageHeaders, ...headers }
      })

    const rejected = (why: string) =>
      Effect.logWarning(`authorization callback listener: request refused (${why}); still waiting`).pipe(
        Effect.annotateLogs({ provider: provider ?? "unknown", reason: why })
      )

    const notThisLogin = () =>
      respond(
        400,
        "Not the login in progress",
        "This callback does not belong to the login the application is waiting for, so it was ignored. If you are " +
          "logging in, finish the login in the window the application opened."
      )

    const onCallback = (params: URLSearchParams) =>
      Effect.gen(function*() {
        if (Option.isSome(yield* Deferred.poll(ended))) {
          return respond(
            400,
            "This login has ended",
            "The application stopped waiting for this login. Start the login again from the application."
          )
        }
        const current = yield* Ref.get(waiting)
        const states = params.getAll("state")
        if (
          current === undefined || states.length !== 1 ||
          !internal.timingSafeEqual(states[0]!, Redacted.value(current.session.state))
        ) {
          yield* rejected(current === undefined ? "no login is waiting" : "state mismatch")
          return notThisLogin()
        }
        const outcome = yield* Effect.exit(
          current.check === undefined
            ? validateCallback(current.session, params)
            : Effect.zipRight(current.check(params), validateCallback(current.session, params))
        )
        yield* Ref.set(waiting, undefined)
        yield* Deferred.done(current.done, outcome)
        const error = params.get("error")
        yield* Effect.logDebug("authorization callback received").pipe(
          Effect.annotateLogs({
            provider: provider ?? "unknown",
            outcome: Exit.isSuccess(outcome)
              ? "code"
              : `error ${sanitize(Cause.failureOption(outcome.cause).pipe(Option.match({
                onNone: () => "defect",
                onSome: (e) => e.reason
              })), 64)}`
          })
        )
        if (Exit.isSuccess(outcome)) {
          return respond(200, "Authorization received", "You can close this window and return to the application.")
        }
        const reason = Option.getOrUndefined(Option.map(Cause.failureOption(outcome.cause), (e) => e.reason))
        if (reason === "issuer_mismatch" || reason === "missing_issuer") {
          return respond(
            400,
            "Authorization refused",
            "The callback does not come from the authorization server this login was sent to, so it was not used. " +
              "Start the login again from the application."
          )
        }
        if (error !== null && error !== "") {
          const description = params.get("error_description")
          const said = description ? sanitize(description, 500) : ""
          return respond(
            200,
            "Authorization failed",
            `The authorization server answered "${sanitize(error, 64)}"${said ? `: ${said}` : ""}. ` +
              "You can close this window and start the login again from the application."
          )
        }
        return respond(
          400,
          "Authorization failed",
          "The callback carried no authorization code. Start the login again from the application."
        )
      })

    const app = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const hostHeader = request.headers["host"]
      if (hostHeader === undefined || !hosts.has(hostHeader.trim().toLowerCase())) {
        yield* rejected("foreign Host header")
        return respond(400, "Bad request", "This address only answers requests to the application's own loopback host.")
      }
      let url: URL
      try {
        url = new URL(request.url, "http://127.0.0.1")
      } catch {
        return respond(400, "Bad request", "The request could not be read.")
      }
      if (url.pathname !== (path === "" ? "/" : path)) return respond(404, "Not found", "There is nothing here.")
      if (request.method !== "GET") {
        return respond(405, "Method not allowed", "The callback is a GET request.", { allow: "GET" })
      }
      const params = url.searchParams
      if (!params.has("code") && !params.has("error") && !params.has("state")) {
        return respond(
          400,
          "Waiting for the authorization server",
          "This address receives the authorization server's redirect. Open the authorization URL the application gave you instead."
        )
      }
      return yield* judge.withPermits(1)(onCallback(new URLSearchParams(params)))
    })

    const expect = (
      session: Session,
      check?: ((params: URLSearchParams) => Effect.Effect<void, AuthorizationFailed>) | undefined
    ) =>
      Effect.gen(function*() {
        const done = yield* Deferred.make<Redacted.Redacted<string>, AuthorizationFailed>()
        const entry: Waiting = { session, check, done }
        yield* Ref.set(waiting, entry)
        return Effect.raceFirst(Deferred.await(done), Deferred.await(ended)).pipe(
          Effect.ensuring(Ref.update(waiting, (current) => (current === entry ? undefined : current)))
        )
      })
    const awaitCode = (session: Session) => Effect.flatten(expect(session))

    // No tracing of this server: the callback's URL carries the code and the state.
    yield* server.serve(app).pipe(HttpMiddleware.withTracerDisabledWhenEffect(() => true))
    yield* Effect.logDebug("authorization callback listener started").pipe(
      Effect.annotateLogs({ provider: provider ?? "unknown", redirectUri })
    )
    return { redirectUri, awaitCode, expect }
  })

// -----------------------------------------------------------------------------
// login
// -----------------------------------------------------------------------------

/**
 * The options of {@link login}.
 *
 * @since 0.1.0
 * @category models
 */
export interface LoginOptions<E, R> extends Omit<AuthorizeOptions, "endpoint" | "clientId" | "redirectUri"> {
  /** The provider's authorization server. Default: the `OAuth2Client`'s endpoint. */
  readonly endpoint?: Endpoint.Endpoint | undefined
  /** The client id. Default: the `OAuth2Client`'s client id. */
  readonly clientId?: string | undefined
  /**
   * Whether to send the listener's address as `redirect_uri` (and again with the code). Default: `true`. Turn it off
   * for a provider that only uses the registered callback URL; that URL must then be the listener's address.
   */
  readonly sendRedirectUri?: boolean | undefined
  /** The callback path. Default: `"/callback"`. */
  readonly path?: string | undefined
  /** How long to wait for the user to log in, from the moment the listener starts. Default: 10 minutes. */
  readonly timeout?: Duration.DurationInput | undefined
  /** The host name written in the redirect URI, a loopback name. Default: the server's address. */
  readonly redirectHost?: string | undefined
  /**
   * The callback URL registered with the provider, sent verbatim as `redirect_uri` (see
   * {@link LoopbackOptions.redirectUri}: its scheme, host, port and path must be the listener's). Required by
   * {@link loginByPaste}, where it is only sent. Default: the listener's address.
   *
   * @since 0.2.0
   */
  readonly redirectUri?: string | undefined
  /**
   * Turns the code read from the callback (already percent-decoded once, as any query parameter) into the code to
   * exchange, for a provider whose codes arrive encoded twice (Schwab's trailing `@` as `%2540`). Default: the code as
   * read.
   *
   * @since 0.2.0
   */
  readonly decodeCode?: ((code: string) => string) | undefined
  /**
   * How long the provider's authorization codes live, named by the error when the server refuses the code
   * (`invalid_grant`) so that the user knows to be quicker (Schwab: about 30 seconds). Default: none (the hint says
   * codes are short-lived).
   *
   * @since 0.2.0
   */
  readonly codeLifetime?: Duration.DurationInput | undefined
  /**
   * Shows the authorization URL to the user: print it, open a browser. It runs before the wait starts (the wait's
   * timeout already runs), so return promptly. Required.
   */
  readonly onAuthorizeUrl: (url: string) => Effect.Effect<unknown, E, R>
  /**
   * Push the authorization request to the server's PAR endpoint first (RFC 9126, {@link pushAuthorization}): the
   * URL handed to `onAuthorizeUrl` then carries only `client_id` and a `request_uri`. `true` pushes with the PAR
   * endpoint from discovery and the client id alone (a public client); give {@link ParOptions} for a confidential
   * client (its credentials) or another endpoint. Default: `false`, but a server whose metadata (a
   * {@link Discovery.Discovery} of the endpoint's issuer in the context) says `require_pushed_authorization_requests`
   * makes a login without it fail with `InvalidConfiguration` before anything is sent or shown.
   *
   * @since 0.2.0
   */
  readonly par?: ParOptions | boolean | undefined
}

/**
 * The whole authorization-code login for a program running on the user's machine: listen on the loopback
 * `HttpServer` in the context ({@link loopbackCallback}), build the authorization URL for that address
 * ({@link authorize}), hand it to `onAuthorizeUrl`, wait for the callback (10 minutes by default), check it
 * ({@link validateCallback}) and trade the code for a token ({@link exchange}) through the `OAuth2Client`.
 *
 * Only the callback carrying this login's state ends the wait: a forged one (from a web page the user visits, or a
 * local process) gets a 400 and the login keeps waiting for the genuine one, until the timeout. Prefer a free port
 * chosen by the system (port 0) for the listener wherever the provider accepts the `redirect_uri` sent: nothing can
 * then aim at the listener before the login starts.
 *
 * The listener stops when the login ends, successfully or not. Log lines name the provider and the outcome, never a
 * secret.
 *
 * @since 0.1.0
 * @category login
 */
export const login = <E = never, R = never>(
  options: LoginOptions<E, R>
): Effect.Effect<AccessToken, OAuth2Error | E, OAuth2Client.OAuth2Client | HttpServer.HttpServer | R> =>
  Effect.gen(function*() {
    const client = yield* OAuth2Client.OAuth2Client
    const endpoint = options.endpoint ?? client.endpoint
    const provider = endpoint.provider
    const parOptions = options.par === true ? {} : options.par === false ? undefined : options.par
    return yield* Effect.gen(function*() {
      if (parOptions === undefined) {
        const metadata = yield* metadataOf(endpoint)
        if (metadata?.requirePushedAuthorizationRequests === true) {
          return yield* new InvalidConfiguration({
            provider,
            source: "configuration",
            description: `the server ${
              JSON.stringify(metadata.issuer)
            } requires pushed authorization requests (require_pushed_authorization_requests, RFC 9126 §5), so it ` +
              "refuses this login's authorization URL: log in with the par option (par: { credentials }, the same " +
              "credentials as the OAuth2Client's; par: true for a public client)."
          })
        }
      }
      const callback = yield* loopbackCallback({
        path: options.path,
        timeout: options.timeout,
        redirectHost: options.redirectHost,
        redirectUri: options.redirectUri,
        provider
      })
      const authorizeOptions: AuthorizeOptions = {
        endpoint,
        clientId: options.clientId ?? client.clientId,
        scopes: options.scopes,
        redirectUri: (options.sendRedirectUri ?? true) ? callback.redirectUri : undefined,
        pkce: options.pkce,
        sendResponseType: options.sendResponseType,
        extraParams: options.extraParams
      }
      const session = parOptions === undefined
        ? yield* authorize(authorizeOptions)
        : yield* withHttpClient(provider, pushAuthorization({ ...authorizeOptions, par: parOptions }))
      const pushed = session.pushed
      yield* Effect.logInfo("authorization started: waiting for the user to log in").pipe(
        Effect.annotateLogs({
          provider,
          redirectUri: callback.redirectUri,
          pkce: session.codeVerifier !== undefined,
          scopes: session.scopes.join(" "),
          ...(pushed === undefined ? {} : { par: true, requestUriExpiresIn: Duration.format(pushed.expiresIn) })
        })
      )
      // The callback must come from this login (its state) and from this server (RFC 9207 `iss`, when known).
      const wait = yield* callback.expect(session, (params) => validateIssuer(endpoint, params))
      yield* options.onAuthorizeUrl(session.url)
      const shownAt = yield* Clock.currentTimeMillis
      const code = yield* (pushed === undefined ? wait : explainExpiredRequestUri(wait, pushed))
      // At once: no prompt between the callback and the exchange (Schwab's codes live about 30 seconds).
      return yield* exchangeNow(session, decoded(code, options.decodeCode), shownAt, options.codeLifetime, "callback")
    }).pipe(
      Effect.scoped,
      Effect.tapBoth({
        onSuccess: (token) =>
          Effect.logInfo("login succeeded").pipe(
            Effect.annotateLogs({ provider, outcome: "success", scopes: sanitize(token.scopes.join(" "), 500) })
          ),
        onFailure: (error) =>
          Effect.logWarning(`login failed: ${isOAuth2Error(error) ? error._tag : "onAuthorizeUrl failed"}`).pipe(
            Effect.annotateLogs({
              provider,
              outcome: "failure",
              ...(isOAuth2Error(error) ? { error: error._tag } : {}),
              ...(error instanceof AuthorizationFailed ? { reason: error.reason } : {})
            })
          )
      }),
      Effect.withSpan("AuthorizationCode.login", {
        attributes: {
          "oauth2.provider": provider,
          "oauth2.environment": endpoint.environment,
          "oauth2.par": parOptions !== undefined
        }
      })
    )
  })

/** The code to exchange: the callback's, through the provider's `decodeCode`. */
const decoded = (
  code: Redacted.Redacted<string>,
  decodeCode: ((code: string) => string) | undefined
): Redacted.Redacted<string> => decodeCode === undefined ? code : Redacted.make(decodeCode(Redacted.value(code)))

/**
 * {@link exchange}, with a hint on a refused code (`invalid_grant`): how long after the URL was shown, and that codes
 * are short-lived, so the user knows to log in again, quicker.
 */
const exchangeNow = (
  session: Session,
  code: Redacted.Redacted<string>,
  shownAt: number,
  codeLifetime: Duration.DurationInput | undefined,
  via: "callback" | "paste"
): Effect.Effect<AccessToken, OAuth2Error, OAuth2Client.OAuth2Client> =>
  Effect.catchIf(
    exchange(session, code),
    (error): error is Unauthorized => error._tag === "Unauthorized" && error.reason === "invalid_grant",
    (error) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const seconds = Math.max(0, Math.round((now - shownAt) / 1000))
        const life = codeLifetime === undefined
          ? "Authorization codes are short-lived and good for one exchange"
          : `${session.provider}'s authorization codes live about ${Duration.format(Duration.decode(codeLifetime))}`
        return Effect.fail(
          new Unauthorized({
            provider: error.provider,
            source: error.source,
            reason: error.reason,
            status: error.status,
            description: error.description,
            hint: `The server refused the authorization code, exchanged ${seconds} s after the authorization URL was ` +
              `shown. ${life}: the code has expired or was already used. Log in again${
                via === "paste"
                  ? ", and paste the URL the browser lands on at once (paste faster)"
                  : " and finish the login in the browser promptly"
              }.`
          })
        )
      })
  )

/**
 * The callback's parameters from a redirect URL the user pasted: the whole URL the browser landed on (its address
 * bar), surrounding whitespace and quotes ignored. It must be the session's redirect URI with a query (same scheme,
 * host, port and path, compared as URLs): anything else is `AuthorizationFailed` (`invalid_redirect`), since it is not
 * the callback of this login (e.g. the authorization URL pasted back).
 */
const pastedParams = (session: Session, pasted: string): Effect.Effect<URLSearchParams, AuthorizationFailed> => {
  const failed = (description: string) =>
    Effect.fail(
      new AuthorizationFailed({ provider: session.provider, source: "authorization", reason: "invalid_redirect", description })
    )
  const text = pasted.trim().replace(/^(["'<])(.*)[>"']$/s, "$2").trim()
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return failed(
      "the pasted text is not a URL: paste the whole address the browser landed on after the login " +
        "(it starts with the redirect URI and carries ?code=...)"
    )
  }
  if (session.redirectUri !== undefined) {
    let expected: URL | undefined
    try {
      expected = new URL(session.redirectUri)
    } catch {
      expected = undefined
    }
    const same = expected !== undefined && expected.protocol === url.protocol && expected.host === url.host &&
      (expected.pathname === "" ? "/" : expected.pathname) === (url.pathname === "" ? "/" : url.pathname)
    if (!same) {
      return failed(
        `the pasted URL is not this login's callback (${
          expected === undefined ? "the redirect URI" : `${expected.origin}${expected.pathname}`
        }?code=...): paste the address the browser landed on after the login, not the authorization URL`
      )
    }
  }
  return Effect.succeed(url.searchParams)
}

/**
 * Completes a login from the redirect URL the user pasted (a machine without a browser or a free port: the user logs
 * in elsewhere, and copies the address the browser landed on, which shows an error page since nothing listens
 * there). The URL is checked exactly as the loopback listener checks a callback: it must be the session's redirect
 * URI; its `iss` (RFC 9207, when the endpoint knows its issuer, {@link validateIssuer}) and its `state`
 * ({@link validateCallback}: present, single, the session's, used once) are checked; then the code is exchanged at
 * once through the `OAuth2Client` ({@link exchange}). The query is percent-decoded once, as any (`%40` becomes `@`);
 * `decodeCode` may decode further.
 *
 * Failures: `AuthorizationFailed` (`invalid_redirect`, `state_mismatch`, `issuer_mismatch`, `missing_code`, or the
 * provider's `error`), or the exchange's errors; a refused code (`Unauthorized` `invalid_grant`) says to log in again
 * and paste faster. Neither the state nor the code appears in an error or a log line.
 *
 * @since 0.2.0
 * @category callback
 */
export const completeFromRedirect = (
  session: Session,
  pasted: string,
  options?: {
    /** The endpoint whose issuer the callback's `iss` must name. Default: the `OAuth2Client`'s. */
    readonly endpoint?: Endpoint.Endpoint | undefined
    /** See {@link LoginOptions.decodeCode}. */
    readonly decodeCode?: ((code: string) => string) | undefined
    /** See {@link LoginOptions.codeLifetime}. */
    readonly codeLifetime?: Duration.DurationInput | undefined
    /** When the authorization URL was shown (epoch milliseconds), for the hint of a refused code. Default: now. */
    readonly shownAt?: number | undefined
  }
): Effect.Effect<AccessToken, OAuth2Error, OAuth2Client.OAuth2Client> =>
  Effect.gen(function*() {
    const client = yield* OAuth2Client.OAuth2Client
    const params = yield* pastedParams(session, pasted)
    yield* validateIssuer(options?.endpoint ?? client.endpoint, params)
    const code = yield* validateCallback(session, params)
    const shownAt = options?.shownAt ?? (yield* Clock.currentTimeMillis)
    return yield* exchangeNow(session, decoded(code, options?.decodeCode), shownAt, options?.codeLifetime, "paste")
  }).pipe(Effect.withSpan("AuthorizationCode.completeFromRedirect", { attributes: { "oauth2.provider": session.provider } }))

/**
 * The options of {@link loginByPaste}: those of {@link login} without the listener's, and the reader of the pasted
 * URL.
 *
 * @since 0.2.0
 * @category models
 */
export interface PasteLoginOptions<E, R> extends
  Omit<LoginOptions<E, R>, "path" | "redirectHost" | "sendRedirectUri" | "redirectUri" | "par">
{
  /** The callback URL registered with the provider, sent verbatim as `redirect_uri`. Required. */
  readonly redirectUri: string
  /**
   * Reads the redirect URL the user pastes (e.g. a line of standard input). It runs after `onAuthorizeUrl`, within
   * the login's timeout.
   */
  readonly paste: Effect.Effect<string, E, R>
}

/**
 * The authorization-code login without a listener, for a machine with no browser or no free port: builds the
 * authorization URL with the registered `redirectUri` ({@link authorize}), hands it to `onAuthorizeUrl`, reads the
 * URL the browser landed on with `paste` (within `timeout`, 10 minutes by default), and completes the login with it
 * at once ({@link completeFromRedirect}: the state and the issuer checked exactly as the listener does). Needs no
 * `HttpServer`.
 *
 * @since 0.2.0
 * @category login
 */
export const loginByPaste = <E = never, R = never>(
  options: PasteLoginOptions<E, R>
): Effect.Effect<AccessToken, OAuth2Error | E, OAuth2Client.OAuth2Client | R> =>
  Effect.gen(function*() {
    const client = yield* OAuth2Client.OAuth2Client
    const endpoint = options.endpoint ?? client.endpoint
    const provider = endpoint.provider
    const timeout = Duration.decode(options.timeout ?? Duration.minutes(10))
    return yield* Effect.gen(function*() {
      const redirect = yield* validateRedirectUri(provider, options.redirectUri)
      const session = yield* authorize({
        endpoint,
        clientId: options.clientId ?? client.clientId,
        scopes: options.scopes,
        redirectUri: redirect,
        pkce: options.pkce,
        sendResponseType: options.sendResponseType,
        extraParams: options.extraParams
      })
      yield* Effect.logInfo("authorization started: waiting for the pasted redirect URL").pipe(
        Effect.annotateLogs({ provider, redirectUri: redirect, pkce: session.codeVerifier !== undefined })
      )
      yield* options.onAuthorizeUrl(session.url)
      const shownAt = yield* Clock.currentTimeMillis
      const pasted = yield* options.paste.pipe(
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => new AuthorizationFailed({ provider, source: "authorization", reason: "timeout" })
        })
      )
      return yield* completeFromRedirect(session, pasted, {
        endpoint,
        decodeCode: options.decodeCode,
        codeLifetime: options.codeLifetime,
        shownAt
      })
    }).pipe(
      Effect.tapBoth({
        onSuccess: () => Effect.logInfo("login succeeded").pipe(Effect.annotateLogs({ provider, outcome: "success" })),
        onFailure: (error) =>
          Effect.logWarning(`login failed: ${isOAuth2Error(error) ? error._tag : "onAuthorizeUrl or paste failed"}`).pipe(
            Effect.annotateLogs({
              provider,
              outcome: "failure",
              ...(error instanceof AuthorizationFailed ? { reason: error.reason } : {})
            })
          )
      }),
      Effect.withSpan("AuthorizationCode.loginByPaste", {
        attributes: { "oauth2.provider": provider, "oauth2.environment": endpoint.environment }
      })
    )
  })

/** A registered redirect URI for a pasted login: absolute, no fragment (RFC 6749 §3.1.2). */
const validateRedirectUri = (provider: string, uri: string): Effect.Effect<string, InvalidConfiguration> => {
  let parsed: URL | undefined
  try {
    parsed = new URL(uri)
  } catch {
    parsed = undefined
  }
  return parsed === undefined || parsed.hash !== "" || uri.includes("#")
    ? Effect.fail(
      new InvalidConfiguration({
        provider,
        source: "configuration",
        description: "redirectUri must be the callback URL registered with the provider: an absolute URL without a fragment."
      })
    )
    : Effect.succeed(uri)
}

/**
 * Runs a push with the `HttpClient` of the context, which {@link login} does not require in its type (a login without
 * PAR sends nothing itself): without one, pushing fails with `InvalidConfiguration` before anything is sent.
 */
const withHttpClient = <A>(
  provider: string,
  effect: Effect.Effect<A, OAuth2Error, HttpClient.HttpClient>
): Effect.Effect<A, OAuth2Error> =>
  Effect.flatMap(Effect.serviceOption(HttpClient.HttpClient), (client) =>
    Option.isSome(client)
      ? Effect.provideService(effect, HttpClient.HttpClient, client.value)
      : Effect.fail(
        new InvalidConfiguration({
          provider,
          source: "configuration",
          description:
            "a login with par pushes the authorization request itself, and no HttpClient is in the context: provide one " +
            "(e.g. FetchHttpClient.layer, the one the OAuth2Client uses)."
        })
      ))

/**
 * A login that timed out after its pushed request expired: say so, since the browser then showed the server's error
 * page (an unknown `request_uri`) rather than coming back.
 */
const explainExpiredRequestUri = <A>(
  wait: Effect.Effect<A, AuthorizationFailed>,
  pushed: Pushed
): Effect.Effect<A, AuthorizationFailed> =>
  Effect.catchIf(
    wait,
    (error) => error.reason === "timeout" && error.description === undefined,
    (error) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.fail(
          now < pushed.expiresAt ? error : new AuthorizationFailed({
            provider: error.provider,
            source: error.source,
            reason: "timeout",
            description: `the pushed authorization request expired ${
              Duration.format(pushed.expiresIn)
            } after it was made (RFC 9126 expires_in): a browser that opened the URL later got the server's error ` +
              "page instead of the login"
          })
        ))
  )

// -----------------------------------------------------------------------------
// issuer (RFC 9207)
// -----------------------------------------------------------------------------

/**
 * Checks the `iss` of an authorization callback (RFC 9207), the defence against mix-up attacks, before its code is
 * used: when the endpoint knows its `issuer`, an `iss` on the callback must be exactly it, and when the server says it
 * always sends one (`authorizationResponseIssParameterSupported`, from discovery) a callback without it is refused.
 * Either refusal is `AuthorizationFailed` (`issuer_mismatch`, `missing_issuer`); nothing is checked for an endpoint
 * with no known issuer. {@link login} calls it; call it before {@link validateCallback} when you handle the callback
 * yourself.
 *
 * @since 0.2.0
 * @category callback
 */
export const validateIssuer = (
  endpoint: Endpoint.Endpoint,
  params: URLSearchParams | Readonly<Record<string, string | undefined>>
): Effect.Effect<void, AuthorizationFailed> => {
  const expected = endpoint.issuer
  if (expected === undefined) return Effect.void
  const values = params instanceof URLSearchParams
    ? params.getAll("iss")
    : params.iss === undefined
    ? []
    : [params.iss]
  const fail = (reason: "issuer_mismatch" | "missing_issuer", description: string) =>
    Effect.fail(new AuthorizationFailed({ provider: endpoint.provider, source: "authorization", reason, description })).pipe(
      Effect.tapError(() =>
        Effect.logWarning(`authorization callback rejected: ${reason}`).pipe(
          Effect.annotateLogs({ provider: endpoint.provider, reason })
        )
      )
    )
  if (values.length === 0) {
    return endpoint.authorizationResponseIssParameterSupported === true
      ? fail(
        "missing_issuer",
        `the callback has no iss, though the server ${JSON.stringify(expected)} says it always sends one (RFC 9207)`
      )
      : Effect.void
  }
  if (values.length > 1 || values[0] !== expected) {
    return fail(
      "issuer_mismatch",
      `the callback's iss is ${values.length > 1 ? "repeated" : JSON.stringify(sanitize(values[0]!, 200))}, not ${
        JSON.stringify(expected)
      } (RFC 9207)`
    )
  }
  return Effect.void
}
