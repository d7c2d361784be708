/**
 * Where DPoP (RFC 9449) meets the wire: the proof on a token request and the `use_dpop_nonce` retry of the token
 * endpoint (§8), the token type a DPoP request may be answered with (§5), and the authorised API call with its proof
 * and the resource server's nonce retry (§7, §9). Each server refusal is retried at most once; a second is a typed
 * error.
 *
 * @internal
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { AccessToken } from "../AccessToken.js"
import type * as Dpop from "../Dpop.js"
import { InvalidConfiguration, type OAuth2Error, Unauthorized } from "../OAuth2Error.js"
import * as internal from "./dpop.js"
import { TEXT_MAX } from "./sanitize.js"
import * as wire from "./wire.js"

/** The token type of a DPoP-bound token (RFC 9449 §5). @internal */
export const TOKEN_TYPE = "DPoP"

/** Whether a token is DPoP-bound (its type is `DPoP`, in any case). @internal */
export const isBound = (token: AccessToken): boolean => token.type.toLowerCase() === "dpop"

const errorCode = (answer: wire.Answer): string | undefined =>
  typeof answer.body?.error === "string" ? answer.body.error : undefined

/** The server's sanitised description of a refusal. */
const describe = (answer: wire.Answer, ctx: wire.Context, now: number): string | undefined => {
  const error = wire.toError(answer, ctx, now)
  return error._tag === "ProtocolError" ? error.errorDescription : undefined
}

/**
 * One token request with a DPoP proof, and at most one more when the server answers `use_dpop_nonce` with a new
 * `DPoP-Nonce`. `run(proof)` sends the request. A second nonce refusal (or one without a nonce) is `Unauthorized`
 * (`use_dpop_nonce`); an `invalid_dpop_proof` refusal is `Unauthorized` (`invalid_dpop_proof`). @internal
 */
export const tokenRequest = <A extends { readonly answer: wire.Answer }>(
  dpop: Dpop.Service,
  url: string,
  ctx: wire.Context,
  run: (proof: string) => Effect.Effect<A, OAuth2Error>
): Effect.Effect<A, OAuth2Error> => {
  const attempt = (retried: boolean, nonce: string | undefined): Effect.Effect<A, OAuth2Error> =>
    Effect.flatMap(dpop.proof({ method: "POST", url, nonce }), (proof) =>
      Effect.flatMap(run(proof), (result) => {
        const answer = result.answer
        const given = dpop.rememberNonce(url, answer.headers)
        const code = answer.status >= 400 ? errorCode(answer) : undefined
        if (code === "use_dpop_nonce") {
          if (!retried && given !== undefined && given !== nonce) {
            return Effect.zipRight(
              Effect.logDebug("the token endpoint asked for a DPoP nonce; retrying once with it").pipe(
                Effect.annotateLogs({ provider: ctx.provider })
              ),
              attempt(true, given)
            )
          }
          return Effect.flatMap(Clock.currentTimeMillis, (now) => {
            const said = describe(answer, ctx, now)
            return Effect.fail(
              new Unauthorized({
                provider: ctx.provider,
                source: ctx.source,
                reason: "use_dpop_nonce",
                status: answer.status,
                description: (given === undefined
                  ? "the token endpoint asked for a DPoP nonce (use_dpop_nonce) without giving one (no DPoP-Nonce header)"
                  : "the token endpoint refused the DPoP nonce it had just given (use_dpop_nonce twice)") +
                  (said === undefined ? "" : `: ${said}`)
              })
            )
          })
        }
        if (code === "invalid_dpop_proof") {
          return Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Effect.fail(
              new Unauthorized({
                provider: ctx.provider,
                source: ctx.source,
                reason: "invalid_dpop_proof",
                status: answer.status,
                description: describe(answer, ctx, now)
              })
            ))
        }
        return Effect.succeed(result)
      }))
  return attempt(false, dpop.nonce(url))
}

/**
 * A token answered to a DPoP token request: a DPoP-bound one as it is; a Bearer one (the server did not bind it,
 * RFC 9449 §5) refused, or accepted with a warning under `onBearerToken: "accept"`. @internal
 */
