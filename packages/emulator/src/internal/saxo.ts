/**
 * Saxo OpenAPI: authorize, token (code exchange and refresh) on the logon host, and `port/v1/users/me`.
 *
 * Quirks (options with defaults in `SaxoOptions`):
 *
 * - a confidential app authenticates with Basic `base64(appKey:appSecret)` (the official sample; `client_id` and
 *   `client_secret` in the body are taken too); a PKCE app sends `client_id` and `code_verifier`, no secret;
 * - the answer carries `refresh_token_expires_in` and `base_uri: null`; the access token is a JWT;
 * - every refresh answers a new refresh token; the one used is refused from then on (`spentRefreshTokens`), and each
 *   lives `refreshTokenLifetime` (1 hour) from its issue;
 * - a PKCE app's refresh re-sends `code_verifier` and `redirect_uri`;
 * - `scope` is not used; no revocation endpoint.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Clients from "../Clients.js"
import {
  appendParams,
  errorPage,
  isLoopbackHost,
  jwtShaped,
  millisOr,
  pkceMatches,
  recorded,
  redirect,
  renderOAuth,
  validVerifier
} from "./broker.js"
import { type Env, prefixes } from "./context.js"
import {
  type BearerFailure,
  bearerChallenge,
  bearerToken,
  empty,
  endpoint,
  type Form,
  invalidRequest,
  json,
  noStore,
  OAuthFailure,
  query,
  readCredentials,
  readForm,
  secretEquals,
  seconds,
  unsupportedGrant
} from "./http.js"
import { authorize, type Route } from "./route.js"
import { randomToken } from "./state.js"

const realm = "saxo"
const provider = "saxo" as const

/** The OpenAPI answers a bad token with 401 and no body. */
const renderBearer = (e: BearerFailure) => empty(e.status, { "www-authenticate": bearerChallenge(e.error) })

/** @internal */
export const defaults = {
  accessTokenLifetime: "1200 seconds",
  refreshTokenLifetime: "3600 seconds",
  authorizationCodeLifetime: "10 minutes"
} as const

interface Grant {
  readonly clientId: string
  readonly redirectUri: string
  /** The PKCE challenge of the login, which every refresh's `code_verifier` must match. */
  readonly challenge: string | undefined
  readonly method: string
}

