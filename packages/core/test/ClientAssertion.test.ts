/**
 * JWT client authentication (RFC 7523 §2.2, OpenID Connect Core §9): `private_key_jwt` and `client_secret_jwt`, on
 * the wire against a loopback server, with every assertion decoded and verified with jose; keys that cannot work
 * refused at construction; no key material in any rendering.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as fc from "effect/FastCheck"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as jose from "jose"
import * as crypto from "node:crypto"
import * as util from "node:util"
import * as ClientAuth from "../src/ClientAuth.js"
import * as Endpoint from "../src/Endpoint.js"
import * as Grant from "../src/Grant.js"
import * as OAuth2Client from "../src/OAuth2Client.js"
import type { OAuth2Error } from "../src/OAuth2Error.js"
import { errorText } from "../src/testing/providerTesting.js"
import * as TokenServer from "./utils/tokenServer.js"

const CLIENT_ID = "desk-7"
const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
const NOW = Date.UTC(2026, 0, 5, 9, 30)

interface KeyPair {
  readonly alg: ClientAuth.PrivateKeyAlgorithm
  readonly pem: string
  readonly jwk: ClientAuth.Jwk
  readonly publicKey: CryptoKey
}

const keyPair = (alg: ClientAuth.PrivateKeyAlgorithm): Promise<KeyPair> =>
  jose.generateKeyPair(alg, { extractable: true }).then(async ({ privateKey, publicKey }) => ({
    alg,
    pem: await jose.exportPKCS8(privateKey),
    jwk: (await jose.exportJWK(privateKey)) as ClientAuth.Jwk,
    publicKey
  }))

const keys = Effect.promise(async () => ({
  RS256: await keyPair("RS256"),
  PS256: await keyPair("PS256"),
  ES256: await keyPair("ES256"),
  EdDSA: await keyPair("EdDSA")
})).pipe(Effect.cached, Effect.runSync)

/** The secret parts of a key: the PEM's base64 body lines and the JWK's private members. */
const materialOf = (pair: KeyPair): Array<string> => [
  ...pair.pem.split("\n").filter((line) => line !== "" && !line.startsWith("-----")),
  ...["d", "p", "q", "dp", "dq", "qi"].flatMap((m) => (typeof pair.jwk[m] === "string" ? [pair.jwk[m] as string] : []))
]

const endpointOf = (server: TokenServer.TokenServer, method: ClientAuth.Method, issuer?: string) =>
  Endpoint.make({
    provider: "test",
    issuer,
    tokenUrl: server.url("/token"),
    revocationUrl: server.url("/revoke"),
    introspectionUrl: server.url("/introspect"),
    authMethod: method
  })

const clientOf = (
  server: TokenServer.TokenServer,
  method: ClientAuth.Method,
  credentials: Omit<Endpoint.Credentials, "clientId">,
  issuer?: string
) =>
  endpointOf(server, method, issuer).pipe(
    Effect.flatMap((endpoint) => OAuth2Client.make({ endpoint, credentials: { clientId: CLIENT_ID, ...credentials } })),
    Effect.provide(FetchHttpClient.layer)
  )

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) return assert.fail("expected a failure, got a success")
  const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  return failure ?? assert.fail(`expected a typed failure, got ${String(exit.cause)}`)
}

const assertionOf = (request: TokenServer.RecordedRequest) => {
  const jwt = request.form.client_assertion
  assert.isString(jwt)
  return { jwt: jwt!, header: jose.decodeProtectedHeader(jwt!), claims: jose.decodeJwt(jwt!) }
}

