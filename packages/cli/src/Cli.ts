/**
 * The `effect-oauth2` command: tokens, revocation, introspection, self-tests and the logins (Tradier, any server by
 * discovery) from the shell, and the emulator. `bin.ts` only runs {@link run}; tests run it in-process with their own
 * {@link Io}.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Span from "@effect/cli/HelpDoc/Span"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as ClientAuth from "@effect-oauth2/core/ClientAuth"
import * as FileTokenStore from "@effect-oauth2/core/FileTokenStore"
import * as OAuth2Error from "@effect-oauth2/core/OAuth2Error"
import * as TokenCipher from "@effect-oauth2/core/TokenCipher"
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import * as Emulator from "@effect-oauth2/emulator/Emulator"
import * as LoopbackHttps from "@effect-oauth2/node/LoopbackHttps"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpServer from "@effect/platform/HttpServer"
import type * as Path from "@effect/platform/Path"
import type * as Terminal from "@effect/platform/Terminal"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import * as CliProvider from "./CliProvider.js"
import * as ExitCode from "./ExitCode.js"
import { describe as describeEmulator } from "./internal/emulator.js"
import * as Format from "./internal/format.js"
import * as InternalIo from "./internal/io.js"
import { withProgress } from "./internal/progress.js"
import * as Providers from "./internal/providers.js"
import * as Settings from "./internal/settings.js"
import * as Status from "./internal/status.js"

/**
 * The command's version, as `--version` prints it.
 *
 * @since 0.1.0
 * @category constants
 */
export const version = "0.1.0"

/**
 * Where the command reads and writes: the process's streams and environment by default. Tests give their own.
 *
 * @since 0.1.0
 * @category models
 */
export type Io = InternalIo.Io

// -----------------------------------------------------------------------------
// help
// -----------------------------------------------------------------------------

const variablesHelp = (registry: Providers.Registry) =>
  registry.descriptors.map((descriptor) => `${descriptor.name}: ${descriptor.variables.join(", ")}`)

const defaultRegistry = Providers.registry(CliProvider.providers)

/** The providers (not `oauth2`) whose tokens come from a login and live in the token store. */
const storedNames = (registry: Providers.Registry) =>
  registry.descriptors.filter((d) => d.entry?.definition.acquire === "stored").map((d) => d.name)

const footerFor = (registry: Providers.Registry): HelpDoc.HelpDoc => HelpDoc.blocks([
  HelpDoc.h1("CREDENTIALS"),
  HelpDoc.p(
    "Flags win over environment variables, which win over the --config file. Prefer the environment or a config " +
      "file (chmod 600) for secrets: a --client-secret lands in your shell history. With --emulator and no " +
      "credentials at all, the emulator's demo credentials are used."
  ),
  HelpDoc.p(`Environment variables: ${variablesHelp(registry).join("; ")}.`),
  HelpDoc.p(
    `Token store (${storedNames(registry).join(", ")} logins; other providers with --store): EFFECT_OAUTH2_STORE_KEY (32 bytes, base64 or ` +
      "hex) or EFFECT_OAUTH2_STORE_PASSPHRASE; path --store, else EFFECT_OAUTH2_STORE_PATH, else " +
      "$XDG_CONFIG_HOME/effect-oauth2/tokens.json or ~/.config/effect-oauth2/tokens.json."
  ),
  HelpDoc.h1("EXIT CODES"),
  HelpDoc.p(
    [...ExitCode.documentation.map(([code, meaning]) => `${code} ${meaning}`), "130 interrupted (Ctrl+C)"].join(
      "\n"
    )
  )
])

/**
 * The end of every `--help`: where credentials come from, and the exit codes.
 *
 * @since 0.1.0
 * @category help
 */
export const footer: HelpDoc.HelpDoc = footerFor(defaultRegistry)

// -----------------------------------------------------------------------------
// options
// -----------------------------------------------------------------------------

const namesWhere = (registry: Providers.Registry, keep: (descriptor: Providers.Descriptor) => boolean) =>
  registry.descriptors.filter((d) => d.entry !== undefined && keep(d)).map((d) => d.name)

const providerArg = (registry: Providers.Registry) => Args.choice(
  registry.names.map((name) => [name, name] as const),
  { name: "provider" }
).pipe(Args.withDescription("The provider."))

const scopeDefaults = (registry: Providers.Registry) =>
  registry.descriptors.flatMap(({ entry }) => {
    if (entry === undefined || entry.definition.scopes.kind === "none") return []
    const scopes = entry.definition.scopes.default
    return [`${entry.definition.name} ${scopes.length === 0 ? "none (the server's default)" : `"${scopes.join(" ")}"`}`]
  })

const verbose = Options.boolean("verbose").pipe(
  Options.withDescription("Errors with their tag and details; debug logs on standard error.")
)

