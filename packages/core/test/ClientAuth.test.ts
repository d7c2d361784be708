import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as ClientAuth from "../src/ClientAuth.js"
import * as Endpoint from "../src/Endpoint.js"
import * as Grant from "../src/Grant.js"
import * as OAuth2Client from "../src/OAuth2Client.js"
import * as TokenServer from "./utils/tokenServer.js"

const CLIENT_ID = "a:b"
const SECRET = "p@ss w0rd&+%/:="
// RFC 6749 §2.3.1 / Appendix B, by hand: each part application/x-www-form-urlencoded (space -> "+", reserved
// characters percent-encoded), joined by ":", then base64.
const FORM_PAIR = "a%3Ab:p%40ss+w0rd%26%2B%25%2F%3A%3D"
const EXPECTED_FORM_BASIC = `Basic ${Buffer.from(FORM_PAIR, "utf8").toString("base64")}`
const EXPECTED_RAW_BASIC = `Basic ${Buffer.from(`${CLIENT_ID}:${SECRET}`, "utf8").toString("base64")}`

/** Decodes a Basic header the way an RFC 6749 server does: base64, split at the first ":", form-decode each part. */
const serverDecode = (header: string): [string, string] => {
  const pair = Buffer.from(header.replace(/^Basic /, ""), "base64").toString("utf8")
  const colon = pair.indexOf(":")
  const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, " "))
  return [decode(pair.slice(0, colon)), decode(pair.slice(colon + 1))]
}

const clientFor = (
  server: TokenServer.TokenServer,
  options: { readonly authMethod: ClientAuth.Method; readonly basicEncoding?: ClientAuth.BasicEncoding },
  secret: string | null = SECRET
) =>
  Endpoint.make({
    provider: "test",
    tokenUrl: server.url("/token"),
    revocationUrl: server.url("/revoke"),
    introspectionUrl: server.url("/introspect"),
    authMethod: options.authMethod,
    basicEncoding: options.basicEncoding
  }).pipe(
    Effect.flatMap((endpoint) =>
      OAuth2Client.make({ endpoint, credentials: Endpoint.credentials(CLIENT_ID, secret ?? undefined) })
    ),
    Effect.provide(FetchHttpClient.layer)
  )

describe("ClientAuth encoding", () => {
  it("formEncode is application/x-www-form-urlencoded: spaces become +, reserved characters are escaped", () => {
    assert.strictEqual(ClientAuth.formEncode(CLIENT_ID), "a%3Ab")
    assert.strictEqual(ClientAuth.formEncode(SECRET), "p%40ss+w0rd%26%2B%25%2F%3A%3D")
    assert.strictEqual(ClientAuth.formEncode("é"), "%C3%A9")
  })

  it("basicHeader with the form encoding is RFC 6749 §2.3.1's header, and round-trips through a server's decoding", () => {
    const header = ClientAuth.basicHeader(CLIENT_ID, SECRET, "form")
    assert.strictEqual(header, EXPECTED_FORM_BASIC)
    assert.deepStrictEqual(serverDecode(header), [CLIENT_ID, SECRET])
    assert.strictEqual(ClientAuth.basicHeader(CLIENT_ID, SECRET), EXPECTED_FORM_BASIC, "form is the default")
  })

  it("basicHeader with the raw encoding is base64 of the raw id:secret", () => {
    assert.strictEqual(ClientAuth.basicHeader(CLIENT_ID, SECRET, "raw"), EXPECTED_RAW_BASIC)
    assert.notStrictEqual(EXPECTED_RAW_BASIC, EXPECTED_FORM_BASIC)
  })

  it("the two encodings agree for ids and secrets made only of [A-Za-z0-9._~-], as documented", () => {
    const id = "Client.id_01-~"
    const secret = "s3cr3t~._-ABCxyz"
    assert.strictEqual(ClientAuth.basicHeader(id, secret, "form"), ClientAuth.basicHeader(id, secret, "raw"))
    assert.strictEqual(
      ClientAuth.basicHeader(id, secret, "raw"),
      `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`
    )
  })

  it("toRequestParts applies exactly one method", () => {
    const basic = ClientAuth.toRequestParts(ClientAuth.basic(CLIENT_ID, Redacted.make(SECRET)))
    assert.deepStrictEqual(basic, { headers: { authorization: EXPECTED_FORM_BASIC }, params: [] })
    const post = ClientAuth.toRequestParts(ClientAuth.post(CLIENT_ID, Redacted.make(SECRET)))
    assert.deepStrictEqual(post, { headers: {}, params: [["client_id", CLIENT_ID], ["client_secret", SECRET]] })
    const none = ClientAuth.toRequestParts(ClientAuth.none(CLIENT_ID))
    assert.deepStrictEqual(none, { headers: {}, params: [["client_id", CLIENT_ID]] })
  })

  it("fromMethod and method agree", () => {
    for (const m of ["client_secret_basic", "client_secret_post", "none"] as const) {
      const auth = ClientAuth.fromMethod({ method: m, clientId: CLIENT_ID, clientSecret: Redacted.make(SECRET) })
      assert.strictEqual(ClientAuth.method(auth), m)
    }
    const raw = ClientAuth.fromMethod({
      method: "client_secret_basic",
      clientId: CLIENT_ID,
      clientSecret: Redacted.make(SECRET),
      basicEncoding: "raw"
    })
    assert.deepStrictEqual(ClientAuth.toRequestParts(raw).headers, { authorization: EXPECTED_RAW_BASIC })
  })
})