/** @internal */
export const routes = (env: Env): ReadonlyArray<Route> => {
  const { state } = env
  const options = env.settings.brokers.saxo ?? {}
  const accessLifetime = millisOr(options.accessTokenLifetime, defaults.accessTokenLifetime)
  const refreshLifetime = millisOr(options.refreshTokenLifetime, defaults.refreshTokenLifetime)
  const codeLifetime = millisOr(options.authorizationCodeLifetime, defaults.authorizationCodeLifetime)
  const singleUse = (options.spentRefreshTokens ?? "single-use") === "single-use"
  const refreshNeedsVerifier = options.pkceRefreshNeedsVerifier ?? true
  const anyLoopbackPort = options.anyLoopbackPort ?? true
  const grants = new Map<string, Grant>()

  const findClient = (id: string | null | undefined): Clients.SaxoClient | undefined =>
    env.registry.saxo.find((c) => c.clientId === id)

  const redirectAllowed = (registered: string, requested: string): boolean => {
    if (requested === registered) return true
    if (!anyLoopbackPort) return false
    try {
      const r = new URL(registered)
      const q = new URL(requested)
      return r.protocol === "http:" && q.protocol === "http:" && isLoopbackHost(r.hostname) && r.hostname === q.hostname &&
        r.pathname === q.pathname && r.search === q.search && q.hash === ""
    } catch {
      return false
    }
  }

  const authorizeEndpoint = Effect.gen(function*() {
    const q = yield* query
    const client = findClient(q.get("client_id"))
    if (client === undefined) return errorPage(400, "Invalid request", "Unknown AppKey.")
    const redirectUri = q.get("redirect_uri") ?? ""
    if (!redirectAllowed(client.callbackUrl, redirectUri)) {
      return errorPage(400, "Invalid request", "The redirect_uri does not match the application's AppUrl.")
    }
    const state_ = q.get("state") ?? undefined
    const fail = (error: string, description: string) =>
      redirect(appendParams(redirectUri, { error, error_description: description, state: state_ }))
    if (q.get("response_type") !== "code") return fail("unsupported_response_type", "response_type must be code")
    const challenge = q.get("code_challenge") ?? undefined
    const method = q.get("code_challenge_method") ?? "plain"
    if (method !== "S256" && method !== "plain") return fail("invalid_request", "Unsupported code_challenge_method")
    if (client.clientSecret === undefined && challenge === undefined) {
      return fail("invalid_request", "code_challenge is required for this application (PKCE)")
    }
    const extra: Record<string, string> = challenge === undefined ? {} : { challenge, method }
    const code = yield* state.createCode({ clientId: client.clientId, scopes: [], redirectUri, extra }, codeLifetime)
    return redirect(appendParams(redirectUri, { code, state: state_ }))
  })

  /** Basic (or the body's secret) for a confidential app; `client_id` alone for a PKCE app. */
  const authenticate = (form: Form) =>
    Effect.gen(function*() {
      const bodyId = form.get("client_id")
      const publicClient = bodyId === undefined ? undefined : findClient(bodyId)
      if (publicClient !== undefined && publicClient.clientSecret === undefined) {
        if (form.get("client_secret") !== undefined) return yield* invalidRequest("A PKCE application has no secret")
        return publicClient
      }
      const credentials = yield* readCredentials(form, form.get("client_secret") === undefined ? "basic-raw" : "post", realm)
      const client = findClient(credentials.clientId)
      if (client?.clientSecret === undefined || !secretEquals(client.clientSecret, credentials.clientSecret)) {
        return yield* new OAuthFailure({ status: 401, error: "invalid_client", description: "Client authentication failed" })
      }
      return client
    })

  const answer = (client: Clients.SaxoClient, grantId: string) =>
    Effect.gen(function*() {
      const user = client.userId ?? "demo-user"
      const access = yield* state.issue({
        kind: "access",
        provider,
        clientId: client.clientId,
        scopes: [],
        lifetimeMillis: accessLifetime,
        bytes: 32,
        grant: grantId,
        token: jwtShaped({ oaa: "77770", iss: "oa", aid: "109", uid: user, cid: user, isa: "False", tid: "2002", sid: randomToken(12) })
      })
      const refresh = yield* state.issue({
        kind: "refresh",
        provider,
        clientId: client.clientId,
        scopes: [],
        lifetimeMillis: refreshLifetime,
        bytes: 27,
        grant: grantId
      })
      return json(200, {
        access_token: access.token,
        token_type: "Bearer",
        expires_in: seconds(accessLifetime),
        refresh_token: refresh.token,
        refresh_token_expires_in: seconds(refreshLifetime),
        base_uri: null
      }, noStore)
    })

  const token = recorded(state, "saxo.token", provider, (note) =>
    Effect.gen(function*() {
      const form = yield* readForm
      const client = yield* authenticate(form)
      note.clientId = client.clientId
      const grantType = form.get("grant_type")
      note.grantType = grantType
      const invalidGrant = (description: string) => new OAuthFailure({ status: 400, error: "invalid_grant", description })
      if (grantType === undefined || grantType === "") return yield* invalidRequest("grant_type is required")
      if (grantType === "authorization_code") {
        const code = form.get("code")
        if (code === undefined || code === "") return yield* invalidRequest("code is required")
        const redemption = yield* state.redeemCode(code, client.clientId, form.get("redirect_uri"))
        if (redemption._tag === "Rejected") return yield* invalidGrant("The authorization code is invalid or expired")
        const extra = redemption.record.extra ?? {}
        if (extra.challenge !== undefined) {
          const verifier = form.get("code_verifier")
          if (verifier === undefined || !validVerifier(verifier) || !pkceMatches(extra.challenge, extra.method ?? "plain", verifier)) {
            return yield* invalidGrant("code_verifier does not match the code_challenge")
          }
        }
        const grantId = randomToken(9)
        grants.set(grantId, {
          clientId: client.clientId,
          redirectUri: redemption.record.redirectUri,
          challenge: extra.challenge,
          method: extra.method ?? "plain"
        })
        return yield* answer(client, grantId)
      }
      if (grantType === "refresh_token") {
        const presented = form.get("refresh_token")
        note.refreshToken = presented
        if (presented === undefined || presented === "") return yield* invalidRequest("refresh_token is required")
        if (client.clientSecret === undefined && refreshNeedsVerifier) {
          // Checked before the token is spent: a PKCE refresh without its verifier uses nothing up.
          const lookup = yield* state.lookup(presented, provider, "refresh")
          const grant = lookup._tag === "Valid" ? grants.get(lookup.record.grant ?? "") : undefined
          if (grant !== undefined && grant.challenge !== undefined) {
            const verifier = form.get("code_verifier")
            if (verifier === undefined || !pkceMatches(grant.challenge, grant.method, verifier)) {
              return yield* invalidGrant("A PKCE refresh must re-send the code_verifier of the login")
            }
            if (form.get("redirect_uri") !== grant.redirectUri) {
              return yield* invalidGrant("A PKCE refresh must re-send the redirect_uri of the login")
            }
          }
        }
        const spent = yield* state.spend(presented, provider, client.clientId, singleUse)
        if (spent._tag === "Refused") return yield* invalidGrant("The refresh token is invalid, expired or already used")
        return yield* answer(client, spent.record.grant ?? "")
      }
      return yield* unsupportedGrant(grantType)
    }), renderOAuth, (e) => e.error)

  const me = Effect.gen(function*() {
    const record = yield* authorize(state, provider, yield* bearerToken, [])
    const client = findClient(record.clientId)
    const user = client?.userId ?? "demo-user"
    return json(200, {
      ClientKey: `${user}-client-key`,
      Culture: "en-GB",
      Language: "en",
      LastLoginStatus: "Successful",
      LegalAssetTypesAreIndicative: false,
      MarketDataViaOpenApiTermsAccepted: true,
      Name: "Demo User",
      TimeZoneId: 27,
      UserId: user,
      UserKey: `${user}-user-key`
    })
  })

  return [
    { path: `${prefixes.saxoLogon}/authorize`, handler: endpoint(state, "saxo.authorize", ["GET"], authorizeEndpoint, renderOAuth) },
    { path: `${prefixes.saxoLogon}/token`, handler: endpoint(state, "saxo.token", ["POST"], token, () => json(500, {})) },
    { path: `${prefixes.saxoOpenapi}/port/v1/users/me`, handler: endpoint(state, "saxo.users", ["GET"], me, renderBearer) }
  ]
}
