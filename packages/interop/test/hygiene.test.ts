/**
 * Secret hygiene across core's failure paths: every log line, span (name, attributes, events, end), console write,
 * error message, printed error, serialized error and `Cause.pretty` produced while each path runs is searched for
 * the client secret, the access and refresh tokens, the authorization code, the PKCE verifier and the state, in every
 * encoding they travel in (see utils/hygiene.ts). The servers here echo whatever secrets the request carried, as real
 * ones sometimes do.
 *
 * Provider packages add their own paths with `collectAndCheck` from utils/hygiene.ts.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as http from "node:http"
import {
  AccessTokens,
  AuthorizationCode,
  type ClientAuth,
  Endpoint,
  Grant,
  OAuth2Client,
  OAuth2Error,
  OAuth2HttpClient
} from "@effect-oauth2/core"
import * as AuthServer from "./utils/authServer.js"
import { clientSecretForms, collect, collectAndCheck, failureOf, findLeaks, type Secret } from "./utils/hygiene.js"
import * as ScriptServer from "./utils/scriptServer.js"

const CLIENT_ID = "hygiene-client"
const CLIENT_SECRET = "cs:Hyg1ene s3cret/+&%=Q7"
const ACCESS = "at.Hyg1ene-access-5f7c9e2b1d"
const REFRESH = "rt.Hyg1ene-refresh-0a9b8c7d6e"
const CODE = "ac.Hyg1ene-code-3c4d5e6f7a"

/** The fixed secrets, and generated ones: states and PKCE verifiers the server received, states in `urls`. */
const secretsOf = (server: ScriptServer.ScriptServer, urls: ReadonlyArray<string> = []) => (): Array<Secret> => [
  ...clientSecretForms(CLIENT_ID, CLIENT_SECRET),
  { name: "access token", value: ACCESS },
  { name: "refresh token", value: REFRESH },
  { name: "authorization code", value: CODE },
  ...server.received.flatMap((r) => [
    ...r.query.getAll("state").map((value) => ({ name: "state", value })),
    ...r.form.getAll("code_verifier").map((value) => ({ name: "PKCE verifier", value }))
  ]),
  ...urls.flatMap((url) => new URL(url).searchParams.getAll("state").map((value) => ({ name: "state", value })))
]

/** Everything a request carried that a careless server might echo back. */
const echo = (request: ScriptServer.Received): string =>
  [
    request.headers.authorization,
    ...["client_secret", "refresh_token", "code", "code_verifier", "token"].map((name) => request.form.get(name))
  ].filter((s) => s !== undefined && s !== null).join(" | ")

const Live = Layer.mergeAll(
  FetchHttpClient.layer,
  NodeHttpServer.layer(() => http.createServer(), { host: "127.0.0.1", port: 0 })
)

const clientFor = (
  server: ScriptServer.ScriptServer,
  authMethod: ClientAuth.Method,
  options: Partial<Endpoint.Options> = {}
) =>
  Effect.flatMap(
    Endpoint.make({
      provider: "hygiene",
      tokenUrl: `${server.origin}/token`,
      revocationUrl: `${server.origin}/revoke`,
      introspectionUrl: `${server.origin}/introspect`,
      authorizeUrl: `${server.origin}/authorize`,
      authMethod,
      maxResponseBytes: 2048,
      ...options
    }),
    (endpoint) => OAuth2Client.make({ endpoint, credentials: Endpoint.credentials(CLIENT_ID, CLIENT_SECRET) })
  )

const tagOf = (exit: Exit.Exit<unknown, unknown>): string => {
  const error = failureOf(exit)
  return OAuth2Error.isOAuth2Error(error) ? error._tag : Exit.isSuccess(exit) ? "success" : "untyped failure"
}

const tokenOk = { access_token: ACCESS, token_type: "Bearer", expires_in: 600, refresh_token: REFRESH }

// -----------------------------------------------------------------------------
// the check itself
// -----------------------------------------------------------------------------