export const checkTokenType = (
  dpop: Dpop.Service,
  token: AccessToken,
  provider: string
): Effect.Effect<AccessToken, InvalidConfiguration> => {
  if (isBound(token)) return Effect.succeed(token)
  if (dpop.onBearerToken === "accept") {
    return Effect.as(
      Effect.logWarning(
        `the token endpoint answered token_type ${token.type} to a DPoP request: the token is not bound to the DPoP ` +
          `key, and is used as a ${token.type} token (onBearerToken: "accept")`
      ).pipe(Effect.annotateLogs({ provider })),
      token
    )
  }
  return Effect.fail(
    new InvalidConfiguration({
      provider,
      source: "token-endpoint",
      description: `the token endpoint answered token_type ${token.type} to a request that carried a DPoP proof: the ` +
        "server did not bind the token to the DPoP key (RFC 9449 §5 lets a server without DPoP do so), and the token " +
        "is not used. Enable DPoP for this client at the server, or set Dpop's onBearerToken: \"accept\" to use " +
        "unbound tokens."
    })
  )
}

const drain = (response: HttpClientResponse.HttpClientResponse) => Effect.ignore(response.arrayBuffer)

/**
 * Sends an authorised request with a token: a DPoP-bound one as `Authorization: DPoP …` with a proof (`ath`
 * included), retried once when the resource server answers 401 `use_dpop_nonce` with a new `DPoP-Nonce`; any other
 * token (a Bearer one accepted under `onBearerToken: "accept"`) as `Authorization: Bearer …`. @internal
 */
export const execute = <E, R>(
  dpop: Dpop.Service,
  client: HttpClient.HttpClient.With<E, R>,
  request: HttpClientRequest.HttpClientRequest,
  token: AccessToken,
  provider: string
): Effect.Effect<HttpClientResponse.HttpClientResponse, E | OAuth2Error, R> => {
  const secret = Redacted.value(token.value)
  if (!isBound(token)) return client.execute(HttpClientRequest.setHeader(request, "authorization", `Bearer ${secret}`))
  const refusal = (
    response: HttpClientResponse.HttpClientResponse,
    reason: "use_dpop_nonce" | "invalid_dpop_proof",
    description: string | undefined
  ) =>
    Effect.zipRight(
      drain(response),
      Effect.fail(
        new Unauthorized({ provider, source: "resource-server", reason, status: response.status, description })
      )
    )
  const attempt = (
    retried: boolean,
    nonce: string | undefined
  ): Effect.Effect<HttpClientResponse.HttpClientResponse, E | OAuth2Error, R> =>
    Effect.flatMap(dpop.proof({ method: request.method, url: request.url, accessToken: token.value, nonce }), (proof) =>
      Effect.flatMap(
        client.execute(HttpClientRequest.setHeaders(request, { authorization: `DPoP ${secret}`, dpop: proof })),
        (response) => {
          const given = dpop.rememberNonce(request.url, response.headers)
          if (response.status !== 401) return Effect.succeed(response)
          const challenge = internal.parseDpopChallenge(response.headers["www-authenticate"])
          const serverText = wire.serverText(challenge?.error_description, TEXT_MAX, [secret])
          if (challenge?.error === "use_dpop_nonce") {
            if (!retried && given !== undefined && given !== nonce) {
              return Effect.zipRight(drain(response), attempt(true, given))
            }
            return refusal(
              response,
              "use_dpop_nonce",
              (given === undefined
                ? "the API asked for a DPoP nonce (use_dpop_nonce) without giving one (no DPoP-Nonce header)"
                : "the API refused the DPoP nonce it had just given (use_dpop_nonce twice)") +
                (serverText === undefined ? "" : `: ${serverText}`)
            )
          }
          if (challenge?.error === "invalid_dpop_proof") return refusal(response, "invalid_dpop_proof", serverText)
          return Effect.succeed(response)
        }
      ))
  return attempt(false, dpop.nonce(request.url))
}
