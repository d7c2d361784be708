/**
 * DPoP (RFC 9449) on the wire against a loopback server: proofs on token requests and API calls verified with jose
 * against the public key they carry, `ath`, `htu` without query or fragment, the `use_dpop_nonce` retry on both the
 * token endpoint and the resource server (once, then a typed error), the token type rules, and no DPoP at all when
 * it is off. No key material in any rendering.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as fc from "effect/FastCheck"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as jose from "jose"
import * as util from "node:util"
import * as AccessTokens from "../src/AccessTokens.js"
import type * as ClientAuth from "../src/ClientAuth.js"
import * as Discovery from "../src/Discovery.js"
import * as Dpop from "../src/Dpop.js"
import * as Endpoint from "../src/Endpoint.js"
import * as Grant from "../src/Grant.js"
import * as internal from "../src/internal/dpop.js"
import * as OAuth2Client from "../src/OAuth2Client.js"
import * as OAuth2HttpClient from "../src/OAuth2HttpClient.js"
import * as TokenServer from "./utils/tokenServer.js"

const NOW = Date.UTC(2026, 0, 5, 9, 30)
const TOKEN = "at-dpop-7f3c9a"

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) return assert.fail("expected a failure, got a success")
  const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  return failure ?? assert.fail(`expected a typed failure, got ${String(exit.cause)}`)
}

/** Verifies a proof with the key in its own `jwk` header (as a server does), and that the key is public only. */
const verifyProof = (proof: string | undefined) =>
  Effect.promise(async () => {
    assert.isString(proof)
    const { payload, protectedHeader } = await jose.jwtVerify(proof!, jose.EmbeddedJWK, {
      typ: "dpop+jwt",
      currentDate: new Date(NOW)
    })
    assert.isUndefined((protectedHeader.jwk as Record<string, unknown>).d, "the jwk header carries no private member")
    return { payload, header: protectedHeader }
  })

const sha256 = (text: string) =>
  Effect.promise(async () =>
    jose.base64url.encode(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))))
  )

/**
 * A token-endpoint client (and, when asked, the AccessTokens and authorised client on top) against `server`, with the
 * Dpop service (when given) in the context of the token client.
 */
const setup = (server: TokenServer.TokenServer, dpop: Dpop.Service | undefined) =>
  Effect.gen(function*() {
    const http = yield* Layer.build(NodeHttpClient.layerUndici)
    const base = yield* HttpClient.HttpClient.pipe(Effect.provide(http))
    const endpoint = yield* Endpoint.make({
      provider: "test",
      tokenUrl: server.url("/token"),
      authMethod: "client_secret_post"
    }).pipe(Effect.orDie)
    const make = OAuth2Client.make({ endpoint, credentials: Endpoint.credentials("desk-7", "s3cret") }).pipe(
      Effect.provide(http),
      Effect.orDie
    )
    const client = yield* (dpop === undefined ? make : Effect.provideService(make, Dpop.Dpop, dpop))
    const tokens = yield* AccessTokens.make().pipe(Effect.provideService(OAuth2Client.OAuth2Client, client))
    const authorised = OAuth2HttpClient.withAccessToken(base, tokens, { dpop })
    return { client, tokens, authorised }
  })

