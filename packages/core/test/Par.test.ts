/**
 * Pushed authorization requests (RFC 9126): AuthorizationCode.pushAuthorization and login's `par` option, against a
 * loopback authorization server with a PAR endpoint, an authorization endpoint that only takes a `request_uri`, and a
 * token endpoint that checks the code against the pushed request.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Exit from "effect/Exit"
import * as fc from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as jose from "jose"
import * as http from "node:http"
import * as AuthorizationCode from "../src/AuthorizationCode.js"
import * as ClientAuth from "../src/ClientAuth.js"
import * as Discovery from "../src/Discovery.js"
import * as Endpoint from "../src/Endpoint.js"
import * as OAuth2Client from "../src/OAuth2Client.js"
import { isOAuth2Error, type OAuth2Error } from "../src/OAuth2Error.js"

const CLIENT_ID = "par-client"
const CLIENT_SECRET = "par-Secret+/=-9f8e7d6c5b4a"
const HS_SECRET = "client-secret-jwt-Secret-6f3e1d9c0b8a7f6e5d4c3b2a19081726"
const ACCESS_TOKEN = "par-access-token-value"
const REDIRECT = "http://127.0.0.1:8765/callback"

const Client = NodeHttpClient.layerWithoutAgent.pipe(Layer.provide(NodeHttpClient.makeAgentLayer({ keepAlive: false })))
const CallbackServer = NodeHttpServer.layer(() => http.createServer(), { host: "127.0.0.1", port: 0 })
const Live = Layer.merge(CallbackServer, Client)

interface ParRequest {
  readonly form: URLSearchParams
  readonly authorization: string | undefined
}

/** What the PAR endpoint answers, when a test replaces the default (store the request, 201). */
type ParAnswer = (request: ParRequest) => Effect.Effect<HttpServerResponse.HttpServerResponse>

interface ParServer {
  readonly base: string
  readonly parUrl: string
  readonly parRequests: Array<ParRequest>
  readonly authorizeRequests: Array<URLSearchParams>
  readonly tokenRequests: Array<URLSearchParams>
  readonly redirected: Array<string>
  readonly endpoint: (options?: Partial<Endpoint.Options>) => Effect.Effect<Endpoint.Endpoint>
}

const sha256Base64Url = (input: string) =>
  Effect.promise(() => globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(input))).pipe(
    Effect.map((digest) => Encoding.encodeBase64Url(new Uint8Array(digest)))
  )

/**
 * A loopback authorization server with PAR: `POST /par` stores the pushed parameters under a fresh `request_uri`
 * (or answers as `answer` says), `GET /authorize` accepts only `client_id` + `request_uri` and redirects with a code
 * and the pushed state, `POST /token` checks the code, the redirect URI and the PKCE verifier of the pushed request.
 */
