/**
 * A provider as plain data, and everything core builds from it.
 *
 * A provider package writes one {@link Definition}: its name and title, the prefix of its environment variables, its
 * environments and their hosts, how tokens are had, its scopes, its authorization server (the facts `Endpoint`
 * models, with URLs written as templates over the hosts, e.g. `"{main}/auth/oauth2/token"`), revocation,
 * introspection and login (each a URL, or the reason there is none), its API bases, and a few named hooks for what is
 * truly its own. Core turns it into:
 *
 * - {@link resolve}: the one validation every provider goes through (credentials, environment, hosts and URLs,
 *   scopes, the definition's own `check`), failing with `InvalidConfiguration`;
 * - {@link make} / {@link layer} / {@link layerConfig}: the `OAuth2Client`, the cached `AccessTokens` and the
 *   authorised API clients, in the shape of `@effect/sql`'s `make` / `layer` / `layerConfig`;
 * - {@link config} and {@link variables}: the documented environment variables, as a `Config` and as a table a
 *   command or a README can print;
 * - {@link layers}: a provider package's `make` / `layer` / `layerConfig` / `config`, from its definition and one
 *   function to its own services (tags);
 * - {@link login}: the authorization-code login of a definition with a login endpoint;
 * - {@link SelfTest}: the shape of a provider's credential self-test (the CLI's `whoami`), {@link tokenGrant} where
 *   there is no identity call.
 *
 * ```ts
 * import { OAuth2Provider } from "@effect-oauth2/core"
 *
 * const definition: OAuth2Provider.Definition = {
 *   name: "example",
 *   title: "Example",
 *   envPrefix: "EXAMPLE",
 *   environments: { sandbox: { api: "https://sandbox.example.com" }, production: { api: "https://api.example.com" } },
 *   defaultEnvironment: "sandbox",
 *   acquire: "client_credentials",
 *   scopes: { kind: "open", known: ["read"], default: [], delimiter: " " },
 *   authorizationServer: { tokenUrl: "{api}/oauth2/token", authMethod: "client_secret_basic", defaultLifetime: "1 hour" },
 *   revocation: { unsupported: "Example documents no revocation endpoint." },
 *   introspection: { unsupported: "Example documents no introspection endpoint." },
 *   login: { unsupported: "Example uses the client-credentials grant." },
 *   apis: { api: "{api}" }
 * }
 * ```
 *
 * @since 0.2.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as HttpServer from "@effect/platform/HttpServer"
import * as AccessTokens from "./AccessTokens.js"
import type * as ClientAuth from "./ClientAuth.js"
import type * as AccessToken from "./AccessToken.js"
import * as AuthorizationCode from "./AuthorizationCode.js"
import type * as Endpoint from "./Endpoint.js"
import * as internal from "./internal/oauth2Provider.js"
import * as OAuth2Client from "./OAuth2Client.js"
import type { InvalidConfiguration, OAuth2Error } from "./OAuth2Error.js"
import type * as OAuth2HttpClient from "./OAuth2HttpClient.js"
import * as RefreshTokenLifetime from "./RefreshTokenLifetime.js"
import * as TokenStore from "./TokenStore.js"

// -----------------------------------------------------------------------------
// the definition
// -----------------------------------------------------------------------------

/**
 * The hosts of one environment, by name: `{ main: "https://www.figuremarkets.dev", trade: "https://trade..." }`.
 * A host the provider documents no default for (Openmarkets' API) is left out: whatever needs it refuses to run
 * until the user names it.
 *
 * @since 0.2.0
 * @category models
 */
export type Hosts = Readonly<Record<string, string>>

/**
 * Something a provider has (its URL, a template over the hosts such as `"{main}/auth/oauth2/revoke"`), or the reason
 * it has none, told to the user as the hint of `Unsupported` (and printed by the CLI).
 *
 * @since 0.2.0
 * @category models
 */
export type Feature =
  | {
    readonly url: string
    /** Said to the user after it is used, e.g. how long a revoked token may still work. Default: nothing. */
    readonly note?: string | undefined
  }
  | { readonly unsupported: string }

/**
 * The authorization-code login of a provider: the authorize endpoint (a template over the hosts) and how the
 * authorization request is made there. {@link login} runs it.
 *
 * @since 0.2.0
 * @category models
 */