const common = (registry: Providers.Registry) => ({
  env: Options.text("env").pipe(
    Options.withDescription(
      `The provider's environment: ${
        registry.descriptors.filter((d) => d.entry !== undefined).map((d) =>
          `${d.name} ${d.environments.join("|")} (default ${d.defaultEnvironment})`
        ).join(", ")
      }.`
    ),
    Options.optional
  ),
  clientId: Options.text("client-id").pipe(Options.withDescription("The OAuth client id."), Options.optional),
  clientSecret: Options.redacted("client-secret").pipe(
    Options.withDescription(
      "The client secret. It lands in your shell history: prefer the environment variable or --config."
    ),
    Options.optional
  ),
  scopes: Options.text("scopes").pipe(
    Options.withDescription(
      `The scopes to ask for, space-separated${
        namesWhere(registry, (d) => d.scopes === "comma-or-space").map((name) => ` (${name}: comma or space)`).join("")
      }. Defaults: ${scopeDefaults(registry).join(", ")}${
        namesWhere(registry, (d) => d.scopes === "none").map((name) => `; ${name} has none`).join("")
      }.`
    ),
    Options.optional
  ),
  config: Options.text("config").pipe(
    Options.withDescription(
      "A JSON file: { \"figure-markets\": { \"clientId\": ..., \"clientSecret\": ..., \"environment\": ..., " +
        "\"scopes\": ... }, \"tradier\": { ..., \"accessToken\": ... } }. Refused when it holds a secret and other " +
        "users can read it."
    ),
    Options.optional
  ),
  emulator: Options.text("emulator").pipe(
    Options.withDescription(
      `Point every URL of the provider at an effect-oauth2 emulator (a bare --emulator means ` +
        `${Settings.defaultEmulatorUrl}); without credentials, its demo credentials are used.`
    ),
    Options.optional
  ),
  store: Options.text("store").pipe(
    Options.withDescription(
      "The encrypted token file (key: EFFECT_OAUTH2_STORE_KEY or EFFECT_OAUTH2_STORE_PASSPHRASE). Tradier always " +
        "uses one (default EFFECT_OAUTH2_STORE_PATH, else ~/.config/effect-oauth2/tokens.json); other providers " +
        "only with this flag."
    ),
    Options.optional
  ),
  issuer: Options.text("issuer").pipe(
    Options.withDescription(
      "oauth2 only: the authorization server's issuer identifier, e.g. https://auth.example.com. Its endpoints and " +
        "authentication methods are read from its metadata (RFC 8414 / OpenID Connect Discovery), whose issuer must " +
        "be this one exactly."
    ),
    Options.optional
  ),
  privateKey: Options.text("private-key").pipe(
    Options.withDescription(
      "oauth2 only: a file holding the client's private key (PKCS#8 PEM or JWK) for private_key_jwt. It must be " +
        "yours and readable by you alone (chmod 600); the key is never printed."
    ),
    Options.optional
  ),
  cert: Options.text("cert").pipe(
    Options.withDescription(
      "oauth2 only: a file holding the client's TLS certificate (PEM, intermediates after it) for mutual TLS " +
        "(RFC 8705): tls_client_auth / self_signed_tls_client_auth, and certificate-bound tokens. Needs --key."
    ),
    Options.optional
  ),
  key: Options.text("key").pipe(
    Options.withDescription(
      "oauth2 only: a file holding the private key of --cert (PEM). It must be yours and readable by you alone " +
        "(chmod 600); the key is never printed."
    ),
    Options.optional
  ),
  ca: Options.text("ca").pipe(
    Options.withDescription(
      "oauth2 only: a file holding the CA certificate(s) (PEM) of a server with a private PKI, trusted in place of " +
        "the system's roots. Default: the system's roots."
    ),
    Options.optional
  ),
  authMethod: Options.text("auth-method").pipe(
    Options.withDescription(
      `oauth2 only: the client authentication method, one of ${ClientAuth.methods.join(", ")}. Default: ` +
        "private_key_jwt with --private-key, else the first of client_secret_basic, client_secret_post, " +
        "client_secret_jwt the server lists, else tls_client_auth with --cert."
    ),
    Options.optional
  ),
  keyId: Options.text("key-id").pipe(
    Options.withDescription("oauth2 only: the kid header of the client assertion. Default: the JWK's kid, else none."),
    Options.optional
  ),
  alg: Options.text("alg").pipe(
    Options.withDescription(
      "oauth2 only: the client assertion's algorithm (RS256, PS256, ES256, EdDSA, ... or HS256 for " +
        "client_secret_jwt). Default: the one the key calls for (HS256 with a secret)."
    ),
    Options.optional
  ),
  audience: Options.text("audience").pipe(
    Options.withDescription("oauth2 only: the client assertion's aud. Default: the issuer."),
    Options.optional
  ),
  dpop: Options.boolean("dpop").pipe(
    Options.withDescription(
      "oauth2 only: DPoP (RFC 9449). A key pair made for this command signs a proof on every token request, and the " +
        "server binds the token to that key (token type DPoP); the algorithm is the server's (its " +
        "dpop_signing_alg_values_supported, ES256 when listed). The key dies with the command: use it to check a " +
        "server's DPoP setup, not to hand a token to another program."
    )
  ),
  json: Options.boolean("json").pipe(Options.withDescription("Machine-readable output on standard output.")),
  verbose
})

const tokenStdin = Options.boolean("token-stdin").pipe(
  Options.withDescription(
    "Read the token to act on from standard input, e.g. `effect-oauth2 token figure-markets --raw | " +
      "effect-oauth2 revoke figure-markets --token-stdin`. Without it, the token in the --store file is used."
  )
)

// -----------------------------------------------------------------------------
// errors and output
// -----------------------------------------------------------------------------

/** A failure already printed: only its exit code is left to set. */
class Reported extends Data.TaggedError("Reported")<{ readonly code: number }> {}

const out = (text: string) => Effect.flatMap(InternalIo.CliIo, (io) => Effect.sync(() => io.stdout(text + "\n")))
const err = (text: string) => Effect.flatMap(InternalIo.CliIo, (io) => Effect.sync(() => io.stderr(text + "\n")))

const hasMessage = (u: unknown): u is { readonly message: string } =>
  typeof u === "object" && u !== null && "message" in u && typeof u.message === "string"

const tagOf = (u: unknown): string =>
  typeof u === "object" && u !== null && "_tag" in u && typeof u._tag === "string" ? u._tag : "Error"

const encodeError = Schema.encodeUnknownOption(OAuth2Error.OAuth2Error)

