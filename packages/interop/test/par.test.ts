/**
 * Pushed authorization requests (RFC 9126) against panva's oidc-provider: the whole login through the PAR endpoint
 * the server advertises (client_secret_basic and private_key_jwt), a client the server registered as PAR-only, and a
 * server that requires PAR for everyone refusing a plain login before anything is sent or shown.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as crypto from "node:crypto"
import * as http from "node:http"
import { AuthorizationCode, type ClientAuth, type Endpoint, OAuth2Client } from "@effect-oauth2/core"
import * as AuthServer from "./utils/authServer.js"
import * as ParRequiredServer from "./utils/parServer.js"

const SCOPES = ["TRADER_READ", "TRADER_TRADE"]

const Live = Layer.mergeAll(
  FetchHttpClient.layer,
  NodeHttpServer.layer(() => http.createServer(), { host: "127.0.0.1", port: 0 }),
  Logger.minimumLogLevel(LogLevel.Warning)
)

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) return assert.fail("expected a failure, got a success")
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) return assert.fail(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
  return failure.value
}

const appCredentials: Endpoint.Credentials = {
  clientId: AuthServer.clients.app.id,
  clientSecret: Redacted.make(AuthServer.clients.app.secret)
}

const ec = (() => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
  return {
    pem: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    publicJwk: { ...publicKey.export({ format: "jwk" }), kid: "par-ec" }
  }
})()

/** Authorization-code clients beyond the server's own: one authenticating with private_key_jwt, one PAR-only. */
const parClients = (): ReadonlyArray<Record<string, unknown>> => [
  {
    client_id: "trader-app-pkjwt",
    application_type: "native",
    grant_types: ["authorization_code"],
    response_types: ["code"],
    redirect_uris: ["http://127.0.0.1/callback"],
    token_endpoint_auth_method: "private_key_jwt",
    token_endpoint_auth_signing_alg: "ES256",
    jwks: { keys: [ec.publicJwk] },
    scope: `openid ${SCOPES.join(" ")}`
  },
  {
    client_id: "trader-app-par-only",
    client_secret: "par-only-Secret-7a6b5c4d3e2f1a09",
    application_type: "native",
    grant_types: ["authorization_code"],
    response_types: ["code"],
    redirect_uris: ["http://127.0.0.1/callback"],
    token_endpoint_auth_method: "client_secret_basic",
    require_pushed_authorization_requests: true,
    scope: `openid ${SCOPES.join(" ")}`
  }
]

/**
 * The headless login through a client built by discovery (so that the PAR endpoint and the issuer come from the
 * server's metadata); every URL handed to the "browser" is kept.
 */
const loginWith = (
  issuer: string,
  options: {
    readonly credentials: Endpoint.Credentials
    readonly method?: ClientAuth.Method | undefined
    readonly par: AuthorizationCode.LoginOptions<never, never>["par"]
    readonly urls: Array<string>
  }
) =>
  Effect.gen(function*() {
    const oauth = Layer.succeedContext(
      yield* Layer.build(
        OAuth2Client.layerDiscovery({
          issuer,
          credentials: options.credentials,
          method: options.method,
          pkce: true,
          endpoint: { requestTimeout: "5 seconds" }
        })
      )
    )
    return yield* AuthorizationCode.login({
      scopes: ["openid", ...SCOPES],
      pkce: true,
      extraParams: { prompt: "consent" },
      timeout: "20 seconds",
      par: options.par,
      onAuthorizeUrl: (url) =>
        Effect.zipRight(Effect.sync(() => options.urls.push(url)), AuthServer.browse(issuer, url))
    }).pipe(Effect.provide(oauth))
  })