describe("private_key_jwt on the wire", () => {
  for (const alg of ["RS256", "PS256", "ES256", "EdDSA"] as const) {
    for (const form of ["PEM", "JWK", "JWK text"] as const) {
      it.scoped(`${alg} from ${form}: a verifiable assertion with iss = sub = client_id, aud, iat, exp = iat + 60, kid`, () =>
        Effect.gen(function*() {
          const pair = (yield* keys)[alg]
          yield* TestClock.setTime(NOW)
          const server = yield* TokenServer.make(TokenServer.token())
          const privateKey = form === "PEM"
            ? Redacted.make<string | ClientAuth.Jwk>(pair.pem)
            : form === "JWK"
            ? Redacted.make<string | ClientAuth.Jwk>(pair.jwk)
            : Redacted.make<string | ClientAuth.Jwk>(JSON.stringify(pair.jwk))
          const oauth = yield* clientOf(server, "private_key_jwt", {
            privateKey,
            // A PS256 key is an RSA key: only the caller can say it wants PSS.
            assertion: { keyId: `kid-${alg}`, ...(alg === "PS256" ? { algorithm: "PS256" } : {}) }
          }, "https://issuer.example")
          yield* oauth.requestToken(Grant.clientCredentials(["read"]))
          yield* oauth.requestToken(Grant.clientCredentials(["read"]))
          const requests = yield* server.requests
          assert.strictEqual(requests.length, 2)
          const [first, second] = requests.map(assertionOf)
          for (const [request, { claims, header, jwt }] of [[requests[0]!, first!], [requests[1]!, second!]] as const) {
            assert.strictEqual(request.form.client_assertion_type, JWT_BEARER)
            assert.strictEqual(request.form.client_id, CLIENT_ID)
            assert.isUndefined(request.form.client_secret)
            assert.isUndefined(request.headers.authorization)
            assert.deepStrictEqual(header, { alg, kid: `kid-${alg}` })
            assert.strictEqual(claims.iss, CLIENT_ID)
            assert.strictEqual(claims.sub, CLIENT_ID)
            assert.strictEqual(claims.aud, "https://issuer.example", "the issuer, when known, is the audience")
            assert.strictEqual(claims.iat, NOW / 1000, "iat comes from the Clock")
            assert.strictEqual(claims.exp, NOW / 1000 + 60)
            assert.match(claims.jti ?? "", /^[\w-]{43}$/)
            // The signature verifies with the public half.
            const verified = yield* Effect.promise(() =>
              jose.jwtVerify(jwt, pair.publicKey, { currentDate: new Date(NOW), audience: "https://issuer.example" })
            )
            assert.strictEqual(verified.payload.sub, CLIENT_ID)
            // No key material goes on the wire.
            for (const part of materialOf(pair)) assert.notInclude(request.body, part)
          }
          assert.notStrictEqual(first!.claims.jti, second!.claims.jti, "every assertion has its own jti")
        }))
    }
  }

  it.scoped("without an issuer the audience is the token endpoint URL; a JWK's kid and alg are its defaults", () =>
    Effect.gen(function*() {
      const pair = (yield* keys).ES256
      const server = yield* TokenServer.make(TokenServer.token())
      const oauth = yield* clientOf(server, "private_key_jwt", {
        privateKey: Redacted.make({ ...pair.jwk, kid: "from-jwk", alg: "ES256" })
      })
      yield* oauth.requestToken(Grant.clientCredentials([]))
      const { claims, header } = assertionOf(yield* server.last)
      assert.strictEqual(claims.aud, server.url("/token"))
      assert.deepStrictEqual(header, { alg: "ES256", kid: "from-jwk" })
    }))

  it.scoped("audience and lifetime options: an array audience, a 30 s life", () =>
    Effect.gen(function*() {
      const pair = (yield* keys).RS256
      yield* TestClock.setTime(NOW)
      const server = yield* TokenServer.make(TokenServer.token())
      const oauth = yield* clientOf(server, "private_key_jwt", {
        privateKey: Redacted.make(pair.pem),
        assertion: { audience: ["https://a.example", "https://b.example"], lifetime: "30 seconds" }
      }, "https://issuer.example")
      yield* oauth.requestToken(Grant.clientCredentials([]))
      const { claims, header } = assertionOf(yield* server.last)
      assert.deepStrictEqual(claims.aud, ["https://a.example", "https://b.example"])
      assert.strictEqual(claims.exp! - claims.iat!, 30)
      assert.deepStrictEqual(header, { alg: "RS256" }, "no kid when none is given")
    }))

  it.scoped("revocation and introspection authenticate with their own fresh assertions", () =>
    Effect.gen(function*() {
      const pair = (yield* keys).ES256
      const server = yield* TokenServer.make((request) =>
        request.path === "/introspect" ? TokenServer.json({ active: false }) : TokenServer.reply("", { status: 200 })
      )
      const oauth = yield* clientOf(server, "private_key_jwt", { privateKey: Redacted.make(pair.pem) }, "https://i.example")
      yield* oauth.revoke(Redacted.make("tok"), "access_token")
      yield* oauth.introspect(Redacted.make("tok"))
      const requests = yield* server.requests
      assert.deepStrictEqual(requests.map((r) => r.path), ["/revoke", "/introspect"])
      const jtis = requests.map((r) => assertionOf(r).claims.jti)
      assert.strictEqual(new Set(jtis).size, 2)
      for (const r of requests) assert.strictEqual(r.form.client_assertion_type, JWT_BEARER)
    }))

  it.scoped("the server refusing the assertion: Unauthorized invalid_client saying what to check, the echo scrubbed", () =>
    Effect.gen(function*() {
      const pair = (yield* keys).RS256
      const server = yield* TokenServer.make((request) =>
        TokenServer.oauthError("invalid_client", { error_description: `bad assertion ${request.form.client_assertion}` }, { status: 401 })
      )
      const oauth = yield* clientOf(server, "private_key_jwt", {
        privateKey: Redacted.make(pair.pem),
        assertion: { keyId: "k1" }
      }, "https://issuer.example")
      const error = failureOf(yield* Effect.exit(oauth.requestToken(Grant.clientCredentials([]))))
      assert.strictEqual(error._tag, "Unauthorized")
      assert.isFalse(error.retryable)
      const message = error.message
      assert.include(message, "private_key_jwt")
      assert.include(message, "kid \"k1\"")
      assert.include(message, "audience \"https://issuer.example\"")
      assert.include(message, "clock")
      const sent = assertionOf(yield* server.last).jwt
      assert.notInclude(errorText(error), sent, "an echoed assertion is scrubbed")
      assert.include(message, "<redacted>")
      assert.strictEqual((yield* server.requests).length, 1)
    }))
})

