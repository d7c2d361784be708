/**
 * Tradier's static-token mode: `AccessTokens` for a static API token (no OAuth, nothing to acquire, refresh or
 * revoke), its layer, and the `Config` that picks this mode or the OAuth one.
 *
 * @internal
 */
import { AccessToken } from "@effect-oauth2/core/AccessToken"
import type * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import type * as OAuth2HttpClient from "@effect-oauth2/core/OAuth2HttpClient"
import type { InvalidConfiguration } from "@effect-oauth2/core/OAuth2Error"
import { Unsupported } from "@effect-oauth2/core/OAuth2Error"
import * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import { originOf } from "@effect-oauth2/core/ProviderConfig"
import type * as PlatformHttpClient from "@effect/platform/HttpClient"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import type { ConfigOptions, StaticTokenOptions } from "../Tradier.js"

/** A static token never expires: the largest instant a `Date` can show. @internal */
export const NEVER = 8_640_000_000_000_000

/** @internal */
export const make = (options: {
  readonly provider: string
  readonly token: Redacted.Redacted<string>
  readonly scopes: ReadonlyArray<string>
  readonly settingsHint: string
}): Effect.Effect<AccessTokens.Service> =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const ref = yield* Ref.make(
      new AccessToken({
        value: options.token,
        type: "Bearer",
        issuedAt: now,
        expiresAt: NEVER,
        scopes: options.scopes,
        extra: { static: true }
      })
    )
    const cannot = (operation: string) =>
      Effect.fail(new Unsupported({ provider: options.provider, source: "configuration", operation, hint: options.settingsHint }))
    return {
      provider: options.provider,
      get: Ref.get(ref),
      refresh: cannot("getting another static API token"),
      // Nothing to drop it for: there is no other token to get. A 401 fails the call instead (see httpClient.ts).
      invalidate: () => Effect.void,
      revoke: cannot("revoking a static API token"),
      current: Effect.map(Ref.get(ref), Option.some),
      set: (token) => Ref.set(ref, token),
      // A static token has no refresh token to die.
      refreshTokenEvents: Stream.empty
    }
  })

/** The static-token layer: the token as `AccessTokens`, and the API clients that never replay a 401. @internal */
export const layer = <Services>(
  definition: OAuth2Provider.Definition,
  options: StaticTokenOptions,
  services: (tokens: AccessTokens.Service, http: OAuth2HttpClient.Authorized) => Context.Context<Services>
): Layer.Layer<Services, InvalidConfiguration, PlatformHttpClient.HttpClient> =>
  Layer.effectContext(Effect.gen(function*() {
    const located = yield* OAuth2Provider.resolveHosts(definition, options)
    const tokens = yield* make({
      provider: definition.name,
      token: Redacted.isRedacted(options.token) ? options.token : Redacted.make(options.token),
      scopes: options.scopes ?? definition.scopes.known,
      settingsHint: "A static API token neither expires nor can be renewed here: generate a new one in your " +
        "Tradier account settings (API Access) and restart with it."
    })
    const apis = yield* OAuth2Provider.makeApis(located, tokens, {
      ...options,
      replay: false,
      rejectedTokenHint: `Tradier refused the static API token (HTTP 401); the call was not retried. Check the ` +
        `token in your Tradier account settings (API Access): it may have been regenerated, or belong to the other ` +
        `environment (this client calls ${located.environment} at ${originOf(located.hosts.api!)}; sandbox and ` +
        `production tokens differ).`
    })
    return services(tokens, apis.api!)
  }))

/** Either mode's options from the documented variables: a static token when `TRADIER_ACCESS_TOKEN` is set. @internal */
export const config = (definition: OAuth2Provider.Definition): Config.Config<ConfigOptions> =>
  Config.all({
    token: Config.option(Config.redacted(Config.nonEmptyString("TRADIER_ACCESS_TOKEN"))),
    clientId: Config.option(Config.nonEmptyString("TRADIER_CLIENT_ID")),
    clientSecret: Config.option(Config.redacted(Config.nonEmptyString("TRADIER_CLIENT_SECRET"))),
    rest: OAuth2Provider.configWithoutCredentials(definition)
  }).pipe(Config.mapOrFail(({ clientId, clientSecret, rest, token }) => {
    if (Option.isSome(token)) return Either.right<ConfigOptions>({ ...rest, token: token.value })
    if (Option.isSome(clientId) && Option.isSome(clientSecret)) {
      return Either.right<ConfigOptions>({ ...rest, clientId: clientId.value, clientSecret: clientSecret.value })
    }
    const missing = [
      Option.isNone(clientId) ? "TRADIER_CLIENT_ID" : [],
      Option.isNone(clientSecret) ? "TRADIER_CLIENT_SECRET" : []
    ].flat()
    return Either.left(ConfigError.MissingData(
      [],
      `${missing.join(" and ")} must be set for the OAuth mode (or TRADIER_ACCESS_TOKEN for a static API token)`
    ))
  }))