const hints = (descriptor: Providers.Descriptor | undefined, error: unknown): ReadonlyArray<string> => {
  const tag = tagOf(error)
  const provider = descriptor?.name
  // A provider with two ways to tokens (tastytrade): a refresh token given, or else a login's tokens in the store.
  if (
    descriptor?.entry?.definitionFor !== undefined && descriptor.noLogin === undefined &&
    (tag === "Expired" || tag === "LoginRequired" || error === storeKeyMissing)
  ) {
    return [
      `hint: ${descriptor.title} tokens come from a refresh token you give (${descriptor.prefix}_REFRESH_TOKEN, e.g. ` +
      `a personal grant) or, without one, from a login: \`effect-oauth2 login ${descriptor.name}\` (same --env, ` +
      "--scopes and --store), read back from the token store (EFFECT_OAUTH2_STORE_KEY)."
    ]
  }
  if (descriptor?.noLogin === undefined && descriptor?.entry !== undefined && (tag === "Expired" || tag === "LoginRequired")) {
    return [
      `hint: log in with \`effect-oauth2 login ${descriptor.name}\` (same --env, --scopes and --store)${
        descriptor.staticToken === undefined ? "." : `, or set ${descriptor.staticToken} to a static API token.`
      }`
    ]
  }
  if (provider === "oauth2" && tag === "InvalidConfiguration") {
    return [
      "hint: the oauth2 settings: --issuer (EFFECT_OAUTH2_ISSUER) exactly as the server's metadata states it, " +
        "--auth-method (EFFECT_OAUTH2_AUTH_METHOD), --private-key (EFFECT_OAUTH2_PRIVATE_KEY_FILE), --alg, --key-id, " +
        "--cert and --key (EFFECT_OAUTH2_CERT_FILE, EFFECT_OAUTH2_KEY_FILE), --ca."
    ]
  }
  if (provider === "oauth2" && tag === "Unauthorized") {
    return [
      "hint: with a client assertion, its aud is --audience (EFFECT_OAUTH2_AUDIENCE, default the issuer) and its " +
        "kid --key-id (EFFECT_OAUTH2_KEY_ID)."
    ]
  }
  if (provider === "oauth2" && tag === "TransportError") {
    return ["hint: check that the server at --issuer (EFFECT_OAUTH2_ISSUER) is reachable from this machine."]
  }
  if (tag === "TransportError") {
    return ["hint: with --emulator, check that `effect-oauth2 emulator` is running at that URL."]
  }
  return []
}

/** Prints a failure (its `message`, never a secret) and turns it into its exit code. */
const report = (
  options: { readonly json: boolean; readonly verbose: boolean; readonly descriptor?: Providers.Descriptor | undefined }
) =>
(error: unknown): Effect.Effect<never, Reported, InternalIo.CliIo> =>
  Effect.gen(function*() {
    if (error instanceof Reported) return yield* error
    const code = ExitCode.fromError(error)
    const message = Format.isConfigError(error)
      ? Format.configError(error)
      : hasMessage(error)
      ? error.message
      : String(error)
    yield* err(`error: ${message}`)
    for (const hint of hints(options.descriptor, error)) yield* err(hint)
    const tag = Format.isConfigError(error) ? "ConfigError" : tagOf(error)
    if (options.verbose) {
      const retryable = OAuth2Error.isOAuth2Error(error) ? `, retryable: ${error.retryable}` : ""
      yield* err(`  [${tag}, exit code ${code}${retryable}]`)
      if (OAuth2Error.isOAuth2Error(error)) {
        const encoded = encodeError(error)
        if (Option.isSome(encoded)) yield* err(`  ${Format.json(encoded.value)}`)
      }
    }
    if (options.json) {
      yield* out(Format.json({
        ok: false,
        exitCode: code,
        error: {
          tag,
          message,
          retryable: OAuth2Error.isOAuth2Error(error) ? error.retryable : false
        }
      }))
    }
    return yield* new Reported({ code })
  })

const json = (value: unknown) => out(Format.json(value))

// -----------------------------------------------------------------------------
// providers, stores
// -----------------------------------------------------------------------------

interface Store {
  readonly layer: Layer.Layer<TokenStore.TokenStore, OAuth2Error.InvalidConfiguration, FileSystem.FileSystem | Path.Path>
  /** The file, when tokens go to one. */
  readonly path: string | undefined
}

const storeKeyMissing = new Settings.UsageError({
  message: "The token store needs a key: set EFFECT_OAUTH2_STORE_KEY (32 random bytes, base64 or hex, e.g. from " +
    "`openssl rand -base64 32`) or EFFECT_OAUTH2_STORE_PASSPHRASE."
})

const storeFor = (plan: Providers.Plan, common: Settings.Common) =>
  Effect.gen(function*() {
    const explicit = Option.getOrUndefined(common.store)
    if (plan.mode !== "stored" && explicit === undefined) {
      const store: Store = { layer: TokenStore.layerMemory, path: undefined }
      return store
    }
    const key = yield* Config.option(TokenCipher.secretConfig)
    if (Option.isNone(key)) return yield* storeKeyMissing
    const path = explicit ?? (yield* FileTokenStore.pathConfig.pipe(
      Effect.mapError(() =>
        new Settings.UsageError({
          message: "No token store path: neither HOME nor XDG_CONFIG_HOME nor EFFECT_OAUTH2_STORE_PATH is set. " +
            "Give one with --store <path>."
        })
      )
    ))
    const store: Store = { layer: FileTokenStore.layer({ path, key: key.value }), path }
    return store
  })

type Needs =
  | AccessTokens.AccessTokens
  | Providers.SelfTest
  | TokenStore.TokenStore
  | HttpClient.HttpClient
  | FileSystem.FileSystem
  | Path.Path
  | InternalIo.CliIo

/**
 * Reads the provider's settings, prints the notes (demo credentials, secret on the command line), and runs `body`
 * with the provider's layers and the token store.
 */
const withPlan = <A, E>(
  registry: Providers.Registry,
  provider: Providers.ProviderName,
  common: Settings.Common,
  purpose: Providers.Purpose,
  body: (plan: Providers.Plan, settings: Settings.Settings, store: Store) => Effect.Effect<A, E, Needs | Scope.Scope>
) =>
  Effect.gen(function*() {
    const io = yield* InternalIo.CliIo
    const settings = yield* Settings.resolve(registry.get(provider), registry, common, io.env, purpose)
    for (const note of settings.notes) yield* err(note)
    return yield* Effect.gen(function*() {
      const plan = yield* Providers.plan(
        settings.descriptor,
        settings.emulator?.hosts[provider],
        purpose,
        settings.secrets
      )
      const store = yield* storeFor(plan, common)
      const run = Effect.gen(function*() {
        if (purpose === "tokens" && plan.mode === "stored" && plan.storeKey !== undefined) {
          // A store that cannot be read (another key, a damaged file) is a configuration problem, said as such,
          // rather than the "log in" that AccessTokens would answer after bypassing it.
          yield* Effect.flatMap(TokenStore.TokenStore, (s) => s.get(plan.storeKey!))
        }
        return yield* body(plan, settings, store)
      })
      const layers = plan.layer.pipe(Layer.provideMerge(store.layer))
      // A plan with its own transport (oauth2 with --cert: mutual TLS) uses it for the token endpoint and the API.
      return yield* Effect.scoped(run).pipe(
        Effect.provide(plan.transport === undefined ? layers : layers.pipe(Layer.provideMerge(plan.transport)))
      )
    }).pipe(Effect.withConfigProvider(settings.configProvider))
  })

