/**
 * Shared by the rotation tests and their child processes: an `AccessTokens` (stored mode) for the emulator's Saxo
 * demo app through core's generic layers (no Saxo package exists yet), a login that puts the first token pair in a
 * store, and a spawner for rotationChild.ts.
 */
import * as AccessTokens from "@effect-oauth2/core/AccessTokens"
import * as Endpoint from "@effect-oauth2/core/Endpoint"
import * as Grant from "@effect-oauth2/core/Grant"
import * as OAuth2Client from "@effect-oauth2/core/OAuth2Client"
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import * as Clients from "@effect-oauth2/emulator/Clients"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as ChildProcess from "node:child_process"
import { fileURLToPath } from "node:url"
import { workspaceRoot } from "./processes.js"

export const saxo = Clients.saxoDemo

/** The store key of the Saxo demo app's tokens. */
export const saxoKey: TokenStore.Key = { provider: "saxo", environment: "sim", clientId: saxo.clientId, scopes: [] }

export type StoreConfig =
  | { readonly kind: "redis"; readonly url: string; readonly prefix: string }
  | { readonly kind: "file"; readonly path: string }

export interface RotationChildConfig {
  readonly tokenUrl: string
  readonly store: StoreConfig
  readonly key: string
  readonly refreshes: number
  readonly deadlineMs: number
}

const client = (tokenUrl: string) =>
  Effect.flatMap(
    Endpoint.make({ provider: saxoKey.provider, environment: saxoKey.environment, tokenUrl, authMethod: "client_secret_basic" }),
    (endpoint) => OAuth2Client.make({ endpoint, credentials: Endpoint.credentials(saxo.clientId, saxo.clientSecret) })
  )

/** `AccessTokens` in stored mode (tokens come from a login in the store, then from refreshes) over `store`. */
export const makeSaxoTokens = (
  tokenUrl: string,
  store: TokenStore.Service
): Effect.Effect<AccessTokens.Service, never, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const oauth = yield* client(tokenUrl)
    return yield* AccessTokens.make({ acquire: "stored" }).pipe(
      Effect.provideService(OAuth2Client.OAuth2Client, oauth),
      Effect.provideService(TokenStore.TokenStore, store)
    )
  }).pipe(Effect.orDie)

/** A login at the emulator's Saxo (authorize, then the code exchange through core's client); stores the first pair. */
export const loginInto = (
  urls: { readonly logon: string },
  store: TokenStore.Service
): Effect.Effect<void, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const redirectUri = saxo.callbackUrl
    const response = yield* Effect.promise(() =>
      fetch(`${urls.logon}/authorize?${new URLSearchParams({ response_type: "code", client_id: saxo.clientId, redirect_uri: redirectUri, state: "s" })}`, {
        redirect: "manual"
      })
    )
    const code = new URL(response.headers.get("location")!).searchParams.get("code")!
    const oauth = yield* client(`${urls.logon}/token`)
    const token = yield* oauth.requestToken(Grant.authorizationCode({ code: Redacted.make(code), redirectUri }))
    yield* store.set(saxoKey, token)
  }).pipe(Effect.orDie)

export type RotationEvent =
  | { readonly event: "ready"; readonly pid: number }
  | { readonly event: "refreshed"; readonly pid: number; readonly fingerprint: string }
  | { readonly event: "done"; readonly pid: number }
  | { readonly event: "error"; readonly pid: number; readonly tag: string | undefined; readonly message: string }

/** A test's child process that writes one JSON event per line on stdout. */
export interface JsonLinesChild<Event> {
  readonly pid: number
  readonly events: ReadonlyArray<Event>
  /** The exit code (or signal), with the child's events and stderr; dies after `timeout`. */
  readonly exited: (timeout: Duration.DurationInput) => Effect.Effect<number | string>
  readonly stderr: () => string
}

export type RotationChild = JsonLinesChild<RotationEvent>

/**
 * Starts `script` through tsx from the workspace root (sources, not builds: core's lock library resolves from core's
 * sources), its configuration as JSON in the environment variable `variable`; killed with the scope.
 */
export const spawnJsonLinesChild = <Event>(
  script: string,
  variable: string,
  config: unknown
): Effect.Effect<JsonLinesChild<Event>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const exit = yield* Deferred.make<number | string>()
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        ChildProcess.spawn(process.execPath, ["--import", "tsx", "--conditions=source", script], {
          cwd: workspaceRoot,
          env: { ...process.env, [variable]: JSON.stringify(config) },
          stdio: ["ignore", "pipe", "pipe"]
        })
      ),
      (child) => Effect.sync(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"))
    )
    const events: Array<Event> = []
    let stderr = ""
    let buffer = ""
    child.stdout.on("data", (data: Buffer) => {
      buffer += data.toString()
      let newline: number
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline)
        buffer = buffer.slice(newline + 1)
        try {
          events.push(JSON.parse(line) as Event)
        } catch {
          stderr += `[stdout] ${line}\n`
        }
      }
    })
    child.stderr.on("data", (data: Buffer) => {
      stderr = (stderr + data.toString()).slice(-8_000)
    })
    child.once("exit", (code, signal) => Deferred.unsafeDone(exit, Effect.succeed(signal ?? code ?? -1)))
    return {
      pid: child.pid!,
      events,
      stderr: () => stderr,
      exited: (timeout) =>
        Deferred.await(exit).pipe(
          Effect.timeoutFail({ duration: timeout, onTimeout: () => "timeout" }),
          Effect.catchAll(() =>
            Effect.dieMessage(`child ${child.pid} did not exit in time; events: ${JSON.stringify(events)}; stderr:\n${stderr}`)
          )
        )
    }
  })

const childScript = fileURLToPath(new URL("./rotationChild.ts", import.meta.url))

/** Starts rotationChild.ts (see {@link spawnJsonLinesChild}). */
export const spawnRotationChild = (config: RotationChildConfig): Effect.Effect<RotationChild, never, Scope.Scope> =>
  spawnJsonLinesChild<RotationEvent>(childScript, "EO2_ROTATION_CHILD", config)

export const within = Duration.seconds(60)