const makeServer = (answer?: ParAnswer, redirectOverride?: string) =>
  Effect.gen(function*() {
    const pushedRequests = new Map<string, URLSearchParams>()
    const codes = new Map<string, URLSearchParams>()
    const parRequests: Array<ParRequest> = []
    const authorizeRequests: Array<URLSearchParams> = []
    const tokenRequests: Array<URLSearchParams> = []
    const redirected: Array<string> = []
    const app = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const url = new URL(request.url, "http://127.0.0.1")
      if (url.pathname === "/elsewhere") {
        redirected.push(request.method)
        return HttpServerResponse.unsafeJson({ request_uri: "urn:x:stolen", expires_in: 60 }, { status: 201 })
      }
      if (request.method === "POST" && url.pathname === "/par") {
        const par: ParRequest = {
          form: new URLSearchParams(yield* Effect.orDie(request.text)),
          authorization: request.headers["authorization"]
        }
        parRequests.push(par)
        if (answer !== undefined) return yield* answer(par)
        const requestUri = `urn:ietf:params:oauth:request_uri:${globalThis.crypto.randomUUID()}`
        pushedRequests.set(requestUri, par.form)
        return HttpServerResponse.unsafeJson({ request_uri: requestUri, expires_in: 60 }, { status: 201 })
      }
      if (request.method === "GET" && url.pathname === "/authorize") {
        const query = url.searchParams
        authorizeRequests.push(query)
        const pushed = pushedRequests.get(query.get("request_uri") ?? "")
        if (pushed === undefined || [...query.keys()].sort().join() !== "client_id,request_uri") {
          return HttpServerResponse.text("invalid_request_uri", { status: 400 })
        }
        pushedRequests.delete(query.get("request_uri")!)
        if (pushed.get("client_id") !== query.get("client_id")) return HttpServerResponse.text("client", { status: 400 })
        const code = `code-${globalThis.crypto.randomUUID()}`
        codes.set(code, pushed)
        const location = new URL(redirectOverride ?? pushed.get("redirect_uri")!)
        location.searchParams.set("code", code)
        location.searchParams.set("state", pushed.get("state")!)
        return HttpServerResponse.redirect(location, { status: 302 })
      }
      if (request.method === "POST" && url.pathname === "/token") {
        const form = new URLSearchParams(yield* Effect.orDie(request.text))
        tokenRequests.push(form)
        const refuse = (error: string) => HttpServerResponse.unsafeJson({ error }, { status: 400 })
        if (request.headers["authorization"] !== ClientAuth.basicHeader(CLIENT_ID, CLIENT_SECRET)) {
          return refuse("invalid_client")
        }
        const pushed = codes.get(form.get("code") ?? "")
        if (pushed === undefined) return refuse("invalid_grant")
        codes.delete(form.get("code")!)
        if (form.get("redirect_uri") !== pushed.get("redirect_uri")) return refuse("invalid_grant")
        if ((yield* sha256Base64Url(form.get("code_verifier") ?? "")) !== pushed.get("code_challenge")) {
          return refuse("invalid_grant")
        }
        return HttpServerResponse.unsafeJson({
          access_token: ACCESS_TOKEN,
          token_type: "Bearer",
          expires_in: 3600,
          scope: pushed.get("scope") ?? ""
        })
      }
      return HttpServerResponse.text("not found", { status: 404 })
    })
    const server = yield* NodeHttpServer.make(() => http.createServer(), { host: "127.0.0.1", port: 0 }).pipe(
      Effect.orDie
    )
    yield* server.serve(app)
    const base = `http://127.0.0.1:${(server.address as HttpServer.TcpAddress).port}`
    return {
      base,
      parUrl: `${base}/par`,
      parRequests,
      authorizeRequests,
      tokenRequests,
      redirected,
      endpoint: (options: Partial<Endpoint.Options> = {}) =>
        Endpoint.make({
          provider: "par-test",
          tokenUrl: `${base}/token`,
          authorizeUrl: `${base}/authorize`,
          issuer: base,
          requestTimeout: "5 seconds",
          ...options
        }).pipe(Effect.orDie)
    } satisfies ParServer
  })

const credentials = Endpoint.credentials(CLIENT_ID, CLIENT_SECRET)

/** The server's metadata, as discovery would have read it. */
const metadataOf = (server: ParServer, overrides: Partial<Discovery.Metadata> = {}): Discovery.Metadata => ({
  provider: "par-test",
  issuer: server.base,
  metadataUrl: `${server.base}/.well-known/oauth-authorization-server`,
  authorizationEndpoint: `${server.base}/authorize`,
  tokenEndpoint: `${server.base}/token`,
  revocationEndpoint: undefined,
  introspectionEndpoint: undefined,
  pushedAuthorizationRequestEndpoint: server.parUrl,
  deviceAuthorizationEndpoint: undefined,
  jwksUri: undefined,
  tokenEndpointAuthMethodsSupported: ["client_secret_basic"],
  tokenEndpointAuthSigningAlgValuesSupported: undefined,
  codeChallengeMethodsSupported: ["S256"],
  grantTypesSupported: ["authorization_code"],
  scopesSupported: undefined,
  authorizationResponseIssParameterSupported: false,
  requirePushedAuthorizationRequests: false,
  mtlsEndpointAliases: {},
  tlsClientCertificateBoundAccessTokens: false,
  dpopSigningAlgValuesSupported: undefined,
  raw: {},
  ...overrides
})

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) return assert.fail("expected a failure, got a success")
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) return assert.fail(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
  return failure.value
}

/** Everything an error shows: message, string form, JSON form. */
const errorText = (error: unknown) => [String(error), (error as Error).message, JSON.stringify(error)].join("\n")

