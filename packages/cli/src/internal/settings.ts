/**
 * The options every provider command shares, and how they become one `ConfigProvider`: flags win over environment
 * variables, which win over the config file. With `--emulator` and no credentials at all, the emulator's demo
 * credentials fill in.
 *
 * @internal
 */
import * as Emulator from "@effect-oauth2/emulator/Emulator"
import * as FileSystem from "@effect/platform/FileSystem"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type { Descriptor, Purpose, Registry, Secrets } from "./providers.js"

/** The options shared by `token`, `revoke`, `introspect`, `whoami` and `login`. @internal */
export interface Common {
  readonly env: Option.Option<string>
  readonly clientId: Option.Option<string>
  readonly clientSecret: Option.Option<Redacted.Redacted<string>>
  readonly scopes: Option.Option<string>
  readonly config: Option.Option<string>
  readonly emulator: Option.Option<string>
  readonly store: Option.Option<string>
  /** The `oauth2` mode's: the issuer, the private key file, the method and the assertion's settings. */
  readonly issuer: Option.Option<string>
  readonly privateKey: Option.Option<string>
  /** The `oauth2` mode's mutual TLS: the certificate, its key and the servers' CA, as files. */
  readonly cert: Option.Option<string>
  readonly key: Option.Option<string>
  readonly ca: Option.Option<string>
  readonly authMethod: Option.Option<string>
  readonly keyId: Option.Option<string>
  readonly alg: Option.Option<string>
  readonly audience: Option.Option<string>
  /** The `oauth2` mode's DPoP (RFC 9449): a key pair for the command, proofs on token requests. */
  readonly dpop: boolean
  readonly json: boolean
  readonly verbose: boolean
}

/** A mistake in the command line, the environment or the config file: exit code 2. @internal */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

/** The emulator the command points at. @internal */
export interface EmulatorTarget {
  readonly baseUrl: string
  /** Each provider's hosts there, by provider name. */
  readonly hosts: Emulator.Hosts
}

/** @internal */
export interface Settings {
  readonly descriptor: Descriptor
  /** Flags, environment and config file, merged by precedence, under the environment variables' names. */
  readonly configProvider: ConfigProvider.ConfigProvider
  readonly emulator: EmulatorTarget | undefined
  /** The emulator's demo credentials are in use. */
  readonly demo: boolean
  /** The secrets read from files (`oauth2`'s private key), `Redacted` as soon as read. */
  readonly secrets: Secrets
  /** Lines for standard error: warnings and notes (never a secret). */
  readonly notes: ReadonlyArray<string>
}

/** The default of `--emulator`, the port `effect-oauth2 emulator` listens on. @internal */
export const defaultEmulatorUrl = "http://127.0.0.1:4010"

/** The members of a provider's section in the config file, and the variable each one stands for. @internal */
export const configFileMembers = {
  clientId: "CLIENT_ID",
  clientSecret: "CLIENT_SECRET",
  environment: "ENV",
  scopes: "SCOPES",
  accessToken: "ACCESS_TOKEN",
  issuer: "ISSUER",
  privateKeyFile: "PRIVATE_KEY_FILE",
  certFile: "CERT_FILE",
  keyFile: "KEY_FILE",
  caFile: "CA_FILE",
  authMethod: "AUTH_METHOD",
  keyId: "KEY_ID",
  alg: "ALG",
  audience: "AUDIENCE"
} as const

const secretMembers: ReadonlyArray<string> = ["clientSecret", "accessToken"]

/** The members of the `oauth2` section only. */
const genericMembers: ReadonlyArray<string> = [
  "issuer",
  "privateKeyFile",
  "certFile",
  "keyFile",
  "caFile",
  "authMethod",
  "keyId",
  "alg",
  "audience"
]

/** Whether a provider's section may hold a member. */
const allowedMember = (descriptor: Descriptor, member: string): boolean =>
  member in configFileMembers &&
  (member !== "accessToken" || descriptor.staticToken !== undefined) &&
  (!genericMembers.includes(member) || descriptor.name === "oauth2") &&
  (member !== "environment" || descriptor.name !== "oauth2")

/**
 * Refuses a file that holds secrets (a config file with a secret, a private key) when other users may read it or
 * another user owns it: it must be the user's own, mode 600 or 400. `what` names the file in the message.
 */
