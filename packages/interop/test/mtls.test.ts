/**
 * Mutual TLS (RFC 8705) against oidc-provider on 127.0.0.1, with a PKI made in memory for the run: `tls_client_auth`
 * and `self_signed_tls_client_auth` through `MtlsHttpClient`, the `mtls_endpoint_aliases` from discovery, and
 * certificate-bound access tokens (`cnf.x5t#S256`) used on a resource server that checks the binding against the
 * certificate of the connection.
 */
import "reflect-metadata"
import { AccessTokens, Discovery, Endpoint, OAuth2Client, OAuth2HttpClient } from "@effect-oauth2/core"
import type { OAuth2Error } from "@effect-oauth2/core/OAuth2Error"
import { MtlsHttpClient } from "@effect-oauth2/node"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Undici from "undici"
import * as MtlsServer from "./utils/mtlsServer.js"
import * as Pki from "@effect-oauth2/node/testing"

const pki = await Pki.makePki()
const tlsClient = await Pki.issue({ name: MtlsServer.clients.tls, ca: pki.ca })
const selfSigned = await Pki.issue({ name: MtlsServer.clients.selfSigned })
const selfSignedJwk = await Pki.publicJwk(selfSigned)

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) return assert.fail("expected a failure, got a success")
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) return assert.fail(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
  return failure.value
}

const server = MtlsServer.make({ pki, selfSigned, selfSignedJwk })

/** Each test's own logs are left out of the output (the refusals under test log warnings). */
const quiet = Logger.withMinimumLogLevel(LogLevel.Error)

/** The mutual-TLS HttpClient presenting a certificate, trusting the test CA for the servers' certificates. */
const presenting = (issued: Pki.Issued) =>
  MtlsHttpClient.layer({
    certificate: issued.certificate,
    privateKey: Redacted.make(issued.privateKey),
    ca: pki.ca.certificate,
    provider: "bank"
  })

/** Tokens for a client from the issuer alone, over the mutual-TLS client (token endpoint and API alike). */
const tokensFor = (
  issuer: string,
  clientId: string,
  method: "tls_client_auth" | "self_signed_tls_client_auth",
  issued: Pki.Issued,
  mtls = true
) =>
  AccessTokens.layer({ scopes: ["TRADER_READ"] }).pipe(
    Layer.provideMerge(
      OAuth2Client.layerDiscovery({
        issuer,
        credentials: Endpoint.credentials(clientId),
        method,
        endpoint: { requestTimeout: "5 seconds" },
        discovery: { mtls }
      })
    ),
    Layer.provideMerge(presenting(issued))
  )

/** A client that trusts the test CA but presents no certificate. */
const withoutCertificate = NodeHttpClient.makeUndici(new Undici.Agent({ connect: { ca: pki.ca.certificate } }))

