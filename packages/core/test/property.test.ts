/**
 * Property tests (fast-check through @effect/vitest):
 *
 * - the token-response decoder, and the whole token request over a real loopback connection, fed arbitrary statuses,
 *   content types and bodies (JSON, form, garbage, binary, huge, broken wire): the outcome is always a token or one of
 *   our typed errors, never a defect;
 * - client authentication: a Basic header decoded the way a server does gives back the id and secret, for arbitrary
 *   Unicode; body credentials survive the form encoding;
 * - scope lists survive the provider's delimiter: token request, token response and authorize URL.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as UrlParams from "@effect/platform/UrlParams"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Exit from "effect/Exit"
import * as fc from "effect/FastCheck"
import * as Either from "effect/Either"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as http from "node:http"
import type * as net from "node:net"
import { AccessToken } from "../src/AccessToken.js"
import * as AuthorizationCode from "../src/AuthorizationCode.js"
import * as ClientAuth from "../src/ClientAuth.js"
import * as Endpoint from "../src/Endpoint.js"
import * as Grant from "../src/Grant.js"
import * as OAuth2Client from "../src/OAuth2Client.js"
import * as OAuth2Error from "../src/OAuth2Error.js"

// -----------------------------------------------------------------------------
// outcome checks
// -----------------------------------------------------------------------------

const encodeError = Schema.encodeEither(OAuth2Error.OAuth2Error)

/**
 * Checks that an exit is a token or typed failures only (no defect, no interruption), and that every error can be
 * shown and serialized. Returns the token or the first error.
 */
const checkOutcome = (exit: Exit.Exit<AccessToken, unknown>): AccessToken | OAuth2Error.OAuth2Error => {
  if (Exit.isSuccess(exit)) {
    assert.instanceOf(exit.value, AccessToken)
    return exit.value
  }
  const cause = exit.cause
  assert.strictEqual(Cause.defects(cause).length, 0, `a defect: ${Cause.pretty(cause)}`)
  assert.isFalse(Cause.isInterrupted(cause), `an interruption: ${Cause.pretty(cause)}`)
  const failures = [...Cause.failures(cause)]
  assert.isAtLeast(failures.length, 1, Cause.pretty(cause))
  for (const error of failures) {
    assert.isTrue(OAuth2Error.isOAuth2Error(error), `an untyped failure: ${String(error)}`)
    const typed = error as OAuth2Error.OAuth2Error
    assert.isString(typed.message)
    assert.isString(String(typed))
    assert.isString(JSON.stringify(typed))
    assert.isTrue(Either.isRight(encodeError(typed)), `the error does not encode: ${typed._tag}`)
  }
  return failures[0] as OAuth2Error.OAuth2Error
}

/** Runs a decode, turning a synchronous throw into a defect (which {@link checkOutcome} then refuses). */
const guarded = <A, E>(f: () => Effect.Effect<A, E>) => Effect.suspend(f)

// -----------------------------------------------------------------------------
// arbitraries
// -----------------------------------------------------------------------------

const ISSUED_AT = 1_750_000_000_000

const endpointOptions: ReadonlyArray<Omit<Endpoint.Options, "tokenUrl">> = [
  { provider: "strict", maxLifetime: "1 day" },
  { provider: "lenient", defaultTokenType: "Bearer", scopeDelimiter: ",", defaultLifetime: "1 hour" },
  { provider: "dpop", acceptedTokenTypes: ["Bearer", "DPoP"], maxLifetime: "7 days" }
]
const endpoints: ReadonlyArray<Endpoint.Endpoint> = endpointOptions.map((options) =>
  Effect.runSync(Endpoint.make({ tokenUrl: "https://auth.example.com/token", ...options }))
)

const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.object({ maxDepth: 1, maxKeys: 3 }),
  fc.bigInt()
)

