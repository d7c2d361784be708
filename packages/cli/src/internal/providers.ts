/**
 * The providers as the command sees them: each one's `OAuth2Provider.Definition` (through its `CliProvider` entry)
 * for every fact, the emulator's hosts and demo credentials by provider name, and how to build each one's plan from
 * the resolved settings; and the `oauth2` mode (any server, found by discovery).
 *
 * @internal
 */
import type * as AccessToken from "@effect-oauth2/core/AccessToken"
import * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as AuthorizationCode from "@effect-oauth2/core/AuthorizationCode"
import * as Discovery from "@effect-oauth2/core/Discovery"
import * as Dpop from "@effect-oauth2/core/Dpop"
import * as OAuth2Client from "@effect-oauth2/core/OAuth2Client"
import * as ClientAuth from "@effect-oauth2/core/ClientAuth"
import type { InvalidConfiguration, OAuth2Error } from "@effect-oauth2/core/OAuth2Error"
import * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import * as RefreshTokenLifetime from "@effect-oauth2/core/RefreshTokenLifetime"
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import * as Clients from "@effect-oauth2/emulator/Clients"
import { MtlsHttpClient } from "@effect-oauth2/node"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpServer from "@effect/platform/HttpServer"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type * as CliProvider from "../CliProvider.js"

/** A provider's name (`definition.name`), or `oauth2`. @internal */
export type ProviderName = string

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
  /**
   * The emulator's demo client (and, for a provider that starts from a refresh token, its grant); `undefined` where
   * the emulator has none (`oauth2`).
   */
  readonly demo: Clients.DemoCredentials | undefined
  /** Every environment variable the command reads for it, documented in `--help` and the README. */
  readonly variables: ReadonlyArray<string>
  /** The variable of a static API token, where the provider has that mode. */
  readonly staticToken: string | undefined
  /** The provider's entry; `undefined` for `oauth2`. */
  readonly entry: CliProvider.CliProvider | undefined
}

const unsupported = (feature: OAuth2Provider.Feature): string | undefined =>
  "unsupported" in feature ? feature.unsupported : undefined

/** A provider's descriptor, read from its definition. @internal */
export const describe = (entry: CliProvider.CliProvider): Descriptor => {
  const definition = entry.definition
  const noLogin = unsupported(definition.login)
  return {
    name: definition.name,
    title: definition.title,
    prefix: definition.envPrefix,
    environments: Object.keys(definition.environments),
    defaultEnvironment: definition.defaultEnvironment,
    scopes: definition.scopes.kind === "none"
      ? "none"
      : definition.scopes.authorizeDelimiter === ","
      ? "comma-or-space"
      : "space",
    noRevocation: unsupported(definition.revocation),
    noIntrospection: unsupported(definition.introspection),
    noLogin,
    demo: Clients.demoCredentials[definition.name],
    variables: OAuth2Provider.variables(definition).map((v) => v.name),
    staticToken: entry.staticToken?.variable,
    entry: entry.afterRevoke === undefined && "note" in definition.revocation
      ? { ...entry, afterRevoke: definition.revocation.note }
      : entry
  }
}

/** `oauth2`: any OAuth 2.0 server, found by discovery from its issuer (`--issuer`). @internal */
export const oauth2: Descriptor = {
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
  ],
  staticToken: undefined,
  entry: undefined
}

/** The providers of one run of the command, then `oauth2`. @internal */
export interface Registry {
  readonly names: ReadonlyArray<ProviderName>
  readonly descriptors: ReadonlyArray<Descriptor>
  readonly get: (name: ProviderName) => Descriptor
}