const dpopToken = (fields: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  TokenServer.token({ access_token: TOKEN, token_type: "DPoP", ...fields }, { headers })

const nonceRefusal = (nonce: string | undefined) =>
  TokenServer.json({ error: "use_dpop_nonce", error_description: "Authorization server requires nonce in DPoP proof" }, {
    status: 400,
    headers: nonce === undefined ? {} : { "dpop-nonce": nonce }
  })

const tokenRequests = (server: TokenServer.TokenServer) =>
  Effect.map(server.requests, (all) => all.filter((r) => r.path === "/token"))

describe("Dpop keys", () => {
  it.effect("generates an ES256 key by default; the thumbprint is RFC 7638's of the public JWK", () =>
    Effect.gen(function*() {
      const dpop = yield* Dpop.make()
      assert.strictEqual(dpop.algorithm, "ES256")
      assert.deepStrictEqual(Object.keys(dpop.publicJwk).sort(), ["crv", "kty", "x", "y"])
      const expected = yield* Effect.promise(() => jose.calculateJwkThumbprint(dpop.publicJwk, "sha256"))
      assert.strictEqual(dpop.thumbprint, expected)
      // Two services, two keys.
      assert.notStrictEqual((yield* Dpop.make()).thumbprint, dpop.thumbprint)
    }))

  for (const alg of ["ES256", "ES384", "PS256", "RS256", "EdDSA"] as const) {
    it.effect(`imports a ${alg} key from PEM and from JWK; the proof verifies; nothing of the key is printed`, () =>
      Effect.gen(function*() {
        const pair = yield* Effect.promise(() => jose.generateKeyPair(alg, { extractable: true }))
        const pem = yield* Effect.promise(() => jose.exportPKCS8(pair.privateKey))
        const jwk = (yield* Effect.promise(() => jose.exportJWK(pair.privateKey))) as ClientAuth.Jwk
        const publicJwk = yield* Effect.promise(() => jose.exportJWK(pair.publicKey))
        const thumbprint = yield* Effect.promise(() => jose.calculateJwkThumbprint(publicJwk, "sha256"))
        const material = [
          ...pem.split("\n").filter((line) => line !== "" && !line.startsWith("-----")),
          ...["d", "p", "q", "dp", "dq", "qi"].flatMap((m) => (typeof jwk[m] === "string" ? [jwk[m] as string] : []))
        ]
        for (const privateKey of [pem, jwk, JSON.stringify(jwk)]) {
          const dpop = yield* Dpop.make({ privateKey: Redacted.make(privateKey), algorithm: alg })
          assert.strictEqual(dpop.algorithm, alg)
          assert.strictEqual(dpop.thumbprint, thumbprint, "the public half is derived from the private key")
          const proof = yield* dpop.proof({ method: "get", url: "https://api.example/v1/x?q=1#f" })
          const verified = yield* Effect.promise(() => jose.jwtVerify(proof, pair.publicKey, { typ: "dpop+jwt" }))
          assert.strictEqual(verified.payload.htm, "GET")
          assert.strictEqual(verified.payload.htu, "https://api.example/v1/x")
          const renderings = [util.inspect(dpop, { depth: 10, showHidden: true }), JSON.stringify(dpop), String(dpop)]
          for (const rendering of renderings) {
            for (const part of material) assert.notInclude(rendering, part)
          }
        }
      }))
  }

  it.effect("a key that cannot work is an InvalidConfiguration that says what to fix, quoting nothing of the key", () =>
    Effect.gen(function*() {
      const ec = yield* Effect.promise(() => jose.generateKeyPair("ES256", { extractable: true }))
      const publicJwk = (yield* Effect.promise(() => jose.exportJWK(ec.publicKey))) as ClientAuth.Jwk
      const privateJwk = (yield* Effect.promise(() => jose.exportJWK(ec.privateKey))) as ClientAuth.Jwk
      const cases: ReadonlyArray<readonly [Dpop.Options, RegExp]> = [
        [{ privateKey: Redacted.make<string | ClientAuth.Jwk>(publicJwk) }, /public key .*PRIVATE key/],
        [{ privateKey: Redacted.make<string | ClientAuth.Jwk>("not a key") }, /neither a PEM .* nor a JWK/],
        [{ privateKey: Redacted.make<string | ClientAuth.Jwk>(privateJwk), algorithm: "RS256" }, /cannot sign RS256: it needs an RSA key/],
        [{ algorithm: "HS256" }, /not a DPoP algorithm/],
        [{ privateKey: Redacted.make<string | ClientAuth.Jwk>({ kty: "oct", k: "c2VjcmV0" }) }, /symmetric/]
      ]
      for (const [options, expected] of cases) {
        const error = failureOf(yield* Effect.exit(Dpop.make(options)))
        assert.strictEqual(error._tag, "InvalidConfiguration")
        assert.match(error.message, expected)
        assert.notInclude(error.message, privateJwk.d as string)
        assert.notInclude(JSON.stringify(error), privateJwk.d as string)
      }
    }))

  it.effect("with a Discovery in the context, the algorithm is chosen from, and checked against, the server's list", () =>
    Effect.gen(function*() {
      const metadata = (algs: ReadonlyArray<string> | undefined) =>
        ({ issuer: "https://as.example", dpopSigningAlgValuesSupported: algs }) as unknown as Discovery.Metadata
      const withList = <A, E>(algs: ReadonlyArray<string> | undefined, effect: Effect.Effect<A, E>) =>
        Effect.provideService(effect, Discovery.Discovery, metadata(algs))
      assert.strictEqual((yield* withList(["PS256", "ES256"], Dpop.make())).algorithm, "ES256")
      assert.strictEqual((yield* withList(["EdDSA"], Dpop.make())).algorithm, "EdDSA")
      assert.strictEqual((yield* withList(undefined, Dpop.make())).algorithm, "ES256")
      const refused = failureOf(yield* Effect.exit(withList(["EdDSA"], Dpop.make({ algorithm: "ES256" }))))
      assert.match(refused.message, /accepts DPoP proofs signed with EdDSA, not ES256/)
      const none = failureOf(yield* Effect.exit(withList(["XYZ999"], Dpop.make())))
      assert.match(none.message, /none of which this library signs with/)
    }))
})

describe("DPoP proofs", () => {
  it("htu is the URL without query, fragment or user info, as the URL parser normalises it (any web URL)", () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (url) => {
        const htu = internal.htuOf(url)
        assert.isString(htu)
        const parsed = new URL(url)
        assert.strictEqual(htu, `${parsed.protocol}//${parsed.host}${parsed.pathname}`)
        assert.notInclude(htu!, "?")
        assert.notInclude(htu!, "#")
        assert.strictEqual(internal.htuOf(htu!), htu, "normalising twice changes nothing")
        // Scheme and host are case-insensitive (RFC 3986 §6.2.2.1): the same htu in any case.
        assert.strictEqual(internal.htuOf(url.replace(/^[a-z]+:\/\/[^/?#]+/i, (s) => s.toUpperCase())), htu)
      }),
      { numRuns: 300 }
    )
    assert.strictEqual(internal.htuOf("HTTPS://User:pw@API.Example:443/a/b?c=d#e"), "https://api.example/a/b")
    assert.strictEqual(internal.htuOf("http://127.0.0.1:8080"), "http://127.0.0.1:8080/")
    assert.isUndefined(internal.htuOf("/relative"))
  })

  it("parses the DPoP challenge among others; a nonce must be NQCHARs", () => {
    const header = `Bearer realm="x", DPoP error="use_dpop_nonce", error_description="Resource server requires \\"nonce\\"", algs="ES256 PS256"`
    assert.deepStrictEqual(internal.parseDpopChallenge(header), {
      error: "use_dpop_nonce",
      error_description: `Resource server requires "nonce"`,
      algs: "ES256 PS256"
    })
    assert.deepStrictEqual(internal.parseDpopChallenge(`DPoP error=invalid_dpop_proof, Bearer realm="x"`), {
      error: "invalid_dpop_proof"
    })
    assert.isUndefined(internal.parseDpopChallenge(`Bearer error="invalid_token"`))
    assert.isTrue(internal.isNonce("eyJ7S_zG.9Z-~"))
    assert.isFalse(internal.isNonce("has space"))
    assert.isFalse(internal.isNonce(`quo"te`))
    assert.isFalse(internal.isNonce(""))
  })

  it("the nonce cache keeps the latest nonce of at most 64 origins, the least recently given dropped first", () => {
    const cache = new internal.NonceCache()
    for (let i = 0; i < 100; i++) cache.remember(`https://h${i}.example/p?q`, { "dpop-nonce": `n${i}` })
    assert.strictEqual(cache.size, internal.NONCE_ORIGINS)
    assert.isUndefined(cache.get("https://h0.example/"))
    assert.strictEqual(cache.get("https://h99.example/other"), "n99")
    cache.remember("https://h99.example/", { "dpop-nonce": "bad nonce" })
    assert.strictEqual(cache.get("https://h99.example/"), "n99", "a malformed nonce is ignored")
  })
})

describe("DPoP on the token endpoint", () => {
  it.scoped("every token request carries a fresh proof (htm, htu, iat, jti, the public jwk; no ath); a DPoP token is accepted", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const server = yield* TokenServer.make(dpopToken())
      const dpop = yield* Dpop.make()
      const { client } = yield* setup(server, dpop)
      const token = yield* client.requestToken(Grant.clientCredentials(["read"]))
      assert.strictEqual(token.type, "DPoP")
      assert.strictEqual(token.authorizationHeader(), `DPoP ${TOKEN}`)
      yield* client.requestToken(Grant.refreshToken({ refreshToken: Redacted.make("rt-1") }))
      const requests = yield* tokenRequests(server)
      assert.strictEqual(requests.length, 2)
      const proofs = yield* Effect.forEach(requests, (r) => verifyProof(r.headers.dpop))
      for (const { header, payload } of proofs) {
        assert.strictEqual(header.alg, "ES256")
        assert.deepStrictEqual(header.jwk, dpop.publicJwk)
        assert.strictEqual(payload.htm, "POST")
        assert.strictEqual(payload.htu, server.url("/token"))
        assert.strictEqual(payload.iat, NOW / 1000)
        assert.isUndefined(payload.ath)
        assert.isUndefined(payload.nonce)
      }
      assert.notStrictEqual(proofs[0]!.payload.jti, proofs[1]!.payload.jti)
      assert.isUndefined(requests[0]!.form.dpop, "the proof is a header, not a form member")
    }))

  it.scoped("use_dpop_nonce: retried once with the server's nonce, which is remembered for the next request", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const server = yield* TokenServer.make([
        nonceRefusal("n-1"),
        dpopToken({}, { "dpop-nonce": "n-2" }),
        dpopToken()
      ])
      const { client } = yield* setup(server, yield* Dpop.make())
      yield* client.requestToken(Grant.clientCredentials(["read"]))
      yield* client.requestToken(Grant.clientCredentials(["read"]))
      const requests = yield* tokenRequests(server)
      assert.strictEqual(requests.length, 3, "one retry, then the remembered nonce is used right away")
      const nonces = yield* Effect.forEach(requests, (r) => Effect.map(verifyProof(r.headers.dpop), (p) => p.payload.nonce))
      assert.deepStrictEqual(nonces, [undefined, "n-1", "n-2"])
    }))

  it.scoped("a second use_dpop_nonce (or one without a nonce) is Unauthorized (use_dpop_nonce), after at most 2 requests", () =>
    Effect.gen(function*() {
      let n = 0
      const server = yield* TokenServer.make(() => nonceRefusal(`n-${n++}`))
      const { client } = yield* setup(server, yield* Dpop.make())
      const error = failureOf(yield* Effect.exit(client.requestToken(Grant.clientCredentials(["read"]))))
      assert.strictEqual(error._tag, "Unauthorized")
      if (error._tag !== "Unauthorized") return
      assert.strictEqual(error.reason, "use_dpop_nonce")
      assert.isFalse(error.retryable)
      assert.match(error.message, /refused the DPoP nonce it had just given/)
      assert.strictEqual((yield* tokenRequests(server)).length, 2)

      yield* server.setScript(() => nonceRefusal(undefined))
      const bare = failureOf(yield* Effect.exit(client.requestToken(Grant.clientCredentials(["read"]))))
      assert.match(bare.message, /without giving one \(no DPoP-Nonce header\)/)
      assert.strictEqual((yield* tokenRequests(server)).length, 3, "no retry without a nonce")
    }))

  it.scoped("invalid_dpop_proof is Unauthorized (invalid_dpop_proof) with what to check", () =>
    Effect.gen(function*() {
      const server = yield* TokenServer.make(
        TokenServer.json({ error: "invalid_dpop_proof", error_description: "invalid DPoP key binding" }, { status: 400 })
      )
      const { client } = yield* setup(server, yield* Dpop.make())
      const error = failureOf(yield* Effect.exit(client.requestToken(Grant.clientCredentials(["read"]))))
      assert.strictEqual(error._tag, "Unauthorized")
      assert.match(error.message, /invalid_dpop_proof.*invalid DPoP key binding.*dpop_signing_alg_values_supported/)
      assert.strictEqual((yield* tokenRequests(server)).length, 1)
    }))

  it.scoped("a Bearer answer to a DPoP request fails by default; onBearerToken: \"accept\" uses it as a Bearer token", () =>
    Effect.gen(function*() {
      const server = yield* TokenServer.make((request) =>
        request.path === "/token"
          ? TokenServer.token({ access_token: TOKEN, token_type: "Bearer" })
          : TokenServer.json({ ok: true })
      )
      const strict = yield* setup(server, yield* Dpop.make())
      const error = failureOf(yield* Effect.exit(strict.client.requestToken(Grant.clientCredentials(["read"]))))
      assert.strictEqual(error._tag, "InvalidConfiguration")
      assert.match(error.message, /did not bind the token to the DPoP key.*onBearerToken: "accept"/)

      const lenient = yield* setup(server, yield* Dpop.make({ onBearerToken: "accept" }))
      const response = yield* lenient.authorised.get(server.url("/api/x"))
      assert.strictEqual(response.status, 200)
      const api = (yield* server.last)
      assert.strictEqual(api.headers.authorization, `Bearer ${TOKEN}`)
      assert.isUndefined(api.headers.dpop, "no proof with a Bearer token")
    }))

  it.scoped("DPoP off: no DPoP header anywhere, and a DPoP token is refused with what to do", () =>
    Effect.gen(function*() {
      const server = yield* TokenServer.make((request) =>
        request.path === "/token" ? TokenServer.token({ access_token: TOKEN }) : TokenServer.json({ ok: true })
      )
      const { authorised, client } = yield* setup(server, undefined)
      yield* authorised.get(server.url("/api/x"))
      for (const request of yield* server.requests) assert.isUndefined(request.headers.dpop)
      assert.strictEqual((yield* server.last).headers.authorization, `Bearer ${TOKEN}`)

      yield* server.setScript(dpopToken())
      const error = failureOf(yield* Effect.exit(client.requestToken(Grant.clientCredentials(["read"]))))
      assert.strictEqual(error._tag, "MalformedResponse")
      assert.match(error.message, /token_type is DPoP.*no DPoP key.*Dpop\.layer\(\)/)
    }))
})