describe("the check", () => {
  it.effect("finds a planted secret, in every encoding, in logs, span attributes, span ends, console and errors", () =>
    Effect.gen(function*() {
      const secret = "planted s3cret/+&%=value"
      const { captured } = yield* collect(
        Effect.gen(function*() {
          yield* Effect.logDebug(`form ${new URLSearchParams([["", secret]]).toString().slice(1)}`)
          yield* Effect.annotateCurrentSpan("attr", encodeURIComponent(secret))
          console.warn(Buffer.from(secret).toString("base64"))
          yield* Effect.fail(new Error(JSON.stringify({ secret }))).pipe(Effect.withSpan("inner"))
        }).pipe(Effect.withSpan("outer"))
      )
      const where = new Set(findLeaks([{ name: "planted", value: secret }], captured).map((l) => `${l.where} ${l.form}`))
      for (const expected of [
        "log DEBUG form-encoded",
        "span outer attribute attr percent-encoded",
        "console.warn base64",
        "span inner end as is",
        "outcome as is"
      ]) assert.isTrue(where.has(expected), `not found: ${expected} (found: ${[...where].join("; ")})`)
    }))
})

// -----------------------------------------------------------------------------
// token endpoint
// -----------------------------------------------------------------------------

const tokenAnswers: ReadonlyArray<readonly [string, string, ScriptServer.Handler]> = [
  ["401 invalid_client echoing the credentials, in the body and WWW-Authenticate", "Unauthorized", (r) =>
    ScriptServer.reply(401, { error: "invalid_client", error_description: `bad: ${echo(r)}` }, {
      "www-authenticate": `Basic realm="${echo(r)}"`
    })],
  ["400 invalid_grant echoing the refresh token", "Unauthorized", (r) =>
    ScriptServer.reply(400, { error: "invalid_grant", error_description: `refresh token ${echo(r)} revoked` })],
  ["400 invalid_scope echoing everything", "InvalidScope", (r) =>
    ScriptServer.reply(400, { error: "invalid_scope", error_description: echo(r) })],
  ["400 with the secret as the error code", "ProtocolError", (r) => ScriptServer.reply(400, { error: echo(r) })],
  ["400 unsupported_grant_type with the secrets in error_uri", "ProtocolError", (r) =>
    ScriptServer.reply(400, {
      error: "unsupported_grant_type",
      error_uri: `https://as.example/errors?req=${encodeURIComponent(echo(r))}`
    })],
  ["400 as a form body", "ProtocolError", (r) =>
    ScriptServer.reply(400, new URLSearchParams({ error: "invalid_request", error_description: echo(r) }).toString(), {
      "content-type": "application/x-www-form-urlencoded"
    })],
  ["400 as text/plain pairs", "ProtocolError", (r) =>
    ScriptServer.reply(400, `error=invalid_request&error_description=${encodeURIComponent(echo(r))}`, {
      "content-type": "text/plain"
    })],
  ["500 HTML page quoting the request", "ProtocolError", (r) =>
    ScriptServer.reply(500, `<html><body>Internal error for ${echo(r)}</body></html>`, { "content-type": "text/html" })],
  ["502 broken JSON quoting the request", "ProtocolError", (r) =>
    ScriptServer.reply(502, `{"error":"bad_gateway","request":"${echo(r)}`, { "content-type": "application/json" })],
  ["429 with Retry-After", "RateLimited", (r) =>
    ScriptServer.reply(429, { error: "slow_down", error_description: echo(r) }, { "retry-after": "30" })],
  ["503 with Retry-After", "RateLimited", (r) =>
    ScriptServer.reply(503, { error: "temporarily_unavailable", error_description: echo(r) }, { "retry-after": "7" })],
  ["200 carrying an error", "ProtocolError", (r) =>
    ScriptServer.reply(200, { error: "server_error", error_description: echo(r) })],
  ["200 without access_token, echoing", "MalformedResponse", (r) =>
    ScriptServer.reply(200, { token_type: "Bearer", client_secret: r.form.get("client_secret"), note: echo(r) })],
  ["200 with the token as its type", "MalformedResponse", () =>
    ScriptServer.reply(200, { access_token: ACCESS, token_type: ACCESS, refresh_token: REFRESH })],
  ["200 with an unparseable expires_in and the token echoed in extra members", "MalformedResponse", (r) =>
    ScriptServer.reply(200, { access_token: ACCESS, token_type: "Bearer", expires_in: `soon ${echo(r)}` })],
  ["302 to a URL carrying the secrets", "MalformedResponse", (r) =>
    ScriptServer.reply(302, "", { location: `https://login.example/?next=${encodeURIComponent(echo(r))}` })],
  ["200 HTML login wall quoting the request", "MalformedResponse", (r) =>
    ScriptServer.reply(200, `<form><input value="${echo(r)}"></form>`, { "content-type": "text/html" })],
  ["200 over the size limit", "MalformedResponse", (r) =>
    ScriptServer.reply(200, { access_token: ACCESS, token_type: "Bearer", pad: `${echo(r)} ${"x".repeat(4096)}` })]
]