export interface LoginEndpoint {
  /** The authorize endpoint, e.g. `"{main}/oauth/authorize"`. */
  readonly url: string
  /** Send a PKCE S256 challenge (RFC 7636). Default: `false`. */
  readonly pkce?: boolean | undefined
  /**
   * More authorize parameters the provider requires, e.g. TradeStation's `{ audience: "https://api.tradestation.com" }`.
   * Default: none.
   */
  readonly params?: Readonly<Record<string, string>> | undefined
  /** The callback path of the loopback listener. Default: `"/callback"`. */
  readonly path?: string | undefined
  /**
   * Send the listener's address as `redirect_uri`. Default: `true`; `false` for a provider that uses the registered
   * callback only (the listener must then be at that address).
   */
  readonly sendRedirectUri?: boolean | undefined
  /**
   * The callback URL registered with the provider, for a provider that redirects only there (compared byte for byte,
   * e.g. Schwab's `"https://127.0.0.1:8182"`): sent verbatim as `redirect_uri`, the listener's scheme, host, port and
   * path follow it. Users change it with `Settings.callbackUrl` or `{PREFIX}_CALLBACK_URL`, which must keep its
   * scheme, name a loopback host and a port, and carry no query. Default: none (the listener's own address).
   *
   * @since 0.2.0
   */
  readonly callbackUrl?: string | undefined
  /**
   * Reads the code of the callback's query, already percent-decoded once (Schwab's `%40`). Default: as it is.
   *
   * @since 0.2.0
   */
  readonly decodeCode?: ((code: string) => string) | undefined
  /**
   * How long the provider's codes live, named in the error when a code is refused (Schwab's "about 30 seconds").
   * Default: none.
   *
   * @since 0.2.0
   */
  readonly codeLifetime?: Duration.DurationInput | undefined
}

/**
 * The provider's scopes.
 *
 * @since 0.2.0
 * @category models
 */
export interface Scopes {
  /**
   * - `"open"`: any well-formed scope (RFC 6749 §3.3: one word, no quote or backslash) is passed on; `known` documents
   *   the usual ones;
   * - `"closed"`: only the `known` scopes are accepted;
   * - `"none"`: the provider takes no scope; giving one is a configuration error.
   */
  readonly kind: "open" | "closed" | "none"
  /** The documented scopes. */
  readonly known: ReadonlyArray<string>
  /** The scopes asked for when none are given. */
  readonly default: ReadonlyArray<string>
  /** Whether at least one scope must be asked for. Default: `false`. */
  readonly required?: boolean | undefined
  /** What separates scopes in token requests (RFC 6749: a space). */
  readonly delimiter: string
  /**
   * What separates scopes in the authorize URL. Default: `delimiter`. When it is a comma, the `{PREFIX}_SCOPES`
   * variable accepts commas too.
   */
  readonly authorizeDelimiter?: string | undefined
}

/**
 * The authorization server, as `Endpoint` models it, with its URLs written as templates over the hosts. The fields
 * taken from `Endpoint.Options` keep their defaults there (Basic encoding `"form"`, `["Bearer"]` accepted, ...).
 *
 * @since 0.2.0
 * @category models
 */
export interface AuthorizationServer extends
  Pick<
    Endpoint.Options,
    | "basicEncoding"
    | "maxLifetime"
    | "defaultTokenType"
    | "acceptedTokenTypes"
    | "readableMembers"
    | "headers"
    | "params"
    | "bodyFormat"
    | "sendClientId"
    | "errorBody"
    | "refreshWithPkce"
  >
{
  /** The token endpoint, e.g. `"{main}/auth/oauth2/token"`. */
  readonly tokenUrl: string
  /** Where refresh grants go, when not the token endpoint, e.g. `"{api}/v1/oauth/refreshtoken"`. */
  readonly refreshUrl?: string | undefined
  /** How the client authenticates. */
  readonly authMethod: ClientAuth.Method
  /** The lifetime of a token whose response has no `expires_in`. */
  readonly defaultLifetime: Duration.DurationInput
}

/**
 * One more environment variable a provider package reads itself (Figure Pay's API version, Tradier's static token),
 * listed by {@link variables} after the common ones.
 *
 * @since 0.2.0
 * @category models
 */
export interface Variable {
  /** The full name, e.g. `"FIGURE_PAY_API_VERSION"`. */
  readonly name: string
  /** What it sets. */
  readonly meaning: string
  /** What applies when it is unset: `"required"`, a value, or a sentence. */
  readonly default: string
}

/**
 * What is truly one provider's own, each under a name that says what it does.
 *
 * @since 0.2.0
 * @category models
 */
export interface Hooks {
  /**
   * A check of the resolved settings beyond the common ones; returns what is wrong (the description of the
   * `InvalidConfiguration`), or `undefined`. Figure Markets: no token or revocation URL on the trading host.
   */
  readonly check?: ((resolved: Resolved) => string | undefined) | undefined
  /**
   * Applied to the authorised client before each API's base URL (so it sees relative URLs): extra headers, a response
   * observer. Tradier: `Accept: application/json` unless the caller names a type.
   */
  readonly transformClient?:
    | ((client: OAuth2HttpClient.Authorized, resolved: ResolvedHosts) => OAuth2HttpClient.Authorized)
    | undefined
  /**
   * What it means at this provider when the API rejects a token even after a replay with a fresh one (wrong
   * environment, revoked access...): becomes the `hint` of that `Unauthorized` (`rejected-token`).
   */
  readonly rejectedTokenHint?: ((resolved: Resolved) => string) | undefined
  /**
   * Keep a rejected token that has no refresh token (see `AccessTokens.Options.keepUnrenewableOnInvalidate`), for a
   * provider whose tokens only a login renews. Default: `false`.
   */
  readonly keepUnrenewableOnInvalidate?: boolean | undefined
}

