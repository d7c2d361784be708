/**
 * What `OAuth2Provider` builds from a definition: the one validation, the API clients, the `Config` and the variable
 * table.
 *
 * @internal
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { AccessTokens } from "../AccessTokens.js"
import type * as AccessTokensModule from "../AccessTokens.js"
import * as Endpoint from "../Endpoint.js"
import { OAuth2Client } from "../OAuth2Client.js"
import { InvalidConfiguration, type OAuth2Error, Unauthorized } from "../OAuth2Error.js"
import * as OAuth2HttpClient from "../OAuth2HttpClient.js"
import type {
  Definition,
  Provider,
  Resolved,
  ResolvedHosts,
  Settings,
  Variable
} from "../OAuth2Provider.js"
import * as ProviderConfig from "../ProviderConfig.js"

const TEMPLATE = /\{([A-Za-z0-9_]+)\}/g

/** The host names a template uses. @internal */
export const templateHosts = (template: string): ReadonlyArray<string> =>
  [...template.matchAll(TEMPLATE)].map((m) => m[1]!)

/** @internal */
export const fillTemplate = (
  template: string,
  hosts: Readonly<Record<string, string | undefined>>
): string | undefined => {
  let missing = false
  const filled = template.replace(TEMPLATE, (_, name: string) => {
    const host = hosts[name]
    if (host === undefined) missing = true
    return host ?? ""
  })
  return missing ? undefined : filled
}

const templates = (definition: Definition): ReadonlyArray<string> => [
  definition.authorizationServer.tokenUrl,
  ...(definition.authorizationServer.refreshUrl === undefined ? [] : [definition.authorizationServer.refreshUrl]),
  ...["url" in definition.revocation ? definition.revocation.url : undefined],
  ...["url" in definition.introspection ? definition.introspection.url : undefined],
  ...["url" in definition.login ? definition.login.url : undefined],
  ...Object.values(definition.apis)
].filter((t): t is string => t !== undefined)

/** @internal */
export const hostNames = (definition: Definition): ReadonlyArray<string> => {
  const names = new Set<string>()
  for (const hosts of Object.values(definition.environments)) for (const name of Object.keys(hosts)) names.add(name)
  for (const template of templates(definition)) for (const name of templateHosts(template)) names.add(name)
  return [...names]
}

/** `FIGURE_MARKETS_MAIN_URL` for host `main`. @internal */
export const hostVariable = (definition: Definition, host: string): string =>
  `${definition.envPrefix}_${host.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}_URL`

export const invalid = (definition: Definition, description: string) =>
  new InvalidConfiguration({ provider: definition.name, source: "configuration", description })

/** The registered callback of a login, checked, with its port; `undefined` when neither names one. @internal */
export const callbackUrl = (
  definition: Definition,
  settings: Pick<Settings, "callbackUrl">
): Effect.Effect<{ readonly url: string; readonly port: number } | undefined, InvalidConfiguration> => {
  const registered = "url" in definition.login ? definition.login.callbackUrl : undefined
  const url = settings.callbackUrl ?? registered
  if (url === undefined) return Effect.succeed(undefined)
  const scheme = registered === undefined ? undefined : registered.slice(0, registered.indexOf(":"))
  const wanted = scheme === undefined ? "http or https" : scheme
  const refuse = invalid(
    definition,
    `the callback URL must be a loopback ${wanted} URL with a port, written exactly as registered with the app (e.g. ` +
      `${registered ?? "http://127.0.0.1:8765/callback"}), not ${JSON.stringify(url.slice(0, 200))}: set callbackUrl ` +
      `(${definition.envPrefix}_CALLBACK_URL).`
  )
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return Effect.fail(refuse)
  }
  const protocol = parsed.protocol.slice(0, -1)
  const ok = (scheme === undefined ? protocol === "http" || protocol === "https" : protocol === scheme) &&
    Endpoint.isLoopbackHost(parsed.hostname) && /^\w+:\/\/[^/?#]+:\d{1,5}(\/[^?#\s]*)?$/.test(url) &&
    parsed.username === "" && parsed.password === "" && parsed.port !== ""
  return ok ? Effect.succeed({ url, port: Number(parsed.port) }) : Effect.fail(refuse)
}

