/**
 * TradeStation (Auth0): authorize, token (code exchange and refresh), revoke and `v3/brokerage/accounts`.
 *
 * Quirks (options with defaults in `TradeStationOptions`):
 *
 * - authorize needs `audience` (doc) for a token the API accepts: a token issued for another audience, or none, is
 *   refused by the API with 401; `openid` is required in `scope`, and a refresh token comes only with
 *   `offline_access`; `redirect_uri` must be one of the key's Allowed Callback URLs exactly, or an HTML error page;
 * - `client_secret_post`; a key without a secret (PKCE) must use PKCE;
 * - refresh tokens never expire, and a refresh answers no `refresh_token`; a key with "expire and rotate" gets a new
 *   one on each refresh, the old one refused from then on, each dying after `rotatingRefreshIdleLifetime` unused and
 *   all of a login's after `rotatingRefreshAbsoluteLifetime` (24 h);
 * - a refused refresh token answers 403 `invalid_grant` (Auth0's status, inferred);
 * - revoke (JSON or form, `token` or `refresh_token`: UNCERTAIN, both taken) revokes **every** refresh token of the key.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Clients from "../Clients.js"
import {
  appendParams,
  errorPage,
  jwtShaped,
  millisOr,
  pkceMatches,
  readFormOrJson,
  recorded,
  redirect,
  renderOAuth,
  validVerifier
} from "./broker.js"
import { type Env, prefixes } from "./context.js"
import {
  BearerFailure,
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
  secretEquals,
  seconds,
  splitScopes,
  uniq,
  unsupportedGrant
} from "./http.js"
import { authorize, type Route } from "./route.js"
import { randomToken } from "./state.js"

const provider = "tradestation" as const

const renderBearer = (e: BearerFailure) =>
  json(e.status, { Error: e.status === 401 ? "Unauthorized" : "Forbidden", Message: e.description }, {
    "www-authenticate": bearerChallenge(e.error)
  })

/** @internal */
export const defaults = {
  accessTokenLifetime: "1200 seconds",
  audience: "https://api.tradestation.com",
  rotatingRefreshIdleLifetime: "30 minutes",
  rotatingRefreshAbsoluteLifetime: "24 hours",
  authorizationCodeLifetime: "10 minutes"
} as const

interface Grant {
  readonly clientId: string
  readonly audience: string | undefined
  readonly scopes: ReadonlyArray<string>
  readonly loginAt: number
}

