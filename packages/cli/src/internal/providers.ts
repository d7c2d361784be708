/**
 * The four providers as the command sees them: their environment variables, their demo credentials on the
 * emulator, what they support, and how to build each one's layers from the resolved settings.
 *
 * @internal
 */
import type * as AccessToken from "@effect-oauth2/core/AccessToken"
import * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as AuthorizationCode from "@effect-oauth2/core/AuthorizationCode"
import * as Discovery from "@effect-oauth2/core/Discovery"
import * as ApiResponse from "@effect-oauth2/core/ApiResponse"
import type * as Endpoint from "@effect-oauth2/core/Endpoint"
import * as Dpop from "@effect-oauth2/core/Dpop"
import * as OAuth2Client from "@effect-oauth2/core/OAuth2Client"
import * as ClientAuth from "@effect-oauth2/core/ClientAuth"
import type { InvalidConfiguration, OAuth2Error } from "@effect-oauth2/core/OAuth2Error"
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import * as Clients from "@effect-oauth2/emulator/Clients"
import type * as Emulator from "@effect-oauth2/emulator/Emulator"
import * as Banking from "@effect-oauth2/figure-pay/Banking"
import * as FigurePay from "@effect-oauth2/figure-pay/FigurePay"
import * as FigureMarkets from "@effect-oauth2/figure-markets/FigureMarkets"
import * as Trader from "@effect-oauth2/figure-markets/Trader"
import * as Openmarkets from "@effect-oauth2/openmarkets/Openmarkets"
import * as OpenmarketsEndpoint from "@effect-oauth2/openmarkets/OpenmarketsEndpoint"
import * as Tradier from "@effect-oauth2/tradier/Tradier"
import * as TradierEndpoint from "@effect-oauth2/tradier/TradierEndpoint"
import { MtlsHttpClient } from "@effect-oauth2/node"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpServer from "@effect/platform/HttpServer"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"

/** @internal */
export type ProviderName = "figure-markets" | "figure-pay" | "tradier" | "openmarkets" | "oauth2"

/**
 * The providers, then `oauth2`: any OAuth 2.0 server, found by discovery from its issuer (`--issuer`).
 *
 * @internal
 */
export const providerNames: ReadonlyArray<ProviderName> = [
  "figure-markets",
  "figure-pay",
  "tradier",
  "openmarkets",
  "oauth2"
]


/** What the command knows of a provider before any credentials are read. @internal */
export interface Descriptor {
  readonly name: ProviderName
  readonly title: string
  /** The prefix of its environment variables, e.g. `FIGURE_MARKETS`. */
  readonly prefix: string
  readonly environments: ReadonlyArray<string>
  readonly defaultEnvironment: string
  /** How `--scopes` is read: space-separated, comma- or space-separated, or not at all. */
  readonly scopes: "space" | "comma-or-space" | "none"
  /** Revocation: `undefined` when supported, otherwise what to do instead. */
  readonly noRevocation: string | undefined
  /** Introspection: `undefined` when supported, otherwise what to do instead. */
  readonly noIntrospection: string | undefined
  /** How the command logs in: `undefined` for the authorization code, otherwise why there is no login. */
  readonly noLogin: string | undefined
  /** The emulator's demo client; `undefined` where the emulator has none (`oauth2`). */
  readonly demo: { readonly clientId: string; readonly clientSecret: string } | undefined
  /** Every environment variable the command reads for it, documented in `--help` and the README. */
  readonly variables: ReadonlyArray<string>
}

const introspectionHint = "None of the four providers documents an introspection endpoint (RFC 7662) for clients " +
  "(Figure Markets introspects tokens inside its own gateway). To check that credentials and tokens work, run " +
  "`effect-oauth2 whoami <provider>`."

const noLogin = (name: string) =>
  `${name} uses the client-credentials grant: there is nothing to log in to. ` +
  `\`effect-oauth2 token ${name}\` gets a token directly.`