describe("DPoP on API calls", () => {
  /** `/token` issues a DPoP token; `/api/...` runs `api` on each call (the call's index from 0). */
  const apiServer = (api: (request: TokenServer.RecordedRequest, index: number) => TokenServer.Action) =>
    Effect.gen(function*() {
      let calls = 0
      const server = yield* TokenServer.make((request) =>
        request.path === "/token" ? dpopToken() : api(request, calls++)
      )
      return server
    })

  const nonce401 = (nonce: string | undefined) =>
    TokenServer.reply("", {
      status: 401,
      headers: {
        "www-authenticate": `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`,
        ...(nonce === undefined ? {} : { "dpop-nonce": nonce })
      }
    })

  it.scoped("Authorization: DPoP with a proof carrying ath; the resource server's nonce is retried once and kept", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const server = yield* apiServer((_request, index) => index === 0 ? nonce401("r-1") : TokenServer.json({ ok: true }))
      const dpop = yield* Dpop.make()
      const { authorised } = yield* setup(server, dpop)
      const response = yield* authorised.post(server.url("/api/orders?account=7#top"), { body: undefined })
      assert.strictEqual(response.status, 200)
      yield* authorised.get(server.url("/api/orders"))
      const all = yield* server.requests
      const api = all.filter((r) => r.path !== "/token")
      assert.strictEqual(all.length - api.length, 1, "the token is not dropped for a nonce refusal")
      assert.strictEqual(api.length, 3)
      const ath = yield* sha256(TOKEN)
      const proofs = yield* Effect.forEach(api, (r) => verifyProof(r.headers.dpop))
      for (const [i, request] of api.entries()) {
        assert.strictEqual(request.headers.authorization, `DPoP ${TOKEN}`)
        const { header, payload } = proofs[i]!
        assert.deepStrictEqual(header.jwk, dpop.publicJwk)
        assert.strictEqual(payload.ath, ath)
        assert.strictEqual(payload.htu, server.url("/api/orders"))
        assert.strictEqual(payload.htm, i < 2 ? "POST" : "GET")
      }
      assert.deepStrictEqual(proofs.map((p) => p.payload.nonce), [undefined, "r-1", "r-1"])
      assert.strictEqual(new Set(proofs.map((p) => p.payload.jti)).size, 3)
    }))

  it.scoped("a second nonce refusal is Unauthorized (use_dpop_nonce) after exactly 2 calls; invalid_dpop_proof after 1", () =>
    Effect.gen(function*() {
      const server = yield* apiServer((request, index) =>
        request.path === "/api/proof"
          ? TokenServer.reply("", {
            status: 401,
            headers: { "www-authenticate": `DPoP error="invalid_dpop_proof", error_description="bad ${TOKEN} proof"` }
          })
          : nonce401(`r-${index}`)
      )
      const { authorised } = yield* setup(server, yield* Dpop.make())
      const error = failureOf(yield* Effect.exit(authorised.get(server.url("/api/nonce"))))
      assert.strictEqual(error._tag, "Unauthorized")
      assert.match(error.message, /use_dpop_nonce.*refused the DPoP nonce it had just given/)
      const calls = (yield* server.requests).filter((r) => r.path === "/api/nonce")
      assert.strictEqual(calls.length, 2)

      const proofError = failureOf(yield* Effect.exit(authorised.get(server.url("/api/proof"))))
      assert.strictEqual(proofError._tag, "Unauthorized")
      assert.match(proofError.message, /invalid_dpop_proof/)
      assert.notInclude(proofError.message, TOKEN, "the token the server echoed is scrubbed")
      assert.strictEqual((yield* server.requests).filter((r) => r.path === "/api/proof").length, 1)
    }))

  it.scoped("a 403 with a DPoP insufficient_scope challenge is InvalidScope naming the scope needed", () =>
    Effect.gen(function*() {
      const server = yield* apiServer(() =>
        TokenServer.reply("", {
          status: 403,
          headers: { "www-authenticate": `DPoP error="insufficient_scope", scope="trade", algs="ES256"` }
        })
      )
      const { authorised } = yield* setup(server, yield* Dpop.make())
      const error = failureOf(yield* Effect.exit(authorised.get(server.url("/api/orders"))))
      assert.strictEqual(error._tag, "InvalidScope")
      if (error._tag === "InvalidScope") assert.strictEqual(error.requiredScope, "trade")
    }))

  it.scoped("the DPoP proof and token never show in an answer's or an error's request", () =>
    Effect.gen(function*() {
      const server = yield* apiServer(() => TokenServer.json({ ok: true }))
      const { authorised } = yield* setup(server, yield* Dpop.make())
      const response = yield* authorised.get(server.url("/api/x"))
      const rendered = [JSON.stringify(response), util.inspect(response, { depth: 10 }), JSON.stringify(response.request)]
      const sent = (yield* server.last).headers.dpop!
      for (const text of rendered) {
        assert.notInclude(text, TOKEN)
        assert.notInclude(text, sent)
      }
    }))
})