const tokenValue = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "\t\n") },
  { weight: 2, arbitrary: junk }
)
const tokenType = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("Bearer", "bearer", "BEARER", "bEaReR", "DPoP", "dpop", "MAC", "N_A", "") },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: junk }
)
const expiresIn = fc.oneof(
  fc.integer({ min: -100, max: 10_000_000 }),
  fc.double(),
  fc.constantFrom(Infinity, -Infinity, Number.NaN, 1e308, -0, 0.5, Number.MAX_SAFE_INTEGER),
  fc.integer({ min: -100, max: 10_000_000 }).map(String),
  fc.constantFrom(" 3600 ", "3600.5", "1e3", "0x10", "-5", "∞", "", "3600s", "99999999999999999999999"),
  junk
)
const scopeToken = fc.string({ unit: "binary", minLength: 1, maxLength: 12 })
const scopeString = fc.oneof(
  fc.array(scopeToken, { maxLength: 4 }).map((s) => s.join(" ")),
  fc.array(scopeToken, { maxLength: 4 }).map((s) => s.join(",")),
  fc.string({ maxLength: 30 })
)

/** A token-response-shaped object: every member may be missing, right, wrong-typed or absurd. */
const tokenish: fc.Arbitrary<Record<string, unknown>> = fc.tuple(
  fc.record(
    {
      access_token: tokenValue,
      token_type: tokenType,
      expires_in: expiresIn,
      scope: fc.oneof(scopeString, junk),
      refresh_token: fc.oneof(fc.string({ maxLength: 20 }), junk),
      error: fc.oneof(fc.constantFrom("invalid_scope", "invalid_client", "server_error", ""), junk),
      id_token: fc.string({ maxLength: 20 }),
      client_secret: fc.string({ maxLength: 20 })
    },
    { requiredKeys: [] }
  ),
  fc.dictionary(fc.string({ maxLength: 10 }), fc.anything({ maxDepth: 2 }), { maxKeys: 3 })
).map(([members, extra]) => ({ ...extra, ...members }))

const bodyArbitrary: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  { weight: 5, arbitrary: tokenish },
  { weight: 1, arbitrary: fc.dictionary(fc.string(), fc.anything(), { maxKeys: 6 }) },
  { weight: 1, arbitrary: fc.object() },
  {
    weight: 1,
    // Own "__proto__" and "constructor" members, as JSON.parse makes them.
    arbitrary: fc.constantFrom(
      "{\"__proto__\":{\"access_token\":\"inherited\"},\"token_type\":\"Bearer\"}",
      "{\"access_token\":\"t\",\"token_type\":\"Bearer\",\"__proto__\":{\"polluted\":true}}",
      "{\"access_token\":\"t\",\"token_type\":\"Bearer\",\"constructor\":{\"prototype\":{\"x\":1}}}",
      "{\"access_token\":\"t\",\"token_type\":\"Bearer\",\"toString\":\"not a function\",\"hasOwnProperty\":1}"
    ).map((json) => JSON.parse(json) as Record<string, unknown>)
  }
)

const grantArbitrary: fc.Arbitrary<Grant.Grant> = fc.oneof(
  fc.array(fc.constantFrom("read", "trade", "TRADER_READ"), { maxLength: 3 }).map((s) => Grant.clientCredentials(s)),
  fc.record({
    refreshToken: fc.string({ minLength: 1, maxLength: 10 }).map(Redacted.make),
    grantedScopes: fc.array(fc.constantFrom("read", "trade"), { maxLength: 2 })
  }).map((options) => Grant.refreshToken(options)),
  fc.constant(Grant.authorizationCode({ code: Redacted.make("code"), scopes: ["read"] }))
)

// -----------------------------------------------------------------------------
// the decoder
// -----------------------------------------------------------------------------