describe("token endpoint failures", () => {
  for (const [name, expected, handler] of tokenAnswers) {
    it.scopedLive(name, () =>
      Effect.gen(function*() {
        const server = yield* ScriptServer.make
        server.on("/token", handler)
        const basic = yield* clientFor(server, "client_secret_basic")
        const post = yield* clientFor(server, "client_secret_post")
        const { exit } = yield* collectAndCheck(
          secretsOf(server),
          Effect.gen(function*() {
            const refresh = yield* Effect.exit(
              basic.requestToken(Grant.refreshToken({ refreshToken: Redacted.make(REFRESH), grantedScopes: ["read"] }))
            )
            const exchange = yield* Effect.exit(
              post.requestToken(Grant.authorizationCode({ code: Redacted.make(CODE), redirectUri: "http://127.0.0.1/cb" }))
            )
            const tokens = yield* AccessTokens.make({ scopes: ["read"] }).pipe(
              Effect.provideService(OAuth2Client.OAuth2Client, post)
            )
            const get = yield* Effect.exit(tokens.get)
            return [refresh, exchange, get].map(tagOf)
          })
        )
        assert.isTrue(Exit.isSuccess(exit))
        const tags = Exit.isSuccess(exit) ? exit.value : []
        assert.deepStrictEqual(tags.slice(0, 2), [expected, expected])
        // Through the cache, a 429 or 503 with Retry-After is a RateLimited too; the rest are as they came.
        assert.strictEqual(tags[2], expected)
      }).pipe(Effect.provide(Live)))
  }
})

// -----------------------------------------------------------------------------
// transport
// -----------------------------------------------------------------------------

describe("transport failures", () => {
  for (const [name, answer] of [["a reset connection", ScriptServer.reset], ["no answer before the timeout", ScriptServer.hang]] as const) {
    it.scopedLive(name, () =>
      Effect.gen(function*() {
        const server = yield* ScriptServer.make
        server.on("/token", () => answer)
        const client = yield* clientFor(server, "client_secret_basic", { requestTimeout: "300 millis" })
        const { exit } = yield* collectAndCheck(
          secretsOf(server),
          client.requestToken(Grant.refreshToken({ refreshToken: Redacted.make(REFRESH) }))
        )
        assert.strictEqual(tagOf(exit), "TransportError")
      }).pipe(Effect.provide(Live)))
  }

  it.scopedLive("a refused connection", () =>
    Effect.gen(function*() {
      const server = yield* ScriptServer.make
      const port = yield* Effect.promise(() =>
        new Promise<number>((resolve) => {
          const probe = http.createServer().listen(0, "127.0.0.1", () => {
            const { port } = probe.address() as { port: number }
            probe.close(() => resolve(port))
          })
        })
      )
      const client = yield* clientFor(server, "client_secret_post", { tokenUrl: `http://127.0.0.1:${port}/token` })
      const { exit } = yield* collectAndCheck(
        secretsOf(server),
        client.requestToken(Grant.authorizationCode({ code: Redacted.make(CODE) }))
      )
      assert.strictEqual(tagOf(exit), "TransportError")
    }).pipe(Effect.provide(Live)))
})

// -----------------------------------------------------------------------------
// the background refresh
// -----------------------------------------------------------------------------

/** Waits, a bounded number of event-loop turns (no timer), until the server has received `n` requests. */
const received = (server: ScriptServer.ScriptServer, n: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < 100_000; i++) {
      if (server.received.length >= n) {
        for (let j = 0; j < 5; j++) yield* Effect.promise(() => new Promise((r) => setImmediate(r)))
        return
      }
      yield* Effect.promise(() => new Promise((r) => setImmediate(r)))
    }
    return yield* Effect.dieMessage(`the server never received ${n} requests`)
  })

