/**
 * tastytrade: the partner login's authorize endpoint, the token endpoint (refresh with a personal grant or a partner
 * login's refresh token, and the code exchange) and `customers/me`.
 *
 * Quirks (options with defaults in `TastytradeOptions`):
 *
 * - a personal grant is a refresh token minted in the web UI; it never expires and is never replaced (a refresh
 *   answers no `refresh_token`);
 * - the token request body is **JSON** `{grant_type, client_secret, refresh_token, scope?}`, without `client_id`
 *   (a form body is refused unless `acceptFormBody`);
 * - every request needs a `User-Agent` of the form `<product>/<version>` (else 401);
 * - the token endpoint's errors use `error_code`, not `error`: `{"error_code":"invalid_grant",
 *   "error_description":"Invalid JWT"}`; the API's use `{"error":{"code","message"}}`;
 * - the partner (authorization-code) login: `GET {auth}/auth.html` with `client_id`, `redirect_uri` (one the app
 *   registered, exactly; a loopback one on any port), `response_type=code`, `scope` (space-separated, of `read trade
 *   openid`), `state`, and PKCE when sent (undocumented: checked when a challenge was sent, never required); the code
 *   is exchanged at the same JSON token endpoint (`grant_type=authorization_code`, `code`, `redirect_uri`,
 *   `client_secret`, `client_id` optional), which answers a refresh token (living `partnerRefreshTokenLifetime`, for
 *   ever by default) and the scopes granted; a bad code is `error_code: invalid_grant`;
 * - no revocation endpoint.
 *
 * @internal
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Effect from "effect/Effect"
import type * as Clients from "../Clients.js"
import {
  appendParams,
  contentType,
  errorPage,
  isLoopbackHost,
  millisOr,
  pkceMatches,
  readJsonBody,
  recorded,
  redirect,
  validVerifier
} from "./broker.js"
import { type Env, prefixes } from "./context.js"
import {
  BearerFailure,
  bearerChallenge,
  bearerToken,
  endpoint,
  invalidRequest,
  invalidScope,
  json,
  noStore,
  OAuthFailure,
  parseForm,
  query,
  secretEquals,
  seconds,
  splitScopes,
  uniq,
  unsupportedGrant
} from "./http.js"
import { authorize, type Route } from "./route.js"
import { randomToken, type State } from "./state.js"

const provider = "tastytrade" as const

/** tastytrade's OAuth error body: `error_code`, not `error`. */
const renderOAuth = (e: OAuthFailure) =>
  json(e.status, { error_code: e.error, error_description: e.description }, { ...noStore, ...e.headers })

/** The rest of the API: `{"error":{"code","message"}}`. */
const renderApi = (e: BearerFailure) =>
  json(e.status, { error: { code: e.status === 401 ? "unauthorized" : "forbidden", message: e.description } }, {
    "www-authenticate": bearerChallenge(e.error)
  })

/** @internal */
export const defaults = { accessTokenLifetime: "900 seconds", authorizationCodeLifetime: "5 minutes" } as const

/** Whether `given` is a redirect URI the app registered: exactly, or a loopback one on another port (RFC 8252 §7.3). */
const registered = (client: Clients.TastytradeClient, given: string): boolean =>
  (client.callbackUrls ?? []).some((url) => {
    if (url === given) return true
    try {
      const a = new URL(url)
      const b = new URL(given)
      return a.protocol === "http:" && b.protocol === "http:" && isLoopbackHost(a.hostname) &&
        a.hostname === b.hostname && a.pathname === b.pathname && a.search === b.search && b.hash === ""
    } catch {
      return false
    }
  })

/** The personal grants' default scopes. @internal */
export const defaultScopes: ReadonlyArray<string> = ["read", "trade", "openid"]

/** `<product>/<version>`, e.g. `my-bot/1.0`. @internal */
export const validUserAgent = (value: string | undefined): boolean =>
  value !== undefined && /^[^\s/]+\/[^\s/]+/.test(value.trim())