describe("decodeTokenResponse: arbitrary bodies", () => {
  it.prop(
    "always a token or a MalformedResponse; a token satisfies every invariant",
    {
      endpoint: fc.constantFrom(...endpoints),
      grant: grantArbitrary,
      body: bodyArbitrary,
      status: fc.integer({ min: 100, max: 599 }),
      contentType: fc.option(fc.string({ maxLength: 40 }), { nil: undefined })
    },
    ({ body, contentType, endpoint, grant, status }) => {
        const exit = Effect.runSyncExit(guarded(() =>
          OAuth2Client.decodeTokenResponse({ endpoint, grant, body, status, contentType, issuedAt: ISSUED_AT })
        ))
        const outcome = checkOutcome(exit)
        if (!(outcome instanceof AccessToken)) {
          assert.strictEqual(outcome._tag, "MalformedResponse")
          return
        }
        const token = outcome
        const value = Redacted.value(token.value)
        assert.isTrue(typeof body.access_token === "string" && value === body.access_token && value.trim() !== "")
        assert.include(endpoint.acceptedTokenTypes, token.type)
        assert.strictEqual(token.issuedAt, ISSUED_AT)
        assert.isTrue(Number.isFinite(token.expiresAt))
        const lifetime = token.expiresAt - token.issuedAt
        assert.isTrue(lifetime >= 0 && lifetime <= Duration.toMillis(endpoint.maxLifetime), `lifetime ${lifetime}`)
        for (const scope of token.scopes) assert.isTrue(scope !== "" && !/\s/.test(scope), `scope ${JSON.stringify(scope)}`)
        const refresh = body.refresh_token
        if (typeof refresh === "string" && refresh !== "") {
          assert.strictEqual(Redacted.value(token.refreshToken!), refresh)
        } else if (grant._tag === "RefreshToken") {
          assert.strictEqual(Redacted.value(token.refreshToken!), Redacted.value(grant.refreshToken))
        } else {
          assert.isUndefined(token.refreshToken)
        }
        // Members whose name suggests a secret are never kept in clear.
        for (const [key, member] of Object.entries(token.extra)) {
          if (/token|secret|code|password|verifier|state/i.test(key) && typeof member === "string") {
            assert.fail(`extra member ${key} is kept in clear`)
          }
        }
        // A token survives the store encoding.
        assert.isTrue(Either.isRight(Schema.decodeUnknownEither(AccessToken)(Schema.encodeSync(AccessToken)(token))))
      },
    { fastCheck: { numRuns: 500 } }
  )
})

// -----------------------------------------------------------------------------
// the whole token request, over a real connection
// -----------------------------------------------------------------------------

type Wire =
  | {
    readonly _tag: "Reply"
    readonly status: number
    readonly contentType: string | undefined
    readonly body: Uint8Array
    readonly chunked: boolean
    readonly retryAfter: string | undefined
  }
  | { readonly _tag: "Truncated" }
  | { readonly _tag: "NotHttp" }
  | { readonly _tag: "Reset" }

const MAX_BYTES = 4096
const NO_BODY_STATUSES = new Set([204, 205, 304])

let next: Wire = { _tag: "Reset" }
let server: http.Server
let port = 0

beforeAll(() =>
  new Promise<void>((resolve) => {
    server = http.createServer((req, res) => {
      req.resume()
      req.on("end", () => {
        const wire = next
        switch (wire._tag) {
          case "Reset":
            req.socket.destroy()
            return
          case "NotHttp":
            req.socket.end("SSH-2.0-OpenSSH_9.6\r\n\r\n")
            return
          case "Truncated":
            res.writeHead(200, { "content-type": "application/json", "content-length": "200" })
            res.write("{\"access_token\":\"abc")
            setTimeout(() => req.socket.destroy(), 5)
            return
          case "Reply": {
            const headers: Record<string, string> = {}
            if (wire.contentType !== undefined) headers["content-type"] = wire.contentType
            if (wire.retryAfter !== undefined) headers["retry-after"] = wire.retryAfter
            if (!wire.chunked) headers["content-length"] = String(wire.body.length)
            res.writeHead(wire.status, headers)
            if (wire.chunked && wire.body.length > 1) {
              const half = Math.floor(wire.body.length / 2)
              res.write(wire.body.subarray(0, half))
              res.end(wire.body.subarray(half))
            } else {
              res.end(wire.body)
            }
          }
        }
      })
    })
    server.listen(0, "127.0.0.1", () => {
      port = (server.address() as net.AddressInfo).port
      resolve()
    })
  })
)
afterAll(() =>
  new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })
)