describe("PAR (RFC 9126) against oidc-provider", () => {
  it.scopedLive("client_secret_basic: push, authorize with request_uri only, callback, exchange", () =>
    Effect.gen(function*() {
      const server = yield* AuthServer.make()
      const urls: Array<string> = []
      const token = yield* loginWith(server.issuer, { credentials: appCredentials, par: { credentials: appCredentials }, urls })
      assert.deepStrictEqual(token.scopes, SCOPES)
      const url = new URL(urls[0]!)
      assert.strictEqual(`${url.origin}${url.pathname}`, server.authorizeUrl)
      assert.deepStrictEqual([...url.searchParams.keys()].sort(), ["client_id", "request_uri"])
      assert.match(url.searchParams.get("request_uri")!, /^urn:ietf:params:oauth:request_uri:/)
      assert.deepStrictEqual(yield* server.tokenRequests, [{ grantType: "authorization_code", outcome: "success" }])
    }).pipe(Effect.provide(Live)))

  it.scopedLive("private_key_jwt (ES256): the PAR endpoint and the token endpoint both take the client's assertion", () =>
    Effect.gen(function*() {
      const server = yield* AuthServer.make({ extraClients: parClients() })
      const credentials: Endpoint.Credentials = { clientId: "trader-app-pkjwt", privateKey: Redacted.make(ec.pem) }
      const urls: Array<string> = []
      const token = yield* loginWith(server.issuer, { credentials, par: { credentials }, urls })
      assert.deepStrictEqual(token.scopes, SCOPES)
      assert.deepStrictEqual([...new URL(urls[0]!).searchParams.keys()].sort(), ["client_id", "request_uri"])
      assert.deepStrictEqual(yield* server.tokenRequests, [{ grantType: "authorization_code", outcome: "success" }])
    }).pipe(Effect.provide(Live)))

  it.scopedLive("wrong credentials at the PAR endpoint: Unauthorized invalid_client, nothing shown, no token request", () =>
    Effect.gen(function*() {
      const server = yield* AuthServer.make()
      const wrong: Endpoint.Credentials = { clientId: AuthServer.clients.app.id, clientSecret: Redacted.make("wrong-Secret-1") }
      const urls: Array<string> = []
      const error = failureOf(
        yield* Effect.exit(loginWith(server.issuer, { credentials: appCredentials, par: { credentials: wrong }, urls }))
      )
      assert.strictEqual(error._tag, "Unauthorized")
      assert.strictEqual(error.source, "par-endpoint")
      assert.notInclude(JSON.stringify(error) + error.message, "wrong-Secret-1")
      assert.deepStrictEqual(urls, [])
      assert.deepStrictEqual(yield* server.tokenRequests, [])
    }).pipe(Effect.provide(Live)))

  it.scopedLive("a client registered as PAR-only: the server refuses its plain login, its pushed one succeeds", () =>
    Effect.gen(function*() {
      const server = yield* AuthServer.make({ extraClients: parClients() })
      const credentials: Endpoint.Credentials = {
        clientId: "trader-app-par-only",
        clientSecret: Redacted.make("par-only-Secret-7a6b5c4d3e2f1a09")
      }
      const plain = failureOf(yield* Effect.exit(loginWith(server.issuer, { credentials, par: false, urls: [] })))
      assert.strictEqual(plain._tag, "AuthorizationFailed")
      assert.strictEqual(plain._tag === "AuthorizationFailed" ? plain.reason : "", "invalid_request")
      assert.deepStrictEqual(yield* server.tokenRequests, [], "no code, no exchange")
      const token = yield* loginWith(server.issuer, { credentials, par: { credentials }, urls: [] })
      assert.deepStrictEqual(token.scopes, SCOPES)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("a server that requires PAR: a plain login is refused before anything is sent or shown; a pushed one succeeds", () =>
    Effect.gen(function*() {
      const server = yield* ParRequiredServer.make()
      const urls: Array<string> = []
      for (const par of [undefined, false] as const) {
        const error = failureOf(yield* Effect.exit(loginWith(server.issuer, { credentials: appCredentials, par, urls })))
        assert.strictEqual(error._tag, "InvalidConfiguration")
        assert.include(error.message, "require_pushed_authorization_requests")
        assert.include(error.message, server.issuer)
      }
      assert.deepStrictEqual(urls, [])
      assert.deepStrictEqual(yield* server.hits, { authorize: 0, par: 0, token: 0 })
      const token = yield* loginWith(server.issuer, { credentials: appCredentials, par: { credentials: appCredentials }, urls })
      assert.deepStrictEqual(token.scopes, SCOPES)
      assert.deepStrictEqual(yield* server.hits, { authorize: 1, par: 1, token: 1 })
    }).pipe(Effect.provide(Live)))
})