/** The login's listener must be on the registered callback's port: said before anything is shown. @internal */
export const checkListener = (
  definition: Definition,
  callback: { readonly url: string; readonly port: number },
  listening: number
): Effect.Effect<void, InvalidConfiguration> =>
  listening === callback.port ? Effect.void : Effect.fail(invalid(
    definition,
    `${definition.title} redirects only to the callback URL registered with the app (${callback.url}), and the ` +
      `login listens on port ${listening}, not ${callback.port}: listen on port ${callback.port} (\`effect-oauth2 ` +
      `login ${definition.name} --port ${callback.port}\`), or set ${definition.envPrefix}_CALLBACK_URL to another ` +
      "callback URL registered with the app."
  ))

/** Whether the definition reads the client secret as optional: a public client, or one that may be. @internal */
export const secretOptional = (definition: Definition): boolean =>
  definition.authorizationServer.authMethod === "none" || definition.publicClients === true

/** @internal */
export const resolveHosts = (
  definition: Definition,
  options: {
    readonly environment?: string | undefined
    readonly hosts?: Settings["hosts"]
    readonly userAgent?: string | undefined
  }
): Effect.Effect<ResolvedHosts, InvalidConfiguration> =>
  Effect.gen(function*() {
    const userAgent = options.userAgent ?? definition.userAgent
    // RFC 9110 §10.1.5: product tokens and comments, one line of visible ASCII.
    if (userAgent !== undefined && !/^[\x21-\x7e]+(?: [\x21-\x7e]+)*$/.test(userAgent)) {
      return yield* invalid(
        definition,
        "userAgent must be one line of visible ASCII, e.g. \"my-bot/1.0\" (no control character, no leading or trailing space)."
      )
    }
    const environment = options.environment ?? definition.defaultEnvironment
    const documented = Object.hasOwn(definition.environments, environment)
      ? definition.environments[environment]
      : undefined
    if (documented === undefined) {
      return yield* invalid(
        definition,
        `environment must be one of ${Object.keys(definition.environments).join(", ")}.`
      )
    }
    const known = hostNames(definition)
    const merged: Record<string, string> = { ...documented }
    for (const [name, url] of Object.entries(options.hosts ?? {})) {
      if (url === undefined) continue
      if (!known.includes(name)) {
        return yield* invalid(definition, `hosts.${name} is not a host of ${definition.title} (${known.join(", ")}).`)
      }
      merged[name] = url
    }
    const hosts: Record<string, string> = {}
    for (const [name, url] of Object.entries(merged)) {
      hosts[name] = yield* ProviderConfig.baseUrl(definition.name, `hosts.${name}`, url)
    }
    const apis: Record<string, string | undefined> = {}
    for (const [name, template] of Object.entries(definition.apis)) apis[name] = fillTemplate(template, hosts)
    const allowedOrigins = [
      ...new Set(Object.values(apis).filter((u): u is string => u !== undefined).map(ProviderConfig.originOf))
    ]
    return { definition, environment, hosts, apis, allowedOrigins, ...(userAgent === undefined ? {} : { userAgent }) }
  })

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