const utf8 = (s: string) => new TextEncoder().encode(s)

const formOf = (body: Record<string, unknown>) =>
  new URLSearchParams(
    Object.entries(body).filter(([, v]) => typeof v === "string" || typeof v === "number").map(([k, v]) => [k, String(v)])
  ).toString()

const jsonOf = (body: Record<string, unknown>) => JSON.stringify(body, (_k, v) => (typeof v === "bigint" ? String(v) : v))

const payload: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: tokenish.map((b) => utf8(jsonOf(b))) },
  { weight: 2, arbitrary: tokenish.map((b) => utf8(formOf(b))) },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => utf8(JSON.stringify(v))) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }).map(utf8) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constantFrom("", "{", "{\"access_token\":", "<html><body>Bad gateway</body></html>", "null").map(utf8) },
  {
    weight: 1,
    // Over the limit: a valid token response padded past it, or plain filler.
    arbitrary: fc.tuple(fc.integer({ min: MAX_BYTES + 1, max: 4 * MAX_BYTES }), fc.boolean()).map(([size, valid]) =>
      utf8(
        valid
          ? JSON.stringify({ access_token: "t", token_type: "Bearer", padding: "x".repeat(size) })
          : "x".repeat(size)
      )
    )
  }
)

const contentTypes = fc.oneof(
  fc.constantFrom(
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "application/problem+json",
    "application/x-www-form-urlencoded",
    "text/plain",
    "text/plain; charset=utf-8",
    "text/html",
    "application/octet-stream",
    ""
  ),
  fc.string({ maxLength: 30 }).filter((s) => /^[\t\x20-\x7e]*$/.test(s)),
  fc.constant(undefined)
)

const wireArbitrary: fc.Arbitrary<Wire> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      _tag: fc.constant("Reply" as const),
      status: fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(200, 201, 400, 401, 403, 429, 500, 502, 503) },
        { weight: 1, arbitrary: fc.integer({ min: 200, max: 599 }) }
      ),
      contentType: contentTypes,
      body: payload,
      chunked: fc.boolean(),
      retryAfter: fc.option(fc.oneof(fc.nat().map(String), fc.date().map((d) => d.toUTCString()), fc.string({ maxLength: 10 }).filter((s) => /^[\x20-\x7e]*$/.test(s))), { nil: undefined })
    })
  },
  { weight: 1, arbitrary: fc.constantFrom<Wire>({ _tag: "Truncated" }, { _tag: "NotHttp" }, { _tag: "Reset" }) }
)

