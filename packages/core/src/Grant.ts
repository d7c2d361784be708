/**
 * The grants a token request can carry (RFC 6749 §4 and §6).
 *
 * @since 0.1.0
 */
import * as Redacted from "effect/Redacted"

/**
 * `client_credentials` (RFC 6749 §4.4): the client acts on its own behalf.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientCredentials {
  readonly _tag: "ClientCredentials"
  /** The scopes to ask for; none leaves the scope parameter out. */
  readonly scopes: ReadonlyArray<string>
}

/**
 * `authorization_code` (RFC 6749 §4.1.3): exchange the code the callback received.
 *
 * @since 0.1.0
 * @category models
 */
export interface AuthorizationCode {
  readonly _tag: "AuthorizationCode"
  readonly code: Redacted.Redacted<string>
  /** The redirect URI of the authorization request, when one was sent (it must then be sent again). */
  readonly redirectUri?: string | undefined
  /** The PKCE verifier (RFC 7636), when the authorization request carried a challenge. */
  readonly codeVerifier?: Redacted.Redacted<string> | undefined
  /** The scopes asked for at authorization, used as the granted scopes when the response names none. */
  readonly scopes?: ReadonlyArray<string> | undefined
}

/**
 * `refresh_token` (RFC 6749 §6).
 *
 * @since 0.1.0
 * @category models
 */
export interface RefreshToken {
  readonly _tag: "RefreshToken"
  readonly refreshToken: Redacted.Redacted<string>
  /**
   * The scopes to ask for: a subset of those granted. Leave out to keep the granted scopes (the parameter is not
   * sent, so the server keeps the original scope).
   */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** The scopes the refreshed token was granted: the new token's scopes when the response names none. */
  readonly grantedScopes?: ReadonlyArray<string> | undefined
  /**
   * The login's PKCE verifier, re-sent as `code_verifier` where the endpoint asks for it (`refreshWithPkce`: Saxo).
   *
   * @since 0.2.0
   */
  readonly codeVerifier?: Redacted.Redacted<string> | undefined
  /**
   * The login's redirect URI, re-sent as `redirect_uri` where the endpoint asks for it (`refreshWithPkce`: Saxo).
   *
   * @since 0.2.0
   */
  readonly redirectUri?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export type Grant = ClientCredentials | AuthorizationCode | RefreshToken

/**
 * @since 0.1.0
 * @category constructors
 */
export const clientCredentials = (scopes: ReadonlyArray<string> = []): ClientCredentials => ({
  _tag: "ClientCredentials",
  scopes
})

/**
 * @since 0.1.0
 * @category constructors
 */
export const authorizationCode = (options: Omit<AuthorizationCode, "_tag">): AuthorizationCode => ({
  _tag: "AuthorizationCode",
  ...options
})

/**
 * @since 0.1.0
 * @category constructors
 */
export const refreshToken = (options: Omit<RefreshToken, "_tag">): RefreshToken => ({
  _tag: "RefreshToken",
  ...options
})

/**
 * The scopes a grant asks for, or, for a refresh without a narrower scope, the scopes already granted: what the
 * resulting token carries when the response names none (RFC 6749 §5.1). For a refresh, the scopes asked for are first
 * narrowed to the granted ones, exactly as {@link toParams} sends them.
 *
 * @since 0.1.0
 * @category getters
 */
export const requestedScopes = (grant: Grant): ReadonlyArray<string> => {
  switch (grant._tag) {
    case "ClientCredentials":
      return grant.scopes
    case "AuthorizationCode":
      return grant.scopes ?? []
    case "RefreshToken":
      return refreshScopes(grant) ?? grant.grantedScopes ?? []
  }
}

/**
 * The scopes a refresh sends: those asked for that were granted (all of them when the granted scopes are unknown), or
 * `undefined` (no scope parameter, so the server keeps the granted scope) when that leaves none.
 */
const refreshScopes = (grant: RefreshToken): ReadonlyArray<string> | undefined => {
  if (grant.scopes === undefined || grant.scopes.length === 0) return undefined
  const granted = grant.grantedScopes
  const narrowed = granted === undefined ? grant.scopes : grant.scopes.filter((s) => granted.includes(s))
  return narrowed.length > 0 ? narrowed : undefined
}

/**
 * The form parameters of a grant. Secrets are unwrapped here, at the HTTP boundary.
 *
 * A refresh that asks for scopes beyond those granted is narrowed to the granted ones (RFC 6749 §6: the scope may not
 * grow).
 *
 * @since 0.1.0
 * @category encoding
 */
export const toParams = (grant: Grant, scopeDelimiter: string): Array<readonly [string, string]> => {
  switch (grant._tag) {
    case "ClientCredentials":
      return grant.scopes.length === 0
        ? [["grant_type", "client_credentials"]]
        : [["grant_type", "client_credentials"], ["scope", grant.scopes.join(scopeDelimiter)]]
    case "AuthorizationCode": {
      const params: Array<readonly [string, string]> = [
        ["grant_type", "authorization_code"],
        ["code", Redacted.value(grant.code)]
      ]
      if (grant.redirectUri !== undefined) params.push(["redirect_uri", grant.redirectUri])
      if (grant.codeVerifier !== undefined) params.push(["code_verifier", Redacted.value(grant.codeVerifier)])
      return params
    }
    case "RefreshToken": {
      const params: Array<readonly [string, string]> = [
        ["grant_type", "refresh_token"],
        ["refresh_token", Redacted.value(grant.refreshToken)]
      ]
      const scopes = refreshScopes(grant)
      if (scopes !== undefined) params.push(["scope", scopes.join(scopeDelimiter)])
      if (grant.redirectUri !== undefined) params.push(["redirect_uri", grant.redirectUri])
      if (grant.codeVerifier !== undefined) params.push(["code_verifier", Redacted.value(grant.codeVerifier)])
      return params
    }
  }
}