const resolveScopes = (
  definition: Definition,
  given: ReadonlyArray<string> | undefined
): Effect.Effect<ReadonlyArray<string>, InvalidConfiguration> => {
  const { scopes: spec, title } = definition
  const scopes = [...new Set(given ?? spec.default)]
  if (spec.kind === "none") {
    return scopes.length === 0
      ? Effect.succeed([])
      : Effect.fail(invalid(definition, `${title} takes no scope: leave scopes out (got ${scopes.length}).`))
  }
  if (scopes.length === 0 && spec.required === true) {
    return Effect.fail(
      invalid(definition, `scopes is empty: ${title} requires at least one (${spec.default.join(", ")}).`)
    )
  }
  const malformed = scopes.filter((s) => !SCOPE_TOKEN.test(s))
  if (malformed.length > 0) {
    return Effect.fail(invalid(
      definition,
      `scopes must be single words without spaces, quotes or backslashes (got ${malformed.length} that are not).`
    ))
  }
  if (spec.kind === "closed") {
    const unknown = scopes.filter((s) => !spec.known.includes(s))
    if (unknown.length > 0) {
      return Effect.fail(invalid(
        definition,
        `unknown scope ${unknown.map((s) => JSON.stringify(s)).join(", ")}: ${title} knows ${spec.known.join(", ")}.`
      ))
    }
  }
  return Effect.succeed(scopes)
}

/** The URL of a template, or a failure naming the host to give. */
const urlOf = (definition: Definition, hosts: Readonly<Record<string, string>>, what: string, template: string) => {
  const url = fillTemplate(template, hosts)
  if (url !== undefined) return Effect.succeed(url)
  const missing = templateHosts(template).filter((name) => hosts[name] === undefined)
  return Effect.fail(invalid(
    definition,
    `${definition.title} documents no ${missing.join(", ")} host for the ${what}: give hosts.${missing[0]} (${
      hostVariable(definition, missing[0]!)
    }).`
  ))
}

const optionalUrl = (
  definition: Definition,
  hosts: Readonly<Record<string, string>>,
  what: string,
  feature: Definition["revocation"] | undefined,
  override: string | undefined
) =>
  override !== undefined
    ? Effect.succeed(override)
    : feature !== undefined && "url" in feature
    ? urlOf(definition, hosts, what, feature.url)
    : Effect.succeed(undefined)

/** @internal */
export const resolve = (definition: Definition, settings: Settings): Effect.Effect<Resolved, InvalidConfiguration> =>
  Effect.gen(function*() {
    const located = yield* resolveHosts(definition, settings)
    if (settings.clientId.trim() === "") return yield* invalid(definition, "clientId is empty.")
    // A public client (`authMethod: "none"`, e.g. a PKCE app) has no secret: none is asked for, none is kept.
    const publicClient = definition.authorizationServer.authMethod === "none"
    const credentials = Endpoint.credentials(settings.clientId, publicClient ? undefined : settings.clientSecret)
    if (!publicClient && (credentials.clientSecret === undefined || Redacted.value(credentials.clientSecret) === "")) {
      return yield* invalid(definition, "clientSecret is empty.")
    }
    const scopes = yield* resolveScopes(definition, settings.scopes)
    const given = settings.refreshToken === undefined || Redacted.isRedacted(settings.refreshToken)
      ? settings.refreshToken
      : Redacted.make(settings.refreshToken)
    const refreshToken = definition.acquire === "refresh_token" ? given : undefined
    if (definition.acquire === "refresh_token" && (refreshToken === undefined || Redacted.value(refreshToken).trim() === "")) {
      return yield* invalid(
        definition,
        `refreshToken is ${refreshToken === undefined ? "missing" : "empty"}: ${definition.title} tokens come from a ` +
          `refresh token you give (${definition.envPrefix}_REFRESH_TOKEN).`
      )
    }
    const { hosts } = located
    const server = definition.authorizationServer
    const endpoint = yield* Endpoint.make({
      provider: definition.name,
      environment: located.environment,
      tokenUrl: settings.tokenUrl ?? (yield* urlOf(definition, hosts, "token endpoint", server.tokenUrl)),
      refreshUrl: server.refreshUrl === undefined
        ? undefined
        : yield* urlOf(definition, hosts, "refresh endpoint", server.refreshUrl),
      revocationUrl: yield* optionalUrl(
        definition,
        hosts,
        "revocation endpoint",
        definition.revocation,
        settings.revocationUrl
      ),
      introspectionUrl: yield* optionalUrl(definition, hosts, "introspection endpoint", definition.introspection, undefined),
      authorizeUrl: yield* optionalUrl(definition, hosts, "authorize endpoint", definition.login, undefined),
      revocationUnsupportedHint: "unsupported" in definition.revocation ? definition.revocation.unsupported : undefined,
      introspectionUnsupportedHint: "unsupported" in definition.introspection
        ? definition.introspection.unsupported
        : undefined,
      authMethod: server.authMethod,
      basicEncoding: settings.basicEncoding ?? server.basicEncoding,
      scopeDelimiter: definition.scopes.delimiter,
      authorizeScopeDelimiter: definition.scopes.authorizeDelimiter,
      defaultLifetime: server.defaultLifetime,
      maxLifetime: server.maxLifetime,
      defaultTokenType: server.defaultTokenType,
      acceptedTokenTypes: server.acceptedTokenTypes,
      readableMembers: server.readableMembers,
      headers: located.userAgent === undefined ? server.headers : { ...server.headers, "user-agent": located.userAgent },
      params: server.params,
      bodyFormat: server.bodyFormat,
      sendClientId: server.sendClientId,
      errorBody: server.errorBody,
      refreshWithPkce: server.refreshWithPkce,
      requestTimeout: settings.requestTimeout
    })
    const resolved: Resolved = { ...located, scopes, endpoint, credentials, ...(refreshToken === undefined ? {} : { refreshToken }) }
    const problem = definition.hooks?.check?.(resolved)
    if (problem !== undefined) return yield* invalid(definition, problem)
    return resolved
  })