describe("requestToken: arbitrary answers over a real connection", () => {
  it.live.prop(
    "always a token or a typed error; a token only from a 2xx without `error`; a body over the limit is MalformedResponse",
    { wire: wireArbitrary, grant: grantArbitrary, endpointIndex: fc.nat({ max: endpoints.length - 1 }) },
    ({ endpointIndex, grant, wire }) =>
      Effect.gen(function*() {
        next = wire
        const base = endpoints[endpointIndex]!
        const endpoint: Endpoint.Endpoint = {
          ...base,
          tokenUrl: `http://127.0.0.1:${port}/token`,
          maxResponseBytes: MAX_BYTES,
          requestTimeout: Duration.seconds(5)
        }
        const client = yield* OAuth2Client.make({ endpoint, credentials: Endpoint.credentials("id", "secret") })
        const outcome = checkOutcome(yield* Effect.exit(client.requestToken(grant)))
        if (wire._tag !== "Reply") {
          assert.notInstanceOf(outcome, AccessToken)
          if (!(outcome instanceof AccessToken)) assert.strictEqual(outcome._tag, "TransportError")
          return
        }
        if (outcome instanceof AccessToken) {
          assert.isTrue(wire.status >= 200 && wire.status < 300, `a token from HTTP ${wire.status}`)
          assert.isAtMost(wire.body.length, MAX_BYTES)
          return
        }
        assert.notStrictEqual(outcome._tag === "TransportError" ? outcome.reason : undefined, "Timeout")
        // A 421 (Misdirected Request) is resent by fetch's transport itself on a new connection (RFC 9110 §15.5.20);
        // a POST body cannot be resent, so undici ends it as a network failure (a typed TransportError, checked above)
        // before our body limit is ever reached.
        if (wire.body.length > MAX_BYTES && !NO_BODY_STATUSES.has(wire.status) && wire.status !== 421) {
          assert.strictEqual(outcome._tag, "MalformedResponse")
          assert.include(outcome._tag === "MalformedResponse" ? outcome.reason : "", "larger than")
        }
      }).pipe(Effect.provide(FetchHttpClient.layer), Logger.withMinimumLogLevel(LogLevel.None)),
    { fastCheck: { numRuns: 150 } }
  )

  it.live(
    "a text/plain body of form-like pairs with inner whitespace is parsed in linear time (no regex backtracking)",
    () =>
      Effect.gen(function*() {
        const endpoint: Endpoint.Endpoint = { ...endpoints[0]!, tokenUrl: `http://127.0.0.1:${port}/token` }
        const client = yield* OAuth2Client.make({ endpoint, credentials: Endpoint.credentials("id", "secret") })
        const reply = (body: string): Wire => ({
          _tag: "Reply",
          status: 502,
          contentType: "text/plain",
          body: utf8(body),
          chunked: false,
          retryAfter: undefined
        })
        next = reply("warm=up")
        yield* Effect.exit(client.requestToken(Grant.clientCredentials()))
        // With a backtracking pattern each further "&a=" doubled the parse time (24 of them blocked the event loop
        // for a second): 2,000 of them would never finish, and the test would time out instead of passing.
        next = reply(`a=${"&a=".repeat(2_000)} !`)
        const error = checkOutcome(yield* Effect.exit(client.requestToken(Grant.clientCredentials())))
        assert.notInstanceOf(error, AccessToken)
      }).pipe(Effect.provide(FetchHttpClient.layer), Logger.withMinimumLogLevel(LogLevel.None))
  )
})

// -----------------------------------------------------------------------------
// client authentication
// -----------------------------------------------------------------------------

/** What a server does with `Authorization: Basic …` (RFC 6749 §2.3.1): base64, split at the first ':', form-decode. */
const serverDecodeBasic = (header: string, encoding: ClientAuth.BasicEncoding) => {
  assert.match(header, /^Basic [A-Za-z0-9+/]*={0,2}$/)
  const decoded = Encoding.decodeBase64String(header.slice("Basic ".length))
  assert.isTrue(Either.isRight(decoded))
  const pair = Either.getOrThrow(decoded)
  const colon = pair.indexOf(":")
  assert.isAtLeast(colon, 0)
  const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, "%20"))
  const id = pair.slice(0, colon)
  const secret = pair.slice(colon + 1)
  return encoding === "form" ? { id: formDecode(id), secret: formDecode(secret) } : { id, secret }
}

const unicode = fc.string({ unit: "binary", maxLength: 40 })
const unreserved = fc.stringMatching(/^[A-Za-z0-9._~-]{0,30}$/)

