/**
 * Schwab Trader API: authorize, token (code exchange and refresh) and `accounts/accountNumbers`.
 *
 * Quirks (third-party facts, options with defaults in `SchwabOptions`):
 *
 * - the callback is compared with the registered one byte for byte; a mismatch is an HTML "Access Denied" page, not
 *   an OAuth redirect; the callback gets `code` (ending in `@`, so `%40` in the URL), `session` and `state`;
 * - codes live about 30 seconds;
 * - Basic `base64(appKey:appSecret)`; the answer carries `id_token` and `scope: "api"`;
 * - the refresh token dies 7 days after the login, and a refresh never extends that (with `refreshToken: "rotate"`
 *   the new one keeps the login's deadline);
 * - one live grant per app: a new login kills the app's earlier refresh tokens;
 * - a refused refresh token answers `unsupported_token_type` with Schwab's nested JSON in `error_description`
 *   (`refresh_token_authentication_error`); an expired one `invalid_client` "refresh token invalid";
 * - no revocation endpoint.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import { randomUUID } from "node:crypto"
import type * as Clients from "../Clients.js"
import { appendParams, errorPage, jwtShaped, millisOr, recorded, redirect, renderOAuth } from "./broker.js"
import { type Env, prefixes } from "./context.js"
import {
  badCredentials,
  type BearerFailure,
  bearerChallenge,
  bearerToken,
  endpoint,
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

const realm = "schwab"
const provider = "schwab" as const

const renderBearer = (e: BearerFailure) =>
  json(e.status, { errors: [{ status: e.status, title: e.status === 401 ? "Unauthorized" : "Forbidden", detail: e.description }] }, {
    "www-authenticate": bearerChallenge(e.error)
  })

/** Schwab's refused refresh token: `unsupported_token_type`, the real reason as a JSON string inside. */
const refreshAuthenticationError = () =>
  new OAuthFailure({
    status: 400,
    error: "unsupported_token_type",
    description: JSON.stringify({
      error_description: "Exception while authenticating refresh token [...], reason: Authentication failed",
      error: "refresh_token_authentication_error"
    })
  })

/** @internal */
export const defaults = {
  accessTokenLifetime: "1800 seconds",
  refreshTokenLifetime: "7 days",
  authorizationCodeLifetime: "30 seconds"
} as const

