/**
 * Tradier: the user's profile, with a static API token (the default) or after an OAuth login (`--login`).
 *
 *   pnpm --filter @effect-oauth2/examples tradier              static API token
 *   pnpm --filter @effect-oauth2/examples tradier --login      authorization-code login on a loopback callback
 *   pnpm exec tsx --conditions=source examples/src/tradier.ts [--login]     (from the repository root)
 *
 * **Static token** (individual developers): the API access token from your Tradier settings. It never expires and
 * cannot be renewed; a 401 means the token itself is wrong, and the error says what to check. With
 * `TRADIER_ACCESS_TOKEN` set, it calls Tradier (sandbox unless `TRADIER_ENV=production`); otherwise it calls an
 * in-process emulator with the emulator's demo token.
 *
 * **Login** (`--login`, applications): prints the authorize URL, waits for Tradier to redirect the browser back to
 * `http://127.0.0.1:{port}/callback`, checks the `state`, exchanges the code and stores the token, then calls the API
 * with it. With `TRADIER_CLIENT_ID` and `TRADIER_CLIENT_SECRET` set, it uses Tradier: open the printed URL yourself;
 * the callback listens on `TRADIER_CALLBACK_PORT` (default 8765), the port of the callback URL registered with your
 * application. Otherwise the emulator approves at once and this program plays the browser, so the run needs no
 * one at the keyboard.
 */
import { ApiResponse, type OAuth2Error, OAuth2Provider, TokenStore } from "@effect-oauth2/core"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import { Tradier } from "@effect-oauth2/tradier"
import { HttpClient } from "@effect/platform"
import { NodeHttpClient, NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Config, Console, Effect, Layer, Option, Schema } from "effect"
import type { ParseError } from "effect/ParseResult"
import * as http from "node:http"
import { pathToFileURL } from "node:url"

// -----------------------------------------------------------------------------
// the API call: the same code in both modes
// -----------------------------------------------------------------------------

const Account = Schema.Struct({ account_number: Schema.String, type: Schema.optional(Schema.String) })

/** `GET /v1/user/profile`, leniently: Tradier answers one account as an object and several as an array. */
const ProfileResponse = Schema.Struct({
  profile: Schema.Struct({
    id: Schema.String,
    name: Schema.optional(Schema.String),
    account: Schema.optional(Schema.Union(Account, Schema.Array(Account)))
  })
})

/** What the profile says. */
export interface Profile {
  readonly id: string
  readonly accounts: number
}

/** Fetches the user's profile through `Tradier.HttpClient` (base URL, bearer token and `Accept: application/json`). */
export const profile: Effect.Effect<Profile, OAuth2Error.OAuth2Error | ParseError, Tradier.HttpClient> = Effect.gen(
  function*() {
    const client = yield* Tradier.HttpClient
    const ctx: ApiResponse.Context = { provider: "tradier", request: "GET /v1/user/profile", scopes: ["read"] }
    const body = yield* client.get("/v1/user/profile").pipe(
      // A non-2xx answer becomes the same typed errors as the token's: Unauthorized, RateLimited, ProtocolError...
      Effect.flatMap((response) => ApiResponse.readJson(response, ctx)),
      Effect.mapError((error) => ApiResponse.toOAuth2Error(error, ctx)),
      Effect.scoped
    )
    const { profile } = yield* Schema.decodeUnknown(ProfileResponse)(body)
    const accounts = profile.account === undefined ? 0 : Array.isArray(profile.account) ? profile.account.length : 1
    // Account numbers identify the user's money: print a count, not the numbers.
    yield* Console.log(`profile ${profile.id} (${profile.name ?? "no name"}): ${accounts} account(s)`)
    return { id: profile.id, accounts }
  }
)

// -----------------------------------------------------------------------------
// static-token mode (the default)
// -----------------------------------------------------------------------------

/** Static-token mode over a running emulator, with its demo API token. */
export const emulatorStaticLayer = (emulator: Emulator.Emulator) =>
  Tradier.layerStaticToken({
    token: Clients.tradierStaticDemo.token,
    hosts: emulator.hosts.tradier
  })

/**
 * Your token from `TRADIER_ACCESS_TOKEN` (read by `Tradier.layerConfig`, which picks static-token mode when it is
 * set), otherwise the emulator's demo token on an emulator started here. Says which one it uses.
 */
export const staticLayer = Layer.unwrapScoped(
  Effect.gen(function*() {
    const token = yield* Config.option(Config.nonEmptyString("TRADIER_ACCESS_TOKEN"))
    if (Option.isSome(token)) {
      const { environment } = yield* OAuth2Provider.configWithoutCredentials(Tradier.definition)
      yield* Console.log(`Tradier: the real API (${environment}), static token from TRADIER_ACCESS_TOKEN`)
      // layerConfig asks for a TokenStore whatever the mode; static-token mode never uses it.
      return Tradier.layerConfig().pipe(Layer.provide(TokenStore.layerMemory))
    }
    const emulator = yield* Emulator.make()
    yield* Console.log(
      `Tradier: the emulator at ${emulator.baseUrl} with its demo static token ` +
        `(set TRADIER_ACCESS_TOKEN to call the real API, or run with --login for the OAuth flow)`
    )
    return emulatorStaticLayer(emulator)
  })
).pipe(Layer.provide(NodeHttpClient.layerUndici))