describe("client_secret_jwt on the wire", () => {
  it.scoped("HS256 keyed by the secret: verifiable, unique jti, the secret never sent", () =>
    Effect.gen(function*() {
      const secret = "cs-jwt-Secret-8c1f0a9e77d54b2a913e6f0d24c8b5a1"
      yield* TestClock.setTime(NOW)
      const server = yield* TokenServer.make(TokenServer.token())
      const oauth = yield* clientOf(server, "client_secret_jwt", { clientSecret: Redacted.make(secret) }, "https://i.example")
      yield* oauth.requestToken(Grant.clientCredentials([]))
      yield* oauth.requestToken(Grant.clientCredentials([]))
      const requests = yield* server.requests
      const assertions = requests.map(assertionOf)
      for (const [i, { claims, header, jwt }] of assertions.entries()) {
        assert.deepStrictEqual(header, { alg: "HS256" })
        assert.strictEqual(claims.iss, CLIENT_ID)
        assert.strictEqual(claims.sub, CLIENT_ID)
        assert.strictEqual(claims.aud, "https://i.example")
        assert.strictEqual(claims.exp! - claims.iat!, 60)
        yield* Effect.promise(() => jose.jwtVerify(jwt, new TextEncoder().encode(secret), { currentDate: new Date(NOW) }))
        assert.notInclude(requests[i]!.body, secret)
        assert.isUndefined(requests[i]!.headers.authorization)
      }
      assert.notStrictEqual(assertions[0]!.claims.jti, assertions[1]!.claims.jti)
    }))

  it.effect("needs a secret, and only an HMAC algorithm", () =>
    Effect.gen(function*() {
      const server = yield* TokenServer.make(TokenServer.token())
      const missing = failureOf(yield* Effect.exit(clientOf(server, "client_secret_jwt", {})))
      assert.include(missing.message, "client_secret_jwt needs a client secret")
      const wrongAlg = failureOf(
        yield* Effect.exit(
          clientOf(server, "client_secret_jwt", { clientSecret: Redacted.make("x"), assertion: { algorithm: "RS256" } })
        )
      )
      assert.include(wrongAlg.message, "private_key_jwt")
      assert.strictEqual((yield* server.requests).length, 0)
    }).pipe(Effect.scoped))
})