/**
 * A provider, as plain data. See the module documentation and `docs/ADD-A-PROVIDER.md`.
 *
 * @since 0.2.0
 * @category models
 */
export interface Definition {
  /** The short name used in logs, spans, metrics, errors and token-store keys, e.g. `"figure-markets"`. */
  readonly name: string
  /** The name people read, e.g. `"Figure Markets"`. */
  readonly title: string
  /** The prefix of its environment variables, e.g. `"FIGURE_MARKETS"` (`FIGURE_MARKETS_CLIENT_ID`...). */
  readonly envPrefix: string
  /** Each environment's hosts, test environment first. */
  readonly environments: Readonly<Record<string, Hosts>>
  /** The environment used when none is given: a test one, so that nothing reaches production by accident. */
  readonly defaultEnvironment: string
  /**
   * Where tokens come from: `"client_credentials"` requests, `"stored"` ones (an authorization-code login puts
   * them in the `TokenStore`; see `AccessTokens.Options.acquire`), or `"refresh_token"`: refreshing a refresh token
   * the user gives (`Settings.refreshToken`, `{PREFIX}_REFRESH_TOKEN`), a personal grant minted in the provider's
   * web UI (tastytrade).
   */
  readonly acquire: "client_credentials" | "stored" | "refresh_token"
  /**
   * The `User-Agent` sent to the authorization server and the APIs, for a provider that requires one (tastytrade
   * refuses requests without `<product>/<version>`); users change it with `Settings.userAgent` or
   * `{PREFIX}_USER_AGENT`. Default: none (the platform's own).
   */
  readonly userAgent?: string | undefined
  /** Its scopes. */
  readonly scopes: Scopes
  /** Its authorization server. */
  readonly authorizationServer: AuthorizationServer
  /** Token revocation (RFC 7009): the endpoint, or why there is none. */
  readonly revocation: Feature
  /** Token introspection (RFC 7662): the endpoint, or why there is none. */
  readonly introspection: Feature
  /** The authorization-code login: the authorize endpoint and how to ask there, or why there is none. */
  readonly login: LoginEndpoint | { readonly unsupported: string }
  /**
   * When the provider's refresh tokens die where its server does not say (`refresh_token_expires_in`), e.g. Schwab's
   * `{ duration: "7 days", from: "login" }`: stamped on every token (see `RefreshTokenLifetime`). Users change it
   * with `Settings.refreshTokenLifetime`. Default: none (the server's word only).
   */
  readonly refreshTokenLifetime?: RefreshTokenLifetime.Rule | undefined
  /**
   * The API bases by name, as templates over the hosts: `{ trade: "{trade}/api/v1", rest: "{main}/trader" }`. Each
   * becomes an authorised client based there; the token is sent to these origins only.
   */
  readonly apis: Readonly<Record<string, string>>
  /**
   * The provider also takes public clients (apps without a secret, e.g. Saxo's PKCE apps): {@link config} reads
   * `{PREFIX}_CLIENT_SECRET` as optional, and the package's `definitionFor` picks a definition with `authMethod:
   * "none"` when none is given. Default: `false` (a secret is required unless `authMethod` is `"none"`).
   *
   * @since 0.2.0
   */
  readonly publicClients?: boolean | undefined
  /** More variables the provider package reads itself, for {@link variables}. Default: none. */
  readonly variables?: ReadonlyArray<Variable> | undefined
  /** What is its own. Default: none. */
  readonly hooks?: Hooks | undefined
}

// -----------------------------------------------------------------------------
// settings
// -----------------------------------------------------------------------------

/**
 * What a user gives a provider: credentials, the environment, scopes, host overrides, and the policies of the token
 * cache and the API clients. The same for every provider ({@link config} reads the common part from the
 * environment).
 *
 * @since 0.2.0
 * @category models
 */
