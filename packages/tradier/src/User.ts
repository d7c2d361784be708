/**
 * Tradier's user API, as far as this package uses it: the credential self-test on `GET /v1/user/profile`.
 *
 * @since 0.2.0
 */
import * as ApiResponse from "@effect-oauth2/core/ApiResponse"
import type * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"

const profileField = (body: unknown, name: string): string | undefined => {
  const profile = typeof body === "object" && body !== null ? (body as Record<string, unknown>)["profile"] : undefined
  const value = typeof profile === "object" && profile !== null ? (profile as Record<string, unknown>)[name] : undefined
  return typeof value === "string" ? value : undefined
}

/**
 * The credential self-test (`effect-oauth2 whoami tradier`): `GET /v1/user/profile`, reported as the user's id and
 * name (an answer without them is still a success: the token was accepted).
 *
 * @since 0.2.0
 * @category self-test
 */
export const selfTest: OAuth2Provider.SelfTest = {
  describe: "GET /v1/user/profile",
  run: ({ apis, environment }) =>
    Effect.map(
      ApiResponse.json(apis.api!, HttpClientRequest.get("/v1/user/profile"), {
        provider: "tradier",
        request: "GET /v1/user/profile",
        scopes: ["read"]
      }),
      (body): OAuth2Provider.Report => {
        const id = profileField(body, "id")
        const name = profileField(body, "name")
        return {
          text: `tradier (${environment}): ${
            id === undefined ? "the profile answered, without an id" : `user ${id}${name === undefined ? "" : ` (${name})`}`
          }`,
          json: { provider: "tradier", environment, id: id ?? null, name: name ?? null }
        }
      }
    )
}