/** @internal */
export const descriptors: { readonly [P in ProviderName]: Descriptor } = {
  "figure-markets": {
    name: "figure-markets",
    title: "Figure Markets",
    prefix: "FIGURE_MARKETS",
    environments: Object.keys(FigureMarkets.environments),
    defaultEnvironment: FigureMarkets.defaultEnvironment,
    scopes: "space",
    noRevocation: undefined,
    noIntrospection: introspectionHint,
    noLogin: noLogin("figure-markets"),
    demo: Clients.figureMarketsDemo,
    variables: [
      "FIGURE_MARKETS_CLIENT_ID",
      "FIGURE_MARKETS_CLIENT_SECRET",
      "FIGURE_MARKETS_ENV",
      "FIGURE_MARKETS_SCOPES",
      "FIGURE_MARKETS_MAIN_URL",
      "FIGURE_MARKETS_TRADE_URL"
    ]
  },
  "figure-pay": {
    name: "figure-pay",
    title: "Figure Pay",
    prefix: "FIGURE_PAY",
    environments: Object.keys(FigurePay.environments),
    defaultEnvironment: FigurePay.defaultEnvironment,
    scopes: "none",
    noRevocation: "Figure Pay documents no revocation endpoint: to cut off a leaked secret, contact Figure Pay " +
      "support; tokens expire on their own after an hour.",
    noIntrospection: introspectionHint,
    noLogin: noLogin("figure-pay"),
    demo: Clients.figurePayDemo,
    variables: [
      "FIGURE_PAY_CLIENT_ID",
      "FIGURE_PAY_CLIENT_SECRET",
      "FIGURE_PAY_ENV",
      "FIGURE_PAY_API_URL",
      "FIGURE_PAY_API_VERSION"
    ]
  },
  tradier: {
    name: "tradier",
    title: "Tradier",
    prefix: "TRADIER",
    environments: TradierEndpoint.environments,
    defaultEnvironment: "sandbox",
    scopes: "comma-or-space",
    noRevocation: "Tradier documents no revocation endpoint: to end an application's access, remove it in your " +
      "Tradier account settings; a static API token is regenerated there too.",
    noIntrospection: introspectionHint,
    noLogin: undefined,
    demo: Clients.tradierDemo,
    variables: [
      "TRADIER_ACCESS_TOKEN",
      "TRADIER_CLIENT_ID",
      "TRADIER_CLIENT_SECRET",
      "TRADIER_ENV",
      "TRADIER_SCOPES",
      "TRADIER_API_URL"
    ]
  },
  openmarkets: {
    name: "openmarkets",
    title: "Openmarkets",
    prefix: "OPENMARKETS",
    environments: OpenmarketsEndpoint.environments,
    defaultEnvironment: "stage",
    scopes: "space",
    noRevocation: "Openmarkets documents no revocation endpoint: tokens expire on their own after an hour; to cut " +
      "off a leaked secret, ask Openmarkets to rotate it.",
    noIntrospection: introspectionHint,
    noLogin: noLogin("openmarkets"),
    demo: Clients.openmarketsDemo,
    variables: [
      "OPENMARKETS_CLIENT_ID",
      "OPENMARKETS_CLIENT_SECRET",
      "OPENMARKETS_ENV",
      "OPENMARKETS_SCOPES",
      "OPENMARKETS_TOKEN_URL",
      "OPENMARKETS_API_URL"
    ]
  },
  oauth2: {
    name: "oauth2",
    title: "OAuth 2.0 server",
    prefix: "EFFECT_OAUTH2",
    environments: [],
    defaultEnvironment: "default",
    scopes: "space",
    noRevocation: undefined,
    noIntrospection: undefined,
    noLogin: undefined,
    demo: undefined,
    variables: [
      "EFFECT_OAUTH2_ISSUER",
      "EFFECT_OAUTH2_CLIENT_ID",
      "EFFECT_OAUTH2_CLIENT_SECRET",
      "EFFECT_OAUTH2_PRIVATE_KEY_FILE",
      "EFFECT_OAUTH2_CERT_FILE",
      "EFFECT_OAUTH2_KEY_FILE",
      "EFFECT_OAUTH2_CA_FILE",
      "EFFECT_OAUTH2_AUTH_METHOD",
      "EFFECT_OAUTH2_KEY_ID",
      "EFFECT_OAUTH2_ALG",
      "EFFECT_OAUTH2_AUDIENCE",
      "EFFECT_OAUTH2_DPOP",
      "EFFECT_OAUTH2_SCOPES"
    ]
  }
}

