/**
 * The mutual-TLS client authentication methods (RFC 8705 §2) as core sees them: `client_id` alone on the wire (the
 * certificate is the transport's), no secret or key needed, the method names known everywhere, and discovery's
 * `mtls_endpoint_aliases` used by a client that presents a certificate. The TLS side is tested against a real
 * mutual-TLS server in `@effect-oauth2/node`.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as ClientAuth from "../src/ClientAuth.js"
import * as Discovery from "../src/Discovery.js"
import * as Endpoint from "../src/Endpoint.js"
import * as Grant from "../src/Grant.js"
import * as OAuth2Client from "../src/OAuth2Client.js"
import * as TokenServer from "./utils/tokenServer.js"

const METHODS = ["tls_client_auth", "self_signed_tls_client_auth"] as const

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) return assert.fail("expected a failure, got a success")
  const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  return failure ?? assert.fail(`expected a typed failure, got ${String(exit.cause)}`)
}

describe("ClientAuth mutual TLS methods", () => {
  it("are method names, in methods, and recognised as mTLS", () => {
    for (const m of METHODS) {
      assert.include(ClientAuth.methods, m)
      assert.include(ClientAuth.mtlsMethods, m)
      assert.isTrue(ClientAuth.isMtlsMethod(m))
    }
    for (const m of ClientAuth.methods.filter((m) => !(METHODS as ReadonlyArray<string>).includes(m))) {
      assert.isFalse(ClientAuth.isMtlsMethod(m))
    }
    assert.strictEqual(ClientAuth.methods.at(-1), "none", "none stays the last resort")
  })

  it("constructors, fromMethod and method agree; the request carries client_id alone", () => {
    assert.deepStrictEqual(ClientAuth.tlsClientAuth("c1"), { _tag: "TlsClientAuth", clientId: "c1" })
    assert.deepStrictEqual(ClientAuth.selfSignedTlsClientAuth("c1"), { _tag: "SelfSignedTlsClientAuth", clientId: "c1" })
    for (const m of METHODS) {
      // A secret given by mistake is not sent: the certificate authenticates.
      const auth = ClientAuth.fromMethod({ method: m, clientId: "c1", clientSecret: Redacted.make("s3cret") })
      assert.strictEqual(ClientAuth.method(auth), m)
      assert.deepStrictEqual(ClientAuth.toRequestParts(auth), { headers: {}, params: [["client_id", "c1"]] })
    }
  })

  it.effect("make needs no secret nor key, and refuses an empty client id", () =>
    Effect.gen(function*() {
      for (const m of METHODS) {
        const auth = yield* ClientAuth.make({ method: m, clientId: "c1", defaultAudience: "https://as.example" })
        assert.strictEqual(ClientAuth.method(auth), m)
        assert.deepStrictEqual(yield* ClientAuth.requestParts(auth), { headers: {}, params: [["client_id", "c1"]] })
        const error = failureOf(
          yield* Effect.exit(ClientAuth.make({ method: m, clientId: "", defaultAudience: "https://as.example" }))
        )
        assert.strictEqual(error._tag, "InvalidConfiguration")
        assert.include(error.description, `${m} needs the client id`)
      }
    }))

  for (const m of METHODS) {
    it.scoped(`${m} on the wire: client_id in the body, no Authorization header, no secret`, () =>
      Effect.gen(function*() {
        const server = yield* TokenServer.make()
        const endpoint = yield* Endpoint.make({
          provider: "bank",
          tokenUrl: server.url("/token"),
          revocationUrl: server.url("/revoke"),
          authMethod: m
        })
        const client = yield* OAuth2Client.make({ endpoint, credentials: Endpoint.credentials("c1", "ignored") }).pipe(
          Effect.provide(FetchHttpClient.layer)
        )
        const token = yield* client.requestToken(Grant.clientCredentials(["read"]))
        const request = yield* server.last
        assert.isUndefined(request.headers.authorization)
        assert.deepStrictEqual(request.formPairs.map(([k]) => k).sort(), ["client_id", "grant_type", "scope"])
        assert.strictEqual(request.form.client_id, "c1")
        yield* client.revoke(token.value)
        const revoke = yield* server.last
        assert.isUndefined(revoke.headers.authorization)
        assert.strictEqual(revoke.form.client_id, "c1")
        assert.isUndefined(revoke.form.client_secret)
      }).pipe(Effect.provide(FetchHttpClient.layer)))
  }
})

/** A metadata document with mutual-TLS aliases for the endpoints a client calls (and one for the browser's). */
const documentFor = (issuer: string, fields: Record<string, unknown> = {}) => ({
  issuer,
  token_endpoint: `${issuer}/token`,
  revocation_endpoint: `${issuer}/revoke`,
  introspection_endpoint: `${issuer}/introspect`,
  authorization_endpoint: `${issuer}/authorize`,
  pushed_authorization_request_endpoint: `${issuer}/par`,
  token_endpoint_auth_methods_supported: ["client_secret_basic", "tls_client_auth", "self_signed_tls_client_auth"],
  mtls_endpoint_aliases: {
    token_endpoint: `${issuer}/mtls/token`,
    revocation_endpoint: `${issuer}/mtls/revoke`,
    introspection_endpoint: `${issuer}/mtls/introspect`,
    pushed_authorization_request_endpoint: `${issuer}/mtls/par`,
    authorization_endpoint: `${issuer}/mtls/authorize`
  },
  ...fields
})