/** @internal */
export const routes = (env: Env): ReadonlyArray<Route> => {
  const { state } = env
  const options = env.settings.brokers.schwab ?? {}
  const accessLifetime = millisOr(options.accessTokenLifetime, defaults.accessTokenLifetime)
  const refreshLifetime = millisOr(options.refreshTokenLifetime, defaults.refreshTokenLifetime)
  const codeLifetime = millisOr(options.authorizationCodeLifetime, defaults.authorizationCodeLifetime)
  const oneGrantPerApp = options.oneGrantPerApp ?? true
  const rotate = options.refreshToken === "rotate"

  const findClient = (id: string | null | undefined): Clients.SchwabClient | undefined =>
    env.registry.schwab.find((c) => c.clientId === id)

  const authorizeEndpoint = Effect.gen(function*() {
    const q = yield* query
    const client = findClient(q.get("client_id"))
    if (client === undefined) {
      return errorPage(400, "Access Denied", "The application is unknown (check the App Key).")
    }
    const redirectUri = q.get("redirect_uri")
    // Byte for byte: case, port and a trailing slash all count. No redirect to a callback that is not registered.
    if (redirectUri !== client.callbackUrl) {
      return errorPage(400, "Access Denied", "The redirect URI does not match the application's registered callback URL.")
    }
    const state_ = q.get("state") ?? undefined
    const responseType = q.get("response_type")
    if (responseType !== null && responseType !== "code") {
      return redirect(appendParams(redirectUri, { error: "unsupported_response_type", state: state_ }))
    }
    const code = yield* state.createCode(
      { clientId: client.clientId, scopes: ["api"], redirectUri },
      codeLifetime,
      (random) => `C0.${random}@`
    )
    return redirect(appendParams(redirectUri, { code, session: randomUUID(), state: state_ }))
  })

  const issue = (clientId: string, grant: string, refresh: string | undefined) =>
    Effect.gen(function*() {
      const access = yield* state.issue({
        kind: "access",
        provider,
        clientId,
        scopes: ["api"],
        lifetimeMillis: accessLifetime,
        bytes: 32,
        grant,
        token: `I0.${randomToken(48)}@`
      })
      return json(200, {
        expires_in: seconds(accessLifetime),
        token_type: "Bearer",
        scope: "api",
        refresh_token: refresh,
        access_token: access.token,
        id_token: jwtShaped({ iss: "https://api.schwabapi.com", aud: clientId, sub: "demo-user" })
      }, noStore)
    })

  const token = recorded(state, "schwab.token", provider, (note) =>
    Effect.gen(function*() {
      const form = yield* readForm
      const credentials = yield* readCredentials(form, "basic-raw", realm)
      const client = findClient(credentials.clientId)
      if (client === undefined || !secretEquals(client.clientSecret, credentials.clientSecret)) {
        return yield* badCredentials(credentials, realm)
      }
      note.clientId = client.clientId
      const grantType = form.get("grant_type")
      note.grantType = grantType
      if (grantType === undefined || grantType === "") return yield* invalidRequest("grant_type is required")
      if (grantType === "authorization_code") {
        const code = form.get("code")
        if (code === undefined || code === "") return yield* invalidRequest("code is required")
        const redirectUri = form.get("redirect_uri")
        if (redirectUri === undefined) return yield* invalidRequest("redirect_uri is required")
        const redemption = yield* state.redeemCode(code, client.clientId, redirectUri)
        if (redemption._tag === "Rejected") {
          return yield* new OAuthFailure({
            status: 400,
            error: "invalid_grant",
            description: redemption.reason === "expired"
              ? "The authorization code expired (Schwab's codes live about 30 seconds: exchange them at once)"
              : redemption.reason === "redirect-mismatch"
              ? "redirect_uri does not match the authorization request"
              : "The authorization code is invalid (a code copied from the callback URL must be URL-decoded: %40 is @)"
          })
        }
        // One live grant per app: this login kills the refresh tokens of every earlier one.
        if (oneGrantPerApp) {
          yield* state.revokeWhere((r) => r.provider === provider && r.clientId === client.clientId && r.kind === "refresh")
        }
        const grant = randomToken(9)
        const refresh = yield* state.issue({
          kind: "refresh",
          provider,
          clientId: client.clientId,
          scopes: ["api"],
          lifetimeMillis: refreshLifetime,
          bytes: 48,
          grant,
          token: `${randomToken(64)}@`
        })
        return yield* issue(client.clientId, grant, refresh.token)
      }
      if (grantType === "refresh_token") {
        const presented = form.get("refresh_token")
        note.refreshToken = presented
        if (presented === undefined || presented === "") return yield* invalidRequest("refresh_token is required")
        const spent = yield* state.spend(presented, provider, client.clientId, rotate)
        if (spent._tag === "Refused") {
          return yield* spent.reason === "expired"
            ? new OAuthFailure({ status: 400, error: "invalid_client", description: "refresh token invalid" })
            : refreshAuthenticationError()
        }
        let next = presented
        if (rotate) {
          const now = yield* state.now
          const rotated = yield* state.issue({
            kind: "refresh",
            provider,
            clientId: client.clientId,
            scopes: ["api"],
            // The login's deadline: a refresh never extends it.
            lifetimeMillis: spent.record.expiresAt === undefined ? undefined : spent.record.expiresAt - now,
            bytes: 48,
            grant: spent.record.grant,
            token: `${randomToken(64)}@`
          })
          next = rotated.token
        }
        return yield* issue(client.clientId, spent.record.grant ?? "", next)
      }
      return yield* unsupportedGrant(grantType)
    }), renderOAuth, (e) => e.error)

  const accountNumbers = Effect.gen(function*() {
    const record = yield* authorize(state, provider, yield* bearerToken, [])
    const client = findClient(record.clientId)
    const numbers = client?.accountNumbers ?? ["12345678"]
    return json(200, numbers.map((accountNumber) => ({ accountNumber, hashValue: randomHash(accountNumber) })))
  })

  return [
    {
      path: `${prefixes.schwab}/v1/oauth/authorize`,
      handler: endpoint(state, "schwab.authorize", ["GET"], authorizeEndpoint, renderOAuth)
    },
    { path: `${prefixes.schwab}/v1/oauth/token`, handler: endpoint(state, "schwab.token", ["POST"], token, () => json(500, {})) },
    {
      path: `${prefixes.schwab}/trader/v1/accounts/accountNumbers`,
      handler: endpoint(state, "schwab.accounts", ["GET"], accountNumbers, renderBearer)
    }
  ]
}

/** A stable stand-in for Schwab's encrypted account id (`hashValue`). */
const randomHash = (accountNumber: string): string => {
  let h = 0x811c9dc5
  for (const ch of accountNumber) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0
  return `${h.toString(16).toUpperCase().padStart(8, "0")}${"A1B2C3D4E5F6A7B8".repeat(3)}`.slice(0, 64)
}