/** Puts every client's personal grants in the state, as refresh tokens that never expire. @internal */
export const seed = (state: State, registry: Clients.Registry): Effect.Effect<void> =>
  Effect.flatMap(state.now, (now) =>
    Effect.forEach(registry.tastytrade, (client) =>
      Effect.forEach(client.grants ?? [], (grant, i) =>
        state.put(grant.refreshToken, {
          kind: "refresh",
          provider,
          clientId: client.clientId,
          scopes: grant.scopes ?? defaultScopes,
          issuedAt: now,
          expiresAt: undefined,
          revoked: false,
          grant: `${client.clientId}#${i}`
        })), { discard: true }))

/** @internal */
export const routes = (env: Env): ReadonlyArray<Route> => {
  const { state } = env
  const options = env.settings.brokers.tastytrade ?? {}
  const accessLifetime = millisOr(options.accessTokenLifetime, defaults.accessTokenLifetime)
  const requireUserAgent = options.requireUserAgent ?? true
  const acceptFormBody = options.acceptFormBody ?? false
  const codeLifetime = millisOr(options.authorizationCodeLifetime, defaults.authorizationCodeLifetime)
  const partnerRefreshLifetime = options.partnerRefreshTokenLifetime === undefined
    ? undefined
    : millisOr(options.partnerRefreshTokenLifetime, defaults.authorizationCodeLifetime)

  const authorizeEndpoint = Effect.gen(function*() {
    const q = yield* query
    const client = env.registry.tastytrade.find((c) => c.clientId === q.get("client_id"))
    if (client === undefined) return errorPage(400, "Unknown application", "The client_id is not a tastytrade OAuth application.")
    const redirectUri = q.get("redirect_uri") ?? ""
    if (!registered(client, redirectUri)) {
      return errorPage(400, "Invalid redirect URI", "The redirect_uri is not one this application registered.")
    }
    const state_ = q.get("state") ?? undefined
    const fail = (error: string, description: string) =>
      redirect(appendParams(redirectUri, { error, error_description: description, state: state_ }))
    if (q.get("response_type") !== "code") return fail("unsupported_response_type", "response_type must be code")
    const scopes = uniq(splitScopes(q.get("scope") ?? undefined))
    const unknown = scopes.filter((scope) => !defaultScopes.includes(scope))
    if (unknown.length > 0) return fail("invalid_scope", `Unknown scope: ${unknown.join(" ")}`)
    const challenge = q.get("code_challenge") ?? undefined
    const method = q.get("code_challenge_method") ?? "plain"
    if (challenge !== undefined && method !== "S256" && method !== "plain") {
      return fail("invalid_request", "Unsupported code_challenge_method")
    }
    const code = yield* state.createCode({
      clientId: client.clientId,
      scopes: scopes.length === 0 ? defaultScopes : scopes,
      redirectUri,
      extra: challenge === undefined ? {} : { challenge, method }
    }, codeLifetime)
    return redirect(appendParams(redirectUri, { code, state: state_ }))
  })

  const userAgentChecked = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
    !requireUserAgent || validUserAgent(request.headers["user-agent"])
      ? Effect.void
      : Effect.fail(
        new OAuthFailure({
          status: 401,
          error: "invalid_request",
          description: "A User-Agent header of the form <product>/<version> is required"
        })
      ))

  const body = Effect.flatMap(contentType, (type) =>
    type === "application/json"
      ? readJsonBody
      : acceptFormBody && type === "application/x-www-form-urlencoded"
      ? Effect.flatMap(
        Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
          Effect.mapError(request.text, () => invalidRequest("The request body could not be read"))),
        parseForm
      )
      : Effect.fail(invalidRequest("The request body must be application/json")))

  /** The partner login's code exchange: a refresh token and an access token for the scopes granted. */
  const exchange = (client: Clients.TastytradeClient, form: ReadonlyMap<string, string>) =>
    Effect.gen(function*() {
      const code = form.get("code")
      if (code === undefined || code === "") return yield* invalidRequest("code is required")
      const redemption = yield* state.redeemCode(code, client.clientId, form.get("redirect_uri") ?? "")
      const invalidGrant = (description: string) => new OAuthFailure({ status: 400, error: "invalid_grant", description })
      if (redemption._tag === "Rejected") return yield* invalidGrant("Invalid authorization code")
      const extra = redemption.record.extra ?? {}
      if (extra.challenge !== undefined) {
        const verifier = form.get("code_verifier")
        if (verifier === undefined || !validVerifier(verifier) || !pkceMatches(extra.challenge, extra.method ?? "plain", verifier)) {
          return yield* invalidGrant("Invalid code_verifier")
        }
      }
      const scopes = redemption.record.scopes
      const grant = `${client.clientId}#login-${randomToken(9)}`
      const refresh = yield* state.issue({
        kind: "refresh",
        provider,
        clientId: client.clientId,
        scopes,
        lifetimeMillis: partnerRefreshLifetime,
        bytes: 36,
        grant
      })
      const access = yield* state.issue({
        kind: "access",
        provider,
        clientId: client.clientId,
        scopes,
        lifetimeMillis: accessLifetime,
        bytes: 32,
        grant
      })
      return json(200, {
        access_token: access.token,
        refresh_token: refresh.token,
        token_type: "Bearer",
        expires_in: seconds(accessLifetime),
        scope: scopes.join(" ")
      }, noStore)
    })

  const token = recorded(state, "tastytrade.token", provider, (note) =>
    Effect.gen(function*() {
      yield* userAgentChecked
      const form = yield* body
      const secret = form.get("client_secret")
      const id = form.get("client_id")
      const client = secret === undefined
        ? undefined
        : env.registry.tastytrade.find((c) => secretEquals(c.clientSecret, secret) && (id === undefined || id === c.clientId))
      if (client === undefined) {
        return yield* new OAuthFailure({ status: 401, error: "invalid_client", description: "Invalid client credentials" })
      }
      note.clientId = client.clientId
      const grantType = form.get("grant_type")
      note.grantType = grantType
      if (grantType === undefined || grantType === "") return yield* invalidRequest("grant_type is required")
      if (grantType === "authorization_code") return yield* exchange(client, form)
      if (grantType !== "refresh_token") return yield* unsupportedGrant(grantType)
      const presented = form.get("refresh_token")
      note.refreshToken = presented
      if (presented === undefined || presented === "") return yield* invalidRequest("refresh_token is required")
      const spent = yield* state.spend(presented, provider, client.clientId, false)
      if (spent._tag === "Refused") {
        return yield* new OAuthFailure({ status: 400, error: "invalid_grant", description: "Invalid JWT" })
      }
      const asked = uniq(splitScopes(form.get("scope")))
      if (asked.some((s) => !spent.record.scopes.includes(s))) {
        return yield* invalidScope("The requested scope exceeds the grant's")
      }
      const scopes = asked.length === 0 ? spent.record.scopes : asked
      const access = yield* state.issue({
        kind: "access",
        provider,
        clientId: client.clientId,
        scopes,
        lifetimeMillis: accessLifetime,
        bytes: 32,
        grant: spent.record.grant
      })
      return json(200, { access_token: access.token, token_type: "Bearer", expires_in: seconds(accessLifetime) }, noStore)
    }), renderOAuth, (e) => e.error)

  const customer = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (requireUserAgent && !validUserAgent(request.headers["user-agent"])) {
      return yield* new BearerFailure({
        status: 401,
        error: "invalid_token",
        description: "A User-Agent header of the form <product>/<version> is required"
      })
    }
    const record = yield* authorize(state, provider, yield* bearerToken, ["read"])
    const client = env.registry.tastytrade.find((c) => c.clientId === record.clientId)
    const id = client?.customerId ?? "demo-customer"
    return json(200, {
      data: {
        id,
        "first-name": "Demo",
        "last-name": "Customer",
        email: "demo@example.invalid",
        "has-industry-affiliation": false
      },
      context: "/customers/me"
    })
  })

  return [
    {
      path: `${prefixes.tastytradeAuth}/auth.html`,
      handler: endpoint(state, "tastytrade.authorize", ["GET"], authorizeEndpoint, renderOAuth)
    },
    {
      path: `${prefixes.tastytrade}/oauth/token`,
      handler: endpoint(state, "tastytrade.token", ["POST"], token, () => json(500, {}))
    },
    {
      path: `${prefixes.tastytrade}/customers/me`,
      handler: endpoint(state, "tastytrade.customer", ["GET"], customer, renderApi)
    }
  ]
}
