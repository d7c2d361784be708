/**
 * Interoperability of the standards a bank or broker asks for, against oidc-provider on 127.0.0.1: discovery
 * (RFC 8414 and OpenID Connect Discovery) and JWT client authentication (RFC 7523 / OpenID Connect Core §9:
 * `private_key_jwt`, `client_secret_jwt`). Each test starts its own provider, configured for the feature.
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
  type ClientAuth,
  Discovery,
  Grant,
  OAuth2Client,
  OAuth2HttpClient
} from "@effect-oauth2/core"
import * as AuthServer from "./utils/authServer.js"

const SCOPES = ["TRADER_READ", "TRADER_TRADE"]

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

/** A key pair made with node:crypto: the private key as PKCS#8 PEM and as JWK, the public one as JWK. */
const keyPair = (type: "rsa" | "ec", kid: string) => {
  const { privateKey, publicKey } = type === "rsa"
    ? crypto.generateKeyPairSync("rsa", { modulusLength: 2048 })
    : crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
  return {
    kid,
    pem: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    privateJwk: { ...(privateKey.export({ format: "jwk" }) as ClientAuth.Jwk), kid },
    publicJwk: { ...publicKey.export({ format: "jwk" }), kid }
  }
}

type KeyPair = ReturnType<typeof keyPair>

const rsa = keyPair("rsa", "rsa-2026")
const ec = keyPair("ec", "ec-2026")
const CS_JWT_SECRET = "client-secret-jwt-Secret-6f3e1d9c0b8a7f6e5d4c3b2a19081726"

const jwtClients = (): ReadonlyArray<Record<string, unknown>> => [
  {
    client_id: "trader-pkjwt-rsa",
    grant_types: ["client_credentials"],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: "private_key_jwt",
    jwks: { keys: [rsa.publicJwk] },
    scope: SCOPES.join(" ")
  },
  {
    client_id: "trader-pkjwt-ec",
    grant_types: ["client_credentials"],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: "private_key_jwt",
    token_endpoint_auth_signing_alg: "ES256",
    jwks: { keys: [ec.publicJwk] },
    scope: SCOPES.join(" ")
  },
  {
    client_id: "trader-csjwt",
    client_secret: CS_JWT_SECRET,
    grant_types: ["client_credentials"],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: "client_secret_jwt",
    scope: SCOPES.join(" ")
  }
]

/** The token-endpoint client from the issuer alone, through OAuth2Client.layerDiscovery. */
const discovered = (
  issuer: string,
  options: Omit<Parameters<typeof OAuth2Client.layerDiscovery>[0], "issuer">
) =>
  Layer.build(
    OAuth2Client.layerDiscovery({ issuer, ...options, endpoint: { requestTimeout: "5 seconds", ...options.endpoint } })
  )

/** Calls the protected resource through withAccessToken; returns the client id it saw. */
const whoAmI = (server: AuthServer.AuthServer, tokens: AccessTokens.Service) =>
  Effect.gen(function*() {
    const client = OAuth2HttpClient.withAccessToken(yield* HttpClient.HttpClient, tokens)
    const response = yield* client.get(server.apiUrl)
    if (response.status !== 200) return yield* Effect.fail(`the API answered ${response.status}`)
    return ((yield* response.json) as { readonly client_id: string }).client_id
  }).pipe(Effect.scoped)