/** A client for an API whose host is not known: every request fails, and no token is sent anywhere. */
const unconfigured = (definition: Definition, name: string, template: string): OAuth2HttpClient.Authorized => {
  const host = templateHosts(template)[0] ?? name
  const error = invalid(
    definition,
    `no ${definition.title} ${host} host is configured, so the access token is sent nowhere: give hosts.${host} (${
      hostVariable(definition, host)
    }), the base URL of the ${definition.title} API you use.`
  )
  return HttpClient.makeWith<never, never, OAuth2Error, never>(
    (request) => Effect.flatMap(request, () => Effect.fail(error)),
    Effect.succeed
  )
}

/** The `Unauthorized` of a token the API rejected, with the provider's advice. */
const withRejectedTokenHint = (
  provider: string,
  hint: () => string,
  replay: boolean
) =>
(client: OAuth2HttpClient.Authorized): OAuth2HttpClient.Authorized => {
  const rejected = (status: number | undefined, description: string | undefined) =>
    new Unauthorized({ provider, source: "resource-server", reason: "rejected-token", status, description, hint: hint() })
  return HttpClient.transformResponse(client, (effect) =>
    effect.pipe(
      Effect.flatMap((response) =>
        // Without a replay, a 401 is the token's verdict: fail it here, with the advice.
        !replay && response.status === 401
          ? Effect.zipRight(Effect.ignore(response.arrayBuffer), Effect.fail(rejected(401, undefined)))
          : Effect.succeed(response)
      ),
      Effect.mapError((error) =>
        error instanceof Unauthorized && error.reason === "rejected-token" && error.source === "resource-server"
          ? rejected(error.status, error.description)
          : error
      )
    ))
}