describe("keys that cannot work are refused at construction", () => {
  const pkcs1 = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
    type: "pkcs1",
    format: "pem"
  }) as string
  const short = crypto.generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({
    type: "pkcs8",
    format: "pem"
  }) as string
  const p384 = crypto.generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey.export({
    type: "pkcs8",
    format: "pem"
  }) as string

  const cases = (pairs: Awaited<ReturnType<typeof keyPair>>[]): ReadonlyArray<{
    readonly name: string
    readonly privateKey: string | ClientAuth.Jwk | undefined
    readonly algorithm?: ClientAuth.PrivateKeyAlgorithm | ClientAuth.SecretAlgorithm
    readonly expect: string
    readonly material: ReadonlyArray<string>
  }> => {
    const [rsa, ec] = pairs as [KeyPair, KeyPair]
    const { d: _d, ...publicJwk } = ec.jwk
    return [
      { name: "an RSA key for ES256", privateKey: rsa.pem, algorithm: "ES256", expect: "EC key on curve P-256", material: materialOf(rsa) },
      { name: "an EC P-256 key for RS256", privateKey: ec.pem, algorithm: "RS256", expect: "RSA key", material: materialOf(ec) },
      { name: "an EC P-384 key for ES256", privateKey: p384, algorithm: "ES256", expect: "P-256", material: [p384.split("\n")[1]!] },
      { name: "a 1024-bit RSA key", privateKey: short, algorithm: "RS256", expect: "at least 2048 bits", material: [short.split("\n")[1]!] },
      { name: "a PKCS#1 PEM", privateKey: pkcs1, expect: "convert it to PKCS#8", material: [pkcs1.split("\n")[1]!] },
      { name: "a public key PEM", privateKey: crypto.createPublicKey(rsa.pem).export({ type: "spki", format: "pem" }) as string, expect: "PRIVATE key", material: [] },
      { name: "a public JWK", privateKey: publicJwk as ClientAuth.Jwk, expect: "public key", material: [] },
      { name: "an oct JWK", privateKey: { kty: "oct", k: "c2VjcmV0LXNlY3JldC1zZWNyZXQ" }, expect: "client_secret_jwt", material: ["c2VjcmV0LXNlY3JldC1zZWNyZXQ"] },
      { name: "a damaged PEM", privateKey: rsa.pem.replace(/[A-Za-z]{8}\n/, "\n"), expect: "could not be read", material: materialOf(rsa).slice(2, 5) },
      { name: "not a key", privateKey: "hunter2-not-a-key", expect: "neither a PEM", material: ["hunter2-not-a-key"] },
      { name: "broken JWK text", privateKey: "{\"kty\":\"RSA\",\"d\":\"s3cret-d", expect: "not valid JSON", material: ["s3cret-d"] },
      { name: "an HMAC algorithm", privateKey: rsa.pem, algorithm: "HS256", expect: "client_secret_jwt", material: materialOf(rsa) },
      { name: "no key at all", privateKey: undefined, expect: "needs the client's private key", material: [] }
    ]
  }

  it.scoped("each with InvalidConfiguration saying what to give, no request, no key material in the error", () =>
    Effect.gen(function*() {
      const all = yield* keys
      const server = yield* TokenServer.make(TokenServer.token())
      for (const c of cases([all.RS256, all.ES256])) {
        const exit = yield* Effect.exit(
          clientOf(server, "private_key_jwt", {
            ...(c.privateKey === undefined ? {} : { privateKey: Redacted.make(c.privateKey) }),
            ...(c.algorithm === undefined ? {} : { assertion: { algorithm: c.algorithm } })
          })
        )
        const error = failureOf(exit) as OAuth2Error
        assert.strictEqual(error._tag, "InvalidConfiguration", c.name)
        assert.include(error.message, c.expect, c.name)
        const text = `${errorText(error)}\n${util.inspect(error, { depth: 10 })}`
        for (const part of c.material) assert.notInclude(text, part, c.name)
      }
      assert.strictEqual((yield* server.requests).length, 0)
    }))

  it.effect("an assertion lifetime outside 1 s to 10 min is refused", () =>
    Effect.gen(function*() {
      const pair = (yield* keys).ES256
      for (const lifetime of [Duration.zero, "500 millis", "11 minutes"] as const) {
        const exit = yield* Effect.exit(
          ClientAuth.privateKeyJwt({ clientId: "c", privateKey: Redacted.make(pair.pem), audience: "a", lifetime })
        )
        assert.include(failureOf(exit).message, "lifetime")
      }
    }))
})