describe("background refresh failures", () => {
  it.scoped("transient, then permanent: retried, logged, surfaced on the next get", () =>
    Effect.gen(function*() {
      const server = yield* ScriptServer.make
      let n = 0
      server.on("/token", (r) => {
        n++
        if (n === 1) return ScriptServer.reply(200, tokenOk)
        if (n === 2) {
          return ScriptServer.reply(503, { error: "temporarily_unavailable", error_description: echo(r) })
        }
        return ScriptServer.reply(401, { error: "invalid_client", error_description: echo(r) })
      })
      const client = yield* clientFor(server, "client_secret_basic")
      const { exit } = yield* collectAndCheck(
        secretsOf(server),
        Effect.gen(function*() {
          const tokens = yield* AccessTokens.make({ refreshSkew: "1 minute" }).pipe(
            Effect.provideService(OAuth2Client.OAuth2Client, client)
          )
          yield* tokens.get
          yield* TestClock.adjust("9 minutes")
          yield* received(server, 2)
          yield* TestClock.adjust("2 seconds")
          yield* received(server, 3)
          return tagOf(yield* Effect.exit(tokens.get))
        }).pipe(Effect.scoped)
      )
      assert.deepStrictEqual(exit, Exit.succeed("Unauthorized"))
    }).pipe(Effect.provide(Live)))
})

// -----------------------------------------------------------------------------
// authorised calls
// -----------------------------------------------------------------------------

describe("authorised calls", () => {
  for (const [name, expected, answer] of [
    ["401 twice, the challenge quoting the token: Unauthorized rejected-token", "Unauthorized", (r: ScriptServer.Received) =>
      ScriptServer.reply(401, "", {
        "www-authenticate": `Bearer error="invalid_token", error_description="token ${
          r.headers.authorization?.slice(7)
        } expired"`
      })],
    ["403 insufficient_scope quoting the token: InvalidScope", "InvalidScope", (r: ScriptServer.Received) =>
      ScriptServer.reply(403, "", {
        "www-authenticate": `Bearer error="insufficient_scope", scope="trade", error_description="${
          r.headers.authorization?.slice(7)
        } may not trade"`
      })]
  ] as const) {
    it.scopedLive(name, () =>
      Effect.gen(function*() {
        const server = yield* ScriptServer.make
        server.on("/token", () => ScriptServer.reply(200, tokenOk))
        server.on("/api", answer)
        const client = yield* clientFor(server, "client_secret_post")
        const { exit } = yield* collectAndCheck(
          secretsOf(server),
          Effect.gen(function*() {
            const tokens = yield* AccessTokens.make().pipe(Effect.provideService(OAuth2Client.OAuth2Client, client))
            const api = OAuth2HttpClient.withAccessToken(yield* HttpClient.HttpClient, tokens)
            return yield* api.get(`${server.origin}/api`)
          }).pipe(Effect.scoped)
        )
        assert.strictEqual(tagOf(exit), expected)
      }).pipe(Effect.provide(Live)))
  }
})

// -----------------------------------------------------------------------------
// revocation and introspection
// -----------------------------------------------------------------------------

