import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import * as Option from "effect/Option"
import * as Clients from "../Clients.js"
import { type Env, prefixes } from "./context.js"
import {
  badCredentials,
  type BearerFailure,
  bearerChallenge,
  bearerToken,
  empty,
  endpoint,
  invalidRequest,
  invalidScope,
  json,
  millis,
  noStore,
  OAuthFailure,
  query,
  readCredentials,
  readForm,
  secretEquals,
  seconds,
  splitScopes,
  uniq,
  unsupportedGrant
} from "./http.js"
import { renderOAuth } from "./broker.js"
import { authorize, type Route } from "./route.js"
import type { ConsentRecord } from "./state.js"

const realm = "tradier"

/** Tradier's API answers a bad token with a plain-text body. */
const renderBearer = (e: BearerFailure) =>
  HttpServerResponse.text(e.status === 401 ? "Invalid Access Token" : "Insufficient Scope", {
    status: e.status,
    headers: { "www-authenticate": bearerChallenge(e.error) }
  })

const isLoopbackHost = (host: string): boolean =>
  host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)

/**
 * The callback to send the user back to: `redirect_uri` when it is the registered callback, or differs from it only
 * in the port while both are loopback `http` URLs (RFC 8252 §7.3); otherwise the registered callback.
 *
 * @internal
 */
export const resolveRedirect = (registered: string, requested: string | null): string => {
  if (requested === null || requested === "" || requested === registered) return registered
  try {
    const r = new URL(registered)
    const q = new URL(requested)
    if (
      r.protocol === "http:" && q.protocol === "http:" && isLoopbackHost(r.hostname) && r.hostname === q.hostname &&
      r.pathname === q.pathname && r.search === q.search && q.hash === "" && q.username === "" && q.password === ""
    ) {
      return requested
    }
  } catch {
    // not a URL: fall back to the registered callback
  }
  return registered
}

const withParams = (url: string, params: Record<string, string | undefined>): string => {
  const u = new URL(url)
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v)
  return u.toString()
}

const redirect = (location: string) => empty(302, { location })

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c]!)

const page = (title: string, body: string, status = 200) =>
  HttpServerResponse.text(
    `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
${body}
</body>
</html>
`,
    { status, contentType: "text/html; charset=utf-8" }
  )

const consentPage = (action: string, txn: string, consent: ConsentRecord) =>
  page(
    "Authorize application - Tradier Brokerage (emulated)",
    `<h1>Authorize ${escapeHtml(consent.clientId)}</h1>
<p>This application asks for: ${consent.scopes.map((s) => `<code>${escapeHtml(s)}</code>`).join(", ")}</p>
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="txn" value="${escapeHtml(txn)}">
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`
  )

const expiredPage = () =>
  page("Authorization request expired", "<h1>This authorization request is unknown or has expired.</h1>", 400)

const findClient = (env: Env, id: string, secret: string): Clients.TradierClient | undefined =>
  env.registry.tradier.find((c) => c.clientId === id && secretEquals(c.clientSecret, secret))

const xmlEscape = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&apos;" })[c]!)

const toXml = (name: string, value: unknown): string => {
  if (value !== null && typeof value === "object") {
    return `<${name}>${Object.entries(value).map(([k, v]) => toXml(k, v)).join("")}</${name}>`
  }
  return `<${name}>${xmlEscape(String(value))}</${name}>`
}

/** JSON when the request accepts `application/json`, XML otherwise (Tradier's API default). @internal */
export const negotiate = (body: Readonly<Record<string, unknown>>) =>
  Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
    const accept = (request.headers["accept"] ?? "").toLowerCase()
    if (accept.includes("application/json")) return json(200, body)
    const [root, value] = Object.entries(body)[0]!
    return HttpServerResponse.text(`<?xml version="1.0" encoding="UTF-8"?>\n${toXml(root, value)}`, {
      status: 200,
      contentType: "application/xml"
    })
  })