/** @internal */
export const makeApis = (
  resolved: ResolvedHosts | Resolved,
  tokens: AccessTokensModule.Service,
  options: {
    readonly replay?: boolean | undefined
    readonly rejectedTokenHint?: string | undefined
    readonly transformClient?: Settings["transformClient"]
  } & OAuth2HttpClient.ApiBounds = {}
): Effect.Effect<Readonly<Record<string, OAuth2HttpClient.Authorized>>, never, HttpClient.HttpClient> =>
  Effect.map(HttpClient.HttpClient, (plain) => {
    const { definition } = resolved
    const hooks = definition.hooks
    const replay = options.replay ?? true
    // Computed when a token is rejected, not before: the hook may read what only a configured API has.
    const given = options.rejectedTokenHint
    const hook = "endpoint" in resolved ? hooks?.rejectedTokenHint : undefined
    const hint = given !== undefined ? () => given : hook !== undefined ? () => hook(resolved as Resolved) : undefined
    // The base URL goes on outside the middleware, so that the origin check sees the full URL and a replay never
    // prepends it twice.
    let authorised: OAuth2HttpClient.Authorized = OAuth2HttpClient.withAccessToken(plain, tokens, {
      allowedOrigins: resolved.allowedOrigins,
      replayOnUnauthorized: replay,
      ...OAuth2HttpClient.boundsOptions(options)
    })
    if (hint !== undefined) authorised = withRejectedTokenHint(definition.name, hint, replay)(authorised)
    const userAgent = resolved.userAgent
    // The caller's own User-Agent on a request wins.
    if (userAgent !== undefined) {
      authorised = HttpClient.mapRequest(authorised, (request) =>
        request.headers["user-agent"] === undefined
          ? HttpClientRequest.setHeader(request, "user-agent", userAgent)
          : request)
    }
    if (hooks?.transformClient !== undefined) authorised = hooks.transformClient(authorised, resolved)
    if (options.transformClient !== undefined) authorised = options.transformClient(authorised)
    const apis: Record<string, OAuth2HttpClient.Authorized> = {}
    for (const [name, template] of Object.entries(definition.apis)) {
      const base = resolved.apis[name]
      apis[name] = base === undefined
        ? unconfigured(definition, name, template)
        : HttpClient.mapRequest(authorised, ProviderConfig.resolveUrl(base))
    }
    return apis
  })

/** @internal */
export const toContext = (provider: Provider): Context.Context<AccessTokens | OAuth2Client> =>
  Context.make(AccessTokens, provider.tokens).pipe(Context.add(OAuth2Client, provider.client))

// -----------------------------------------------------------------------------
// environment variables
// -----------------------------------------------------------------------------

const scopesVariable = (definition: Definition) => `${definition.envPrefix}_SCOPES`

const commasAllowed = (definition: Definition) => definition.scopes.authorizeDelimiter === ","

const scopesConfig = (definition: Definition): Config.Config<ReadonlyArray<string> | undefined> => {
  const name = scopesVariable(definition)
  const example = (definition.scopes.known.length > 0 ? definition.scopes.known : definition.scopes.default)
  return Config.string(name).pipe(
    Config.mapOrFail((value) => {
      if (value.includes(",") && !commasAllowed(definition)) {
        return Either.left(ConfigError.InvalidData(
          [],
          `${name} is space-separated (e.g. "${example.slice(0, 2).join(" ")}"), not comma-separated`
        ))
      }
      const scopes = value.split(commasAllowed(definition) ? /[\s,]+/ : /\s+/).filter((s) => s !== "")
      return scopes.length === 0
        ? Either.left(ConfigError.InvalidData([], `${name} is set but names no scope (e.g. "${example[0] ?? "read"}")`))
        : Either.right(scopes)
    }),
    Config.option,
    Config.map(Option.getOrUndefined)
  )
}

/** @internal */
export const configWithoutCredentials = (
  definition: Definition
): Config.Config<Omit<Settings, "clientId" | "clientSecret">> => {
  const prefix = definition.envPrefix
  const hostConfigs = hostNames(definition).map((host) =>
    Config.map(ProviderConfig.optionalUrl(hostVariable(definition, host)), (url) => [host, url] as const)
  )
  return Config.all({
    environment: ProviderConfig.oneOf(
      `${prefix}_ENV`,
      Object.keys(definition.environments),
      definition.defaultEnvironment
    ) as Config.Config<string>,
    scopes: definition.scopes.kind === "none" ? Config.succeed(undefined) : scopesConfig(definition),
    hosts: Config.map(Config.all(hostConfigs), (entries) => {
      const hosts: Record<string, string> = {}
      for (const [host, url] of entries) if (url !== undefined) hosts[host] = url
      return hosts
    }),
    tokenUrl: ProviderConfig.optionalUrl(`${prefix}_TOKEN_URL`),
    userAgent: definition.userAgent === undefined
      ? Config.succeed(undefined)
      : Config.map(Config.option(Config.nonEmptyString(`${prefix}_USER_AGENT`)), Option.getOrUndefined)
  })
}

