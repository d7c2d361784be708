/**
 * DPoP (RFC 9449) against oidc-provider on 127.0.0.1, nonces required: a DPoP-bound token from the token endpoint
 * through a `use_dpop_nonce` round, bound to our key (`cnf.jkt` by introspection), then API calls through a resource
 * server that verifies every proof and the binding, through its own nonce round. A proof signed with another key,
 * a Bearer-only answer and an algorithm the server does not accept each end in a typed error, never a loop.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
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
import {
  AccessTokens,
  AuthorizationCode,
  Discovery,
  Dpop,
  Endpoint,
  Grant,
  OAuth2Client,
  OAuth2HttpClient
} from "@effect-oauth2/core"
import * as AuthServer from "./utils/authServer.js"
import * as DpopServer from "./utils/dpopServer.js"
import * as Hygiene from "./utils/hygiene.js"

const Live = Layer.mergeAll(
  FetchHttpClient.layer,
  NodeHttpServer.layer(() => http.createServer(), { host: "127.0.0.1", port: 0 }),
  Logger.minimumLogLevel(LogLevel.Warning)
)

/** The typed failure of an exit; fails the test on a success or a defect. */
const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) return assert.fail("expected a failure, got a success")
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) return assert.fail(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
  return failure.value
}

/** The token-endpoint client of `who`, with `dpop` (when given) in its context. */
const oauthClient = (
  server: DpopServer.DpopServer,
  who: { readonly id: string; readonly secret: string },
  dpop: Dpop.Service | undefined
) =>
  Endpoint.make({
    provider: "oidc-provider",
    issuer: server.issuer,
    tokenUrl: server.tokenUrl,
    introspectionUrl: server.introspectionUrl,
    authorizeUrl: server.authorizeUrl,
    requestTimeout: "5 seconds"
  }).pipe(
    Effect.flatMap((endpoint) => OAuth2Client.make({ endpoint, credentials: Endpoint.credentials(who.id, who.secret) })),
    (effect) => (dpop === undefined ? effect : Effect.provideService(effect, Dpop.Dpop, dpop))
  )