const serverWith = (document: (issuer: string) => Record<string, unknown>) =>
  Effect.gen(function*() {
    const server = yield* TokenServer.make(TokenServer.token())
    yield* server.setScript((request) =>
      request.path === "/.well-known/openid-configuration"
        ? TokenServer.json(document(server.origin))
        : TokenServer.token()
    )
    return server
  })

describe("Discovery with mutual TLS", () => {
  it.scoped("mtls: true uses the aliases for the endpoints the client calls, never for the authorization endpoint", () =>
    Effect.gen(function*() {
      const server = yield* serverWith((issuer) => documentFor(issuer))
      const issuer = server.origin
      const plain = yield* Discovery.make({ issuer })
      assert.strictEqual(plain.tokenEndpoint, `${issuer}/token`)
      assert.isFalse(plain.tlsClientCertificateBoundAccessTokens, "RFC 8705 §3.3: false when not said")
      const mtls = yield* Discovery.make({ issuer, mtls: true })
      assert.strictEqual(mtls.tokenEndpoint, `${issuer}/mtls/token`)
      assert.strictEqual(mtls.revocationEndpoint, `${issuer}/mtls/revoke`)
      assert.strictEqual(mtls.introspectionEndpoint, `${issuer}/mtls/introspect`)
      assert.strictEqual(mtls.pushedAuthorizationRequestEndpoint, `${issuer}/mtls/par`)
      assert.strictEqual(mtls.authorizationEndpoint, `${issuer}/authorize`)
      assert.deepStrictEqual(Discovery.withMtlsAliases(plain), mtls)
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scoped("a server without aliases serves mutual TLS on its usual endpoints", () =>
    Effect.gen(function*() {
      const server = yield* serverWith((issuer) =>
        documentFor(issuer, { mtls_endpoint_aliases: undefined, tls_client_certificate_bound_access_tokens: true })
      )
      const metadata = yield* Discovery.make({ issuer: server.origin, mtls: true })
      assert.isTrue(metadata.tlsClientCertificateBoundAccessTokens)
      assert.strictEqual(metadata.tokenEndpoint, `${server.origin}/token`)
      assert.strictEqual(metadata.revocationEndpoint, `${server.origin}/revoke`)
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  for (const method of ["tls_client_auth", undefined] as const) {
    it.scoped(
      `layerDiscovery with discovery.mtls and ${method ?? "no method named (chosen from the metadata)"}: the token request goes to the alias, client_id alone`,
      () =>
        Effect.gen(function*() {
          const server = yield* serverWith((issuer) => documentFor(issuer))
          yield* OAuth2Client.OAuth2Client.pipe(
            Effect.flatMap((client) => client.requestToken(Grant.clientCredentials())),
            Effect.provide(
              OAuth2Client.layerDiscovery({
                issuer: server.origin,
                credentials: Endpoint.credentials("c1"),
                method,
                discovery: { mtls: true }
              }).pipe(Layer.provide(FetchHttpClient.layer))
            )
          )
          const request = yield* server.last
          assert.strictEqual(request.path, "/mtls/token")
          assert.isUndefined(request.headers.authorization)
          assert.deepStrictEqual(request.formPairs.map(([k]) => k).sort(), ["client_id", "grant_type"])
        })
    )
  }

  it.scoped("checkAuthMethod accepts an advertised mTLS method and refuses one the server does not list", () =>
    Effect.gen(function*() {
      const server = yield* serverWith((issuer) =>
        documentFor(issuer, { token_endpoint_auth_methods_supported: ["client_secret_basic", "tls_client_auth"] })
      )
      const metadata = yield* Discovery.make({ issuer: server.origin })
      yield* Discovery.checkAuthMethod(metadata, "tls_client_auth")
      const error = failureOf(yield* Effect.exit(Discovery.checkAuthMethod(metadata, "self_signed_tls_client_auth")))
      assert.include(error.description, "does not accept self_signed_tls_client_auth")
      assert.include(error.description, "\"tls_client_auth\"")
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scoped("chooseAuthMethod picks an mTLS method with a certificate and no secret, and says so when none is served", () =>
    Effect.gen(function*() {
      const server = yield* serverWith((issuer) => documentFor(issuer))
      const metadata = yield* Discovery.make({ issuer: server.origin })
      const has = { secret: false, privateKey: false, certificate: true }
      assert.strictEqual(yield* Discovery.chooseAuthMethod(metadata, has), "tls_client_auth")
      assert.strictEqual(
        yield* Discovery.chooseAuthMethod({ ...metadata, tokenEndpointAuthMethodsSupported: ["self_signed_tls_client_auth"] }, has),
        "self_signed_tls_client_auth"
      )
      assert.strictEqual(yield* Discovery.chooseAuthMethod(metadata, { ...has, secret: true }), "client_secret_basic")
      const error = failureOf(
        yield* Effect.exit(
          Discovery.chooseAuthMethod({ ...metadata, tokenEndpointAuthMethodsSupported: ["private_key_jwt"] }, has)
        )
      )
      assert.include(error.description, "with a TLS client certificate")
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})