/** Runs a command body: failures are printed and become exit codes. */
const handle = <R>(
  common: { readonly json: boolean; readonly verbose: boolean },
  descriptor: Providers.Descriptor | undefined,
  body: Effect.Effect<void, unknown, R>
): Effect.Effect<void, Reported, R | InternalIo.CliIo> =>
  body.pipe(
    Effect.catchAll(report({ ...common, descriptor })),
    common.verbose ? Logger.withMinimumLogLevel(LogLevel.Debug) : (self) => self
  )

const readToken = (purpose: "revoke" | "introspect", provider: string) =>
  Effect.gen(function*() {
    const io = yield* InternalIo.CliIo
    if (io.stdinIsTTY) {
      return yield* new Settings.UsageError({
        message: `--token-stdin reads the token from a pipe, e.g. \`effect-oauth2 token ${provider} --raw | ` +
          `effect-oauth2 ${purpose} ${provider} --token-stdin\`; standard input is a terminal.`
      })
    }
    const text = (yield* io.readStdin).trim()
    if (text === "" || /\s/.test(text)) {
      return yield* new Settings.UsageError({
        message: "--token-stdin expects exactly one token on standard input, and got " +
          (text === "" ? "nothing." : "several words.")
      })
    }
    return Redacted.make(text)
  })

/** The token a `revoke` or `introspect` acts on: from standard input, or the store. */
const tokenToActOn = (
  plan: Providers.Plan,
  store: Store,
  fromStdin: boolean,
  purpose: "revoke" | "introspect"
) =>
  Effect.gen(function*() {
    const provider = plan.descriptor.name
    if (fromStdin) {
      const value = yield* readToken(purpose, provider)
      return Option.some({ value, refreshToken: undefined as Redacted.Redacted<string> | undefined, stored: false })
    }
    if (store.path === undefined || plan.storeKey === undefined) {
      return yield* new Settings.UsageError({
        message: `Nothing to ${purpose}: give the token on standard input with --token-stdin (e.g. \`effect-oauth2 ` +
          `token ${provider} --raw | effect-oauth2 ${purpose} ${provider} --token-stdin\`), or name the token ` +
          `file that holds it with --store.`
      })
    }
    const stored = yield* Effect.flatMap(TokenStore.TokenStore, (s) => s.get(plan.storeKey!))
    return Option.map(stored, (token) => ({ value: token.value, refreshToken: token.refreshToken, stored: true }))
  })

// -----------------------------------------------------------------------------
// commands
// -----------------------------------------------------------------------------