/** @internal */
export const config = (definition: Definition): Config.Config<Settings> =>
  Config.zipWith(
    Config.all({
      clientId: Config.nonEmptyString(`${definition.envPrefix}_CLIENT_ID`),
      clientSecret: secretOptional(definition)
        ? Config.map(
          Config.option(Config.redacted(Config.nonEmptyString(`${definition.envPrefix}_CLIENT_SECRET`))),
          Option.getOrUndefined
        )
        : Config.redacted(Config.nonEmptyString(`${definition.envPrefix}_CLIENT_SECRET`)),
      callbackUrl: "url" in definition.login
        ? Config.map(Config.option(Config.nonEmptyString(`${definition.envPrefix}_CALLBACK_URL`)), Option.getOrUndefined)
        : Config.succeed(undefined),
      refreshToken: definition.acquire === "refresh_token"
        ? Config.redacted(Config.nonEmptyString(`${definition.envPrefix}_REFRESH_TOKEN`))
        : Config.succeed(undefined)
    }),
    configWithoutCredentials(definition),
    (credentials, rest): Settings => ({ ...credentials, ...rest })
  )

/** @internal */
export const variables = (definition: Definition): ReadonlyArray<Variable> => {
  const prefix = definition.envPrefix
  const environments = Object.keys(definition.environments)
  const scopes = definition.scopes
  return [
    { name: `${prefix}_CLIENT_ID`, meaning: "the client id", default: "required" },
    {
      name: `${prefix}_CLIENT_SECRET`,
      meaning: "the client secret (read with Config.redacted)",
      default: secretOptional(definition) ? "none: a public client (PKCE)" : "required"
    },
    ...(definition.acquire === "refresh_token"
      ? [{
        name: `${prefix}_REFRESH_TOKEN`,
        meaning: "the refresh token tokens come from, e.g. a personal grant (read with Config.redacted)",
        default: "required"
      }]
      : []),
    {
      name: `${prefix}_ENV`,
      meaning: `the environment: ${environments.map((e) => `\`${e}\``).join(" or ")}`,
      default: `\`${definition.defaultEnvironment}\``
    },
    ...(scopes.kind === "none" ? [] : [{
      name: scopesVariable(definition),
      meaning: `${commasAllowed(definition) ? "comma- or space-separated" : "space-separated"} scopes${
        scopes.known.length > 0 ? `, of ${scopes.known.map((s) => `\`${s}\``).join(" ")}` : ""
      }${scopes.kind === "open" ? " or others" : ""}`,
      default: scopes.default.length > 0 ? `\`${scopes.default.join(" ")}\`` : "none"
    }]),
    ...hostNames(definition).map((host) => ({
      name: hostVariable(definition, host),
      meaning: `the ${host} host (a proxy, a regional host, the emulator)`,
      default: Object.values(definition.environments).some((hosts) => hosts[host] !== undefined)
        ? "the environment's"
        : "none"
    })),
    {
      name: `${prefix}_TOKEN_URL`,
      meaning: "the token endpoint",
      default: `\`${definition.authorizationServer.tokenUrl}\``
    },
    ...(definition.userAgent === undefined ? [] : [{
      name: `${prefix}_USER_AGENT`,
      meaning: "the User-Agent sent with every request",
      default: `\`${definition.userAgent}\``
    }]),
    ...("url" in definition.login
      ? [{
        name: `${prefix}_CALLBACK_URL`,
        meaning: "the login's callback URL, written exactly as registered with the app",
        default: definition.login.callbackUrl === undefined
          ? "none: the listener's address"
          : `\`${definition.login.callbackUrl}\``
      }]
      : []),
    ...(definition.variables ?? [])
  ]
}