export interface Settings extends OAuth2HttpClient.ApiBounds {
  /** The client id. Required. */
  readonly clientId: string
  /**
   * The client secret; a plain string is wrapped in `Redacted` at once. Required, but by a public client (a
   * definition whose `authMethod` is `"none"`, e.g. a PKCE app), which sends none.
   */
  readonly clientSecret?: Redacted.Redacted<string> | string | undefined
  /**
   * The callback URL registered with the provider, for a definition whose login names one (`LoginEndpoint.callbackUrl`):
   * written exactly as registered. Default: the definition's.
   *
   * @since 0.2.0
   */
  readonly callbackUrl?: string | undefined
  /**
   * The refresh token tokens come from, for a definition whose `acquire` is `"refresh_token"` (required there,
   * ignored elsewhere); a plain string is wrapped in `Redacted` at once.
   */
  readonly refreshToken?: Redacted.Redacted<string> | string | undefined
  /**
   * The `User-Agent` sent to the authorization server and the APIs. Default: the definition's `userAgent`, else the
   * platform's own.
   */
  readonly userAgent?: string | undefined
  /** Which environment's hosts to use. Default: the definition's `defaultEnvironment`. */
  readonly environment?: string | undefined
  /** The scopes to ask for. Default: the definition's default scopes. */
  readonly scopes?: ReadonlyArray<string> | undefined
  /**
   * Hosts that replace the environment's, by name (a proxy, a regional host, the emulator): `{ trade: "https://..." }`.
   * Default: none.
   */
  readonly hosts?: Readonly<Record<string, string | undefined>> | undefined
  /** The token endpoint, when not the definition's. Default: the definition's template over the hosts. */
  readonly tokenUrl?: string | undefined
  /** The revocation endpoint, when not the definition's. Default: the definition's template over the hosts. */
  readonly revocationUrl?: string | undefined
  /** How the Basic header encodes the credentials, when not the definition's. Default: the definition's. */
  readonly basicEncoding?: ClientAuth.BasicEncoding | undefined
  /** How long a request to the authorization server may take. Default: 30 seconds. */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** How long before expiry the background refresh starts. Default: 60 seconds. */
  readonly refreshSkew?: Duration.DurationInput | undefined
  /** The back-off of background refresh retries. Default: core's (exponential from 1 s, jittered, capped at 5 min). */
  readonly retrySchedule?: Schedule.Schedule<unknown, OAuth2Error> | undefined
  /** Revoke the cached token when the scope closes (where the provider can). Default: `false`. */
  readonly revokeOnClose?: boolean | undefined
  /** Start acquiring a token in the background as soon as it is built. Default: `false`. */
  readonly prefetch?: boolean | undefined
  /** Keep refresh tokens and renew with them. `false` drops them (each token then lives its lifetime). Default: `true`. */
  readonly refreshTokens?: boolean | undefined
  /** When refresh tokens die where the server does not say. Default: the definition's `refreshTokenLifetime`. */
  readonly refreshTokenLifetime?: RefreshTokenLifetime.Rule | undefined
  /**
   * The lead times of the warnings before the refresh token dies (`AccessTokens.Options.refreshTokenWarnings`).
   * Default: 48 hours, 12 hours and 1 hour.
   */
  readonly refreshTokenWarnings?: ReadonlyArray<Duration.DurationInput> | undefined
  /** Called with each refresh-token event (`AccessTokens.Options.onRefreshTokenEvent`), e.g. to page an operator. */
  readonly onRefreshTokenEvent?: ((event: RefreshTokenLifetime.Event) => Effect.Effect<void, unknown>) | undefined
  /**
   * Applied to every authorised API client after the definition's own transform (the escape hatch of
   * `@effect/ai`'s `transformClient`). Default: none.
   */
  readonly transformClient?: ((client: OAuth2HttpClient.Authorized) => OAuth2HttpClient.Authorized) | undefined
}

/**
 * Where a provider's servers are, once the environment and the host overrides are applied and validated: the part
 * of {@link Resolved} that needs no credentials.
 *
 * @since 0.2.0
 * @category models
 */
export interface ResolvedHosts {
  /** The definition they were resolved against. */
  readonly definition: Definition
  /** The environment. */
  readonly environment: string
  /** The hosts (the environment's with the overrides), validated, without trailing slashes. */
  readonly hosts: Hosts
  /** The API bases by name; `undefined` for an API whose host is not known (see {@link Hosts}). */
  readonly apis: Readonly<Record<string, string | undefined>>
  /** The only origins the access token is ever sent to: the API bases'. */
  readonly allowedOrigins: ReadonlyArray<string>
  /** The `User-Agent` sent to the APIs (and the authorization server), if any. */
  readonly userAgent?: string | undefined
}

/**
 * The settings after defaults and validation.
 *
 * @since 0.2.0
 * @category models
 */
export interface Resolved extends ResolvedHosts {
  /** The scopes asked for, deduplicated. */
  readonly scopes: ReadonlyArray<string>
  /** The token-endpoint description handed to core. */
  readonly endpoint: Endpoint.Endpoint
  /** The client id and secret (`Redacted`). */
  readonly credentials: Endpoint.Credentials
  /** The refresh token tokens come from, where the definition's `acquire` is `"refresh_token"`. */
  readonly refreshToken?: Redacted.Redacted<string> | undefined
}

/**
 * Everything {@link make} builds.
 *
 * @since 0.2.0
 * @category models
 */
export interface Provider {
  /** The validated settings. */
  readonly resolved: Resolved
  /** The token-endpoint client (revocation, introspection). */
  readonly client: OAuth2Client.Service
  /** The cached, self-refreshing access tokens. */
  readonly tokens: AccessTokens.Service
  /** An authorised client per API of the definition, based at its URL. */
  readonly apis: Readonly<Record<string, OAuth2HttpClient.Authorized>>
}

// -----------------------------------------------------------------------------
// constructors
// -----------------------------------------------------------------------------

/**
 * The one validation of every provider: a non-empty client id and secret, a known environment, hosts and URLs that
 * are HTTPS (or HTTP on loopback) without credentials, query or fragment, scopes that are well-formed, present where
 * required and known where the list is closed, and the definition's own `check`. Fails with `InvalidConfiguration`
 * naming what is wrong (never a secret).
 *
 * @since 0.2.0
 * @category constructors
 */