/**
 * The emulator's URLs for a base URL, laid out as `@effect-oauth2/emulator` lays them out (its `Urls`).
 *
 * @internal
 */
export const emulatorUrls = (base: string): Emulator.Urls => ({
  figureMarkets: { main: `${base}/figure-markets`, trade: `${base}/figure-markets/trade` },
  figurePay: { api: `${base}/figure-pay` },
  tradier: { api: `${base}/tradier` },
  openmarkets: { identity: `${base}/openmarkets/identity`, api: `${base}/openmarkets/api` },
  control: `${base}/_emulator`
})

/** What `whoami` prints. @internal */
export interface Report {
  readonly text: string
  readonly json: Readonly<Record<string, unknown>>
}

/** The provider's credential self-test. @internal */
export class SelfTest extends Context.Tag("@effect-oauth2/cli/SelfTest")<
  SelfTest,
  Effect.Effect<Report, OAuth2Error>
>() {}

/** Everything a command needs of one provider, once its settings are read. @internal */
export interface Plan {
  readonly descriptor: Descriptor
  readonly environment: string
  /** The client id, when there is one (a static Tradier token has none). */
  readonly clientId: string | undefined
  /** How tokens are had. */
  readonly mode: "client_credentials" | "stored" | "static"
  /** The tokens and the self-test. */
  readonly layer: Layer.Layer<
    AccessTokens.AccessTokens | SelfTest,
    OAuth2Error,
    HttpClient.HttpClient | TokenStore.TokenStore
  >
  /**
   * The `HttpClient` for this plan's token endpoint and API calls when it needs its own (mutual TLS), in place of
   * the command's plain one.
   */
  readonly transport?: Layer.Layer<HttpClient.HttpClient, InvalidConfiguration> | undefined
  /** The token-endpoint client (revocation, introspection), when there is one. */
  readonly client: Effect.Effect<OAuth2Client.Service, OAuth2Error, HttpClient.HttpClient> | undefined
  /** Where `AccessTokens` keeps this client's token in a store, when it has one. */
  readonly storeKey: TokenStore.Key | undefined
  /**
   * The authorization-code login, which stores the token it gets: Tradier's (`stored` Tradier plans), or the `oauth2`
   * mode's (read for a login), which pushes the request (PAR, RFC 9126) when the server has a PAR endpoint.
   */
  readonly login:
    | (<E, R>(options: {
      readonly onAuthorizeUrl: (url: string) => Effect.Effect<unknown, E, R>
      readonly timeout: number
    }) => Effect.Effect<
      AccessToken.AccessToken,
      OAuth2Error | E,
      HttpClient.HttpClient | HttpServer.HttpServer | TokenStore.TokenStore | R
    >)
    | undefined
}

const optionalString = (name: string) =>
  Config.option(Config.nonEmptyString(name)).pipe(Config.map(Option.getOrUndefined))

const splitScopes = (text: string | undefined): ReadonlyArray<string> | undefined => {
  if (text === undefined) return undefined
  const scopes = text.split(/[\s,]+/).filter((s) => s !== "")
  return scopes.length === 0 ? undefined : scopes
}

