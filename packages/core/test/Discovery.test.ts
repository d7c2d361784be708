/**
 * Discovery (RFC 8414, OpenID Connect Discovery) against a loopback server: where the documents are looked for, the
 * issuer check, the URL rules, the bounds (timeout, body cap, no redirect), and a configuration the metadata says
 * cannot work refused before any token request.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as fc from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as Discovery from "../src/Discovery.js"
import * as Grant from "../src/Grant.js"
import * as OAuth2Client from "../src/OAuth2Client.js"
import type { OAuth2Error } from "../src/OAuth2Error.js"
import * as TokenServer from "./utils/tokenServer.js"

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) return assert.fail("expected a failure, got a success")
  const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  return failure ?? assert.fail(`expected a typed failure, got ${String(exit.cause)}`)
}

/** A metadata document for an issuer on the test server. */
const documentFor = (issuer: string, fields: Record<string, unknown> = {}) => ({
  issuer,
  token_endpoint: `${issuer}/token`,
  revocation_endpoint: `${issuer}/revoke`,
  introspection_endpoint: `${issuer}/introspect`,
  authorization_endpoint: `${issuer}/authorize`,
  pushed_authorization_request_endpoint: `${issuer}/par`,
  device_authorization_endpoint: `${issuer}/device`,
  jwks_uri: `${issuer}/jwks`,
  token_endpoint_auth_methods_supported: ["client_secret_basic", "private_key_jwt"],
  code_challenge_methods_supported: ["S256"],
  authorization_response_iss_parameter_supported: true,
  mtls_endpoint_aliases: { token_endpoint: `${issuer}/mtls/token` },
  dpop_signing_alg_values_supported: ["ES256"],
  ...fields
})

/** A server that answers the well-known documents from `metadata` (a 404 where it gives none) and tokens elsewhere. */
const serverWith = (
  metadata: (issuer: string, path: string) => TokenServer.Action | undefined
) =>
  Effect.gen(function*() {
    const server = yield* TokenServer.make(TokenServer.token())
    yield* server.setScript((request) =>
      request.path.includes("/.well-known/")
        ? metadata(server.origin, request.path) ?? TokenServer.reply("not found", { status: 404 })
        : TokenServer.token()
    )
    return server
  })

const discover = (options: Discovery.Options) => Discovery.make(options).pipe(Effect.provide(FetchHttpClient.layer))