export const resolve: (definition: Definition, settings: Settings) => Effect.Effect<Resolved, InvalidConfiguration> =
  internal.resolve

/**
 * The hosts of an environment with the overrides, the API bases and the allowed origins, validated: the part of
 * {@link resolve} that needs no credentials (e.g. for a static API token).
 *
 * @since 0.2.0
 * @category constructors
 */
export const resolveHosts: (
  definition: Definition,
  options: {
    readonly environment?: string | undefined
    readonly hosts?: Settings["hosts"]
    readonly userAgent?: string | undefined
  }
) => Effect.Effect<ResolvedHosts, InvalidConfiguration> = internal.resolveHosts

/**
 * The authorised API clients of the definition over given tokens and the plain `HttpClient` from the context: what
 * {@link make} builds, for tokens had another way (a static API token). `replay: false` fails a 401 at once instead
 * of replaying it with a new token.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeApis: (
  resolved: ResolvedHosts | Resolved,
  tokens: AccessTokens.Service,
  options?: {
    readonly replay?: boolean | undefined
    /** Overrides the definition's `rejectedTokenHint`. */
    readonly rejectedTokenHint?: string | undefined
    readonly transformClient?: Settings["transformClient"]
  } & OAuth2HttpClient.ApiBounds
) => Effect.Effect<Readonly<Record<string, OAuth2HttpClient.Authorized>>, never, HttpClient.HttpClient> =
  internal.makeApis

/**
 * Validates the settings ({@link resolve}) and builds the token-endpoint client, the cached `AccessTokens` and the
 * authorised API clients over the plain `HttpClient` from the context (which also serves the token endpoint: never
 * give it an authorised client). A `TokenStore` in the context is used when present. Scoped: the background refresh
 * lives as long as the scope.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (
  definition: Definition,
  settings: Settings
): Effect.Effect<Provider, InvalidConfiguration, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const resolved = yield* resolve(definition, settings)
    const client = yield* OAuth2Client.make({ endpoint: resolved.endpoint, credentials: resolved.credentials })
    const tokens = yield* AccessTokens.make({
      scopes: resolved.scopes,
      acquire: definition.acquire === "refresh_token" ? { refreshToken: resolved.refreshToken! } : definition.acquire,
      refreshSkew: settings.refreshSkew,
      retrySchedule: settings.retrySchedule,
      revokeOnClose: settings.revokeOnClose,
      prefetch: settings.prefetch,
      dropRefreshTokens: settings.refreshTokens === false,
      keepUnrenewableOnInvalidate: definition.hooks?.keepUnrenewableOnInvalidate,
      refreshTokenLifetime: settings.refreshTokenLifetime ?? definition.refreshTokenLifetime,
      refreshTokenWarnings: settings.refreshTokenWarnings,
      onRefreshTokenEvent: settings.onRefreshTokenEvent
    }).pipe(Effect.provideService(OAuth2Client.OAuth2Client, client))
    const apis = yield* makeApis(resolved, tokens, settings)
    return { resolved, client, tokens, apis }
  })

/**
 * {@link make} as a layer of core's `AccessTokens` and `OAuth2Client`. A provider package provides its own tags
 * instead (see `docs/ADD-A-PROVIDER.md`); this one serves a definition of your own, e.g. any RFC 6749 server.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (
  definition: Definition,
  settings: Settings
): Layer.Layer<AccessTokens.AccessTokens | OAuth2Client.OAuth2Client, InvalidConfiguration, HttpClient.HttpClient> =>
  layers(definition, toContext).layer(settings)

/**
 * {@link layer} with the settings read from a `Config`: by default {@link config} (the documented variables);
 * `Config.nested(OAuth2Provider.config(definition), "ACCOUNT_A")` reads `ACCOUNT_A_{PREFIX}_CLIENT_ID`..., so that
 * two accounts of one provider run side by side.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerConfig = (
  definition: Definition,
  settings: Config.Config.Wrap<Settings> = config(definition)
): Layer.Layer<
  AccessTokens.AccessTokens | OAuth2Client.OAuth2Client,
  ConfigError.ConfigError | InvalidConfiguration,
  HttpClient.HttpClient
> => layers(definition, toContext).layerConfig(settings)

/**
 * Core's services of a built provider: `AccessTokens` and `OAuth2Client`. Provider packages add their own tags.
 *
 * @since 0.2.0
 * @category constructors
 */
export const toContext: (
  provider: Provider
) => Context.Context<AccessTokens.AccessTokens | OAuth2Client.OAuth2Client> = internal.toContext

// -----------------------------------------------------------------------------
// a provider package's layers
// -----------------------------------------------------------------------------

/**
 * What a provider package builds from its definition with {@link layers}: the constructor, the layers and the
 * `Config`. `Services` is what the layers provide: core's `AccessTokens` and the package's own services.
 *
 * @since 0.2.0
 * @category models
 */