describe("no key material in any rendering", () => {
  it.effect("a built PrivateKeyJwt and ClientSecretJwt: toString, JSON, inspect show nothing of the key", () =>
    Effect.gen(function*() {
      for (const pair of Object.values(yield* keys)) {
        const auth = yield* ClientAuth.privateKeyJwt({
          clientId: "c",
          privateKey: Redacted.make<string | ClientAuth.Jwk>(pair.jwk),
          audience: "https://i.example"
        })
        const text = [String(auth.key), JSON.stringify(auth), util.inspect(auth, { depth: 10, showHidden: true })].join("\n")
        for (const part of materialOf(pair)) assert.notInclude(text, part)
        assert.include(JSON.stringify(auth), "<redacted>")
      }
      const secret = "cs-jwt-secret-do-not-show-4b1f"
      const auth = yield* ClientAuth.clientSecretJwt({ clientId: "c", clientSecret: Redacted.make(secret), audience: "a" })
      assert.notInclude([JSON.stringify(auth), util.inspect(auth, { depth: 10 }), String(auth)].join("\n"), secret)
    }))

  const material = fc.string({ minLength: 12, maxLength: 200 }).filter((s) => s.trim().length >= 12)
  it.effect.prop(
    "any unusable PEM body, JWK private member or key text: the error never quotes it",
    {
      body: material,
      shape: fc.constantFrom("pem", "jwk", "jwk-text", "raw", "encrypted", "pkcs1"),
      algorithm: fc.constantFrom<ClientAuth.PrivateKeyAlgorithm | undefined>(undefined, "RS256", "PS256", "ES256", "EdDSA")
    },
    ({ algorithm, body, shape }) =>
      Effect.gen(function*() {
        const privateKey: string | ClientAuth.Jwk = shape === "pem"
          ? `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----`
          : shape === "encrypted"
          ? `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${body}\n-----END ENCRYPTED PRIVATE KEY-----`
          : shape === "pkcs1"
          ? `-----BEGIN RSA PRIVATE KEY-----\n${body}\n-----END RSA PRIVATE KEY-----`
          : shape === "jwk"
          ? { kty: "EC", crv: "P-256", x: "AAAA", y: "AAAA", d: body }
          : shape === "jwk-text"
          ? JSON.stringify({ kty: "RSA", n: "AQAB", e: "AQAB", d: body })
          : body
        const exit = yield* Effect.exit(
          ClientAuth.privateKeyJwt({ clientId: "c", privateKey: Redacted.make(privateKey), audience: "a", algorithm })
        )
        const error = failureOf(exit)
        assert.strictEqual(error._tag, "InvalidConfiguration")
        const text = `${errorText(error)}\n${util.inspect(error, { depth: 10 })}`
        assert.notInclude(text, body.trim())
      }),
    { fastCheck: { numRuns: 150 } }
  )
})