const checkPrivate = (
  fs: FileSystem.FileSystem,
  path: string,
  what: string
): Effect.Effect<void, UsageError> =>
  Effect.gen(function*() {
    if (process.platform === "win32") return
    const info = yield* fs.stat(path).pipe(Effect.option)
    if (Option.isNone(info)) return
    const fail = (message: string) => Effect.fail(new UsageError({ message: `${what} ${path}: ${message}` }))
    if ((info.value.mode & 0o077) !== 0) {
      return yield* fail(
        `it holds secrets and other users may read it (mode ${(info.value.mode & 0o777).toString(8)}). ` +
          `Run: chmod 600 ${path}`
      )
    }
    const uid = typeof process.getuid === "function" ? process.getuid() : undefined
    if (uid !== undefined && Option.isSome(info.value.uid) && info.value.uid.value !== uid) {
      return yield* fail(
        `it holds secrets and belongs to another user (uid ${info.value.uid.value}, you are ${uid}). Use a copy ` +
          `of your own (chmod 600), or take it over with chown.`
      )
    }
  })

const parseEmulator = (value: string): Effect.Effect<EmulatorTarget, UsageError> => {
  let url: URL
  try {
    url = new URL(value.trim())
  } catch {
    return Effect.fail(new UsageError({ message: `--emulator must be a URL such as ${defaultEmulatorUrl}.` }))
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.username !== "" || url.password !== "") {
    return Effect.fail(
      new UsageError({ message: `--emulator must be an http(s) URL without credentials, such as ${defaultEmulatorUrl}.` })
    )
  }
  if (url.search !== "" || url.hash !== "") {
    return Effect.fail(new UsageError({ message: "--emulator must be a base URL, without a query or fragment." }))
  }
  const baseUrl = `${url.origin}${url.pathname}`.replace(/\/+$/, "")
  return Effect.succeed({ baseUrl, hosts: Emulator.hostsAt(baseUrl) })
}

type FileValues = ReadonlyMap<string, string>

/** Reads the provider's section of a config file into variable names. */
const readConfigFile = (
  path: string,
  descriptor: Descriptor,
  registry: Registry
): Effect.Effect<FileValues, UsageError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const fail = (message: string) => Effect.fail(new UsageError({ message: `config file ${path}: ${message}` }))
    const text = yield* fs.readFileString(path).pipe(
      Effect.mapError((error) =>
        new UsageError({
          message: `cannot read the config file ${path}: ${
            error._tag === "SystemError" ? error.reason : "unreadable"
          }. Check the path given to --config.`
        })
      )
    )
    let content: unknown
    try {
      content = JSON.parse(text)
    } catch {
      return yield* fail("not valid JSON.")
    }
    if (typeof content !== "object" || content === null || Array.isArray(content)) {
      return yield* fail("expected a JSON object with one member per provider, e.g. { \"figure-markets\": { ... } }.")
    }
    const providers: ReadonlyArray<string> = registry.names
    let holdsSecret = false
    for (const [name, section] of Object.entries(content)) {
      if (name === "$schema") continue
      if (!providers.includes(name)) {
        return yield* fail(`unknown member "${name}": the members are ${providers.join(", ")}.`)
      }
      if (typeof section !== "object" || section === null || Array.isArray(section)) {
        return yield* fail(`"${name}" must be an object such as { "clientId": "...", "clientSecret": "..." }.`)
      }
      for (const member of Object.keys(section)) {
        if (!allowedMember(registry.get(name), member)) {
          const allowed = Object.keys(configFileMembers).filter((m) => allowedMember(registry.get(name), m))
          return yield* fail(`unknown member "${name}.${member}": the members are ${allowed.join(", ")}.`)
        }
        if (secretMembers.includes(member)) holdsSecret = true
      }
    }
    if (holdsSecret) yield* checkPrivate(fs, path, "config file")
    const section = (content as Record<string, unknown>)[descriptor.name]
    const values = new Map<string, string>()
    if (section === undefined) return values
    for (const [member, value] of Object.entries(section as Record<string, unknown>)) {
      const suffix = configFileMembers[member as keyof typeof configFileMembers]
      if (member === "scopes") {
        if (descriptor.scopes === "none") return yield* fail(`${descriptor.title} has no scopes: remove "${descriptor.name}.scopes".`)
        if (Array.isArray(value) && value.every((s) => typeof s === "string")) {
          values.set(`${descriptor.prefix}_${suffix}`, value.join(" "))
          continue
        }
      }
      if (typeof value !== "string") {
        return yield* fail(`"${descriptor.name}.${member}" must be a string${member === "scopes" ? " or an array of strings" : ""}.`)
      }
      values.set(`${descriptor.prefix}_${suffix}`, value)
    }
    return values
  })

