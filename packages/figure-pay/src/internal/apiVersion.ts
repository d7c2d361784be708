/**
 * The Banking API's versions: what a version is, how it is read from the environment, the header that selects it,
 * and the observer of `Deprecation` / `Sunset` headers and of 410 answers.
 *
 * @internal
 */
import * as OAuth2Error from "@effect-oauth2/core/OAuth2Error"
import type * as OAuth2HttpClient from "@effect-oauth2/core/OAuth2HttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"

const provider = "figure-pay"
/** @internal */
export const apiVersionHeader = "X-FigurePay-Api-Version"

/** Header values as they may appear in a log line: printable, bounded. */
const printable = (value: string | undefined): string | undefined =>
  value === undefined ? undefined : value.replace(/[^\x20-\x7E]/g, "?").slice(0, 200)

const pathOf = (url: string): string => {
  try {
    return new URL(url).pathname
  } catch {
    return url.replace(/[?#].*$/s, "")
  }
}

const observe = (apiVersion: string | undefined) =>
(
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<HttpClientResponse.HttpClientResponse, OAuth2Error.OAuth2Error> =>
  Effect.gen(function*() {
    const request = `${response.request.method} ${pathOf(response.request.url)}`
    const deprecation = printable(response.headers["deprecation"])
    const sunset = printable(response.headers["sunset"])
    if (deprecation !== undefined || sunset !== undefined) {
      const version = apiVersion === undefined ? "the account's default API version" : `API version ${apiVersion}`
      yield* Effect.logWarning(
        `Figure Pay announces the retirement of ${version} (${request}): Deprecation: ${deprecation ?? "(none)"}, Sunset: ${
          sunset ?? "(none)"
        }. Move ${apiVersionHeader} to a current version before the sunset.`
      ).pipe(
        Effect.annotateLogs({
          provider,
          apiVersion: apiVersion ?? "(default)",
          deprecation: deprecation ?? "",
          sunset: sunset ?? "",
          request
        })
      )
    }
    if (response.status === 410) {
      yield* Effect.ignore(response.arrayBuffer)
      return yield* new OAuth2Error.ProtocolError({
        provider,
        source: "resource-server",
        status: 410,
        errorDescription: `${request} answered 410 Gone: ${
          apiVersion === undefined
            ? "the account's default API version has been removed"
            : `API version ${apiVersion} (${apiVersionHeader}) has been removed`
        }; set apiVersion (FIGURE_PAY_API_VERSION) to a supported version`
      })
    }
    return response
  })

/**
 * The Banking client: `X-FigurePay-Api-Version` on every request when a version is set, a warning for each answer that
 * announces a retirement, a `ProtocolError` for a 410.
 *
 * @internal
 */
export const versioned = (apiVersion: string | undefined) =>
(client: OAuth2HttpClient.Authorized): OAuth2HttpClient.Authorized =>
  (apiVersion === undefined ? client : HttpClient.mapRequest(client, HttpClientRequest.setHeader(apiVersionHeader, apiVersion)))
    .pipe(HttpClient.transformResponse(Effect.flatMap(observe(apiVersion))))

/** A real calendar date written `YYYY-MM-DD`. @internal */
export const isApiVersion = (value: string): boolean => {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value)
  if (match === null) return false
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  const date = new Date(Date.UTC(year, month - 1, day))
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
}

/** The API version in a variable: optional, a `YYYY-MM-DD` date when set. @internal */
export const apiVersionConfig = (name: string): Config.Config<string | undefined> =>
  Config.string(name).pipe(
    Config.mapOrFail((value) =>
      isApiVersion(value.trim())
        ? Either.right(value.trim())
        : Either.left(ConfigError.InvalidData([], `${name} must be a date written YYYY-MM-DD, e.g. 2024-01-15`))
    ),
    Config.option,
    Config.map(Option.getOrUndefined)
  )