export interface Layers<Services, Options extends Settings = Settings> {
  /** The definition they are built from. */
  readonly definition: Definition
  /** The documented environment variables, as a `Config` (default: {@link config}). */
  readonly config: Config.Config<Options>
  /** Validates the options and builds the provider (default: {@link make}). Scoped. */
  readonly make: (
    options: Options
  ) => Effect.Effect<Provider, InvalidConfiguration, HttpClient.HttpClient | Scope.Scope>
  /** The services (core's `AccessTokens` and the package's own), over the plain `HttpClient`. */
  readonly layer: (options: Options) => Layer.Layer<Services, InvalidConfiguration, HttpClient.HttpClient>
  /**
   * {@link Layers.layer} with its options read from a `Config`: by default {@link Layers.config}; nest it
   * (`Config.nested(config, "DESK_A")`) to run two accounts side by side.
   */
  readonly layerConfig: (
    options?: Config.Config.Wrap<Options>
  ) => Layer.Layer<Services, ConfigError.ConfigError | InvalidConfiguration, HttpClient.HttpClient>
}

/**
 * A provider package's `make`, `layer`, `layerConfig` and `config` from its definition and one function: the one
 * from the built {@link Provider} to the package's own services (its tags). Core's `AccessTokens` is always added.
 *
 * ```ts
 * const acme = OAuth2Provider.layers(definition, (provider) =>
 *   Context.make(Tokens, provider.tokens).pipe(Context.add(HttpClient, provider.apis.api!)))
 *
 * export const layer = acme.layer
 * export const config = acme.config
 * export const layerConfig = acme.layerConfig
 * ```
 *
 * A package whose options add to core's settings (Figure Pay's API version) gives its own `config` and `make`
 * (which typically checks its option and calls {@link make} with a `transformClient`).
 *
 * @since 0.2.0
 * @category layers
 */
export const layers = <Services, Options extends Settings = Settings>(
  definition: Definition,
  services: (provider: Provider) => Context.Context<Services>,
  own: {
    readonly config?: Config.Config<Options> | undefined
    readonly make?: Layers<Services, Options>["make"] | undefined
  } = {}
): Layers<AccessTokens.AccessTokens | Services, Options> => {
  const build = own.make ?? ((options: Options) => make(definition, options))
  const defaultConfig = own.config ?? (config(definition) as Config.Config<Options>)
  const layer = (options: Options) =>
    Layer.scopedContext(
      Effect.map(build(options), (provider) => Context.add(services(provider), AccessTokens.AccessTokens, provider.tokens))
    )
  return {
    definition,
    config: defaultConfig,
    make: build,
    layer,
    layerConfig: (options) =>
      Layer.unwrapEffect(Effect.map(options === undefined ? defaultConfig : Config.unwrap(options), layer))
  }
}

// -----------------------------------------------------------------------------
// the credential self-test
// -----------------------------------------------------------------------------

/**
 * What a self-test found: a line for people, and the members of a machine-readable answer (`whoami --json`).
 *
 * @since 0.2.0
 * @category self-test
 */
export interface Report {
  readonly text: string
  readonly json: Readonly<Record<string, unknown>>
}

/**
 * A provider ready to call, as a self-test is given it: from a built {@link Provider} ({@link session}), or from a
 * mode of the package's own (Tradier's static token).
 *
 * @since 0.2.0
 * @category self-test
 */
export interface Session {
  readonly environment: string
  /** The scopes asked for. */
  readonly scopes: ReadonlyArray<string>
  readonly tokens: AccessTokens.Service
  /** An authorised client per API of the definition (`definition.apis`), based at its URL. */
  readonly apis: Readonly<Record<string, OAuth2HttpClient.Authorized>>
}

/**
 * A provider's credential self-test (the CLI's `whoami`): one call that shows the credentials and the token work,
 * made with the package's typed API client, and what it found. A provider package exports its own; one without an
 * identity call uses {@link tokenGrant}.
 *
 * @since 0.2.0
 * @category self-test
 */
export interface SelfTest {
  /** What it does, for `whoami --help`, e.g. `"GET /customers/me"`. */
  readonly describe: string
  readonly run: (session: Session) => Effect.Effect<Report, OAuth2Error>
}

/**
 * The {@link Session} of a built provider.
 *
 * @since 0.2.0
 * @category self-test
 */
export const session = (provider: Provider): Session => ({
  environment: provider.resolved.environment,
  scopes: provider.resolved.scopes,
  tokens: provider.tokens,
  apis: provider.apis
})

/**
 * The self-test of a provider without an identity call: a token grant, reported under the provider's name. `why`
 * says why that is the test.
 *
 * @since 0.2.0
 * @category self-test
 */
export const tokenGrant = (provider: string, why: string): SelfTest => ({
  describe: "a token grant",
  run: (session) =>
    Effect.map(session.tokens.get, (token): Report => {
      const scopes = token.scopes.length === 0 ? "for the client's whole plan" : `with scopes ${token.scopes.join(" ")}`
      return {
        text: `${provider} (${session.environment}): credentials accepted, a token was granted ${scopes}. ${why}`,
        json: { provider, environment: session.environment, check: "token", scopes: token.scopes }
      }
    })
})