/**
 * Reads one of the `oauth2` mode's private key files (`--private-key`: PKCS#8 PEM or JWK; `--key`: the TLS
 * certificate's PEM key): refused when other users may read it or another user owns it; its content is `Redacted`
 * as soon as read and never shown, not even in part.
 */
const readPrivateKey = (
  path: string,
  flag: "--private-key" | "--key" = "--private-key"
): Effect.Effect<Redacted.Redacted<string>, UsageError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const variable = flag === "--key" ? "EFFECT_OAUTH2_KEY_FILE" : "EFFECT_OAUTH2_PRIVATE_KEY_FILE"
    yield* checkPrivate(fs, path, flag === "--key" ? "TLS key file" : "private key file")
    const text = yield* fs.readFileString(path).pipe(
      Effect.map(Redacted.make),
      Effect.mapError((error) =>
        new UsageError({
          message: `cannot read the private key file ${path}: ${
            error._tag === "SystemError" ? error.reason : "unreadable"
          }. Check the path given to ${flag} (or ${variable}).`
        })
      )
    )
    if (Redacted.value(text).trim() === "") {
      return yield* new UsageError({
        message: flag === "--key"
          ? `the TLS key file ${path} is empty: it should hold the PEM private key of --cert.`
          : `the private key file ${path} is empty: it should hold a PKCS#8 PEM (-----BEGIN PRIVATE KEY-----) or a JWK.`
      })
    }
    return text
  })

/** Reads a public PEM file (`--cert`, `--ca`): no privacy check, a clear message when it cannot be read. */
const readPublicFile = (
  path: string,
  flag: "--cert" | "--ca"
): Effect.Effect<string, UsageError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const variable = flag === "--cert" ? "EFFECT_OAUTH2_CERT_FILE" : "EFFECT_OAUTH2_CA_FILE"
    const text = yield* fs.readFileString(path).pipe(
      Effect.mapError((error) =>
        new UsageError({
          message: `cannot read the ${flag === "--cert" ? "certificate" : "CA certificate"} file ${path}: ${
            error._tag === "SystemError" ? error.reason : "unreadable"
          }. Check the path given to ${flag} (or ${variable}).`
        })
      )
    )
    if (text.trim() === "") {
      return yield* new UsageError({
        message: `the file ${path} (${flag}) is empty: it should hold PEM certificates (-----BEGIN CERTIFICATE-----).`
      })
    }
    return text
  })

/** The credentials' variable names. @internal */
export const credentialVariables = (descriptor: Descriptor) => ({
  clientId: `${descriptor.prefix}_CLIENT_ID`,
  clientSecret: `${descriptor.prefix}_CLIENT_SECRET`,
  accessToken: descriptor.staticToken
})

const missingCredentials = (descriptor: Descriptor, purpose: Purpose, missing: ReadonlyArray<string>) => {
  const vars = credentialVariables(descriptor)
  const what = vars.accessToken !== undefined && purpose !== "login"
    ? `set ${vars.accessToken} (a static API token), or ${vars.clientId} and ${vars.clientSecret} (an OAuth ` +
      `application${descriptor.noLogin === undefined ? `, after \`effect-oauth2 login ${descriptor.name}\`` : ""})`
    : `set ${vars.clientId} and ${vars.clientSecret}`
  return new UsageError({
    message: `No credentials for ${descriptor.name}: ${missing.join(" and ")} ${missing.length === 1 ? "is" : "are"} ` +
      `not set. In the environment, ${what}; or pass --client-id (and the secret in the environment), or use ` +
      `--config <file>. With --emulator, the emulator's demo credentials are used.`
  })
}