describe("discovery", () => {
  for (const wellKnown of ["openid-configuration", "oauth-authorization-server"] as const) {
    it.scopedLive(`/.well-known/${wellKnown}: every endpoint, the issuer checked, the auth methods advertised`, () =>
      Effect.gen(function*() {
        const server = yield* AuthServer.make()
        const metadata = yield* Discovery.make({ issuer: server.issuer, wellKnown })
        assert.strictEqual(metadata.issuer, server.issuer)
        assert.strictEqual(metadata.metadataUrl, `${server.issuer}/.well-known/${wellKnown}`)
        assert.strictEqual(metadata.tokenEndpoint, server.tokenUrl)
        assert.strictEqual(metadata.revocationEndpoint, server.revocationUrl)
        assert.strictEqual(metadata.introspectionEndpoint, server.introspectionUrl)
        assert.strictEqual(metadata.authorizationEndpoint, server.authorizeUrl)
        assert.strictEqual(metadata.jwksUri, `${server.issuer}/jwks`)
        for (const method of ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt"]) {
          assert.include(metadata.tokenEndpointAuthMethodsSupported, method)
        }
        assert.include(metadata.tokenEndpointAuthSigningAlgValuesSupported ?? [], "ES256")
        assert.include(metadata.codeChallengeMethodsSupported ?? [], "S256")
        assert.isTrue(metadata.authorizationResponseIssParameterSupported)
        assert.deepStrictEqual(yield* server.tokenRequests, [])
      }).pipe(Effect.provide(Live)))
  }

  it.scopedLive("layerDiscovery: a token from the discovered endpoint, accepted by the resource server, introspected", () =>
    Effect.gen(function*() {
      const server = yield* AuthServer.make()
      const context = yield* discovered(server.issuer, {
        credentials: { clientId: AuthServer.clients.post.id, clientSecret: Redacted.make(AuthServer.clients.post.secret) },
        method: "client_secret_post",
        endpoint: { provider: "oidc-provider" }
      })
      const oauth = Layer.succeedContext(context)
      const client = yield* Effect.provide(OAuth2Client.OAuth2Client, oauth)
      assert.strictEqual(client.endpoint.tokenUrl, server.tokenUrl)
      assert.strictEqual(client.endpoint.issuer, server.issuer)
      const tokens = yield* AccessTokens.make({ scopes: SCOPES }).pipe(Effect.provide(oauth))
      assert.strictEqual(yield* whoAmI(server, tokens), AuthServer.clients.post.id)
      const info = yield* client.introspect((yield* tokens.get).value, "access_token")
      assert.isTrue(info.active)
      assert.deepStrictEqual(yield* server.tokenRequests, [{ grantType: "client_credentials", outcome: "success" }])
    }).pipe(Effect.provide(Live)))

  it.scopedLive("an issuer that differs from the metadata's (a trailing slash) is refused before any token request", () =>
    Effect.gen(function*() {
      const server = yield* AuthServer.make()
      const error = failureOf(
        yield* Effect.exit(
          discovered(`${server.issuer}/`, {
            credentials: { clientId: AuthServer.clients.basic.id, clientSecret: Redacted.make(AuthServer.clients.basic.secret) }
          })
        )
      )
      assert.strictEqual(error._tag, "InvalidConfiguration")
      assert.include(error.message, `names the issuer "${server.issuer}", not the configured "${server.issuer}/"`)
      assert.include(error.message, "set issuer to exactly its value")
      assert.deepStrictEqual(yield* server.tokenRequests, [])
    }).pipe(Effect.provide(Live)))

  it.scopedLive("an auth method the server does not accept is refused by discovery before any token request", () =>
    Effect.gen(function*() {
      const server = yield* AuthServer.make({ clientAuthMethods: ["client_secret_basic", "private_key_jwt"] })
      const metadata = yield* Discovery.make({ issuer: server.issuer })
      assert.deepStrictEqual([...metadata.tokenEndpointAuthMethodsSupported].sort(), [
        "client_secret_basic",
        "private_key_jwt"
      ])
      const credentials = {
        clientId: AuthServer.clients.post.id,
        clientSecret: Redacted.make(AuthServer.clients.post.secret)
      }
      for (const method of ["client_secret_post", "client_secret_jwt"] as const) {
        const error = failureOf(yield* Effect.exit(discovered(server.issuer, { credentials, method })))
        assert.strictEqual(error._tag, "InvalidConfiguration")
        assert.include(error.message, `does not accept ${method} client authentication`)
        assert.include(error.message, "token_endpoint_auth_methods_supported")
      }
      assert.deepStrictEqual(yield* server.tokenRequests, [])
    }).pipe(Effect.provide(Live)))
})