describe("DPoP against oidc-provider", () => {
  it.scopedLive("a DPoP-bound token through the token endpoint's nonce round, used through the resource server's", () =>
    Effect.gen(function*() {
      const server = yield* DpopServer.make()
      // The algorithm is checked against (here: chosen from) what discovery says the server accepts.
      const metadata = yield* Discovery.make({ issuer: server.issuer })
      assert.deepStrictEqual(metadata.dpopSigningAlgValuesSupported, ["ES256", "Ed25519", "EdDSA"])
      const dpop = yield* Dpop.make().pipe(Effect.provideService(Discovery.Discovery, metadata))
      assert.strictEqual(dpop.algorithm, "ES256")

      const client = yield* oauthClient(server, DpopServer.client, dpop)
      const tokens = yield* AccessTokens.make({ scopes: ["TRADER_READ"] }).pipe(
        Effect.provideService(OAuth2Client.OAuth2Client, client)
      )
      const token = yield* tokens.get
      assert.strictEqual(token.type, "DPoP")
      assert.deepStrictEqual(yield* server.tokenRequests, [
        "client_credentials: use_dpop_nonce",
        "client_credentials: success"
      ])
      // The server bound the token to our key.
      const introspection = yield* client.introspect(token.value)
      assert.isTrue(introspection.active)
      assert.strictEqual(introspection.extra.token_type, "DPoP")
      assert.deepStrictEqual(introspection.extra.cnf, { jkt: dpop.thumbprint })

      // The authorised client takes the same key from the context.
      const api = yield* OAuth2HttpClient.make().pipe(
        Effect.provideService(AccessTokens.AccessTokens, tokens),
        Effect.provideService(Dpop.Dpop, dpop)
      )
      const first = yield* api.get(`${server.apiUrl}?page=1`)
      assert.strictEqual(first.status, 200)
      assert.deepStrictEqual(yield* first.json, { client_id: DpopServer.client.id, jkt: dpop.thumbprint })
      // Its nonce is remembered: the next call needs no round.
      assert.strictEqual((yield* api.get(server.apiUrl)).status, 200)
      // A new nonce at the resource server: one more round, never more.
      yield* server.rotateApiNonce
      assert.strictEqual((yield* api.post(server.apiUrl)).status, 200)
      const calls = yield* server.apiCalls
      assert.deepStrictEqual(calls.map((c) => [c.status, c.error ?? "ok"]), [
        [401, "use_dpop_nonce"],
        [200, "ok"],
        [200, "ok"],
        [401, "use_dpop_nonce"],
        [200, "ok"]
      ])
      assert.isUndefined(calls[0]!.nonce)
      assert.strictEqual(calls[1]!.nonce, calls[2]!.nonce)
      // One token for all of it: a nonce refusal never costs the token.
      assert.strictEqual((yield* server.tokenRequests).length, 2)
    }).pipe(Effect.provide(Live)))

  it.scopedLive("login and refresh: the code exchange (through a nonce round) and the refresh carry proofs; both tokens bound", () =>
    Effect.gen(function*() {
      const server = yield* DpopServer.make()
      const dpop = yield* Dpop.make()
      const oauth = yield* oauthClient(server, DpopServer.appClient, dpop)
      const first = yield* AuthorizationCode.login({
        scopes: ["openid", "offline_access"],
        pkce: true,
        // The code is bound to the key too (RFC 9449 §10): the server refuses its exchange with another key.
        extraParams: { prompt: "consent", dpop_jkt: dpop.thumbprint },
        timeout: "20 seconds",
        onAuthorizeUrl: (url) => AuthServer.browse(server.issuer, url)
      }).pipe(Effect.provideService(OAuth2Client.OAuth2Client, oauth))
      assert.strictEqual(first.type, "DPoP")
      assert.isDefined(first.refreshToken)
      const second = yield* oauth.requestToken(
        Grant.refreshToken({ refreshToken: first.refreshToken!, grantedScopes: first.scopes })
      )
      assert.strictEqual(second.type, "DPoP")
      assert.deepStrictEqual(yield* server.tokenRequests, [
        "authorization_code: use_dpop_nonce",
        "authorization_code: success",
        "refresh_token: success"
      ])
      for (const token of [first, second]) {
        assert.deepStrictEqual((yield* oauth.introspect(token.value)).extra.cnf, { jkt: dpop.thumbprint })
      }
      const tokens = yield* AccessTokens.make().pipe(Effect.provideService(OAuth2Client.OAuth2Client, oauth))
      yield* tokens.set(second)
      const api = OAuth2HttpClient.withAccessToken(yield* HttpClient.HttpClient, tokens, { dpop })
      const response = yield* api.get(server.apiUrl)
      assert.strictEqual(response.status, 200)
      assert.deepStrictEqual(yield* response.json, { client_id: DpopServer.appClient.id, jkt: dpop.thumbprint })
    }).pipe(Effect.provide(Live)))

  it.scopedLive("a code bound (dpop_jkt) to another key than the exchange's proof is refused: Unauthorized, no token", () =>
    Effect.gen(function*() {
      const server = yield* DpopServer.make()
      const oauth = yield* oauthClient(server, DpopServer.appClient, yield* Dpop.make())
      const other = yield* Dpop.make()
      const error = failureOf(
        yield* Effect.exit(
          AuthorizationCode.login({
            scopes: ["openid", "offline_access"],
            pkce: true,
            extraParams: { prompt: "consent", dpop_jkt: other.thumbprint },
            timeout: "20 seconds",
            onAuthorizeUrl: (url) => AuthServer.browse(server.issuer, url)
          }).pipe(Effect.provideService(OAuth2Client.OAuth2Client, oauth))
        )
      )
      assert.strictEqual(error._tag, "Unauthorized")
      if (error._tag === "Unauthorized") assert.strictEqual(error.reason, "invalid_grant")
      assert.isFalse((yield* server.tokenRequests).some((r) => r.endsWith("success")))
    }).pipe(Effect.provide(Live)))

  it.scopedLive("a proof signed with another key than the token's: refused, replayed once, then Unauthorized", () =>
    Effect.gen(function*() {
      const server = yield* DpopServer.make()
      const key = yield* Dpop.make()
      const other = yield* Dpop.make()
      const client = yield* oauthClient(server, DpopServer.client, key)
      const tokens = yield* AccessTokens.make({ scopes: ["TRADER_READ"] }).pipe(
        Effect.provideService(OAuth2Client.OAuth2Client, client)
      )
      const api = yield* OAuth2HttpClient.make({ dpop: other }).pipe(
        Effect.provideService(AccessTokens.AccessTokens, tokens)
      )
      const error = failureOf(yield* Effect.exit(api.get(server.apiUrl)))
      assert.strictEqual(error._tag, "Unauthorized")
      if (error._tag === "Unauthorized") assert.strictEqual(error.reason, "rejected-token")
      const refusals = (yield* server.apiCalls).filter((c) => c.error === "invalid_token")
      assert.strictEqual(refusals.length, 2, "one replay with a new token, then the error")
      assert.isAtMost((yield* server.apiCalls).length, 4, "at most one nonce round per token")
    }).pipe(Effect.provide(Live)))

  it.scopedLive("a client that must use DPoP, asking without it, gets a typed error; with DPoP off, no proof is sent", () =>
    Effect.gen(function*() {
      const server = yield* DpopServer.make()
      const bare = yield* oauthClient(server, DpopServer.client, undefined)
      const error = failureOf(yield* Effect.exit(bare.requestToken(Grant.clientCredentials(["TRADER_READ"]))))
      assert.strictEqual(error._tag, "Unauthorized")
      // oidc-provider answers invalid_grant ("grant request is invalid") for a dpop_bound_access_tokens client.
      if (error._tag === "Unauthorized") assert.strictEqual(error.reason, "invalid_grant")
      // Without a proof, a client that may choose gets a Bearer token.
      const optional = yield* oauthClient(server, DpopServer.optionalClient, undefined)
      const token = yield* optional.requestToken(Grant.clientCredentials(["TRADER_READ"]))
      assert.strictEqual(token.type, "Bearer")
      assert.isFalse((yield* server.tokenRequests).some((r) => r.endsWith("use_dpop_nonce")), "no proof, no nonce")
      assert.isDefined(Redacted.value(token.value))
    }).pipe(Effect.provide(Live)))

  it.scopedLive("an algorithm the server does not list is refused before any request", () =>
    Effect.gen(function*() {
      const server = yield* DpopServer.make()
      const metadata = yield* Discovery.make({ issuer: server.issuer })
      const error = failureOf(
        yield* Effect.exit(Dpop.make({ algorithm: "PS256" }).pipe(Effect.provideService(Discovery.Discovery, metadata)))
      )
      assert.strictEqual(error._tag, "InvalidConfiguration")
      assert.match(error.message, /accepts DPoP proofs signed with ES256, Ed25519, EdDSA, not PS256/)
      assert.deepStrictEqual(yield* server.tokenRequests, [])
    }).pipe(Effect.provide(Live)))

  it.scopedLive("hygiene: no key material, token or proof in any log, span, error or rendering of a DPoP run", () =>
    Effect.gen(function*() {
      const server = yield* DpopServer.make()
      const pair = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
      const pem = pair.privateKey.export({ type: "pkcs8", format: "pem" }) as string
      const jwk = pair.privateKey.export({ format: "jwk" })
      const dpop = yield* Dpop.make({ privateKey: Redacted.make(pem) })
      const other = yield* Dpop.make({ privateKey: Redacted.make(JSON.stringify(jwk)) })
      assert.strictEqual(other.thumbprint, dpop.thumbprint, "the same key from PEM and JWK")
      const stranger = yield* Dpop.make()
      const issued: Array<string> = []
      const run = Effect.gen(function*() {
        const client = yield* oauthClient(server, DpopServer.client, dpop)
        const tokens = yield* AccessTokens.make({ scopes: ["TRADER_READ"] }).pipe(
          Effect.provideService(OAuth2Client.OAuth2Client, client)
        )
        issued.push(Redacted.value((yield* tokens.get).value))
        const api = OAuth2HttpClient.withAccessToken(yield* HttpClient.HttpClient, tokens, { dpop })
        const ok = yield* api.get(server.apiUrl)
        yield* Effect.log(ok, dpop, yield* tokens.get)
        // A proof with a stranger's key: refused, replayed with a new token, refused again.
        const wrong = OAuth2HttpClient.withAccessToken(yield* HttpClient.HttpClient, tokens, { dpop: stranger })
        return yield* wrong.get(server.apiUrl)
      }).pipe(Effect.scoped)
      const { exit, texts } = yield* Hygiene.collectAndCheck(
        () => [
          ...pem.split("\n").filter((line) => line !== "" && !line.startsWith("-----")).map((value, i) => ({
            name: `pem line ${i}`,
            value
          })),
          { name: "jwk d", value: jwk.d! },
          { name: "client secret", value: DpopServer.client.secret },
          ...issued.map((value, i) => ({ name: `access token ${i}`, value })),
          ...Effect.runSync(server.proofs).map((value, i) => ({ name: `proof ${i}`, value }))
        ],
        run
      )
      assert.strictEqual(Hygiene.failureOf(exit)?._tag, "Unauthorized")
      assert.isAbove(texts, 5)
      assert.isAtLeast((yield* server.proofs).length, 5, "proofs went to both servers")
    }).pipe(Effect.provide(Live)))
})