const selfTestLayer = <R>(test: Effect.Effect<Report, OAuth2Error, R>): Layer.Layer<SelfTest, never, R> =>
  Layer.effect(SelfTest, Effect.map(Effect.context<R>(), (context) => Effect.provide(test, context)))

/** The self-test of a provider without an identity endpoint: a token grant. */
const tokenSelfTest = (provider: ProviderName, environment: string, why: string) =>
  Effect.gen(function*() {
    const tokens = yield* AccessTokens.AccessTokens
    const token = yield* tokens.get
    const scopes = token.scopes.length === 0 ? "for the client's whole plan" : `with scopes ${token.scopes.join(" ")}`
    return {
      text: `${provider} (${environment}): credentials accepted, a token was granted ${scopes}. ${why}`,
      json: { provider, environment, check: "token", scopes: token.scopes }
    }
  })

const openmarketsSelfTest = (environment: string) =>
  tokenSelfTest(
    "openmarkets",
    environment,
    "Openmarkets documents no identity endpoint, so the token grant is the self-test."
  )

const figureMarkets = (urls: Emulator.Urls | undefined) =>
  Effect.gen(function*() {
    const fromEnv = yield* FigureMarkets.config
    const options: FigureMarkets.Options = { ...fromEnv, ...(urls === undefined ? {} : FigureMarkets.emulatorUrls(urls)) }
    const resolved = yield* FigureMarkets.resolve(options)
    const whoAmI = Effect.map(Trader.whoAmI, (me): Report => ({
      text: `figure-markets (${resolved.environment}): ${
        me.firmId !== undefined && me.userId !== undefined ? `firm ${me.firmId}, user ${me.userId} (${me.user})` : me.user
      }`,
      json: {
        provider: "figure-markets",
        environment: resolved.environment,
        user: me.user,
        firmId: me.firmId ?? null,
        userId: me.userId ?? null
      }
    }))
    const plan: Plan = {
      descriptor: descriptors["figure-markets"],
      environment: resolved.environment,
      clientId: resolved.credentials.clientId,
      mode: "client_credentials",
      layer: selfTestLayer(whoAmI).pipe(Layer.provideMerge(FigureMarkets.layer(options))),
      client: OAuth2Client.make({ endpoint: resolved.endpoint, credentials: resolved.credentials }),
      storeKey: {
        provider: FigureMarkets.provider,
        environment: resolved.environment,
        clientId: resolved.credentials.clientId,
        scopes: resolved.scopes
      },
      login: undefined
    }
    return plan
  })

const figurePay = (urls: Emulator.Urls | undefined) =>
  Effect.gen(function*() {
    const fromEnv = yield* FigurePay.config
    const options: FigurePay.Options = { ...fromEnv, ...(urls === undefined ? {} : FigurePay.emulatorUrls(urls)) }
    const resolved = yield* FigurePay.resolve(options)
    const listProfiles = Effect.map(Banking.listProfiles, (profiles): Report => ({
      text: `figure-pay (${resolved.environment}): credentials accepted; ${profiles.length} profile(s)${
        profiles.length === 0 ? "" : `: ${profiles.map((p) => p.id).join(", ")}`
      }`,
      json: {
        provider: "figure-pay",
        environment: resolved.environment,
        profiles: profiles.map((p) => ({ id: p.id, type: p.type ?? null, status: p.status ?? null }))
      }
    }))
    const plan: Plan = {
      descriptor: descriptors["figure-pay"],
      environment: resolved.environment,
      clientId: resolved.credentials.clientId,
      mode: "client_credentials",
      layer: selfTestLayer(listProfiles).pipe(Layer.provideMerge(FigurePay.layer(options))),
      client: OAuth2Client.make({ endpoint: resolved.endpoint, credentials: resolved.credentials }),
      storeKey: {
        provider: FigurePay.provider,
        environment: resolved.environment,
        clientId: resolved.credentials.clientId,
        scopes: []
      },
      login: undefined
    }
    return plan
  })