const tokenCommand = (registry: Providers.Registry) => Command.make(
  "token",
  {
    provider: providerArg(registry),
    ...common(registry),
    show: Options.boolean("show").pipe(
      Options.withDescription("Also print the token itself, on its own line after the summary (or in --json).")
    ),
    raw: Options.boolean("raw").pipe(
      Options.withDescription("Print only the token on standard output, for piping; everything else goes to stderr.")
    )
  },
  (args) =>
    handle(
      args,
      registry.get(args.provider),
      Effect.gen(function*() {
        if (args.raw && args.json) {
          return yield* new Settings.UsageError({ message: "--raw and --json exclude each other." })
        }
        yield* withPlan(registry, args.provider, args, "tokens", (plan) =>
          Effect.gen(function*() {
            const io = yield* InternalIo.CliIo
            const tokens = yield* AccessTokens.AccessTokens
            const waiting = plan.mode === "stored" ? `reading the stored ${args.provider} token` : `waiting for the ${args.provider} token endpoint`
            const token = yield* withProgress(io, waiting, Duration.seconds(1))(tokens.get)
            const now = yield* Clock.currentTimeMillis
            // A token already expired is never printed as a success (exit code 5, Expired).
            if (token.isExpiredAt(now)) {
              return yield* new OAuth2Error.Expired({
                provider: args.provider,
                source: "token-endpoint",
                expiredAt: token.expiresAt,
                hint: "The token was already expired when it arrived: check the provider's token lifetime."
              })
            }
            const value = Redacted.value(token.value)
            if (args.raw) return yield* out(value)
            if (args.json) {
              return yield* json({
                ok: true,
                ...Format.summaryJson(args.provider, plan.environment, token, now),
                ...(args.show ? { token: value } : {})
              })
            }
            yield* out(Format.summary(args.provider, plan.environment, token, now))
            if (args.show) yield* out(value)
          }))
      })
    )
).pipe(
  Command.withDescription(
    "Gets an access token and prints its type, scopes and time left. The token itself only with --show (after " +
      `the summary) or --raw (alone, for piping).${
        registry.descriptors.filter((d) => d.entry?.definition.acquire === "stored").map((d) =>
          ` ${d.title} reads the token \`login ${d.name}\` stored${
            d.staticToken !== undefined
              ? ` (or uses ${d.staticToken})`
              : d.entry?.definitionFor !== undefined
              ? ` (or, with ${d.prefix}_REFRESH_TOKEN set, refreshes that)`
              : ""
          }.`
        ).join("")
      }`
  )
)

const unsupported = (provider: string, operation: string, hint: string) =>
  new OAuth2Error.Unsupported({ provider, source: "configuration", operation, hint })

const revokeCommand = (registry: Providers.Registry) => Command.make(
  "revoke",
  { provider: providerArg(registry), ...common(registry), tokenStdin },
  (args) =>
    handle(
      args,
      registry.get(args.provider),
      Effect.gen(function*() {
        const descriptor = registry.get(args.provider)
        if (descriptor.noRevocation !== undefined) {
          return yield* unsupported(args.provider, "Token revocation", descriptor.noRevocation)
        }
        yield* withPlan(registry, args.provider, args, "tokens", (plan, _settings, store) =>
          Effect.gen(function*() {
            const io = yield* InternalIo.CliIo
            if (plan.client === undefined) {
              return yield* unsupported(args.provider, "Revoking a static API token", descriptor.noRevocation ?? "")
            }
            const client = yield* plan.client
            const target = yield* tokenToActOn(plan, store, args.tokenStdin, "revoke")
            if (Option.isNone(target)) {
              const where = `${args.provider} (${plan.environment}, client ${plan.clientId ?? "?"}) in ${store.path}`
              yield* err(`No stored token for ${where}: nothing to revoke.`)
              if (args.json) yield* json({ ok: true, provider: args.provider, environment: plan.environment, revoked: false })
              return
            }
            const { refreshToken, stored, value } = target.value
            yield* withProgress(io, `waiting for the ${args.provider} revocation endpoint`, Duration.seconds(1))(
              Effect.gen(function*() {
                if (refreshToken !== undefined) yield* client.revoke(refreshToken, "refresh_token")
                yield* client.revoke(value, "access_token")
              })
            )
            if (stored) yield* Effect.flatMap(TokenStore.TokenStore, (s) => s.delete(plan.storeKey!))
            if (args.json) {
              return yield* json({
                ok: true,
                provider: args.provider,
                environment: plan.environment,
                revoked: true,
                refreshTokenRevoked: refreshToken !== undefined,
                removedFromStore: stored
              })
            }
            yield* out(
              `Revoked the ${args.provider} access token (${plan.environment})${
                refreshToken === undefined ? "" : " and its refresh token"
              }${stored ? `, and removed it from ${store.path}` : ""}.`
            )
            const afterRevoke = descriptor.entry?.afterRevoke
            if (afterRevoke !== undefined) yield* err(`note: ${afterRevoke}`)
          }))
      })
    )
).pipe(
  Command.withDescription(
    `Revokes a token (RFC 7009) where the provider supports it (${
      namesWhere(registry, (d) => d.noRevocation === undefined).join(", ")
    }); the others answer with exit code 9 and what to do instead. The token comes from standard input ` +
      "(--token-stdin) or the --store file."
  )
)

const introspectCommand = (registry: Providers.Registry) => Command.make(
  "introspect",
  { provider: providerArg(registry), ...common(registry), tokenStdin },
  (args) =>
    handle(
      args,
      registry.get(args.provider),
      Effect.gen(function*() {
        const descriptor = registry.get(args.provider)
        if (descriptor.noIntrospection !== undefined) {
          return yield* unsupported(args.provider, "Token introspection", descriptor.noIntrospection)
        }
        yield* withPlan(registry, args.provider, args, "tokens", (plan, _settings, store) =>
          Effect.gen(function*() {
            if (plan.client === undefined) {
              return yield* unsupported(args.provider, "Token introspection", descriptor.noIntrospection ?? "")
            }
            const client = yield* plan.client
            const target = yield* tokenToActOn(plan, store, args.tokenStdin, "introspect")
            if (Option.isNone(target)) return yield* err(`No stored ${args.provider} token in ${store.path}.`)
            const result = yield* client.introspect(target.value.value, "access_token")
            if (args.json) return yield* json({ ok: true, provider: args.provider, ...result })
            yield* out(
              `${args.provider} (${plan.environment}): token ${result.active ? "active" : "not active"}${
                result.scopes === undefined ? "" : `, scopes ${Format.shown(result.scopes.join(" "), 500)}`
              }`
            )
          }))
      })
    )
).pipe(
  Command.withDescription(
    `Asks the provider's introspection endpoint (RFC 7662) about a token. ${
      namesWhere(registry, (d) => d.noIntrospection === undefined).length === 0
        ? "None of the providers documents one for clients: each answers"
        : `Where the provider documents none for clients (${
          namesWhere(registry, (d) => d.noIntrospection !== undefined).join(", ")
        }), it answers`
    } with exit code 9 and what to do instead (whoami).`
  )
)

const whoamiCommand = (registry: Providers.Registry) => Command.make(
  "whoami",
  { provider: providerArg(registry), ...common(registry) },
  (args) =>
    handle(
      args,
      registry.get(args.provider),
      withPlan(registry, args.provider, args, "tokens", () =>
        Effect.gen(function*() {
          const io = yield* InternalIo.CliIo
          const test = yield* Providers.SelfTest
          const result = yield* withProgress(io, `waiting for ${args.provider}`, Duration.seconds(1))(test)
          if (args.json) return yield* json({ ok: true, ...result.json })
          yield* out(Format.shown(result.text))
        }))
    )
).pipe(
  Command.withDescription(
    `The provider's credential self-test: ${
      registry.descriptors.flatMap(({ entry, name }) =>
        entry === undefined ? [] : [`${name} ${entry.whoami?.describe ?? "a token grant"}`]
      ).join(", ")
    }.`
  )
)

/** `login --paste` listens nowhere: the built-in logins never serve on this; a login that tries dies saying so. */
const noListener = Layer.succeed(
  HttpServer.HttpServer,
  HttpServer.make({
    serve: () => Effect.dieMessage("login --paste listens nowhere: this provider's login cannot be completed by pasting"),
    address: { _tag: "TcpAddress", hostname: "127.0.0.1", port: 0 }
  })
)

/**
 * The login's callback listener: on the registered callback's port where the provider has one (HTTPS with a
 * certificate made at run time for an https callback, the browser's warning printed), else plain HTTP on `--port`.
 */
const loginServer = (title: string, callback: Providers.Plan["callback"], port: number | undefined) => {
  const codes = callback?.codeLifetime === undefined
    ? ""
    : ` ${title}'s codes live about ${Duration.format(callback.codeLifetime)}: the login completes as soon as the ` +
      "browser reaches the callback."
  if (callback !== undefined && callback.url.startsWith("https:")) {
    return {
      https: true,
      address: callback.url,
      layer: port === undefined ? LoopbackHttps.layerFor(callback.url) : LoopbackHttps.layer({ port }),
      notice: `${LoopbackHttps.browserWarning(callback.url)}${codes}`
    }
  }
  const listen = port ?? callback?.port ?? 8765
  return {
    https: false,
    address: `127.0.0.1:${listen}`,
    // Closing it never waits on a browser's idle or half-open connection for more than a second.
    layer: NodeHttpServer.layer(() => LoopbackHttps.withBoundedClose(Http.createServer()), { host: "127.0.0.1", port: listen }),
    notice: codes === "" ? undefined : codes.trimStart()
  }
}