/** @internal */
export const registry = (providers: ReadonlyArray<CliProvider.CliProvider>): Registry => {
  const descriptors = [...providers.map(describe), oauth2]
  const byName = new Map(descriptors.map((d) => [d.name, d]))
  if (byName.size !== descriptors.length) {
    throw new Error(`two providers share a name: ${descriptors.map((d) => d.name).join(", ")}`)
  }
  return {
    names: descriptors.map((d) => d.name),
    descriptors,
    get: (name) => {
      const descriptor = byName.get(name)
      if (descriptor === undefined) throw new Error(`unknown provider ${name}`)
      return descriptor
    }
  }
}

/** What `whoami` prints. @internal */
export type Report = CliProvider.Report

/** The provider's credential self-test. @internal */
export class SelfTest extends Context.Tag("@effect-oauth2/cli/SelfTest")<
  SelfTest,
  Effect.Effect<Report, OAuth2Error>
>() {}

/** Everything a command needs of one provider, once its settings are read. @internal */
export interface Plan {
  readonly descriptor: Descriptor
  readonly environment: string
  /** The client id, when there is one (a static token has none). */
  readonly clientId: string | undefined
  /** How tokens are had. */
  readonly mode: "client_credentials" | "stored" | "refresh_token" | "static"
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
   * The registered callback the login goes back to (`{PREFIX}_CALLBACK_URL`, else the definition's), when there is
   * one: the listener follows its scheme and port; and how long the provider's codes live, when it says.
   */
  readonly callback?: {
    readonly url: string
    readonly port: number
    readonly codeLifetime: Duration.DurationInput | undefined
  } | undefined
  /** The login, for a provider that has one, with the callback options and the URL handler. */
  readonly login:
    | (<E, R>(
      options: CliProvider.LoginOptions<E, R>
    ) => Effect.Effect<
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

/** The tokens and the self-test of a session. */
const sessionLayer = <E, R>(
  session: Effect.Effect<CliProvider.Session, E, R>,
  whoami: CliProvider.WhoAmI
): Layer.Layer<AccessTokens.AccessTokens | SelfTest, E, Exclude<R, Scope.Scope>> =>
  Layer.scopedContext(
    Effect.map(session, (s) => Context.make(AccessTokens.AccessTokens, s.tokens).pipe(Context.add(SelfTest, whoami.run(s))))
  )

const selfTestLayer = <R>(test: Effect.Effect<Report, OAuth2Error, R>): Layer.Layer<SelfTest, never, R> =>
  Layer.effect(SelfTest, Effect.map(Effect.context<R>(), (context) => Effect.provide(test, context)))

/** The self-test of a provider without an identity endpoint: a token grant. */
const tokenSelfTest = (provider: ProviderName, environment: string, why: string) =>
  Effect.flatMap(AccessTokens.AccessTokens, (tokens) =>
    OAuth2Provider.tokenGrant(provider, why).run({ environment, scopes: [], tokens, apis: {} }))

/**
 * A provider of the registry: its settings read with its `Config` (the definition's variables), the emulator's hosts
 * over the configured ones, validated and built by core from the definition.
 */
const loginFromDefinition = (definition: OAuth2Provider.Definition) =>
<E, R>(settings: OAuth2Provider.Settings, options: CliProvider.LoginOptions<E, R>) =>
  options.paste === undefined
    ? OAuth2Provider.login(definition, settings, options)
    : OAuth2Provider.loginByPaste(definition, settings, {
      ...options,
      paste: options.paste,
      // No listener: the registered callback, else the redirect URI the listener would have had (`--port`, the path).
      redirectUri: settings.callbackUrl !== undefined || ("url" in definition.login && definition.login.callbackUrl)
        ? undefined
        : `http://127.0.0.1:${options.port ?? 8765}${
          "url" in definition.login ? definition.login.path ?? "/callback" : "/callback"
        }`
    })

const fromDefinition = (
  descriptor: Descriptor,
  entry: CliProvider.CliProvider,
  hosts: OAuth2Provider.Hosts | undefined,
  purpose: Purpose
) =>
  Effect.gen(function*() {
    const definition = entry.definition
    const whoami = entry.whoami ??
      OAuth2Provider.tokenGrant(definition.name, `${definition.title} has no identity call known to this command: the token grant is the self-test.`)
    const staticToken = purpose === "login" || entry.staticToken === undefined
      ? Option.none<Redacted.Redacted<string>>()
      : yield* Config.option(Config.redacted(Config.nonEmptyString(entry.staticToken.variable)))
    if (Option.isSome(staticToken) && entry.staticToken !== undefined) {
      const made = yield* entry.staticToken.make(staticToken.value, hosts)
      const plan: Plan = {
        descriptor,
        environment: made.environment,
        clientId: undefined,
        mode: "static",
        layer: sessionLayer(made.session, whoami),
        client: undefined,
        storeKey: undefined,
        login: undefined
      }
      return plan
    }
    const read = yield* (entry.config ?? OAuth2Provider.config(definition))
    // The emulator's hosts win over configured ones, and so do the endpoints laid out on them.
    const settings: OAuth2Provider.Settings = hosts === undefined
      ? read
      : { ...read, hosts: { ...read.hosts, ...hosts }, tokenUrl: undefined, revocationUrl: undefined }
    // A provider with two ways to tokens picks its definition by the settings (Saxo: a PKCE app without a secret); a
    // login uses the entry's where the one picked has none (tastytrade's personal grant).
    const picked = entry.definitionFor === undefined ? definition : entry.definitionFor(settings)
    const chosen = purpose === "login" && !("url" in picked.login) ? definition : picked
    const callback = purpose === "login" ? yield* OAuth2Provider.callbackUrl(chosen, settings) : undefined
    const resolved = yield* OAuth2Provider.resolve(chosen, settings)
    const make = entry.make ?? ((s: OAuth2Provider.Settings) => OAuth2Provider.make(chosen, s))
    const session = Effect.map(make(settings), OAuth2Provider.session)
    const plan: Plan = {
      descriptor,
      environment: resolved.environment,
      clientId: resolved.credentials.clientId,
      mode: chosen.acquire,
      layer: sessionLayer(session, whoami),
      client: OAuth2Client.make({ endpoint: resolved.endpoint, credentials: resolved.credentials }),
      storeKey: OAuth2Provider.storeKey(resolved),
      login: descriptor.noLogin !== undefined
        ? undefined
        : (options) => (entry.login ?? loginFromDefinition(chosen))(settings, options),
      callback: callback === undefined
        ? undefined
        : { ...callback, codeLifetime: "url" in chosen.login ? chosen.login.codeLifetime : undefined }
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
        const granted = yield* AuthorizationCode.login({
          scopes,
          pkce: true,
          timeout: options.timeout,
          par: metadata.pushedAuthorizationRequestEndpoint === undefined ? false : { credentials },
          onAuthorizeUrl: options.onAuthorizeUrl
        }).pipe(Effect.provide(context))
        // The refresh token's anchors (this login) and the server's word on its death, stored with it.
        const token = RefreshTokenLifetime.apply(granted, undefined)
        yield* Effect.flatMap(TokenStore.TokenStore, (store) => store.set(storeKey, token))
        return token
      }).pipe(Effect.scoped)
    const plan: Plan = {
      descriptor: oauth2,
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

/** What the settings are read for: a login never uses a static token. @internal */
export type Purpose = "tokens" | "login"

/**
 * Reads the provider's settings from the `ConfigProvider` in effect (flags, environment and config file merged by
 * the caller) and builds its plan.
 *
 * @internal
 */
export const plan = (
  descriptor: Descriptor,
  hosts: OAuth2Provider.Hosts | undefined,
  purpose: Purpose,
  secrets: Secrets = { privateKey: undefined }
): Effect.Effect<Plan, ConfigError.ConfigError | InvalidConfiguration> =>
  descriptor.entry === undefined ? discovered(secrets, purpose) : fromDefinition(descriptor, descriptor.entry, hosts, purpose)