describe("mutual TLS (RFC 8705) against oidc-provider", () => {
  it.scopedLive(
    "tls_client_auth: the token from the alias is bound to the certificate, used on the API over it, refused without it",
    () =>
      Effect.gen(function*() {
        const as = yield* server
        const result = yield* Effect.gen(function*() {
          const metadata = yield* Discovery.Discovery
          const certificate = yield* MtlsHttpClient.Certificate
          const tokens = yield* AccessTokens.AccessTokens
          const oauth = yield* OAuth2Client.OAuth2Client
          const api = yield* OAuth2HttpClient.make()
          const response = yield* api.get(as.apiUrl)
          const body = yield* response.json
          const token = yield* tokens.get
          const introspection = yield* oauth.introspect(token.value)
          return { metadata, certificate, status: response.status, body, token, introspection }
        }).pipe(Effect.provide(tokensFor(as.issuer, MtlsServer.clients.tls, "tls_client_auth", tlsClient)))

        // The aliases from discovery were used for the endpoints the client calls.
        assert.strictEqual(result.metadata.tokenEndpoint, `${as.mtlsOrigin}/token`)
        assert.strictEqual(result.metadata.introspectionEndpoint, `${as.mtlsOrigin}/token/introspection`)
        assert.include(result.metadata.tokenEndpointAuthMethodsSupported, "tls_client_auth")
        assert.isTrue(result.metadata.tlsClientCertificateBoundAccessTokens)
        assert.deepStrictEqual(yield* as.tokenRequests, [{ grantType: "client_credentials", outcome: "success" }])

        // The token is bound to the certificate (introspection's cnf), and the resource server accepted it over it.
        const cnf = result.introspection.extra.cnf as { readonly "x5t#S256"?: string } | undefined
        assert.isTrue(result.introspection.active)
        assert.strictEqual(cnf?.["x5t#S256"], result.certificate.thumbprint)
        assert.strictEqual(result.status, 200)
        assert.deepStrictEqual(result.body, {
          client_id: MtlsServer.clients.tls,
          thumbprint: result.certificate.thumbprint
        })

        // The same token without the certificate, or over another certificate of the same CA: refused.
        const bearer = { authorization: `Bearer ${Redacted.value(result.token.value)}` }
        const bare = yield* withoutCertificate.get(as.apiUrl, { headers: bearer })
        assert.strictEqual(bare.status, 401)
        const other = yield* Effect.promise(() => Pki.issue({ name: "someone-else", ca: pki.ca }))
        const stolen = yield* Effect.flatMap(
          MtlsHttpClient.make({
            certificate: other.certificate,
            privateKey: Redacted.make(other.privateKey),
            ca: pki.ca.certificate
          }),
          (client) => client.get(as.apiUrl, { headers: bearer })
        )
        assert.strictEqual(stolen.status, 401)
        assert.deepStrictEqual((yield* as.apiCalls).map((call) => call.reason), [
          "bound",
          "no client certificate presented",
          "the certificate is not the one the token is bound to"
        ])
      }).pipe(quiet)
  )

  it.scopedLive("self_signed_tls_client_auth: a self-signed certificate registered in the client's JWK Set", () =>
    Effect.gen(function*() {
      const as = yield* server
      const result = yield* Effect.gen(function*() {
        const api = yield* OAuth2HttpClient.make()
        const response = yield* api.get(as.apiUrl)
        return { status: response.status, body: yield* response.json, certificate: yield* MtlsHttpClient.Certificate }
      }).pipe(
        Effect.provide(
          tokensFor(as.issuer, MtlsServer.clients.selfSigned, "self_signed_tls_client_auth", selfSigned)
        )
      )
      assert.isTrue(result.certificate.selfSigned)
      assert.strictEqual(result.status, 200)
      assert.deepStrictEqual(result.body, {
        client_id: MtlsServer.clients.selfSigned,
        thumbprint: result.certificate.thumbprint
      })
    }).pipe(quiet))

  it.scopedLive("without the aliases the plain endpoint sees no certificate: a typed invalid_client, not retried", () =>
    Effect.gen(function*() {
      const as = yield* server
      const error = failureOf(
        yield* AccessTokens.AccessTokens.pipe(
          Effect.flatMap((tokens) => tokens.get),
          Effect.provide(tokensFor(as.issuer, MtlsServer.clients.tls, "tls_client_auth", tlsClient, false)),
          Effect.exit
        )
      ) as OAuth2Error
      assert.strictEqual(error._tag, "Unauthorized", error.message)
      assert.include(error.message, "invalid_client")
      assert.deepStrictEqual((yield* as.tokenRequests).length, 1)
    }).pipe(quiet))

  it.scopedLive("a certificate of the CA with another subject than the registered one: invalid_client", () =>
    Effect.gen(function*() {
      const as = yield* server
      const impostor = yield* Effect.promise(() => Pki.issue({ name: "not-trader-mtls", ca: pki.ca }))
      const error = failureOf(
        yield* AccessTokens.AccessTokens.pipe(
          Effect.flatMap((tokens) => tokens.get),
          Effect.provide(tokensFor(as.issuer, MtlsServer.clients.tls, "tls_client_auth", impostor)),
          Effect.exit
        )
      ) as OAuth2Error
      assert.strictEqual(error._tag, "Unauthorized", error.message)
      assert.include(error.message, "invalid_client")
    }).pipe(quiet))
})