describe("client authentication encoding", () => {
  it.prop("form Basic: any Unicode id and secret come back exactly", [unicode, unicode], ([id, secret]) => {
    const { headers, params } = ClientAuth.toRequestParts(ClientAuth.basic(id, Redacted.make(secret), "form"))
    assert.deepStrictEqual(params, [])
    assert.deepStrictEqual(serverDecodeBasic(headers.authorization!, "form"), { id, secret })
  }, { fastCheck: { numRuns: 300 } })

  it.prop(
    "raw Basic: any id without ':' and any secret come back exactly",
    [unicode.filter((s) => !s.includes(":")), unicode],
    ([id, secret]) => {
      const header = ClientAuth.basicHeader(id, secret, "raw")
      assert.deepStrictEqual(serverDecodeBasic(header, "raw"), { id, secret })
    },
    { fastCheck: { numRuns: 300 } }
  )

  it.prop("form and raw Basic agree for ids and secrets of [A-Za-z0-9._~-]", [unreserved, unreserved], ([id, secret]) => {
    assert.strictEqual(ClientAuth.basicHeader(id, secret, "form"), ClientAuth.basicHeader(id, secret, "raw"))
  }, { fastCheck: { numRuns: 200 } })

  it.prop("client_secret_post: the form body carries the id and secret exactly", [unicode, unicode], ([id, secret]) => {
    const { headers, params } = ClientAuth.toRequestParts(ClientAuth.post(id, Redacted.make(secret)))
    assert.deepStrictEqual(headers, {})
    const body = UrlParams.toString(UrlParams.fromInput([["grant_type", "client_credentials"], ...params]))
    const parsed = new URLSearchParams(body)
    assert.strictEqual(parsed.get("client_id"), id)
    assert.strictEqual(parsed.get("client_secret"), secret)
    assert.deepStrictEqual(parsed.getAll("client_secret"), [secret])
  }, { fastCheck: { numRuns: 300 } })
})

// -----------------------------------------------------------------------------
// scopes and delimiters
// -----------------------------------------------------------------------------

const delimiterAndScopes = fc.constantFrom(..." ,;+|-]\\^[.:/&=%".split("")).chain((delimiter) =>
  fc.tuple(
    fc.constant(delimiter),
    fc.array(
      fc.string({ unit: "binary", minLength: 1, maxLength: 16 }).filter((s) => !s.includes(delimiter) && !/\s/.test(s)),
      { minLength: 1, maxLength: 6 }
    )
  )
)

describe("scope lists and delimiters", () => {
  it.prop(
    "token request and token response: scopes joined by the delimiter split back to the same list",
    [delimiterAndScopes],
    ([[delimiter, scopes]]) =>
      Effect.runSync(Effect.gen(function*() {
        const endpoint = yield* Endpoint.make({ provider: "p", tokenUrl: "https://a.example/token", scopeDelimiter: delimiter })
        const params = Grant.toParams(Grant.clientCredentials(scopes), delimiter)
        // Across the wire: form-encoded by the client, form-decoded by the server.
        const wire = new URLSearchParams(UrlParams.toString(UrlParams.fromInput(params)))
        const sent = wire.get("scope")!
        assert.deepStrictEqual(sent.split(delimiter), scopes)
        // The server grants what was asked and echoes it in the response's scope.
        const token = yield* OAuth2Client.decodeTokenResponse({
          endpoint,
          grant: Grant.clientCredentials(scopes),
          body: { access_token: "t", token_type: "Bearer", scope: sent },
          status: 200,
          contentType: "application/json",
          issuedAt: ISSUED_AT
        })
        assert.deepStrictEqual(token.scopes, scopes)
      })),
    { fastCheck: { numRuns: 300 } }
  )

  it.prop(
    "authorize URL: scopes joined by the authorize delimiter split back to the same list",
    [delimiterAndScopes],
    ([[delimiter, scopes]]) =>
      Effect.runSync(Effect.gen(function*() {
        const endpoint = yield* Endpoint.make({
          provider: "p",
          tokenUrl: "https://a.example/token",
          authorizeUrl: "https://a.example/authorize?audience=x",
          authorizeScopeDelimiter: delimiter
        })
        const session = yield* AuthorizationCode.authorize({ endpoint, clientId: "c", scopes })
        const query = new URL(session.url).searchParams
        assert.deepStrictEqual(query.get("scope")!.split(delimiter), scopes)
        assert.strictEqual(query.get("audience"), "x")
        assert.deepStrictEqual(session.scopes, scopes)
      })),
    { fastCheck: { numRuns: 300 } }
  )
})