describe("DPoP layers", () => {
  it.scoped("Dpop.layer provided under OAuth2Client.layer and AccessTokens.layer reaches both clients (the README's shape)", () =>
    Effect.gen(function*() {
      const server = yield* TokenServer.make((request) =>
        request.path === "/token" ? dpopToken() : TokenServer.json({ ok: true })
      )
      const TokensLive = AccessTokens.layer({ scopes: ["read"] }).pipe(
        Layer.provide(OAuth2Client.layer({
          endpoint: { provider: "test", tokenUrl: server.url("/token"), authMethod: "client_secret_post" },
          credentials: Endpoint.credentials("desk-7", "s3cret")
        })),
        Layer.provideMerge(Dpop.layer()),
        Layer.provideMerge(NodeHttpClient.layerUndici)
      )
      const dpop = yield* Effect.gen(function*() {
        const api = yield* OAuth2HttpClient.make()
        assert.strictEqual((yield* api.get(server.url("/api/x"))).status, 200)
        return yield* Dpop.Dpop
      }).pipe(Effect.provide(TokensLive))
      const [tokenRequest, apiCall] = yield* server.requests
      const proofs = yield* Effect.forEach([tokenRequest!, apiCall!], (r) => verifyProof(r.headers.dpop))
      for (const proof of proofs) assert.deepStrictEqual(proof.header.jwk, dpop.publicJwk, "one key for both")
      assert.strictEqual(apiCall!.headers.authorization, `DPoP ${TOKEN}`)
    }))
})

describe("Dpop.layerConfig", () => {
  it.effect("reads the key and the algorithm from Config; the key stays Redacted", () =>
    Effect.gen(function*() {
      const pair = yield* Effect.promise(() => jose.generateKeyPair("ES384", { extractable: true }))
      const pem = yield* Effect.promise(() => jose.exportPKCS8(pair.privateKey))
      const layer = Dpop.layerConfig({
        privateKey: Config.redacted("DPOP_KEY"),
        algorithm: Config.string("DPOP_ALG")
      })
      const dpop = yield* Effect.provide(
        Dpop.Dpop,
        layer.pipe(Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([
          ["DPOP_KEY", pem],
          ["DPOP_ALG", "ES384"]
        ])))))
      )
      assert.strictEqual(dpop.algorithm, "ES384")
      const proof = yield* dpop.proof({ method: "POST", url: "https://as.example/token" })
      yield* Effect.promise(() => jose.jwtVerify(proof, pair.publicKey, { typ: "dpop+jwt" }))
    }))
})