// -----------------------------------------------------------------------------
// login
// -----------------------------------------------------------------------------

/**
 * The options of {@link login}: how the user is shown the authorize URL, how long to wait, and the listener's
 * callback. The definition's `login` gives the rest (PKCE, extra parameters, the path).
 *
 * @since 0.2.0
 * @category models
 */
export interface LoginOptions<E, R> extends
  Pick<
    AuthorizationCode.LoginOptions<E, R>,
    "onAuthorizeUrl" | "timeout" | "redirectHost" | "par" | "redirectUri" | "decodeCode" | "codeLifetime"
  >
{
  /** The callback path. Default: the definition's `login.path`, else `"/callback"`. */
  readonly path?: string | undefined
}

/**
 * What a login over a listener is: the token it stored, or why not; it needs the plain `HttpClient`, the loopback
 * `HttpServer` of the callback and the `TokenStore` it fills. The type of {@link login} and of a provider package's own.
 *
 * @since 0.2.0
 * @category login
 */
export type Login<E = never, R = never> = Effect.Effect<
  AccessToken.AccessToken,
  OAuth2Error | E,
  HttpClient.HttpClient | HttpServer.HttpServer | TokenStore.TokenStore | R
>

/**
 * What a login by paste is ({@link loginByPaste}): {@link Login} without a listener.
 *
 * @since 0.2.0
 * @category login
 */
export type PasteLogin<E = never, R = never> = Effect.Effect<
  AccessToken.AccessToken,
  OAuth2Error | E,
  HttpClient.HttpClient | TokenStore.TokenStore | R
>

/**
 * The callback URL a login of the definition goes back to: the settings' `callbackUrl`, else the definition's
 * `login.callbackUrl`, checked (a loopback URL with a port, of the definition's scheme, no query), with its port;
 * `undefined` when neither names one (the listener's own address is then sent). What a command line listens on.
 *
 * @since 0.2.0
 * @category login
 */
export const callbackUrl: (
  definition: Definition,
  settings: Pick<Settings, "callbackUrl">
) => Effect.Effect<{ readonly url: string; readonly port: number } | undefined, InvalidConfiguration> =
  internal.callbackUrl

/**
 * The key under which {@link login} stores a provider's tokens, and where a `stored` provider ({@link make}) reads
 * them: the provider's name, the environment, the client id and the scopes.
 *
 * @since 0.2.0
 * @category getters
 */
export const storeKey = (resolved: Resolved): TokenStore.Key => ({
  provider: resolved.definition.name,
  environment: resolved.environment,
  clientId: resolved.credentials.clientId,
  scopes: resolved.scopes
})

/**
 * The authorization-code login of a definition with a `login` endpoint: validates the settings ({@link resolve}),
 * listens on the loopback `HttpServer` in the context, shows the authorize URL (with the definition's PKCE and
 * parameters), exchanges the code at once, stamps the refresh token's death (`refreshTokenLifetime`, e.g. Schwab's 7
 * days from this login), and puts the token in the `TokenStore` under {@link storeKey}, where {@link make} reads it
 * for a `stored` definition. A definition without a login fails with `InvalidConfiguration` saying why.
 *
 * @since 0.2.0
 * @category login
 */
export const login = <E = never, R = never>(
  definition: Definition,
  settings: Settings,
  options: LoginOptions<E, R>
): Login<E, R> =>
  Effect.gen(function*() {
    const { callback, client, endpoint, resolved } = yield* loginStart(definition, settings, options.redirectUri)
    if (callback !== undefined) {
      const address = (yield* HttpServer.HttpServer).address
      if (address._tag === "TcpAddress") yield* internal.checkListener(definition, callback, address.port)
    }
    const granted = yield* AuthorizationCode.login({
      scopes: resolved.scopes,
      pkce: endpoint.pkce ?? false,
      extraParams: endpoint.params,
      sendRedirectUri: endpoint.sendRedirectUri ?? true,
      path: options.path ?? endpoint.path,
      timeout: options.timeout,
      redirectHost: options.redirectHost,
      redirectUri: options.redirectUri ?? callback?.url,
      decodeCode: options.decodeCode ?? endpoint.decodeCode,
      codeLifetime: options.codeLifetime ?? endpoint.codeLifetime,
      par: options.par,
      onAuthorizeUrl: options.onAuthorizeUrl
    }).pipe(Effect.provideService(OAuth2Client.OAuth2Client, client))
    return yield* storeLogin(definition, settings, resolved, granted)
  })

/** What both logins start with: the settings resolved, the login endpoint, the registered callback, the client. */
const loginStart = (definition: Definition, settings: Settings, redirectUri: string | undefined) =>
  Effect.gen(function*() {
    const resolved = yield* resolve(definition, settings)
    const endpoint = definition.login
    if (!("url" in endpoint)) {
      return yield* internal.invalid(definition, `${definition.title} has no login: ${endpoint.unsupported}`)
    }
    const callback = redirectUri === undefined ? yield* internal.callbackUrl(definition, settings) : undefined
    const client = yield* OAuth2Client.make({ endpoint: resolved.endpoint, credentials: resolved.credentials })
    return { resolved, endpoint, callback, client }
  })