describe("ClientAuth on the wire", () => {
  it.scoped("client_secret_basic (form): the RFC 6749 Basic header and no credentials in the body", () =>
    Effect.gen(function*() {
      const server = yield* TokenServer.make()
      const client = yield* clientFor(server, { authMethod: "client_secret_basic" })
      yield* client.requestToken(Grant.clientCredentials(["read"]))
      const request = yield* server.last
      assert.strictEqual(request.headers.authorization, EXPECTED_FORM_BASIC)
      assert.deepStrictEqual(serverDecode(request.headers.authorization!), [CLIENT_ID, SECRET])
      assert.isUndefined(request.form.client_id)
      assert.isUndefined(request.form.client_secret)
      assert.notInclude(request.body, "client_secret")
    }))

  it.scoped("client_secret_basic (raw): base64 of the raw pair", () =>
    Effect.gen(function*() {
      const server = yield* TokenServer.make()
      const client = yield* clientFor(server, { authMethod: "client_secret_basic", basicEncoding: "raw" })
      yield* client.requestToken(Grant.clientCredentials())
      const request = yield* server.last
      assert.strictEqual(request.headers.authorization, EXPECTED_RAW_BASIC)
      assert.isUndefined(request.form.client_secret)
    }))

  it.scoped("client_secret_post: client_id and client_secret in the body, no Authorization header", () =>
    Effect.gen(function*() {
      const server = yield* TokenServer.make()
      const client = yield* clientFor(server, { authMethod: "client_secret_post" })
      yield* client.requestToken(Grant.clientCredentials())
      const request = yield* server.last
      assert.isUndefined(request.headers.authorization)
      assert.strictEqual(request.form.client_id, CLIENT_ID)
      assert.strictEqual(request.form.client_secret, SECRET)
      assert.strictEqual(request.formPairs.filter(([k]) => k === "client_secret").length, 1)
    }))

  it.scoped("none: only client_id, no secret anywhere", () =>
    Effect.gen(function*() {
      const server = yield* TokenServer.make()
      const client = yield* clientFor(server, { authMethod: "none" }, null)
      yield* client.requestToken(Grant.clientCredentials())
      const request = yield* server.last
      assert.isUndefined(request.headers.authorization)
      assert.strictEqual(request.form.client_id, CLIENT_ID)
      assert.isUndefined(request.form.client_secret)
    }))

  it.scoped("a secret method without a secret is an InvalidConfiguration, before any request", () =>
    Effect.gen(function*() {
      const server = yield* TokenServer.make()
      const error = yield* Effect.flip(clientFor(server, { authMethod: "client_secret_basic" }, null))
      assert.strictEqual(error._tag, "InvalidConfiguration")
      assert.include(error.message, "client secret")
      assert.strictEqual(yield* server.count, 0)
    }))

  for (const authMethod of ["client_secret_basic", "client_secret_post"] as const) {
    it.scoped(`${authMethod}: revocation and introspection use the same client authentication, once`, () =>
      Effect.gen(function*() {
        const server = yield* TokenServer.make((request) =>
          request.path === "/introspect" ? TokenServer.json({ active: false }) : TokenServer.reply("")
        )
        const client = yield* clientFor(server, { authMethod })
        yield* client.revoke(Redacted.make("tok"), "access_token")
        yield* client.introspect(Redacted.make("tok"))
        const requests = yield* server.requests
        assert.deepStrictEqual(requests.map((r) => r.path), ["/revoke", "/introspect"])
        for (const request of requests) {
          if (authMethod === "client_secret_basic") {
            assert.strictEqual(request.headers.authorization, EXPECTED_FORM_BASIC)
            assert.isUndefined(request.form.client_secret)
            assert.isUndefined(request.form.client_id)
          } else {
            assert.isUndefined(request.headers.authorization)
            assert.strictEqual(request.form.client_id, CLIENT_ID)
            assert.strictEqual(request.form.client_secret, SECRET)
          }
        }
      }))
  }
})