describe("JWT client authentication", () => {
  const pkjwt = (server: AuthServer.AuthServer, clientId: string, key: KeyPair, form: "pem" | "jwk", extra = {}) =>
    discovered(server.issuer, {
      credentials: {
        clientId,
        privateKey: Redacted.make<string | ClientAuth.Jwk>(form === "pem" ? key.pem : key.privateJwk),
        assertion: { keyId: key.kid, ...extra }
      }
    })

  for (
    const [name, clientId, key, form] of [
      ["RS256", "trader-pkjwt-rsa", rsa, "pem"],
      ["ES256", "trader-pkjwt-ec", ec, "jwk"]
    ] as const
  ) {
    it.scopedLive(`private_key_jwt ${name} (${form.toUpperCase()} key): a client_credentials token the API accepts`, () =>
      Effect.gen(function*() {
        const server = yield* AuthServer.make({ extraClients: jwtClients() })
        const oauth = Layer.succeedContext(yield* pkjwt(server, clientId, key, form))
        const client = yield* Effect.provide(OAuth2Client.OAuth2Client, oauth)
        assert.strictEqual(client.endpoint.authMethod, "private_key_jwt", "chosen from the private key")
        // Two token requests: each with its own assertion (the provider refuses a replayed jti).
        const first = yield* client.requestToken(Grant.clientCredentials(SCOPES))
        assert.deepStrictEqual(first.scopes, SCOPES)
        const tokens = yield* AccessTokens.make({ scopes: SCOPES }).pipe(Effect.provide(oauth))
        assert.strictEqual(yield* whoAmI(server, tokens), clientId)
        // Revocation and introspection authenticate the same way.
        const info = yield* client.introspect(first.value, "access_token")
        assert.isTrue(info.active)
        yield* client.revoke(first.value, "access_token")
        assert.isFalse((yield* client.introspect(first.value, "access_token")).active)
        assert.deepStrictEqual(yield* server.tokenRequests, [
          { grantType: "client_credentials", outcome: "success" },
          { grantType: "client_credentials", outcome: "success" }
        ])
      }).pipe(Effect.provide(Live)))
  }

  it.scopedLive("client_secret_jwt (HS256): a client_credentials token; the secret never on the wire", () =>
    Effect.gen(function*() {
      const server = yield* AuthServer.make({ extraClients: jwtClients() })
      const oauth = Layer.succeedContext(
        yield* discovered(server.issuer, {
          credentials: { clientId: "trader-csjwt", clientSecret: Redacted.make(CS_JWT_SECRET) },
          method: "client_secret_jwt"
        })
      )
      const client = yield* Effect.provide(OAuth2Client.OAuth2Client, oauth)
      const token = yield* client.requestToken(Grant.clientCredentials(SCOPES))
      assert.deepStrictEqual(token.scopes, SCOPES)
      const tokens = yield* AccessTokens.make({ scopes: SCOPES }).pipe(Effect.provide(oauth))
      assert.strictEqual(yield* whoAmI(server, tokens), "trader-csjwt")
      assert.deepStrictEqual((yield* server.tokenRequests).map((r) => r.outcome), ["success", "success"])
    }).pipe(Effect.provide(Live)))

  for (
    const [name, make, expect] of [
      [
        "a key the server does not hold",
        (server: AuthServer.AuthServer) =>
          pkjwt(server, "trader-pkjwt-ec", { ...keyPair("ec", ec.kid), kid: ec.kid }, "pem"),
        "kid \"ec-2026\""
      ],
      [
        "a wrong audience",
        (server: AuthServer.AuthServer) =>
          pkjwt(server, "trader-pkjwt-ec", ec, "pem", { audience: "https://someone-else.example" }),
        "audience \"https://someone-else.example\""
      ]
    ] as const
  ) {
    it.scopedLive(`private_key_jwt with ${name}: Unauthorized invalid_client saying what to check, never retried`, () =>
      Effect.gen(function*() {
        const server = yield* AuthServer.make({ extraClients: jwtClients() })
        const oauth = Layer.succeedContext(yield* make(server))
        const client = yield* Effect.provide(OAuth2Client.OAuth2Client, oauth)
        const error = failureOf(yield* Effect.exit(client.requestToken(Grant.clientCredentials(SCOPES))))
        assert.strictEqual(error._tag, "Unauthorized")
        assert.strictEqual(error._tag === "Unauthorized" ? error.reason : undefined, "invalid_client")
        assert.isFalse(error.retryable)
        assert.include(error.message, expect)
        for (const what of ["registered", "audience", "clock"]) assert.include(error.message, what)
        // Through the cache: one request for the get, the error surfaces, nothing cached, no loop.
        const tokens = yield* AccessTokens.make({ scopes: SCOPES }).pipe(Effect.provide(oauth))
        assert.strictEqual(failureOf(yield* Effect.exit(tokens.get))._tag, "Unauthorized")
        assert.isTrue(Option.isNone(yield* tokens.current))
        // A window for a retry loop, were there one, to show in the server's count (it is not a timing assertion).
        yield* Effect.sleep("300 millis")
        assert.deepStrictEqual(yield* server.tokenRequests, [
          { grantType: "client_credentials", outcome: "invalid_client" },
          { grantType: "client_credentials", outcome: "invalid_client" }
        ])
      }).pipe(Effect.provide(Live)))
  }

  it.scopedLive("a key that cannot sign the algorithm is InvalidConfiguration at construction, before any request", () =>
    Effect.gen(function*() {
      const server = yield* AuthServer.make({ extraClients: jwtClients() })
      const error = failureOf(
        yield* Effect.exit(pkjwt(server, "trader-pkjwt-rsa", rsa, "pem", { algorithm: "ES256" }))
      )
      assert.strictEqual(error._tag, "InvalidConfiguration")
      assert.include(error.message, "cannot sign ES256")
      assert.notInclude(error.message, rsa.pem.split("\n")[1]!)
      assert.deepStrictEqual(yield* server.tokenRequests, [])
    }).pipe(Effect.provide(Live)))
})