const loginCommand = (registry: Providers.Registry) => Command.make(
  "login",
  {
    provider: providerArg(registry),
    ...common(registry),
    port: Options.integer("port").pipe(
      Options.withDescription(
        "The loopback port of the callback, http://127.0.0.1:<port>/callback; default: the port of the registered " +
          "callback URL ({PREFIX}_CALLBACK_URL, e.g. Schwab's https://127.0.0.1:8182, TradeStation's " +
          "http://localhost:31022) where the provider has one, else 8765, the demo application's (0: any free port; " +
          "the redirect_uri is sent, so any port works where the provider accepts it)."
      ),
      Options.optional
    ),
    open: Options.boolean("open").pipe(Options.withDescription("Also open the authorize URL in the browser.")),
    paste: Options.boolean("paste").pipe(
      Options.withDescription(
        "Listen nowhere: log in in any browser (another machine's too), then paste the whole URL the browser landed " +
          "on (an error page: nothing listens there) on standard input. Its state is checked and its code exchanged " +
          "at once, so paste it as soon as the browser lands (Schwab's codes live about 30 seconds)."
      )
    ),
    timeout: Options.integer("timeout").pipe(
      Options.withDescription("How many seconds to wait for the login; default 600 (Tradier's codes live 10 minutes)."),
      Options.withDefault(600)
    )
  },
  (args) =>
    handle(
      args,
      registry.get(args.provider),
      Effect.gen(function*() {
        const descriptor = registry.get(args.provider)
        if (descriptor.noLogin !== undefined) return yield* unsupported(args.provider, "Login", descriptor.noLogin)
        const port = Option.getOrUndefined(args.port)
        if (port !== undefined && (port < 0 || port > 65535)) {
          return yield* new Settings.UsageError({ message: "--port must be from 0 to 65535." })
        }
        if (args.timeout < 1) return yield* new Settings.UsageError({ message: "--timeout must be at least 1 second." })
        yield* withPlan(registry, args.provider, args, "login", (plan, _settings, store) =>
          Effect.gen(function*() {
            const io = yield* InternalIo.CliIo
            if (plan.login === undefined) return yield* unsupported(args.provider, "Login", descriptor.noLogin ?? "")
            const shown = yield* Deferred.make<void>()
            const server = loginServer(descriptor.title, plan.callback, port)
            const loggingIn = plan.login({
              timeout: args.timeout * 1000,
              port,
              paste: args.paste
                ? Effect.sync(() =>
                  io.stderr(
                    "After logging in, copy the whole address the browser landed on (it starts with the callback URL " +
                      "and carries ?code=...) and paste it here, then press Enter:\n"
                  )
                ).pipe(Effect.zipRight(io.readLine))
                : undefined,
              onAuthorizeUrl: (url) =>
                Effect.gen(function*() {
                  // The URL carries the state: shown to the user, never logged.
                  io.stderr(`Open this URL in your browser to log in to ${descriptor.title} (${plan.environment}):\n\n  ${url}\n\n`)
                  if (!args.paste && server.notice !== undefined) io.stderr(`${server.notice}\n\n`)
                  if (args.open) yield* Effect.forkDaemon(io.openUrl(url))
                  yield* Deferred.succeed(shown, undefined)
                })
            })
            const callback = args.paste ? noListener : server.layer
            // No progress line while the user pastes: it would be drawn over what they type.
            const token = yield* (args.paste ? loggingIn : withProgress(
              io,
              `waiting for the login in the browser (up to ${Format.remaining(args.timeout * 1000)})`,
              Deferred.await(shown)
            )(loggingIn)).pipe(
              Effect.provide(callback),
              Effect.catchTag("ServeError", () =>
                new Settings.UsageError({
                  message: server.https
                    ? `Cannot listen on ${server.address} for the login callback (in use, or a port below 1024 without root?). ` +
                      "Free that port, register a callback with a port above 1024 (e.g. https://127.0.0.1:8182), or " +
                      "log in with --paste."
                    : `Cannot listen on ${server.address} for the login callback (in use?). Give another ` +
                      "--port: the one of the callback URL registered with the application, or any while the " +
                      "provider accepts the redirect_uri sent."
                }))
            )
            const now = yield* Clock.currentTimeMillis
            if (args.json) {
              return yield* json({
                ok: true,
                ...Format.summaryJson(args.provider, plan.environment, token, now),
                store: store.path ?? null
              })
            }
            yield* out(`Logged in. ${Format.summary(args.provider, plan.environment, token, now)}.`)
            yield* out(`The token is stored, encrypted, in ${store.path}.`)
          }))
      })
    )
).pipe(
  Command.withDescription(
    `The authorization-code login (${
      namesWhere(registry, (d) => d.noLogin === undefined).join(", ")
    }): listens on a loopback callback, prints the authorize URL to open ` +
      "(--open also opens the browser), waits up to --timeout, and stores the token in the encrypted token file, " +
      "where `token <provider>`, `whoami <provider>` and bots read it (`token oauth2 --store <file>` for oauth2). " +
      "oauth2 logs in with PKCE, and pushes the request first (PAR, RFC 9126) whenever the server has a PAR " +
      "endpoint. Other providers need no login."
  )
)