describe("Discovery.make", () => {
  it.scoped("reads the OpenID document and yields every endpoint, and what the server supports", () =>
    Effect.gen(function*() {
      const server = yield* serverWith((issuer, path) =>
        path === "/.well-known/openid-configuration" ? TokenServer.json(documentFor(issuer)) : undefined
      )
      const issuer = server.origin
      const metadata = yield* discover({ issuer })
      assert.strictEqual(metadata.issuer, issuer)
      assert.strictEqual(metadata.metadataUrl, `${issuer}/.well-known/openid-configuration`)
      assert.strictEqual(metadata.tokenEndpoint, `${issuer}/token`)
      assert.strictEqual(metadata.revocationEndpoint, `${issuer}/revoke`)
      assert.strictEqual(metadata.introspectionEndpoint, `${issuer}/introspect`)
      assert.strictEqual(metadata.authorizationEndpoint, `${issuer}/authorize`)
      assert.strictEqual(metadata.pushedAuthorizationRequestEndpoint, `${issuer}/par`)
      assert.strictEqual(metadata.deviceAuthorizationEndpoint, `${issuer}/device`)
      assert.strictEqual(metadata.jwksUri, `${issuer}/jwks`)
      assert.deepStrictEqual(metadata.tokenEndpointAuthMethodsSupported, ["client_secret_basic", "private_key_jwt"])
      assert.deepStrictEqual(metadata.codeChallengeMethodsSupported, ["S256"])
      assert.isTrue(metadata.authorizationResponseIssParameterSupported)
      assert.deepStrictEqual(metadata.mtlsEndpointAliases, { token_endpoint: `${issuer}/mtls/token` })
      assert.deepStrictEqual(metadata.dpopSigningAlgValuesSupported, ["ES256"])
      assert.strictEqual((yield* server.requests).length, 1)
    }))

  it.scoped("with no OpenID document, the RFC 8414 one, path inserted after the host (§3.1); RFC 8414 defaults", () =>
    Effect.gen(function*() {
      const server = yield* serverWith((origin, path) =>
        path === "/.well-known/oauth-authorization-server/tenant/a"
          ? TokenServer.json({ issuer: `${origin}/tenant/a`, token_endpoint: `${origin}/tenant/a/token` })
          : undefined
      )
      const issuer = `${server.origin}/tenant/a`
      const metadata = yield* discover({ issuer })
      assert.deepStrictEqual((yield* server.requests).map((r) => r.path), [
        "/tenant/a/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server/tenant/a"
      ])
      assert.strictEqual(metadata.tokenEndpoint, `${issuer}/token`)
      assert.deepStrictEqual(metadata.tokenEndpointAuthMethodsSupported, ["client_secret_basic"])
      assert.deepStrictEqual(metadata.grantTypesSupported, ["authorization_code", "implicit"])
      assert.isUndefined(metadata.codeChallengeMethodsSupported)
      assert.isFalse(metadata.authorizationResponseIssParameterSupported)
      assert.deepStrictEqual(metadata.mtlsEndpointAliases, {})
      // Asked for one document, only that one is read.
      yield* discover({ issuer, wellKnown: "oauth-authorization-server" })
      assert.strictEqual((yield* server.requests).length, 3)
    }))

  it.scoped("neither document: InvalidConfiguration naming both URLs and saying to check the issuer", () =>
    Effect.gen(function*() {
      const server = yield* serverWith(() => undefined)
      const error = failureOf(yield* Effect.exit(discover({ issuer: server.origin })))
      assert.strictEqual(error._tag, "InvalidConfiguration")
      assert.include(error.message, "/.well-known/openid-configuration (HTTP 404)")
      assert.include(error.message, "/.well-known/oauth-authorization-server (HTTP 404)")
      assert.include(error.message, "check the issuer URL")
      assert.strictEqual((yield* server.requests).length, 2)
    }))

  it.scoped.prop(
    "an issuer in the document that differs from the configured one in any way is refused (RFC 8414 §3.3)",
    {
      change: fc.oneof(
        fc.constant((i: string) => `${i}/`),
        fc.constant((i: string) => i.replace("127.0.0.1", "localhost")),
        fc.constant((i: string) => i.toUpperCase()),
        fc.string({ minLength: 1, maxLength: 40 }).map((s) => (i: string) => `${i}${s}`),
        fc.string({ maxLength: 60 }).map((s) => (_: string) => s)
      )
    },
    ({ change }) =>
      Effect.gen(function*() {
        const server = yield* serverWith((issuer) => TokenServer.json(documentFor(change(issuer))))
        const claimed = change(server.origin)
        if (claimed === server.origin) return
        const error = failureOf(yield* Effect.exit(discover({ issuer: server.origin })))
        assert.strictEqual(error._tag, "InvalidConfiguration")
        assert.include(error.message, "RFC 8414 §3.3")
        assert.include(error.message, `not the configured "${server.origin}"`)
        assert.notMatch(error.message, /\p{Cc}/u, "no control character from the server")
      }),
    { fastCheck: { numRuns: 40 } }
  )

  it.scoped("an http:// endpoint off loopback in the metadata is refused; a malformed document is MalformedResponse", () =>
    Effect.gen(function*() {
      let document: Record<string, unknown> = {}
      const server = yield* serverWith(() => TokenServer.json(document))
      document = documentFor(server.origin, { token_endpoint: "http://auth.example.com/token" })
      const insecure = failureOf(yield* Effect.exit(discover({ issuer: server.origin })))
      assert.strictEqual(insecure._tag, "InvalidConfiguration")
      assert.include(insecure.message, "token_endpoint")
      assert.include(insecure.message, "https://")
      document = documentFor(server.origin, { mtls_endpoint_aliases: { token_endpoint: "http://mtls.example.com/t" } })
      assert.include(failureOf(yield* Effect.exit(discover({ issuer: server.origin }))).message, "mtls_endpoint_aliases")
      document = documentFor(server.origin, { token_endpoint_auth_methods_supported: "client_secret_basic" })
      const malformed = failureOf(yield* Effect.exit(discover({ issuer: server.origin })))
      assert.strictEqual(malformed._tag, "MalformedResponse")
      assert.include(malformed.message, "token_endpoint_auth_methods_supported")
    }))

  it.scoped("bounded: a body over the cap, a redirect (not followed), a server error", () =>
    Effect.gen(function*() {
      let action: TokenServer.Action = TokenServer.json({})
      const server = yield* serverWith(() => action)
      action = TokenServer.json(documentFor(server.origin, { padding: "x".repeat(5000) }))
      const big = failureOf(yield* Effect.exit(discover({ issuer: server.origin, maxResponseBytes: 1000 })))
      assert.strictEqual(big._tag, "MalformedResponse")
      assert.include(big.message, "1000-byte limit")
      action = TokenServer.reply("", { status: 302, headers: { location: `${server.origin}/elsewhere` } })
      const redirect = failureOf(yield* Effect.exit(discover({ issuer: server.origin })))
      assert.strictEqual(redirect._tag, "MalformedResponse")
      assert.notInclude((yield* server.requests).map((r) => r.path).join(" "), "/elsewhere")
      action = TokenServer.reply("oops", { status: 503 })
      const down = failureOf(yield* Effect.exit(discover({ issuer: server.origin })))
      assert.isTrue(down.retryable, "a 5xx is worth retrying")
    }))

  it.scoped("a server that never answers: TransportError Timeout after the request timeout", () =>
    Effect.gen(function*() {
      const server = yield* serverWith(() => TokenServer.hang)
      const fiber = yield* Effect.fork(Effect.exit(discover({ issuer: server.origin, requestTimeout: "5 seconds" })))
      yield* server.awaitRequests(1)
      yield* TestClock.adjust("5 seconds")
      const error = failureOf(yield* Fiber.join(fiber)) as OAuth2Error
      assert.strictEqual(error._tag, "TransportError")
      assert.include(error.message, "timed out")
    }))

  it.effect("an issuer with a query, or not https off loopback, is refused before any request", () =>
    Effect.gen(function*() {
      const query = failureOf(yield* Effect.exit(discover({ issuer: "https://auth.example.com/?tenant=1" })))
      assert.include(query.message, "query or fragment")
      const plain = failureOf(yield* Effect.exit(discover({ issuer: "http://auth.example.com" })))
      assert.include(plain.message, "https://")
    }))
})