/**
 * Merges flags, environment and config file (in that order of precedence) for one provider.
 *
 * @internal
 */
export const resolve = (
  descriptor: Descriptor,
  registry: Registry,
  common: Common,
  env: Readonly<Record<string, string | undefined>>,
  purpose: Purpose
): Effect.Effect<Settings, UsageError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const notes: Array<string> = []
    const prefix = descriptor.prefix
    const flags = new Map<string, string>()
    const generic = descriptor.name === "oauth2"
    const genericFlags = [
      ["--issuer", common.issuer, "ISSUER"],
      ["--private-key", common.privateKey, "PRIVATE_KEY_FILE"],
      ["--cert", common.cert, "CERT_FILE"],
      ["--key", common.key, "KEY_FILE"],
      ["--ca", common.ca, "CA_FILE"],
      ["--auth-method", common.authMethod, "AUTH_METHOD"],
      ["--key-id", common.keyId, "KEY_ID"],
      ["--alg", common.alg, "ALG"],
      ["--audience", common.audience, "AUDIENCE"]
    ] as const
    for (const [flag, value, suffix] of genericFlags) {
      if (Option.isNone(value)) continue
      if (!generic) {
        return yield* new UsageError({
          message: `${flag} is for the oauth2 mode (any server, found by discovery), e.g. \`effect-oauth2 token ` +
            `oauth2 --issuer <url> ...\`; ${descriptor.name} has its endpoints built in.`
        })
      }
      flags.set(`${prefix}_${suffix}`, value.value.trim())
    }
    if (common.dpop) {
      if (!generic) {
        return yield* new UsageError({
          message: `--dpop is for the oauth2 mode (any server, found by discovery), e.g. \`effect-oauth2 token ` +
            `oauth2 --issuer <url> --dpop\`; ${descriptor.name} does not bind tokens to a DPoP key.`
        })
      }
      flags.set(`${prefix}_DPOP`, "true")
    }
    if (generic && Option.isSome(common.env)) {
      return yield* new UsageError({ message: "oauth2 has no --env: the server is the one --issuer names." })
    }
    if (generic && Option.isSome(common.emulator)) {
      return yield* new UsageError({
        message: "--emulator serves the built-in providers, not discovery: give the oauth2 server with --issuer <url>."
      })
    }
    if (Option.isSome(common.env)) {
      const value = common.env.value.trim()
      if (!descriptor.environments.includes(value)) {
        return yield* new UsageError({
          message: `--env must be one of ${descriptor.environments.join(", ")} for ${descriptor.name}.`
        })
      }
      flags.set(`${prefix}_ENV`, value)
    }
    if (Option.isSome(common.scopes)) {
      const value = common.scopes.value.trim()
      if (descriptor.scopes === "none") {
        return yield* new UsageError({ message: `${descriptor.title} has no scopes: leave out --scopes.` })
      }
      if (descriptor.scopes === "space" && value.includes(",")) {
        return yield* new UsageError({
          message: `--scopes is space-separated for ${descriptor.name}, e.g. --scopes "A B" (no commas).`
        })
      }
      flags.set(`${prefix}_SCOPES`, value)
    }
    if (Option.isSome(common.clientId)) flags.set(`${prefix}_CLIENT_ID`, common.clientId.value)
    if (Option.isSome(common.clientSecret)) {
      flags.set(`${prefix}_CLIENT_SECRET`, Redacted.value(common.clientSecret.value))
      notes.push(
        `warning: --client-secret leaves the secret in your shell history and the process list; prefer ` +
          `${prefix}_CLIENT_SECRET in the environment or a --config file (chmod 600).`
      )
    }
    const emulator = Option.isSome(common.emulator) ? yield* parseEmulator(common.emulator.value) : undefined
    if (emulator !== undefined && emulator.hosts[descriptor.name] === undefined) {
      return yield* new UsageError({
        message: `--emulator serves ${Object.keys(emulator.hosts).join(", ")}, not ${descriptor.name}: leave it out ` +
          `and give ${descriptor.name}'s own URLs (${descriptor.prefix}_..._URL).`
      })
    }
    const file = Option.isSome(common.config)
      ? yield* readConfigFile(common.config.value, descriptor, registry)
      : new Map<string, string>()

    const merged = new Map<string, string>(file)
    for (const [name, value] of Object.entries(env)) if (value !== undefined) merged.set(name, value)
    for (const [name, value] of flags) merged.set(name, value)

    const vars = credentialVariables(descriptor)
    const has = (name: string | undefined) => name !== undefined && (merged.get(name) ?? "").trim() !== ""
    if (purpose === "login" && vars.accessToken !== undefined) merged.delete(vars.accessToken)
    if (generic) {
      const keyFile = `${prefix}_PRIVATE_KEY_FILE`
      const certFile = `${prefix}_CERT_FILE`
      const tlsKeyFile = `${prefix}_KEY_FILE`
      const caFile = `${prefix}_CA_FILE`
      if (has(certFile) !== has(tlsKeyFile)) {
        return yield* new UsageError({
          message: `mutual TLS needs the certificate and its key together: ${
            has(certFile) ? `--key (${tlsKeyFile})` : `--cert (${certFile})`
          } is not set.`
        })
      }
      const missing = [`${prefix}_ISSUER`, vars.clientId].filter((name) => !has(name))
      if (!has(vars.clientSecret) && !has(keyFile) && !has(certFile)) {
        missing.push(`${vars.clientSecret}, ${keyFile} or ${certFile}`)
      }
      if (missing.length > 0) {
        return yield* new UsageError({
          message: `Not enough settings for oauth2: ${missing.join(" and ")} ${
            missing.length === 1 ? "is" : "are"
          } not set. Give --issuer <url>, --client-id <id> and --private-key <file> (or --cert and --key for ` +
            `mutual TLS, or the secret in ` +
            `${vars.clientSecret}), in the environment (${prefix}_ISSUER, ...), or in the "oauth2" section of ` +
            `a --config file.`
        })
      }
      const privateKey = has(keyFile) ? yield* readPrivateKey(merged.get(keyFile)!.trim()) : undefined
      const certificate = has(certFile) ? yield* readPublicFile(merged.get(certFile)!.trim(), "--cert") : undefined
      const certificateKey = has(tlsKeyFile)
        ? yield* readPrivateKey(merged.get(tlsKeyFile)!.trim(), "--key")
        : undefined
      const ca = has(caFile) ? yield* readPublicFile(merged.get(caFile)!.trim(), "--ca") : undefined
      return {
        descriptor,
        configProvider: ConfigProvider.fromMap(merged),
        emulator: undefined,
        demo: false,
        notes,
        secrets: { privateKey, certificate, certificateKey, ca }
      }
    }
    let demo = false
    const usesStatic = purpose !== "login" && has(vars.accessToken)
    if (!usesStatic) {
      if (!has(vars.clientId) && !has(vars.clientSecret) && emulator !== undefined && descriptor.demo !== undefined) {
        merged.set(vars.clientId, descriptor.demo.clientId)
        merged.set(vars.clientSecret, descriptor.demo.clientSecret)
        // A provider whose tokens come from a refresh token the user holds: the demo client's grant.
        const refreshTokenVariable = `${descriptor.prefix}_REFRESH_TOKEN`
        if (descriptor.demo.refreshToken !== undefined && !has(refreshTokenVariable)) {
          merged.set(refreshTokenVariable, descriptor.demo.refreshToken)
        }
        demo = true
        notes.push(
          `note: using the emulator's demo credentials for ${descriptor.name} (client ${descriptor.demo.clientId}).`
        )
      }
      // A provider that takes public clients (Saxo's PKCE apps) needs no secret.
      const definition = descriptor.entry?.definition
      const secretOptional = definition !== undefined &&
        (definition.authorizationServer.authMethod === "none" || definition.publicClients === true)
      const missing = [vars.clientId, ...(secretOptional ? [] : [vars.clientSecret])].filter((name) => !has(name))
      if (missing.length > 0) return yield* missingCredentials(descriptor, purpose, missing)
    }
    if (emulator !== undefined && !demo) {
      notes.push(`note: --emulator with your own ${descriptor.name} credentials: they are sent to ${emulator.baseUrl}.`)
    }
    return {
      descriptor,
      configProvider: ConfigProvider.fromMap(merged),
      emulator,
      demo,
      notes,
      secrets: { privateKey: undefined }
    }
  })