describe("revocation and introspection failures", () => {
  for (const [name, expected, answer] of [
    ["revocation refused, echoing the token", "ProtocolError", (r: ScriptServer.Received) =>
      ScriptServer.reply(400, { error: "invalid_request", error_description: `cannot revoke ${echo(r)}` })],
    ["revocation unavailable", "RateLimited", (r: ScriptServer.Received) =>
      ScriptServer.reply(503, { error: "temporarily_unavailable", error_description: echo(r) }, { "retry-after": "5" })],
    ["revocation connection reset", "TransportError", () => ScriptServer.reset]
  ] as const) {
    it.scopedLive(`${name}; and at scope close (revokeOnClose)`, () =>
      Effect.gen(function*() {
        const server = yield* ScriptServer.make
        server.on("/token", () => ScriptServer.reply(200, tokenOk))
        server.on("/revoke", answer)
        const client = yield* clientFor(server, "client_secret_basic")
        const { exit } = yield* collectAndCheck(
          secretsOf(server),
          Effect.gen(function*() {
            const tokens = yield* AccessTokens.make({ revokeOnClose: true }).pipe(
              Effect.provideService(OAuth2Client.OAuth2Client, client)
            )
            yield* tokens.get
            return tagOf(yield* Effect.exit(tokens.revoke))
          }).pipe(Effect.scoped)
        )
        assert.deepStrictEqual(exit, Exit.succeed(expected))
        // The explicit revoke and the one at close both reached the server (refresh token first).
        assert.strictEqual(server.received.filter((r) => r.path === "/revoke").length, 2)
      }).pipe(Effect.provide(Live)))
  }

  it.scopedLive("introspection refused, and an answer without `active`", () =>
    Effect.gen(function*() {
      const server = yield* ScriptServer.make
      let n = 0
      server.on("/introspect", (r) =>
        ++n === 1
          ? ScriptServer.reply(400, { error: "invalid_request", error_description: echo(r) })
          : ScriptServer.reply(200, { token: r.form.get("token"), exp: 1 }))
      const client = yield* clientFor(server, "client_secret_post")
      const { exit } = yield* collectAndCheck(
        secretsOf(server),
        Effect.all([
          Effect.exit(client.introspect(Redacted.make(ACCESS))),
          Effect.exit(client.introspect(Redacted.make(REFRESH), "refresh_token"))
        ]).pipe(Effect.map((exits) => exits.map(tagOf)))
      )
      assert.deepStrictEqual(exit, Exit.succeed(["ProtocolError", "MalformedResponse"]))
    }).pipe(Effect.provide(Live)))
})

// -----------------------------------------------------------------------------
// authorization code
// -----------------------------------------------------------------------------

/** The authorize endpoint: redirects to the client's redirect_uri with what `params` makes of the request. */
const authorizeWith = (params: (state: string) => Record<string, string>): ScriptServer.Handler => (r) => {
  const target = new URL(r.query.get("redirect_uri") ?? "http://127.0.0.1/none")
  for (const [k, v] of Object.entries(params(r.query.get("state") ?? ""))) target.searchParams.set(k, v)
  return ScriptServer.reply(302, "", { location: target.toString() })
}

/** The user's browser: follows the authorization URL (and its redirect to the callback). */
const browser = (url: string) => Effect.promise(() => fetch(url).then((response) => response.arrayBuffer()))

describe("authorization-code failures", () => {
  const cases: ReadonlyArray<
    readonly [string, string, ScriptServer.Handler | undefined, ScriptServer.Handler | undefined, Duration.DurationInput]
  > = [
    ["a callback with another state (forged or replayed)", "AuthorizationFailed", authorizeWith(() => ({
      code: CODE,
      state: "forged-state-0123456789-abcdefghijklmnopq"
    })), undefined, "20 seconds"],
    ["the user denies access", "AuthorizationFailed", authorizeWith((state) => ({
      error: "access_denied",
      error_description: "The user said no",
      state
    })), undefined, "20 seconds"],
    ["nobody logs in before the timeout", "AuthorizationFailed", undefined, undefined, "300 millis"],
    ["the code exchange is refused, echoing the code and verifier", "Unauthorized", authorizeWith((state) => ({
      code: CODE,
      state
    })), (r) => ScriptServer.reply(400, { error: "invalid_grant", error_description: `code ${echo(r)} already used` }), "20 seconds"]
  ]
  for (const [name, expected, authorize, token, timeout] of cases) {
    it.scopedLive(name, () =>
      Effect.gen(function*() {
        const server = yield* ScriptServer.make
        if (authorize !== undefined) server.on("/authorize", authorize)
        if (token !== undefined) server.on("/token", token)
        const client = yield* clientFor(server, "client_secret_basic")
        const urls: Array<string> = []
        const { exit } = yield* collectAndCheck(
          secretsOf(server, urls),
          AuthorizationCode.login({
            scopes: ["read", "trade"],
            pkce: true,
            timeout,
            onAuthorizeUrl: (url) => {
              urls.push(url)
              return authorize === undefined ? Effect.void : browser(url)
            }
          }).pipe(Effect.provideService(OAuth2Client.OAuth2Client, client))
        )
        assert.strictEqual(tagOf(exit), expected)
        assert.isAtLeast(secretsOf(server, urls)().filter((s) => s.name === "state").length, 1)
      }).pipe(Effect.provide(Live)))
  }
})