const assertNoSecrets = (text: string, secrets: ReadonlyArray<string>) => {
  for (const secret of secrets) {
    assert.isNotEmpty(secret)
    assert.notInclude(text, secret)
    assert.notInclude(text, encodeURIComponent(secret))
  }
}

/** The browser: opens the authorization URL, follows the one redirect back to the callback listener. */
const browser = (url: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const first = yield* client.get(url)
    const location = first.headers["location"]
    if (first.status !== 302 || location === undefined) return yield* Effect.dieMessage(`authorize: ${first.status}`)
    const back = yield* client.get(location)
    yield* back.text
  }).pipe(Effect.scoped, Effect.orDie)

const push = (server: ParServer, options: Partial<AuthorizationCode.PushOptions> = {}) =>
  Effect.gen(function*() {
    return yield* AuthorizationCode.pushAuthorization({
      endpoint: yield* server.endpoint(),
      clientId: CLIENT_ID,
      scopes: ["read", "trade"],
      redirectUri: REDIRECT,
      pkce: true,
      par: { url: server.parUrl, credentials },
      ...options
    })
  })

describe("pushAuthorization", () => {
  it.scoped("pushes every parameter with Basic auth; the URL carries client_id and request_uri only", () =>
    Effect.gen(function*() {
      const server = yield* makeServer()
      const session = yield* push(server, { extraParams: { prompt: "consent" } })
      assert.strictEqual(server.parRequests.length, 1)
      const { authorization, form } = server.parRequests[0]!
      assert.strictEqual(authorization, ClientAuth.basicHeader(CLIENT_ID, CLIENT_SECRET))
      assert.deepStrictEqual([...form.keys()].sort(), [
        "client_id",
        "code_challenge",
        "code_challenge_method",
        "prompt",
        "redirect_uri",
        "response_type",
        "scope",
        "state"
      ])
      assert.strictEqual(form.get("client_id"), CLIENT_ID)
      assert.strictEqual(form.get("state"), Redacted.value(session.state))
      assert.strictEqual(form.get("code_challenge"), yield* sha256Base64Url(Redacted.value(session.codeVerifier!)))
      assert.strictEqual(form.get("scope"), "read trade")
      const url = new URL(session.url)
      assert.strictEqual(`${url.origin}${url.pathname}`, `${server.base}/authorize`)
      assert.deepStrictEqual([...url.searchParams.keys()].sort(), ["client_id", "request_uri"])
      assert.strictEqual(url.searchParams.get("request_uri"), session.pushed?.requestUri)
      assert.match(session.pushed!.requestUri, /^urn:ietf:params:oauth:request_uri:/)
      assert.strictEqual(Duration.toSeconds(session.pushed!.expiresIn), 60)
      assert.strictEqual(session.pushed!.expiresAt, 60_000, "TestClock time 0 + expires_in")
      // Printing the session shows neither the state nor the request_uri.
      const shown = [String(session), JSON.stringify(session)].join("\n")
      assertNoSecrets(shown, [Redacted.value(session.state), session.pushed!.requestUri])
      assert.include(shown, "1m")
    }).pipe(Effect.provide(Client)))

  it.scoped("client_secret_post: the secret in the body, client_id once", () =>
    Effect.gen(function*() {
      const server = yield* makeServer()
      yield* push(server, { endpoint: yield* server.endpoint({ authMethod: "client_secret_post" }) })
      const { authorization, form } = server.parRequests[0]!
      assert.isUndefined(authorization)
      assert.deepStrictEqual(form.getAll("client_id"), [CLIENT_ID])
      assert.strictEqual(form.get("client_secret"), CLIENT_SECRET)
    }).pipe(Effect.provide(Client)))

  it.scoped("none: the client id alone, no credentials needed", () =>
    Effect.gen(function*() {
      const server = yield* makeServer()
      yield* push(server, { endpoint: yield* server.endpoint({ authMethod: "none" }), par: { url: server.parUrl } })
      const { authorization, form } = server.parRequests[0]!
      assert.isUndefined(authorization)
      assert.deepStrictEqual(form.getAll("client_id"), [CLIENT_ID])
      assert.isFalse(form.has("client_secret"))
      assert.isFalse(form.has("client_assertion"))
    }).pipe(Effect.provide(Client)))

  it.scoped("private_key_jwt and client_secret_jwt: a fresh assertion for the issuer, client_id once", () =>
    Effect.gen(function*() {
      const server = yield* makeServer()
      const { privateKey, publicKey } = yield* Effect.promise(() => jose.generateKeyPair("ES256", { extractable: true }))
      const pem = yield* Effect.promise(() => jose.exportPKCS8(privateKey))
      yield* push(server, {
        endpoint: yield* server.endpoint({ authMethod: "private_key_jwt" }),
        par: { url: server.parUrl, credentials: { clientId: CLIENT_ID, privateKey: Redacted.make(pem) } }
      })
      yield* push(server, {
        endpoint: yield* server.endpoint({ authMethod: "client_secret_jwt" }),
        par: { url: server.parUrl, credentials: Endpoint.credentials(CLIENT_ID, HS_SECRET) }
      })
      const keys = [publicKey, new TextEncoder().encode(HS_SECRET)] as const
      for (const [index, key] of keys.entries()) {
        const { authorization, form } = server.parRequests[index]!
        assert.isUndefined(authorization)
        assert.deepStrictEqual(form.getAll("client_id"), [CLIENT_ID])
        assert.strictEqual(form.get("client_assertion_type"), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        const { payload } = yield* Effect.promise(() =>
          jose.jwtVerify(form.get("client_assertion")!, key, { currentDate: new Date(0), clockTolerance: 120 })
        )
        assert.strictEqual(payload.iss, CLIENT_ID)
        assert.strictEqual(payload.sub, CLIENT_ID)
        assert.strictEqual(payload.aud, server.base, "the issuer (RFC 9126 §2)")
      }
    }).pipe(Effect.provide(Client)))

  it.scoped("the PAR endpoint comes from the server's metadata when a Discovery of the same issuer is in context", () =>
    Effect.gen(function*() {
      const server = yield* makeServer()
      const session = yield* push(server, { par: { credentials } }).pipe(
        Effect.provideService(Discovery.Discovery, metadataOf(server))
      )
      assert.strictEqual(server.parRequests.length, 1)
      assert.isDefined(session.pushed)
      // Another issuer's metadata is not used.
      const error = failureOf(
        yield* Effect.exit(
          push(server, { par: { credentials } }).pipe(
            Effect.provideService(Discovery.Discovery, metadataOf(server, { issuer: "https://other.example" }))
          )
        )
      )
      assert.strictEqual(error._tag, "InvalidConfiguration")
      assert.include(error.message, "par.url")
      assert.strictEqual(server.parRequests.length, 1)
    }).pipe(Effect.provide(Client)))

  it.scoped("configuration refused before anything is sent: InvalidConfiguration saying what to give", () =>
    Effect.gen(function*() {
      const server = yield* makeServer()
      const cases: ReadonlyArray<readonly [Partial<AuthorizationCode.PushOptions>, string]> = [
        [{ par: { credentials } }, "no PAR endpoint is known"],
        [{ par: { url: server.parUrl } }, "give par.credentials"],
        [{ par: { url: server.parUrl, credentials: Endpoint.credentials("other", "x") } }, "same client"],
        [{ extraParams: { request_uri: "urn:x" } }, "request_uri"],
        [{ extraParams: { client_assertion: "x" } }, "client_assertion"],
        [{ par: { url: "ftp://127.0.0.1/par", credentials } }, "par.url"],
        [{ par: { url: "http://auth.example.com/par", credentials } }, "par.url"]
      ]
      for (const [options, expected] of cases) {
        const error = failureOf(yield* Effect.exit(push(server, options)))
        assert.strictEqual(error._tag, "InvalidConfiguration")
        assert.include(error.message, expected)
        assertNoSecrets(errorText(error), [CLIENT_SECRET])
      }
      const withMetadata = failureOf(
        yield* Effect.exit(
          push(server, { par: { credentials } }).pipe(
            Effect.provideService(
              Discovery.Discovery,
              metadataOf(server, { pushedAuthorizationRequestEndpoint: undefined })
            )
          )
        )
      )
      assert.include(withMetadata.message, "advertises no pushed_authorization_request_endpoint")
      assert.deepStrictEqual(server.parRequests, [])
    }).pipe(Effect.provide(Client)))
})

describe("pushAuthorization: the PAR endpoint's error answers", () => {
  const respond = (status: number, body: unknown, contentType = "application/json") =>
  (): Effect.Effect<HttpServerResponse.HttpServerResponse> =>
    Effect.succeed(
      HttpServerResponse.text(typeof body === "string" ? body : JSON.stringify(body), { status, contentType })
    )

  const cases: ReadonlyArray<
    readonly [string, ParAnswer, string, (error: OAuth2Error) => void]
  > = [
    [
      "400 invalid_request",
      respond(400, { error: "invalid_request", error_description: "redirect_uri not registered" }),
      "ProtocolError",
      (error) => {
        assert.include(error.message, "invalid_request")
        assert.include(error.message, "redirect_uri not registered")
        assert.isFalse(error.retryable)
      }
    ],
    [
      "401 invalid_client",
      respond(401, { error: "invalid_client" }),
      "Unauthorized",
      (error) => assert.strictEqual(error._tag === "Unauthorized" ? error.reason : "", "invalid_client")
    ],
    ["401 without a body", respond(401, ""), "Unauthorized", () => {}],
    [
      "a 503",
      respond(503, "upstream connect error", "text/plain"),
      "ProtocolError",
      (error) => {
        assert.isTrue(error.retryable)
        assert.include(error.message, "upstream connect error")
      }
    ],
    ["a 500 HTML page", respond(500, "<html>oops</html>", "text/html"), "ProtocolError", () => {}],
    [
      "a 201 that is not JSON",
      respond(201, "<html>hi</html>", "text/html"),
      "MalformedResponse",
      (error) => assert.include(error.message, "neither JSON nor form data")
    ],
    [
      "a 201 without request_uri",
      respond(201, { expires_in: 60 }),
      "MalformedResponse",
      (error) => assert.include(error.message, "no request_uri")
    ],
    [
      "a request_uri that is not a URI",
      respond(201, { request_uri: "not a uri", expires_in: 60 }),
      "MalformedResponse",
      (error) => assert.notInclude(error.message, "not a uri")
    ],
    [
      "a request_uri that is a number",
      respond(201, { request_uri: 42, expires_in: 60 }),
      "MalformedResponse",
      () => {}
    ],
    [
      "no expires_in",
      respond(201, { request_uri: "urn:ietf:params:oauth:request_uri:abc" }),
      "MalformedResponse",
      (error) => assert.include(error.message, "expires_in")
    ],
    [
      "a negative expires_in",
      respond(201, { request_uri: "urn:ietf:params:oauth:request_uri:abc", expires_in: -5 }),
      "MalformedResponse",
      (error) => assert.include(error.message, "expires_in")
    ],
    [
      "a 200 carrying an error",
      respond(200, { error: "invalid_scope", request_uri: "urn:x:y", expires_in: 60 }),
      "InvalidScope",
      () => {}
    ],
    [
      "a body over the cap",
      respond(201, { request_uri: `urn:x:${"a".repeat(70_000)}`, expires_in: 60 }),
      "MalformedResponse",
      (error) => assert.include(error.message, "limit")
    ],
    [
      "a redirect",
      () => Effect.succeed(HttpServerResponse.redirect("/elsewhere", { status: 307 })),
      "MalformedResponse",
      (error) => assert.include(error.message, "redirect")
    ]
  ]

  for (const [name, answer, tag, check] of cases) {
    it.scoped(`${name}: ${tag}, one request, nothing followed or retried`, () =>
      Effect.gen(function*() {
        const server = yield* makeServer(answer)
        const exit = yield* Effect.exit(
          push(server, { endpoint: yield* server.endpoint({ maxResponseBytes: 65_536 }) })
        )
        const error = failureOf(exit)
        assert.isTrue(isOAuth2Error(error))
        assert.strictEqual(error._tag, tag, error.message)
        assert.strictEqual(error.source, tag === "InvalidConfiguration" ? "configuration" : "par-endpoint")
        check(error)
        assert.strictEqual(server.parRequests.length, 1)
        assert.deepStrictEqual(server.redirected, [])
        assert.deepStrictEqual(server.authorizeRequests, [])
      }).pipe(Effect.provide(Client)))
  }

  it.scoped("a JWT assertion refused with invalid_client: the hint says what to check, the assertion never shows", () =>
    Effect.gen(function*() {
      const server = yield* makeServer(({ form }) =>
        Effect.succeed(
          HttpServerResponse.unsafeJson({
            error: "invalid_client",
            error_description: `bad assertion ${form.get("client_assertion")}`
          }, { status: 401 })
        )
      )
      const error = failureOf(
        yield* Effect.exit(push(server, {
          endpoint: yield* server.endpoint({ authMethod: "client_secret_jwt" }),
          par: { url: server.parUrl, credentials: Endpoint.credentials(CLIENT_ID, HS_SECRET) }
        }))
      )
      assert.strictEqual(error._tag, "Unauthorized")
      assert.include(error.message, "audience")
      assertNoSecrets(errorText(error), [server.parRequests[0]!.form.get("client_assertion")!, HS_SECRET])
    }).pipe(Effect.provide(Client)))

  it.live("a PAR endpoint that never answers: TransportError Timeout after the endpoint's request timeout", () =>
    Effect.gen(function*() {
      const server = yield* makeServer(() => Effect.never)
      const error = failureOf(
        yield* Effect.exit(push(server, { endpoint: yield* server.endpoint({ requestTimeout: "300 millis" }) }))
      )
      assert.strictEqual(error._tag, "TransportError")
      assert.strictEqual(error._tag === "TransportError" ? error.reason : "", "Timeout")
      assert.strictEqual(server.parRequests.length, 1)
    }).pipe(Effect.scoped, Effect.provide(Client)))

  it.scoped.prop(
    "whatever the server echoes (state, secret, Basic credentials), no error carries them; one request each",
    {
      status: fc.constantFrom(200, 201, 400, 401, 403, 429, 500, 502, 503),
      field: fc.constantFrom("error_description", "error", "message", "detail", "title"),
      prefix: fc.string({ maxLength: 20 }),
      echo: fc.constantFrom("state", "secret", "basic", "form"),
      contentType: fc.constantFrom("application/json", "text/plain", "text/html")
    },
    ({ contentType, echo, field, prefix, status }) =>
      Effect.gen(function*() {
        const server = yield* makeServer(({ authorization, form }) => {
          const secret = echo === "state"
            ? form.get("state")!
            : echo === "secret"
            ? CLIENT_SECRET
            : echo === "basic"
            ? authorization!.replace(/^Basic /, "")
            : encodeURIComponent(CLIENT_SECRET)
          const body = { [field]: `${prefix}${secret} tail`, ...(field === "error" ? {} : { error: "invalid_request" }) }
          return Effect.succeed(
            HttpServerResponse.text(contentType === "application/json" ? JSON.stringify(body) : `${prefix}${secret}`, {
              status,
              contentType
            })
          )
        })
        const exit = yield* Effect.exit(push(server))
        const error = failureOf(exit)
        assert.isTrue(isOAuth2Error(error))
        const state = server.parRequests[0]!.form.get("state")!
        assertNoSecrets(errorText(error), [state, CLIENT_SECRET, server.parRequests[0]!.authorization!.slice(6)])
        assert.strictEqual(server.parRequests.length, 1)
      }).pipe(Effect.provide(Client)),
    { fastCheck: { numRuns: 40 } }
  )
})

describe("login with par", () => {
  const clientFor = (endpoint: Endpoint.Endpoint) =>
    OAuth2Client.make({ endpoint, credentials }).pipe(Effect.orDie)

  it.scoped("the whole login: push, authorize with request_uri, callback, exchange with the pushed verifier", () =>
    Effect.gen(function*() {
      const server = yield* makeServer()
      const endpoint = yield* server.endpoint()
      const client = yield* clientFor(endpoint)
      const urls: Array<string> = []
      const lines: Array<string> = []
      const token = yield* AuthorizationCode.login({
        scopes: ["read"],
        pkce: true,
        par: { credentials },
        onAuthorizeUrl: (url) => Effect.zipRight(Effect.sync(() => urls.push(url)), browser(url))
      }).pipe(
        Effect.provideService(OAuth2Client.OAuth2Client, client),
        Effect.provideService(Discovery.Discovery, metadataOf(server)),
        Logger.withMinimumLogLevel(LogLevel.All),
        Effect.provide(Logger.replace(Logger.defaultLogger, Logger.make((o) => void lines.push(Logger.logfmtLogger.log(o)))))
      )
      assert.strictEqual(Redacted.value(token.value), ACCESS_TOKEN)
      assert.strictEqual(server.parRequests.length, 1)
      assert.strictEqual(server.tokenRequests.length, 1)
      assert.deepStrictEqual([...new URL(urls[0]!).searchParams.keys()].sort(), ["client_id", "request_uri"])
      const pushed = server.parRequests[0]!.form
      assert.match(pushed.get("redirect_uri")!, /^http:\/\/127\.0\.0\.1:\d+\/callback$/)
      const log = lines.join("\n")
      assert.include(log, "requestUriExpiresIn=1m")
      assertNoSecrets(log, [
        pushed.get("state")!,
        server.tokenRequests[0]!.get("code_verifier")!,
        server.tokenRequests[0]!.get("code")!,
        CLIENT_SECRET,
        new URL(urls[0]!).searchParams.get("request_uri")!
      ])
    }).pipe(Effect.provide(Live)))

  it.scoped("a server that requires PAR refuses a login without it before anything is sent or shown", () =>
    Effect.gen(function*() {
      const server = yield* makeServer()
      const client = yield* clientFor(yield* server.endpoint())
      const shown: Array<string> = []
      for (const par of [undefined, false] as const) {
        const error = failureOf(
          yield* Effect.exit(
            AuthorizationCode.login({
              par,
              onAuthorizeUrl: (url) => Effect.sync(() => void shown.push(url))
            }).pipe(
              Effect.provideService(OAuth2Client.OAuth2Client, client),
              Effect.provideService(
                Discovery.Discovery,
                metadataOf(server, { requirePushedAuthorizationRequests: true })
              )
            )
          )
        )
        assert.strictEqual(error._tag, "InvalidConfiguration")
        assert.include(error.message, "require_pushed_authorization_requests")
        assert.include(error.message, "par")
      }
      assert.deepStrictEqual(shown, [])
      assert.deepStrictEqual(server.parRequests, [])
      assert.deepStrictEqual(server.authorizeRequests, [])
    }).pipe(Effect.provide(Live)))

  it.scoped("a push that fails ends the login before the URL is shown", () =>
    Effect.gen(function*() {
      const server = yield* makeServer(() =>
        Effect.succeed(HttpServerResponse.unsafeJson({ error: "invalid_client" }, { status: 401 }))
      )
      const client = yield* clientFor(yield* server.endpoint())
      const shown: Array<string> = []
      const error = failureOf(
        yield* Effect.exit(
          AuthorizationCode.login({
            par: { url: server.parUrl, credentials },
            onAuthorizeUrl: (url) => Effect.sync(() => void shown.push(url))
          }).pipe(Effect.provideService(OAuth2Client.OAuth2Client, client))
        )
      )
      assert.strictEqual(error._tag, "Unauthorized")
      assert.deepStrictEqual(shown, [])
    }).pipe(Effect.provide(Live)))

  it.scoped("a login that times out after the request_uri expired says so", () =>
    Effect.gen(function*() {
      const server = yield* makeServer()
      const client = yield* clientFor(yield* server.endpoint())
      const shown = yield* Deferred.make<string>()
      const fiber = yield* AuthorizationCode.login({
        par: { url: server.parUrl, credentials },
        timeout: "5 minutes",
        onAuthorizeUrl: (url) => Deferred.succeed(shown, url)
      }).pipe(Effect.provideService(OAuth2Client.OAuth2Client, client), Effect.fork)
      yield* Deferred.await(shown)
      yield* TestClock.adjust("6 minutes")
      const error = failureOf(yield* Fiber.await(fiber))
      assert.strictEqual(error._tag, "AuthorizationFailed")
      assert.strictEqual(error._tag === "AuthorizationFailed" ? error.reason : "", "timeout")
      assert.include(error.message, "expired 1m after it was made")
    }).pipe(Effect.provide(Live)))
})