const statusCommand = (registry: Providers.Registry) => Command.make(
  "status",
  {
    provider: Args.text({ name: "provider" }).pipe(
      Args.withDescription("Only this provider's tokens (any name in the file, e.g. tradier)."),
      Args.optional
    ),
    store: common(registry).store,
    warn: Options.text("warn").pipe(
      Options.withDescription(
        "The lead times of the refresh-token warning, comma-separated, e.g. 72h,6h or 3d,12h,30m (units ms, s, m, " +
          "h, d, w); the shortest one reached is shown. Default: 48h,12h,1h (a bot's own refreshTokenWarnings may differ)."
      ),
      Options.optional
    ),
    json: common(registry).json,
    verbose
  },
  (args) =>
    handle(
      args,
      Option.getOrUndefined(
        Option.map(Option.filter(args.provider, (name) => registry.names.includes(name)), registry.get)
      ),
      Effect.gen(function*() {
        const io = yield* InternalIo.CliIo
        const warn = Option.map(args.warn, Status.parseLeadTimes)
        if (Option.isSome(warn) && "problem" in warn.value) {
          return yield* new Settings.UsageError({ message: warn.value.problem })
        }
        const leadTimes = Option.isSome(warn) && "leadTimes" in warn.value ? warn.value.leadTimes : undefined
        const env = new Map<string, string>()
        for (const [name, value] of Object.entries(io.env)) if (value !== undefined) env.set(name, value)
        const settings = ConfigProvider.fromMap(env)
        const key = yield* Effect.withConfigProvider(Config.option(TokenCipher.secretConfig), settings)
        if (Option.isNone(key)) return yield* storeKeyMissing
        const path = Option.isSome(args.store) ? args.store.value : yield* Effect.withConfigProvider(
          FileTokenStore.pathConfig.pipe(
            Effect.mapError(() =>
              new Settings.UsageError({
                message: "No token store path: neither HOME nor XDG_CONFIG_HOME nor EFFECT_OAUTH2_STORE_PATH is set. " +
                  "Give one with --store <path>."
              })
            )
          ),
          settings
        )
        const entries = yield* Status.read(path, key.value)
        const wanted = Option.getOrUndefined(args.provider)
        const now = yield* Clock.currentTimeMillis
        const mine = (entries ?? []).filter((entry) => wanted === undefined || entry.key?.provider === wanted)
        const described = mine.flatMap((entry) => {
          if (entry.key === undefined || entry.token === undefined) return []
          const name = entry.key.provider
          const login = registry.names.includes(name) && registry.get(name).noLogin === undefined
            ? `effect-oauth2 login ${name}`
            : undefined
          return [Status.describe(entry.key, entry.token, now, login, leadTimes)]
        })
        const unreadable = mine.filter((entry) => entry.problem !== undefined)
        // A login needed (or none stored for the provider asked about): 5, as `token` says it; an entry that
        // cannot be read: 2, as any unusable store.
        const code = described.some((d) => d.needsLogin) || (wanted !== undefined && mine.length === 0)
          ? ExitCode.ExitCode.Expired
          : unreadable.length > 0
          ? ExitCode.ExitCode.Usage
          : ExitCode.ExitCode.Ok
        if (args.json) {
          yield* json({
            ok: code === ExitCode.ExitCode.Ok,
            exitCode: code,
            store: path,
            tokens: described.map((d) => d.json),
            unreadable: unreadable.map((entry) => ({ entry: entry.name, problem: entry.problem }))
          })
        } else {
          if (entries === undefined) yield* out(`No token file at ${path}: nothing stored yet.`)
          else if (mine.length === 0) {
            yield* out(`No stored token${wanted === undefined ? "s" : ` for ${Format.shown(wanted, 100)}`} in ${path}.`)
          }
          for (const d of described) for (const line of d.lines) yield* out(line)
          for (const entry of unreadable) {
            yield* err(`cannot read the entry ${Format.shown(entry.name, 500)}: ${Format.shown(entry.problem ?? "", 1000)}`)
          }
        }
        if (code !== ExitCode.ExitCode.Ok) return yield* new Reported({ code })
      })
    )
).pipe(
  Command.withDescription(
    "Shows every token in the encrypted token file (--store, else EFFECT_OAUTH2_STORE_PATH, else " +
      "~/.config/effect-oauth2/tokens.json), or a provider's: when its access token expires, when its refresh token " +
      "dies, and the warning reached (48h, 12h, 1h before; --warn for others). No secret is printed. Exit code 5 when a login is " +
      "needed (or none is stored for the provider named), 2 when the file or an entry cannot be read."
  )
)

const emulatorCommand = Command.make(
  "emulator",
  {
    port: Options.integer("port").pipe(
      Options.withDescription("The port to listen on; default 4010 (0: any free port)."),
      Options.withDefault(4010)
    ),
    host: Options.text("host").pipe(
      Options.withDescription("The interface to listen on; default 127.0.0.1 (another exposes the emulator beyond this machine)."),
      Options.withDefault("127.0.0.1")
    ),
    autoApprove: Options.boolean("auto-approve").pipe(
      Options.withDescription("Tradier's authorize endpoint redirects straight to the callback with a code.")
    ),
    tokenLifetime: Options.integer("token-lifetime").pipe(
      Options.withDescription("Access-token lifetime in seconds for every provider (default: each provider's own)."),
      Options.optional
    ),
    verbose
  },
  (args) =>
    handle(
      { json: false, verbose: args.verbose },
      undefined,
      Effect.gen(function*() {
        if (args.port < 0 || args.port > 65535) {
          return yield* new Settings.UsageError({ message: "--port must be from 0 to 65535." })
        }
        if (Option.isSome(args.tokenLifetime) && args.tokenLifetime.value < 1) {
          return yield* new Settings.UsageError({ message: "--token-lifetime must be at least 1 second." })
        }
        const mode: Emulator.AuthorizationMode = args.autoApprove ? "auto-approve" : "consent"
        const emulator = yield* Emulator.make({
          port: args.port,
          host: args.host,
          tradierAuthorization: mode,
          tokenLifetime: Option.match(args.tokenLifetime, {
            onNone: () => undefined,
            onSome: (seconds) => Duration.seconds(seconds)
          })
        }).pipe(
          Effect.catchTag("ServeError", () =>
            new Settings.UsageError({
              message: `Cannot listen on ${args.host}:${args.port} (in use?): give another --port, or 0 for any.`
            }))
        )
        yield* Effect.addFinalizer(() => err("emulator stopped"))
        yield* out(describeEmulator(emulator, args.host, mode))
        return yield* Effect.never
      }).pipe(Effect.scoped)
    )
).pipe(
  Command.withDescription(
    "Starts the effect-oauth2 emulator (Figure Markets, Figure Pay, Tradier, Openmarkets, Schwab, TradeStation, " +
      "tastytrade and Saxo on one loopback port) " +
      "and prints its URLs and demo credentials. Runs until Ctrl+C."
  )
)