describe("OAuth2Client.layerDiscovery", () => {
  const clientLayer = (
    issuer: string,
    options: Partial<Parameters<typeof OAuth2Client.layerDiscovery>[0]> = {}
  ) =>
    OAuth2Client.layerDiscovery({
      issuer,
      credentials: { clientId: "desk", clientSecret: Redacted.make("s3cret-value") },
      ...options
    }).pipe(Layer.provide(FetchHttpClient.layer))

  it.scoped("uses the discovered endpoints and issuer; reads the metadata once for the layer's life", () =>
    Effect.gen(function*() {
      const server = yield* serverWith((issuer) => TokenServer.json(documentFor(issuer)))
      const { client, metadata } = yield* Effect.all({
        client: OAuth2Client.OAuth2Client,
        metadata: Discovery.Discovery
      }).pipe(Effect.provide(clientLayer(server.origin)))
      assert.strictEqual(client.endpoint.tokenUrl, `${server.origin}/token`)
      assert.strictEqual(client.endpoint.revocationUrl, `${server.origin}/revoke`)
      assert.strictEqual(client.endpoint.issuer, server.origin)
      assert.strictEqual(client.endpoint.authMethod, "client_secret_basic", "the first secret method the server lists")
      assert.strictEqual(metadata.issuer, server.origin)
      for (let i = 0; i < 3; i++) yield* client.requestToken(Grant.clientCredentials([]))
      const paths = (yield* server.requests).map((r) => r.path)
      assert.deepStrictEqual(paths, ["/.well-known/openid-configuration", "/token", "/token", "/token"])
    }))

  it.scoped("a configuration the metadata says cannot work is refused before any token request", () =>
    Effect.gen(function*() {
      const server = yield* serverWith((issuer) =>
        TokenServer.json(
          documentFor(issuer, {
            token_endpoint_auth_methods_supported: ["private_key_jwt"],
            token_endpoint_auth_signing_alg_values_supported: ["PS256"],
            code_challenge_methods_supported: ["plain"]
          })
        )
      )
      const build = (options: Partial<Parameters<typeof OAuth2Client.layerDiscovery>[0]>) =>
        Effect.exit(Layer.build(clientLayer(server.origin, options)))
      const explicit = failureOf(yield* build({ method: "client_secret_post" }))
      assert.strictEqual(explicit._tag, "InvalidConfiguration")
      assert.include(explicit.message, "does not accept client_secret_post")
      assert.include(explicit.message, "\"private_key_jwt\"")
      const chosen = failureOf(yield* build({}))
      assert.include(chosen.message, "with a client secret")
      assert.include(chosen.message, "private key")
      const jose = yield* Effect.promise(() => import("jose"))
      const { privateKey } = yield* Effect.promise(() => jose.generateKeyPair("ES256", { extractable: true }))
      const pem = yield* Effect.promise(() => jose.exportPKCS8(privateKey))
      const alg = failureOf(
        yield* build({ credentials: { clientId: "desk", privateKey: Redacted.make(pem) } })
      )
      assert.include(alg.message, "does not accept ES256 client assertions")
      assert.include(alg.message, "\"PS256\"")
      const pkce = failureOf(
        yield* build({
          credentials: { clientId: "desk", privateKey: Redacted.make(pem), assertion: { algorithm: "PS256" } },
          pkce: true
        })
      )
      assert.include(pkce.message, "PKCE S256")
      const paths = (yield* server.requests).map((r) => r.path)
      assert.isTrue(paths.every((p) => p.includes("/.well-known/")), `no token request: ${paths.join(", ")}`)
    }))
})