/** @internal */
export const routes = (env: Env): ReadonlyArray<Route> => {
  const { state } = env
  const options = env.settings.brokers.tradestation ?? {}
  const accessLifetime = millisOr(options.accessTokenLifetime, defaults.accessTokenLifetime)
  const audience = options.audience ?? defaults.audience
  const idleLifetime = millisOr(options.rotatingRefreshIdleLifetime, defaults.rotatingRefreshIdleLifetime)
  const absoluteLifetime = millisOr(options.rotatingRefreshAbsoluteLifetime, defaults.rotatingRefreshAbsoluteLifetime)
  const codeLifetime = millisOr(options.authorizationCodeLifetime, defaults.authorizationCodeLifetime)
  const grants = new Map<string, Grant>()

  const findClient = (id: string | null | undefined): Clients.TradeStationClient | undefined =>
    env.registry.tradestation.find((c) => c.clientId === id)

  const authorizeEndpoint = Effect.gen(function*() {
    const q = yield* query
    const client = findClient(q.get("client_id"))
    if (client === undefined) return errorPage(400, "Unknown client", "The client_id is not a TradeStation API key.")
    const redirectUri = q.get("redirect_uri") ?? ""
    if (!client.callbackUrls.includes(redirectUri)) {
      return errorPage(
        400,
        "Callback URL mismatch",
        `The provided redirect_uri is not in the list of allowed callback URLs. Please go to the Application Settings page and make sure you are sending a valid callback url from your application.`
      )
    }
    const state_ = q.get("state") ?? undefined
    const fail = (error: string, description: string) =>
      redirect(appendParams(redirectUri, { error, error_description: description, state: state_ }))
    if (q.get("response_type") !== "code") return fail("unsupported_response_type", "Unsupported response type: use code")
    const scopes = uniq(splitScopes(q.get("scope") ?? undefined))
    if (!scopes.includes("openid")) return fail("invalid_scope", "The openid scope is required")
    const challenge = q.get("code_challenge") ?? undefined
    const method = q.get("code_challenge_method") ?? "plain"
    if (challenge !== undefined && method !== "S256" && method !== "plain") {
      return fail("invalid_request", "Unsupported code_challenge_method")
    }
    if (client.clientSecret === undefined && challenge === undefined) {
      return fail("invalid_request", "This key must use PKCE: code_challenge is required")
    }
    const extra: Record<string, string> = {}
    const requestedAudience = q.get("audience")
    if (requestedAudience !== null) extra.audience = requestedAudience
    if (challenge !== undefined) {
      extra.challenge = challenge
      extra.method = method
    }
    const code = yield* state.createCode({ clientId: client.clientId, scopes, redirectUri, extra }, codeLifetime)
    return redirect(appendParams(redirectUri, { code, state: state_ }))
  })

  /** `client_secret_post`: `client_id` in the body, and `client_secret` when the key has one. */
  const authenticate = (form: Form) =>
    Effect.gen(function*() {
      const id = form.get("client_id")
      const client = findClient(id)
      const secret = form.get("client_secret")
      const invalidClient = new OAuthFailure({ status: 401, error: "invalid_client", description: "Client authentication failed" })
      if (client === undefined) return yield* invalidClient
      if (client.clientSecret !== undefined && (secret === undefined || !secretEquals(client.clientSecret, secret))) {
        return yield* invalidClient
      }
      return client
    })

  const refreshDeadline = (grant: Grant, now: number) => Math.min(now + idleLifetime, grant.loginAt + absoluteLifetime)

  const answer = (
    client: Clients.TradeStationClient,
    grantId: string,
    grant: Grant,
    refreshToken: string | undefined
  ) =>
    Effect.gen(function*() {
      const access = yield* state.issue({
        kind: "access",
        provider,
        clientId: client.clientId,
        scopes: grant.scopes,
        lifetimeMillis: accessLifetime,
        bytes: 32,
        grant: grantId,
        token: jwtShaped({ aud: grant.audience ?? "https://signin.tradestation.com/userinfo", azp: client.clientId })
      })
      return json(200, {
        access_token: access.token,
        ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
        id_token: jwtShaped({ iss: "https://signin.tradestation.com/", aud: client.clientId, sub: "auth0|demo" }),
        scope: grant.scopes.join(" "),
        expires_in: seconds(accessLifetime),
        token_type: "Bearer"
      }, noStore)
    })

  const issueRefresh = (client: Clients.TradeStationClient, grantId: string, grant: Grant) =>
    Effect.flatMap(state.now, (now) =>
      state.issue({
        kind: "refresh",
        provider,
        clientId: client.clientId,
        scopes: grant.scopes,
        lifetimeMillis: client.rotatingRefreshTokens === true ? refreshDeadline(grant, now) - now : undefined,
        bytes: 36,
        grant: grantId
      }))

  const token = recorded(state, "tradestation.token", provider, (note) =>
    Effect.gen(function*() {
      const form = yield* readFormOrJson
      const client = yield* authenticate(form)
      note.clientId = client.clientId
      const grantType = form.get("grant_type")
      note.grantType = grantType
      if (grantType === undefined || grantType === "") return yield* invalidRequest("grant_type is required")
      if (grantType === "authorization_code") {
        const code = form.get("code")
        if (code === undefined || code === "") return yield* invalidRequest("code is required")
        const redemption = yield* state.redeemCode(code, client.clientId, form.get("redirect_uri"))
        const invalidGrant = (description: string) => new OAuthFailure({ status: 403, error: "invalid_grant", description })
        if (redemption._tag === "Rejected") return yield* invalidGrant("Invalid authorization code")
        const extra = redemption.record.extra ?? {}
        if (extra.challenge !== undefined) {
          const verifier = form.get("code_verifier")
          if (verifier === undefined || !validVerifier(verifier) || !pkceMatches(extra.challenge, extra.method ?? "plain", verifier)) {
            return yield* invalidGrant("Failed to verify code verifier")
          }
        }
        const grantId = randomToken(9)
        const grant: Grant = {
          clientId: client.clientId,
          audience: extra.audience,
          scopes: redemption.record.scopes,
          loginAt: yield* state.now
        }
        grants.set(grantId, grant)
        const refresh = grant.scopes.includes("offline_access") ? yield* issueRefresh(client, grantId, grant) : undefined
        return yield* answer(client, grantId, grant, refresh?.token)
      }
      if (grantType === "refresh_token") {
        const presented = form.get("refresh_token")
        note.refreshToken = presented
        if (presented === undefined || presented === "") return yield* invalidRequest("refresh_token is required")
        const rotating = client.rotatingRefreshTokens === true
        const spent = yield* state.spend(presented, provider, client.clientId, rotating)
        const grant = spent._tag === "Spent" ? grants.get(spent.record.grant ?? "") : undefined
        if (spent._tag === "Refused" || grant === undefined) {
          return yield* new OAuthFailure({ status: 403, error: "invalid_grant", description: "Unknown or invalid refresh token." })
        }
        const grantId = spent.record.grant!
        const next = rotating ? (yield* issueRefresh(client, grantId, grant)).token : undefined
        return yield* answer(client, grantId, grant, next)
      }
      return yield* unsupportedGrant(grantType)
    }), renderOAuth, (e) => e.error)

  const revoke = recorded(state, "tradestation.revoke", provider, (note) =>
    Effect.gen(function*() {
      const form = yield* readFormOrJson
      const client = yield* authenticate(form)
      note.clientId = client.clientId
      const value = form.get("token") ?? form.get("refresh_token")
      note.refreshToken = value
      if (value === undefined || value === "") return yield* invalidRequest("token is required")
      // Every refresh token of the key, not just the one sent (doc).
      yield* state.revokeWhere((r) => r.provider === provider && r.clientId === client.clientId && r.kind === "refresh")
      return empty(200, noStore)
    }), renderOAuth, (e) => e.error)

  const accounts = Effect.gen(function*() {
    const record = yield* authorize(state, provider, yield* bearerToken, [])
    const grant = grants.get(record.grant ?? "")
    if (grant?.audience !== audience) {
      return yield* new BearerFailure({
        status: 401,
        error: "invalid_token",
        description: `The access token was not issued for the audience ${audience}`
      })
    }
    if (!record.scopes.includes("ReadAccount")) {
      return yield* new BearerFailure({
        status: 403,
        error: "insufficient_scope",
        description: "The access token needs the scope ReadAccount"
      })
    }
    const client = findClient(record.clientId)
    return json(200, {
      Accounts: (client?.accountIds ?? ["11111111"]).map((AccountID) => ({
        AccountID,
        Currency: "USD",
        Status: "Active",
        AccountType: "Margin",
        AccountDetail: { DayTradingQualified: true, OptionApprovalLevel: 2, PatternDayTrader: false }
      }))
    })
  })

  return [
    {
      path: `${prefixes.tradestationSignin}/authorize`,
      handler: endpoint(state, "tradestation.authorize", ["GET"], authorizeEndpoint, renderOAuth)
    },
    {
      path: `${prefixes.tradestationSignin}/oauth/token`,
      handler: endpoint(state, "tradestation.token", ["POST"], token, () => json(500, {}))
    },
    {
      path: `${prefixes.tradestationSignin}/oauth/revoke`,
      handler: endpoint(state, "tradestation.revoke", ["POST"], revoke, () => json(500, {}))
    },
    {
      path: `${prefixes.tradestationApi}/v3/brokerage/accounts`,
      handler: endpoint(state, "tradestation.accounts", ["GET"], accounts, renderBearer)
    }
  ]
}