const titles = (descriptors: ReadonlyArray<Providers.Descriptor>): string => {
  const names = descriptors.map((d) => d.title)
  return names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`
}

const commandFor = (registry: Providers.Registry) =>
  Command.make("effect-oauth2", {}, () =>
    Effect.flatMap(InternalIo.CliIo, (io) =>
      Effect.zipRight(
        Effect.sync(() => io.stderr("error: missing command: try effect-oauth2 --help\n")),
        new Reported({ code: ExitCode.ExitCode.Usage })
      ))).pipe(
      Command.withDescription(
        `OAuth 2.0 tokens for ${titles(registry.descriptors.filter((d) => d.entry !== undefined))} from the shell: ` +
          "get, revoke and introspect tokens, run a provider's credential self-test, " +
          `log in to ${titles(registry.descriptors.filter((d) => d.entry !== undefined && d.noLogin === undefined))}, ` +
          "show what is stored (status), or start the emulator."
      ),
      Command.withSubcommands([
        tokenCommand(registry),
        revokeCommand(registry),
        introspectCommand(registry),
        whoamiCommand(registry),
        loginCommand(registry),
        statusCommand(registry),
        emulatorCommand
      ])
    )

/**
 * The command tree, with the built-in providers (`CliProvider.providers`).
 *
 * @since 0.1.0
 * @category commands
 */
export const command = commandFor(defaultRegistry)

const cliFor = (registry: Providers.Registry, tree: ReturnType<typeof commandFor>) =>
  Command.run(tree, {
    name: "effect-oauth2",
    version,
    summary: Span.text("OAuth 2.0 tokens from the shell"),
    footer: registry === defaultRegistry ? footer : footerFor(registry)
  })

const cli = cliFor(defaultRegistry, command)

/**
 * `--emulator` may stand alone (meaning `http://127.0.0.1:4010`), or take a URL, a port or `host:port`:
 * `@effect/cli` options always take a value, so each form is rewritten to `--emulator=<url>`.
 */
const normalize = (args: ReadonlyArray<string>): Array<string> => {
  const result: Array<string> = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    const next = args[i + 1]
    if (arg !== "--emulator") {
      result.push(arg)
    } else if (next !== undefined && next.includes("://")) {
      result.push(`--emulator=${next}`)
      i++
    } else if (next !== undefined && /^\d{1,5}$/.test(next)) {
      // `--emulator 4010`: a port on loopback
      result.push(`--emulator=http://127.0.0.1:${next}`)
      i++
    } else if (next !== undefined && /^[A-Za-z0-9.-]+:\d{1,5}$/.test(next)) {
      // `--emulator localhost:4010`: a host and port, over http
      result.push(`--emulator=http://${next}`)
      i++
    } else {
      result.push(`--emulator=${Settings.defaultEmulatorUrl}`)
    }
  }
  return result
}

/**
 * The options of {@link run}.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunOptions {
  /** Where to read and write; each member defaults to the process's. */
  readonly io?: Partial<Io> | undefined
  /**
   * The providers the command serves (then `oauth2`), e.g. `[...CliProvider.providers, { definition }]` for a
   * provider of your own. Default: `CliProvider.providers`.
   *
   * @since 0.2.0
   */
  readonly providers?: ReadonlyArray<CliProvider.CliProvider> | undefined
}

/**
 * Runs the command on the arguments after the executable (`process.argv.slice(2)`) and returns its exit code.
 * Never fails: every failure is printed to standard error (as its `message`, never a secret) and becomes its exit
 * code (see `ExitCode`). Interrupting it (Ctrl+C) stops what it does, the emulator included.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (args: ReadonlyArray<string>, options: RunOptions = {}): Effect.Effect<number> => {
  const io: InternalIo.Io = { ...InternalIo.processIo(), ...options.io }
  const verbose = args.includes("--verbose")
  const program: Effect.Effect<void, unknown, InternalIo.CliIo | HttpClient.HttpClient | NodeContext.NodeContext | Terminal.Terminal> =
    (options.providers === undefined ? cli : cliFor(Providers.registry(options.providers), commandFor(Providers.registry(options.providers))))(
      ["node", "effect-oauth2", ...normalize(args)]
    )
  return program.pipe(
    Effect.as(ExitCode.ExitCode.Ok as number),
    Effect.catchAll((error) =>
      Effect.succeed(
        error instanceof Reported
          ? error.code
          : ValidationError.isValidationError(error)
          ? (ValidationError.isHelpRequested(error) ? ExitCode.ExitCode.Ok : ExitCode.ExitCode.Usage)
          : ExitCode.fromError(error)
      )
    ),
    Effect.catchAllDefect((defect) =>
      Effect.sync(() => {
        io.stderr(
          `error: unexpected failure (a bug: please report it): ${
            defect instanceof Error ? defect.message : String(defect)
          }\n`
        )
        if (verbose) io.stderr(`${Cause.pretty(Cause.die(defect))}\n`)
        return ExitCode.ExitCode.Unexpected as number
      })
    ),
    Effect.provideService(InternalIo.CliIo, io),
    Effect.provide(NodeHttpClient.layerUndici),
    Effect.provide(NodeContext.layer),
    Effect.withConsole(InternalIo.console(io)),
    Effect.provide(Logger.replace(Logger.defaultLogger, InternalIo.logger(io, verbose))),
    // Errors are reported once, by `report`; the library's own warnings (a failed request, retried or not) are
    // noise for a one-shot command unless --verbose asks for everything.
    Logger.withMinimumLogLevel(LogLevel.Error)
  )
}