// -----------------------------------------------------------------------------
// login mode (--login)
// -----------------------------------------------------------------------------

/** The options of {@link loginAndFetch}. */
export interface LoginOptions {
  /** The port the callback listener binds on 127.0.0.1; `0` for any free port (only while `redirect_uri` is sent). */
  readonly port: number
  /** Shows the authorize URL to the user (it carries the one-time `state`: show it, do not log it). */
  readonly onAuthorizeUrl: (url: string) => Effect.Effect<void, never, HttpClient.HttpClient>
}

/**
 * Logs in (authorization code), then fetches the profile with the stored token. `Tradier.login` and `Tradier.layer`
 * meet in the `TokenStore` from the context: give them the same one (and the same scopes).
 */
export const loginAndFetch = (app: Tradier.ClientOptions, options: LoginOptions) =>
  Effect.gen(function*() {
    const token = yield* Tradier.login({ ...app, onAuthorizeUrl: options.onAuthorizeUrl }).pipe(
      // The callback listener lives only while the login waits for the redirect.
      Effect.provide(NodeHttpServer.layer(() => http.createServer(), { host: "127.0.0.1", port: options.port }))
    )
    yield* Console.log(`logged in; token scopes: ${token.scopes.join(" ")}${token.refreshToken ? " (with a refresh token)" : ""}`)
    return yield* Effect.provide(profile, Tradier.layer(app))
  })

/**
 * What the user's browser does in the emulator run: open the authorize URL, which the emulator (in auto-approve
 * mode) redirects straight to the callback, and follow that redirect.
 */
export const emulatedBrowser = (url: string): Effect.Effect<void, never, HttpClient.HttpClient> =>
  Effect.flatMap(HttpClient.HttpClient, (client) =>
    HttpClient.followRedirects(client, 1).get(url).pipe(
      Effect.flatMap((response) => response.text),
      Effect.scoped,
      Effect.asVoid,
      Effect.orDie
    ))

/** The demo application of an emulator started in auto-approve mode. */
export const emulatorApp = (emulator: Emulator.Emulator): Tradier.ClientOptions => ({
  clientId: Clients.tradierDemo.clientId,
  clientSecret: Clients.tradierDemo.clientSecret,
  hosts: emulator.hosts.tradier
})

/** `--login`: your application from `TRADIER_CLIENT_*`, or the emulator's demo application. */
export const loginMain = Effect.gen(function*() {
  const clientId = yield* Config.option(Config.nonEmptyString("TRADIER_CLIENT_ID"))
  if (Option.isSome(clientId)) {
    // Every TRADIER_* variable of the OAuth mode: TRADIER_CLIENT_ID, TRADIER_CLIENT_SECRET, TRADIER_ENV, ...
    const app: Tradier.ClientOptions = yield* OAuth2Provider.config(Tradier.definition)
    const port = yield* Config.withDefault(Config.port("TRADIER_CALLBACK_PORT"), 8765)
    yield* Console.log(`Tradier: the real API (${app.environment}), application from TRADIER_CLIENT_*`)
    return yield* loginAndFetch(app, {
      port,
      onAuthorizeUrl: (url) => Console.log(`Open this URL in your browser and approve the access:\n  ${url}`)
    })
  }
  const emulator = yield* Emulator.make({ tradierAuthorization: "auto-approve" })
  yield* Console.log(
    `Tradier: the emulator at ${emulator.baseUrl} (auto-approve) with its demo application ` +
      `(set TRADIER_CLIENT_ID and TRADIER_CLIENT_SECRET to log in to the real Tradier)`
  )
  return yield* loginAndFetch(emulatorApp(emulator), {
    port: 0,
    onAuthorizeUrl: (url) =>
      Console.log(`authorize URL (the emulator approves it; this program plays the browser):\n  ${url}`).pipe(
        Effect.zipRight(emulatedBrowser(url))
      )
  })
}).pipe(
  Effect.scoped,
  Effect.provide(TokenStore.layerMemory),
  Effect.provide(NodeHttpClient.layerUndici)
)

/** The whole program: static-token mode, or the login with `--login`. */
export const main = (args: ReadonlyArray<string>) =>
  args.includes("--login") ? Effect.asVoid(loginMain) : Effect.asVoid(Effect.provide(profile, staticLayer))

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  NodeRuntime.runMain(main(process.argv.slice(2)))
}