// -----------------------------------------------------------------------------
// a real authorization server
// -----------------------------------------------------------------------------

describe("failures from oidc-provider", () => {
  it.scopedLive("wrong secret (both auth styles), invalid scope, a replayed refresh token, a denied login", () =>
    Effect.gen(function*() {
      const as = yield* AuthServer.make()
      const endpointOf = (authMethod: ClientAuth.Method) =>
        Endpoint.make({
          provider: "oidc-provider",
          tokenUrl: as.tokenUrl,
          revocationUrl: as.revocationUrl,
          introspectionUrl: as.introspectionUrl,
          authorizeUrl: as.authorizeUrl,
          authMethod
        })
      const clientOf = (client: AuthServer.Client, authMethod: ClientAuth.Method) =>
        Effect.flatMap(endpointOf(authMethod), (endpoint) =>
          OAuth2Client.make({ endpoint, credentials: Endpoint.credentials(client.id, client.secret) }))
      const wrong = (client: AuthServer.Client) => ({ id: client.id, secret: `${client.secret}-Wrong` })
      const app = yield* clientOf(AuthServer.clients.app, "client_secret_basic")
      const urls: Array<string> = []
      const callbacks: Array<string> = []
      const tokens: Array<string> = []
      const login = (consent: "approve" | "deny") =>
        AuthorizationCode.login({
          scopes: ["openid", "offline_access", "TRADER_READ"],
          pkce: true,
          extraParams: { prompt: "consent" },
          onAuthorizeUrl: (url) => {
            urls.push(url)
            return AuthServer.browse(as.issuer, url, { consent }).pipe(Effect.map((callback) => callbacks.push(callback)))
          }
        }).pipe(Effect.provideService(OAuth2Client.OAuth2Client, app))
      const secrets = (): Array<Secret> => [
        ...[AuthServer.clients.basic, AuthServer.clients.post, AuthServer.clients.readOnly, AuthServer.clients.app]
          .flatMap((c) => [...clientSecretForms(c.id, c.secret), ...clientSecretForms(c.id, wrong(c).secret)]),
        ...urls.flatMap((u) => new URL(u).searchParams.getAll("state").map((value) => ({ name: "state", value }))),
        ...callbacks.flatMap((u) => new URL(u).searchParams.getAll("code").map((value) => ({ name: "code", value }))),
        ...tokens.map((value) => ({ name: "token", value }))
      ]
      const { exit } = yield* collectAndCheck(
        secrets,
        Effect.gen(function*() {
          const basic = yield* clientOf(wrong(AuthServer.clients.basic), "client_secret_basic")
          const post = yield* clientOf(wrong(AuthServer.clients.post), "client_secret_post")
          const readOnly = yield* clientOf(AuthServer.clients.readOnly, "client_secret_basic")
          const outcomes = [
            yield* Effect.exit(basic.requestToken(Grant.clientCredentials(["TRADER_READ"]))),
            yield* Effect.exit(post.requestToken(Grant.clientCredentials(["TRADER_READ"]))),
            yield* Effect.exit(readOnly.requestToken(Grant.clientCredentials(["TRADER_TRADE"])))
          ].map(tagOf)
          const first = yield* login("approve")
          tokens.push(Redacted.value(first.value), Redacted.value(first.refreshToken!))
          const second = yield* app.requestToken(Grant.refreshToken({ refreshToken: first.refreshToken! }))
          tokens.push(Redacted.value(second.value), Redacted.value(second.refreshToken!))
          outcomes.push(tagOf(yield* Effect.exit(app.requestToken(Grant.refreshToken({ refreshToken: first.refreshToken! })))))
          outcomes.push(tagOf(yield* Effect.exit(login("deny"))))
          return outcomes
        })
      )
      assert.deepStrictEqual(exit, Exit.succeed(["Unauthorized", "Unauthorized", "InvalidScope", "Unauthorized", "AuthorizationFailed"]))
    }).pipe(Effect.provide(Live)))
})