/** A login's token: its refresh token's death stamped, stored under {@link storeKey}. */
const storeLogin = (definition: Definition, settings: Settings, resolved: Resolved, granted: AccessToken.AccessToken) =>
  Effect.gen(function*() {
    const stamped = RefreshTokenLifetime.apply(
      settings.refreshTokens === false ? AccessTokens.withoutRefreshToken(granted) : granted,
      settings.refreshTokenLifetime ?? definition.refreshTokenLifetime
    )
    const store = yield* TokenStore.TokenStore
    yield* store.set(storeKey(resolved), stamped)
    return stamped
  })

/**
 * The options of {@link loginByPaste}: how the user is shown the authorize URL, the registered callback URL, and the
 * reader of the URL the user pastes.
 *
 * @since 0.2.0
 * @category models
 */
export interface PasteLoginOptions<E, R> extends
  Pick<
    AuthorizationCode.PasteLoginOptions<E, R>,
    "onAuthorizeUrl" | "timeout" | "paste" | "decodeCode" | "codeLifetime"
  >
{
  /**
   * The redirect URI registered with the provider, sent verbatim. Default: the settings' `callbackUrl`, else the
   * definition's `login.callbackUrl` (one of them is required).
   */
  readonly redirectUri?: string | undefined
}

/**
 * {@link login} without a listener (`AuthorizationCode.loginByPaste`), for a machine with no browser or no free port:
 * the user opens the authorize URL anywhere and pastes back the URL the browser landed on; its state (and issuer) are
 * checked as the listener checks them and the code is exchanged at once. The token is stamped and stored as by
 * {@link login}.
 *
 * @since 0.2.0
 * @category login
 */
export const loginByPaste = <E = never, R = never>(
  definition: Definition,
  settings: Settings,
  options: PasteLoginOptions<E, R>
): PasteLogin<E, R> =>
  Effect.gen(function*() {
    const { callback, client, endpoint, resolved } = yield* loginStart(definition, settings, options.redirectUri)
    const redirectUri = options.redirectUri ?? callback?.url
    if (redirectUri === undefined) {
      return yield* internal.invalid(
        definition,
        `a login by paste needs the callback URL registered with the app: set callbackUrl ` +
          `(${definition.envPrefix}_CALLBACK_URL), exactly as registered.`
      )
    }
    const granted = yield* AuthorizationCode.loginByPaste({
      scopes: resolved.scopes,
      pkce: endpoint.pkce ?? false,
      extraParams: endpoint.params,
      timeout: options.timeout,
      redirectUri,
      paste: options.paste,
      decodeCode: options.decodeCode ?? endpoint.decodeCode,
      codeLifetime: options.codeLifetime ?? endpoint.codeLifetime,
      onAuthorizeUrl: options.onAuthorizeUrl
    }).pipe(Effect.provideService(OAuth2Client.OAuth2Client, client))
    return yield* storeLogin(definition, settings, resolved, granted)
  })

// -----------------------------------------------------------------------------
// environment variables
// -----------------------------------------------------------------------------

/**
 * The settings read from the documented environment variables ({@link variables}): `{PREFIX}_CLIENT_ID`,
 * `{PREFIX}_CLIENT_SECRET` (with `Config.redacted`), `{PREFIX}_ENV` (one of the environments, case-insensitive),
 * `{PREFIX}_SCOPES` (space-separated; commas too where the authorize URL uses them; not read where the provider takes
 * no scope), `{PREFIX}_{HOST}_URL` per host, and `{PREFIX}_TOKEN_URL`. A missing or bad value is a `ConfigError`
 * naming the variable (a URL that is not https, or http on loopback, included).
 *
 * @since 0.2.0
 * @category config
 */
export const config: (definition: Definition) => Config.Config<Settings> = internal.config

/**
 * {@link config} without the client id and secret: the environment, scopes, hosts and token URL, for a mode that
 * has no client credentials (a static API token).
 *
 * @since 0.2.0
 * @category config
 */
export const configWithoutCredentials: (
  definition: Definition
) => Config.Config<Omit<Settings, "clientId" | "clientSecret">> = internal.configWithoutCredentials

/**
 * The documented environment variables, in order: the common ones ({@link config}), then the definition's own.
 *
 * @since 0.2.0
 * @category config
 */
export const variables: (definition: Definition) => ReadonlyArray<Variable> = internal.variables

/**
 * Every host name a definition uses: its environments' and those its URL templates name, in order.
 *
 * @since 0.2.0
 * @category getters
 */
export const hostNames: (definition: Definition) => ReadonlyArray<string> = internal.hostNames

/**
 * A URL template with its `{host}` names replaced, or `undefined` when it names a host that is not given.
 *
 * @since 0.2.0
 * @category getters
 */
export const fillTemplate: (template: string, hosts: Readonly<Record<string, string | undefined>>) => string | undefined =
  internal.fillTemplate