/** @internal */
export const routes = (env: Env): ReadonlyArray<Route> => {
  const { state } = env
  const consentUrl = `${env.urls.tradier.api}/oauth/consent`

  const lifetimeOf = (clientId: string): number => {
    const client = env.registry.tradier.find((c) => c.clientId === clientId)
    return client?.tokenLifetime === undefined ? env.settings.lifetimes.tradier : millis(client.tokenLifetime)
  }

  const approve = (consent: Omit<ConsentRecord, "expiresAt">) =>
    Effect.map(
      state.createCode(
        { clientId: consent.clientId, scopes: consent.scopes, redirectUri: consent.redirectUri },
        env.settings.codeLifetime
      ),
      (code) => redirect(withParams(consent.redirectUri, { code, state: consent.state }))
    )

  const deny = (consent: Omit<ConsentRecord, "expiresAt">) =>
    Effect.succeed(
      redirect(withParams(consent.redirectUri, {
        error: "access_denied",
        error_description: "The user denied access",
        state: consent.state
      }))
    )

  const authorizeEndpoint = Effect.gen(function*() {
    const q = yield* query
    const clientId = q.get("client_id")
    const client = env.registry.tradier.find((c) => c.clientId === clientId)
    // Without a known client there is no trusted callback: answer here, never redirect.
    if (client === undefined) return yield* invalidRequest("Unknown or missing client_id")
    const redirectUri = resolveRedirect(client.callbackUrl, q.get("redirect_uri"))
    const state_ = q.get("state") ?? undefined
    const fail = (error: string, description: string) =>
      redirect(withParams(redirectUri, { error, error_description: description, state: state_ }))
    const responseType = q.get("response_type")
    if (responseType !== null && responseType !== "code") {
      return fail("unsupported_response_type", "Only the code response type is supported")
    }
    if (state_ === undefined || state_ === "") return fail("invalid_request", "state is required")
    const scopes = uniq(splitScopes(q.get("scope") ?? undefined, "comma"))
    if (scopes.length === 0) return fail("invalid_request", "scope is required")
    const allowed = client.scopes ?? Clients.tradierScopes
    if (scopes.some((s) => !allowed.includes(s))) return fail("invalid_scope", "Unknown or disallowed scope")
    const consent = { clientId: client.clientId, scopes, state: state_, redirectUri }
    const mode = yield* Ref.get(state.authorizationMode)
    switch (mode) {
      case "auto-approve":
        return yield* approve(consent)
      case "auto-deny":
        return yield* deny(consent)
      case "consent": {
        const txn = yield* state.createConsent(consent, env.settings.consentLifetime)
        return redirect(withParams(consentUrl, { txn }))
      }
    }
  })

  const consentEndpoint = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (request.method === "GET") {
      const txn = (yield* query).get("txn") ?? ""
      const consent = yield* state.peekConsent(txn)
      return Option.isNone(consent) ? expiredPage() : consentPage(consentUrl, txn, consent.value)
    }
    const form = yield* readForm.pipe(Effect.option)
    if (Option.isNone(form)) return page("Bad request", "<h1>Bad request</h1>", 400)
    const decision = form.value.get("decision")
    if (decision !== "approve" && decision !== "deny") return page("Bad request", "<h1>Choose Approve or Deny</h1>", 400)
    const consent = yield* state.takeConsent(form.value.get("txn") ?? "")
    if (Option.isNone(consent)) return expiredPage()
    return yield* (decision === "approve" ? approve(consent.value) : deny(consent.value))
  })

  const tokenResponse = (
    access: { readonly token: string; readonly issuedAt: number; readonly lifetime: number },
    scopes: ReadonlyArray<string>,
    refreshToken: string | undefined
  ) =>
    json(200, {
      access_token: access.token,
      expires_in: seconds(access.lifetime),
      issued_at: new Date(access.issuedAt).toISOString(),
      scope: scopes.join(" "),
      status: "approved",
      ...(refreshToken === undefined ? {} : { refresh_token: refreshToken })
    }, noStore)

  const authenticate = Effect.gen(function*() {
    const form = yield* readForm
    const credentials = yield* readCredentials(form, "basic-form", realm)
    const client = findClient(env, credentials.clientId, credentials.clientSecret)
    if (client === undefined) return yield* badCredentials(credentials, realm)
    const grantType = form.get("grant_type")
    if (grantType === undefined || grantType === "") return yield* invalidRequest("grant_type is required")
    return { form, client, grantType }
  })

  const invalidGrant = (description: string) => new OAuthFailure({ status: 400, error: "invalid_grant", description })

  const token = Effect.gen(function*() {
    const { client, form, grantType } = yield* authenticate
    if (grantType !== "authorization_code") return yield* unsupportedGrant(grantType)
    const code = form.get("code")
    if (code === undefined || code === "") return yield* invalidRequest("code is required")
    const redemption = yield* state.redeemCode(code, client.clientId, form.get("redirect_uri"))
    if (redemption._tag === "Rejected") {
      if (redemption.reason === "used") {
        // RFC 6749 §4.1.2: a replayed code revokes what it produced.
        yield* state.revokeWhere((r) => r.provider === "tradier" && r.code === code)
      }
      return yield* invalidGrant(
        {
          expired: "The authorization code expired",
          used: "The authorization code was already used",
          "redirect-mismatch": "redirect_uri does not match the authorization request",
          unknown: "The authorization code is invalid",
          "wrong-client": "The authorization code is invalid"
        }[redemption.reason]
      )
    }
    const lifetime = lifetimeOf(client.clientId)
    const scopes = redemption.record.scopes
    const access = yield* state.issue({
      kind: "access",
      provider: "tradier",
      clientId: client.clientId,
      scopes,
      lifetimeMillis: lifetime,
      bytes: 24,
      code
    })
    const refresh = client.partner === true
      ? yield* state.issue({
        kind: "refresh",
        provider: "tradier",
        clientId: client.clientId,
        scopes,
        lifetimeMillis: undefined,
        bytes: 24,
        code
      })
      : undefined
    return tokenResponse({ token: access.token, issuedAt: access.record.issuedAt, lifetime }, scopes, refresh?.token)
  })

  const refresh = Effect.gen(function*() {
    const { client, form, grantType } = yield* authenticate
    if (grantType !== "refresh_token") return yield* unsupportedGrant(grantType)
    if (client.partner !== true) {
      return yield* new OAuthFailure({
        status: 400,
        error: "unauthorized_client",
        description: "Refresh tokens are available to approved partners only"
      })
    }
    const refreshToken = form.get("refresh_token")
    if (refreshToken === undefined || refreshToken === "") return yield* invalidRequest("refresh_token is required")
    const lookup = yield* state.lookup(refreshToken, "tradier", "refresh")
    if (lookup._tag === "Invalid" || lookup.record.clientId !== client.clientId) {
      return yield* invalidGrant("The refresh token is invalid")
    }
    const asked = uniq(splitScopes(form.get("scope")))
    if (asked.some((s) => !lookup.record.scopes.includes(s))) {
      return yield* invalidScope("A refresh cannot ask for more scope than was granted")
    }
    const scopes = asked.length === 0 ? lookup.record.scopes : asked
    const lifetime = lifetimeOf(client.clientId)
    const access = yield* state.issue({
      kind: "access",
      provider: "tradier",
      clientId: client.clientId,
      scopes,
      lifetimeMillis: lifetime,
      bytes: 24,
      code: lookup.record.code
    })
    let next: string | undefined
    switch (env.settings.tradierRefreshToken) {
      case "same":
        next = refreshToken
        break
      case "none":
        next = undefined
        break
      case "rotate": {
        yield* state.revoke(refreshToken)
        const rotated = yield* state.issue({
          kind: "refresh",
          provider: "tradier",
          clientId: client.clientId,
          scopes: lookup.record.scopes,
          lifetimeMillis: undefined,
          bytes: 24,
          code: lookup.record.code
        })
        next = rotated.token
        break
      }
    }
    return tokenResponse({ token: access.token, issuedAt: access.record.issuedAt, lifetime }, scopes, next)
  })

  const profile = Effect.gen(function*() {
    const record = yield* authorize(state, "tradier", yield* bearerToken, ["read"])
    const id = `id-${record.clientId}`
    return yield* negotiate({
      profile: {
        id,
        name: "Demo User",
        account: {
          account_number: "VA00000001",
          classification: "individual",
          date_created: "2016-08-01T21:08:55.000Z",
          day_trader: false,
          option_level: 2,
          status: "active",
          type: "margin",
          last_update_date: "2016-08-01T21:08:55.000Z"
        }
      }
    })
  })

  return [
    {
      path: `${prefixes.tradier}/v1/oauth/authorize`,
      handler: endpoint(state, "tradier.authorize", ["GET"], authorizeEndpoint, renderOAuth)
    },
    {
      path: `${prefixes.tradier}/oauth/consent`,
      handler: endpoint(state, "tradier.consent", ["GET", "POST"], consentEndpoint, renderOAuth)
    },
    {
      path: `${prefixes.tradier}/v1/oauth/accesstoken`,
      handler: endpoint(state, "tradier.token", ["POST"], token, renderOAuth)
    },
    {
      path: `${prefixes.tradier}/v1/oauth/refreshtoken`,
      handler: endpoint(state, "tradier.refresh", ["POST"], refresh, renderOAuth)
    },
    { path: `${prefixes.tradier}/v1/user/profile`, handler: endpoint(state, "tradier.profile", ["GET"], profile, renderBearer) }
  ]
}
