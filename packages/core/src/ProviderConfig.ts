/**
 * Helpers for provider packages: base-URL validation for layers (typed `InvalidConfiguration`) and `Config` readers
 * for environment variables (`ConfigError` naming the variable), so every provider checks URLs and settings alike.
 *
 * @since 0.1.0
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Endpoint from "./Endpoint.js"
import * as OAuth2Error from "./OAuth2Error.js"

/**
 * Validates a base URL (https, or http on loopback; no credentials, query or fragment) and drops trailing slashes.
 *
 * @since 0.1.0
 * @category validation
 */
export const baseUrl = (
  provider: string,
  name: string,
  url: string
): Effect.Effect<string, OAuth2Error.InvalidConfiguration> =>
  Effect.flatMap(Endpoint.validateUrl(provider, name, url), (valid) => {
    const parsed = new URL(valid)
    if (parsed.search !== "" || parsed.hash !== "" || valid.includes("?") || valid.includes("#")) {
      return Effect.fail(
        new OAuth2Error.InvalidConfiguration({
          provider,
          source: "configuration",
          description: `${name} must be a base URL without a query or fragment.`
        })
      )
    }
    return Effect.succeed(valid.replace(/\/+$/, ""))
  })

/**
 * The origin of an absolute URL (already validated).
 *
 * @since 0.1.0
 * @category urls
 */
export const originOf = (url: string): string => new URL(url).origin

const ABSOLUTE = /^[a-z][a-z0-9+.-]*:/i

/**
 * Prefixes a relative request URL with `base` (a validated base URL without a trailing slash); an absolute URL is
 * left as it is, for an origin check (e.g. `withAccessToken`'s `allowedOrigins`) to refuse or accept.
 *
 * @since 0.1.0
 * @category urls
 */
export const resolveUrl = (base: string) => (request: HttpClientRequest.HttpClientRequest) =>
  ABSOLUTE.test(request.url)
    ? request
    : HttpClientRequest.setUrl(
      request,
      request.url === "" ? base : `${base}${request.url.startsWith("/") ? "" : "/"}${request.url}`
    )

/**
 * The host name of an absolute URL (already validated).
 *
 * @since 0.1.0
 * @category urls
 */
export const hostnameOf = (url: string): string => new URL(url).hostname

/**
 * An optional URL from the environment: a set but unusable value is a `ConfigError` naming the variable (the value
 * is not quoted: it could carry credentials).
 *
 * @since 0.1.0
 * @category config
 */
export const optionalUrl = (name: string): Config.Config<string | undefined> =>
  Config.string(name).pipe(
    Config.mapOrFail((value) => {
      const trimmed = value.trim()
      let parsed: URL
      try {
        parsed = new URL(trimmed)
      } catch {
        return Either.left(ConfigError.InvalidData([], `${name} must be an absolute URL, e.g. https://host`))
      }
      const secure = parsed.protocol === "https:" ||
        (parsed.protocol === "http:" && Endpoint.isLoopbackHost(parsed.hostname))
      if (!secure || parsed.username !== "" || parsed.password !== "") {
        return Either.left(
          ConfigError.InvalidData(
            [],
            `${name} must use https:// (plain http only on loopback) and carry no credentials`
          )
        )
      }
      return Either.right(trimmed)
    }),
    Config.option,
    Config.map(Option.getOrUndefined)
  )

/**
 * One of a fixed set of values from the environment (trimmed, case-insensitive), with a default when unset; any
 * other value is a `ConfigError` naming the variable and the allowed values.
 *
 * @since 0.1.0
 * @category config
 */
export const oneOf = <const A extends string>(
  name: string,
  allowed: ReadonlyArray<A>,
  fallback: A
): Config.Config<A> =>
  Config.string(name).pipe(
    Config.mapOrFail((value) => {
      const normalised = value.trim().toLowerCase()
      const match = allowed.find((a) => a === normalised)
      return match === undefined
        ? Either.left(
          ConfigError.InvalidData(
            [],
            `${name} must be one of ${allowed.join(", ")}; got ${JSON.stringify(value.slice(0, 40))}`
          )
        )
        : Either.right(match)
    }),
    Config.withDefault(fallback)
  )