describe("RFC 9207: iss on the authorization callback", () => {
  /** The headless login (PKCE, consent) through a client built by discovery, so that it knows the issuer. */
  const loginWith = (server: AuthServer.AuthServer, browse: AuthServer.BrowseOptions, callbacks: Array<string>) =>
    Effect.gen(function*() {
      const oauth = Layer.succeedContext(
        yield* discovered(server.issuer, {
          credentials: { clientId: AuthServer.clients.app.id, clientSecret: Redacted.make(AuthServer.clients.app.secret) },
          pkce: true
        })
      )
      return yield* AuthorizationCode.login({
        scopes: ["openid", "offline_access", ...SCOPES],
        pkce: true,
        extraParams: { prompt: "consent" },
        timeout: "20 seconds",
        onAuthorizeUrl: (url) =>
          Effect.map(AuthServer.browse(server.issuer, url, browse), (callback) => void callbacks.push(callback))
      }).pipe(Effect.provide(oauth))
    })

  it.scopedLive("the server's iss matches the discovered issuer: the code is exchanged", () =>
    Effect.gen(function*() {
      const server = yield* AuthServer.make()
      const callbacks: Array<string> = []
      const token = yield* loginWith(server, {}, callbacks)
      assert.deepStrictEqual(token.scopes, SCOPES, "the resource's scopes (RFC 8707)")
      assert.strictEqual(new URL(callbacks[0]!).searchParams.get("iss"), server.issuer, "oidc-provider sends iss")
      assert.deepStrictEqual((yield* server.tokenRequests).map((r) => r.grantType), ["authorization_code"])
    }).pipe(Effect.provide(Live)))

  for (
    const [name, rewrite, reason] of [
      ["another issuer's iss", (url: URL) => url.searchParams.set("iss", "https://attacker.example"), "issuer_mismatch"],
      ["a second iss", (url: URL) => url.searchParams.append("iss", "https://attacker.example"), "issuer_mismatch"],
      ["no iss, from a server that says it always sends one", (url: URL) => url.searchParams.delete("iss"), "missing_issuer"]
    ] as const
  ) {
    it.scopedLive(`${name}: AuthorizationFailed ${reason}, and the code is never exchanged`, () =>
      Effect.gen(function*() {
        const server = yield* AuthServer.make()
        const error = failureOf(yield* Effect.exit(loginWith(server, { rewriteCallback: rewrite }, [])))
        assert.strictEqual(error._tag, "AuthorizationFailed")
        assert.strictEqual(error._tag === "AuthorizationFailed" ? error.reason : undefined, reason)
        assert.include(error.message, "RFC 9207")
        assert.include(error.message, server.issuer)
        assert.include(error.message, "the code was not used")
        assert.deepStrictEqual(yield* server.tokenRequests, [], "no token request at all")
      }).pipe(Effect.provide(Live)))
  }
})