const tradierProfile = (environment: string) =>
  Effect.gen(function*() {
    const http = yield* Tradier.HttpClient
    const ctx: ApiResponse.Context = { provider: "tradier", request: "GET /v1/user/profile", scopes: ["read"] }
    const body = yield* http.get("/v1/user/profile").pipe(
      Effect.flatMap((response) => ApiResponse.readJson(response, ctx)),
      Effect.mapError((error) => ApiResponse.toOAuth2Error(error, ctx)),
      Effect.scoped
    )
    const profile = typeof body === "object" && body !== null && "profile" in body
      ? (body as { readonly profile: unknown }).profile
      : undefined
    const field = (name: string): string | undefined => {
      const value = typeof profile === "object" && profile !== null
        ? (profile as Record<string, unknown>)[name]
        : undefined
      return typeof value === "string" ? value : undefined
    }
    const id = field("id")
    const name = field("name")
    const report: Report = {
      text: `tradier (${environment}): ${
        id === undefined ? "the profile answered, without an id" : `user ${id}${name === undefined ? "" : ` (${name})`}`
      }`,
      json: { provider: "tradier", environment, id: id ?? null, name: name ?? null }
    }
    return report
  })

const tradier = (urls: Emulator.Urls | undefined, purpose: Purpose) =>
  Effect.gen(function*() {
    const environment = yield* Tradier.environmentConfig
    const apiUrl = urls === undefined ? yield* optionalString("TRADIER_API_URL") : TradierEndpoint.fromEmulatorUrls(urls).apiUrl
    const scopes = splitScopes(yield* optionalString("TRADIER_SCOPES"))
    const staticToken = purpose === "login"
      ? Option.none<Redacted.Redacted<string>>()
      : yield* Config.option(Config.redacted(Config.nonEmptyString("TRADIER_ACCESS_TOKEN")))
    const descriptor = descriptors.tradier
    if (Option.isSome(staticToken)) {
      const plan: Plan = {
        descriptor,
        environment,
        clientId: undefined,
        mode: "static",
        layer: selfTestLayer(tradierProfile(environment)).pipe(
          Layer.provideMerge(Tradier.layerStaticToken({ token: staticToken.value, environment, apiUrl, scopes }))
        ),
        client: undefined,
        storeKey: undefined,
        login: undefined
      }
      return plan
    }
    const clientId = yield* Config.nonEmptyString("TRADIER_CLIENT_ID")
    const clientSecret = yield* Config.redacted(Config.nonEmptyString("TRADIER_CLIENT_SECRET"))
    const options: Tradier.Options = { clientId, clientSecret, environment, apiUrl, scopes }
    const plan: Plan = {
      descriptor,
      environment,
      clientId,
      mode: "stored",
      layer: selfTestLayer(tradierProfile(environment)).pipe(Layer.provideMerge(Tradier.layer(options))),
      client: Effect.flatMap(
        TradierEndpoint.make(options),
        (endpoint: Endpoint.Endpoint) => OAuth2Client.make({ endpoint, credentials: { clientId, clientSecret } })
      ),
      storeKey: Tradier.storeKey(options),
      login: (login) => Tradier.login({ ...options, onAuthorizeUrl: login.onAuthorizeUrl, timeout: login.timeout })
    }
    return plan
  })

const openmarkets = (urls: Emulator.Urls | undefined) =>
  Effect.gen(function*() {
    const fromEnv = yield* Config.all({
      clientId: Config.nonEmptyString("OPENMARKETS_CLIENT_ID"),
      clientSecret: Config.redacted(Config.nonEmptyString("OPENMARKETS_CLIENT_SECRET")),
      environment: Openmarkets.environmentConfig,
      scopes: Openmarkets.scopesConfig,
      tokenUrl: optionalString("OPENMARKETS_TOKEN_URL"),
      apiUrl: optionalString("OPENMARKETS_API_URL")
    })
    const options: Openmarkets.Options = {
      ...fromEnv,
      ...(urls === undefined ? {} : OpenmarketsEndpoint.fromEmulatorUrls(urls))
    }
    const plan: Plan = {
      descriptor: descriptors.openmarkets,
      environment: fromEnv.environment,
      clientId: fromEnv.clientId,
      mode: "client_credentials",
      layer: selfTestLayer(openmarketsSelfTest(fromEnv.environment)).pipe(
        Layer.provideMerge(Openmarkets.layer(options))
      ),
      client: Effect.flatMap(
        OpenmarketsEndpoint.make(options),
        (endpoint) => OAuth2Client.make({ endpoint, credentials: { clientId: fromEnv.clientId, clientSecret: fromEnv.clientSecret } })
      ),
      storeKey: {
        provider: OpenmarketsEndpoint.provider,
        environment: fromEnv.environment,
        clientId: fromEnv.clientId,
        scopes: fromEnv.scopes ?? []
      },
      login: undefined
    }
    return plan
  })

const authMethodConfig = Config.option(Config.literal(...ClientAuth.methods)("EFFECT_OAUTH2_AUTH_METHOD")).pipe(
  Config.map(Option.getOrUndefined)
)

/**
 * What the `oauth2` mode reads from files rather than the `ConfigProvider`: the private key, and for mutual TLS the
 * certificate, its key and the servers' CA. @internal
 */
export interface Secrets {
  readonly privateKey: Redacted.Redacted<string> | undefined
  readonly certificate?: string | undefined
  readonly certificateKey?: Redacted.Redacted<string> | undefined
  readonly ca?: string | undefined
}

/**
 * `oauth2`: any server, its endpoints and authentication methods found by discovery (RFC 8414 / OpenID Connect
 * Discovery) from `EFFECT_OAUTH2_ISSUER`; the client authenticates with its secret or, with a private key,
 * `private_key_jwt`. The issuer and the methods are checked before any token request.
 */
const discovered = (secrets: Secrets, purpose: Purpose) =>
  Effect.gen(function*() {
    const fromEnv = yield* Config.all({
      issuer: Config.nonEmptyString("EFFECT_OAUTH2_ISSUER"),
      clientId: Config.nonEmptyString("EFFECT_OAUTH2_CLIENT_ID"),
      clientSecret: Config.option(Config.redacted(Config.nonEmptyString("EFFECT_OAUTH2_CLIENT_SECRET"))).pipe(
        Config.map(Option.getOrUndefined)
      ),
      method: authMethodConfig,
      keyId: optionalString("EFFECT_OAUTH2_KEY_ID"),
      algorithm: optionalString("EFFECT_OAUTH2_ALG"),
      audience: optionalString("EFFECT_OAUTH2_AUDIENCE"),
      dpop: Config.boolean("EFFECT_OAUTH2_DPOP").pipe(Config.withDefault(false)),
      scopes: optionalString("EFFECT_OAUTH2_SCOPES")
    })
    const issuer = fromEnv.issuer.trim()
    let host: string
    try {
      host = new URL(issuer).host
    } catch {
      host = issuer
    }
    const scopes = splitScopes(fromEnv.scopes) ?? []
    const environment = host
    const credentials = {
      clientId: fromEnv.clientId,
      clientSecret: fromEnv.clientSecret,
      privateKey: secrets.privateKey,
      assertion: {
        // An unknown name is refused by ClientAuth, with the names it takes.
        algorithm: fromEnv.algorithm as ClientAuth.AssertionOptions["algorithm"],
        keyId: fromEnv.keyId,
        audience: fromEnv.audience
      }
    }
    // Mutual TLS (RFC 8705) with --cert/--key: the certificate on every connection, the server's mtls aliases, and
    // tls_client_auth when neither a secret nor a private key is given and no method is named.
    const mtls = secrets.certificate !== undefined && secrets.certificateKey !== undefined
    const transport = mtls
      ? MtlsHttpClient.layer({
        certificate: secrets.certificate!,
        privateKey: secrets.certificateKey!,
        ca: secrets.ca,
        provider: host
      }).pipe(Layer.map((context) => Context.pick(HttpClient.HttpClient)(context)))
      : undefined
    const method = fromEnv.method ??
      (mtls && fromEnv.clientSecret === undefined && secrets.privateKey === undefined ? "tls_client_auth" : undefined)
    const discoveredClient = OAuth2Client.layerDiscovery({
      issuer,
      credentials,
      method,
      endpoint: { provider: host, environment },
      discovery: { mtls }
    })
    // DPoP: a key pair for this command, its algorithm chosen from (and checked against) the server's metadata.
    const clientLayer = fromEnv.dpop
      ? discoveredClient.pipe(
        Layer.provide(Dpop.layer().pipe(Layer.provide(Discovery.layer({ issuer, provider: host }))))
      )
      : discoveredClient
    // Discovery runs once per command, whether the token or only the client is used.
    const client = yield* Effect.cached(Effect.provide(OAuth2Client.OAuth2Client, clientLayer))
    const storeKey: TokenStore.Key = { provider: host, environment, clientId: fromEnv.clientId, scopes }
    // The login: PKCE S256 (checked against the metadata), and PAR whenever the server has a PAR endpoint (it must,
    // when it requires it); the token lands in the store, where `token oauth2 --store` reads and refreshes it.
    const login: Plan["login"] = (options) =>
      Effect.gen(function*() {
        const context = yield* Layer.build(
          OAuth2Client.layerDiscovery({
            issuer,
            credentials,
            method: fromEnv.method,
            pkce: true,
            endpoint: { provider: host, environment }
          })
        )
        const metadata = Context.get(context, Discovery.Discovery)
        const token = yield* AuthorizationCode.login({
          scopes,
          pkce: true,
          timeout: options.timeout,
          par: metadata.pushedAuthorizationRequestEndpoint === undefined ? false : { credentials },
          onAuthorizeUrl: options.onAuthorizeUrl
        }).pipe(Effect.provide(context))
        yield* Effect.flatMap(TokenStore.TokenStore, (store) => store.set(storeKey, token))
        return token
      }).pipe(Effect.scoped)
    const plan: Plan = {
      descriptor: descriptors.oauth2,
      environment,
      clientId: fromEnv.clientId,
      mode: purpose === "login" ? "stored" : "client_credentials",
      layer: selfTestLayer(
        tokenSelfTest("oauth2", environment, "A generic server has no known identity endpoint: the token grant is the self-test.")
      ).pipe(
        Layer.provideMerge(AccessTokens.layer({ scopes })),
        Layer.provide(Layer.effect(OAuth2Client.OAuth2Client, client))
      ),
      transport,
      client,
      storeKey,
      login: purpose === "login" ? login : undefined
    }
    return plan
  })

/** What the settings are read for: a login never uses a static Tradier token. @internal */
export type Purpose = "tokens" | "login"

/**
 * Reads the provider's settings from the `ConfigProvider` in effect (flags, environment and config file merged by
 * the caller) and builds its plan.
 *
 * @internal
 */
export const plan = (
  provider: ProviderName,
  urls: Emulator.Urls | undefined,
  purpose: Purpose,
  secrets: Secrets = { privateKey: undefined }
): Effect.Effect<Plan, ConfigError.ConfigError | InvalidConfiguration> => {
  switch (provider) {
    case "figure-markets":
      return figureMarkets(urls)
    case "figure-pay":
      return figurePay(urls)
    case "tradier":
      return tradier(urls, purpose)
    case "openmarkets":
      return openmarkets(urls)
    case "oauth2":
      return discovered(secrets, purpose)
  }
}

