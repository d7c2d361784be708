/**
 * `login oauth2 --issuer <url>`: the authorization-code login of the discovery mode, with PKCE, pushed (PAR, RFC
 * 9126) whenever the server has a PAR endpoint, against a loopback authorization server that serves RFC 8414
 * metadata, a PAR endpoint, an authorization endpoint that redirects at once, and a token endpoint that checks the
 * code against the request (pushed or not).
 */
import * as FileTokenStore from "@effect-oauth2/core/FileTokenStore"
import * as TokenCipher from "@effect-oauth2/core/TokenCipher"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { createHash, randomUUID } from "node:crypto"
import * as http from "node:http"
import type * as net from "node:net"
import * as path from "node:path"
import { assertNoSecrets, cli, storeKey, tempDir } from "./utils.js"

const clientId = "desk-app"
const clientSecret = "desk-app-Secret-5e4d3c2b1a"
const basic = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString("base64")}`

interface Server {
  readonly issuer: string
  readonly par: Array<URLSearchParams>
  readonly authorize: Array<URLSearchParams>
  readonly token: Array<URLSearchParams>
  readonly issued: Array<string>
}

/** The server; `par` says whether it has a PAR endpoint, `required` whether it requires it. */
const makeServer = (options: { readonly par: boolean; readonly required?: boolean }) =>
  Effect.gen(function*() {
    const pushed = new Map<string, URLSearchParams>()
    const codes = new Map<string, URLSearchParams>()
    const seen: Server = { issuer: "", par: [], authorize: [], token: [], issued: [] }
    let issuer = ""
    const json = (res: http.ServerResponse, status: number, body: unknown) =>
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body))
    const server = http.createServer((req, res) => {
      let body = ""
      req.on("data", (chunk: Buffer) => (body += chunk.toString()))
      req.on("end", () => {
        const url = new URL(req.url ?? "/", issuer)
        if (url.pathname.startsWith("/.well-known/")) {
          return json(res, 200, {
            issuer,
            authorization_endpoint: `${issuer}/authorize`,
            token_endpoint: `${issuer}/token`,
            ...(options.par ? { pushed_authorization_request_endpoint: `${issuer}/par` } : {}),
            require_pushed_authorization_requests: options.required ?? false,
            code_challenge_methods_supported: ["S256"],
            token_endpoint_auth_methods_supported: ["client_secret_basic"]
          })
        }
        if (url.pathname === "/par" && options.par && req.method === "POST") {
          const form = new URLSearchParams(body)
          seen.par.push(form)
          if (req.headers.authorization !== basic) return json(res, 401, { error: "invalid_client" })
          const requestUri = `urn:ietf:params:oauth:request_uri:${randomUUID()}`
          pushed.set(requestUri, form)
          return json(res, 201, { request_uri: requestUri, expires_in: 90 })
        }
        if (url.pathname === "/authorize") {
          seen.authorize.push(url.searchParams)
          const requestUri = url.searchParams.get("request_uri")
          const request = requestUri === null ? (options.required ? undefined : url.searchParams) : pushed.get(requestUri)
          if (request === undefined) return res.writeHead(400).end("invalid_request_uri")
          const code = `code-${randomUUID()}`
          codes.set(code, request)
          const back = new URL(request.get("redirect_uri")!)
          back.searchParams.set("code", code)
          back.searchParams.set("state", request.get("state")!)
          return res.writeHead(302, { location: back.href }).end()
        }
        if (url.pathname === "/token" && req.method === "POST") {
          const form = new URLSearchParams(body)
          seen.token.push(form)
          if (req.headers.authorization !== basic) return json(res, 401, { error: "invalid_client" })
          const request = codes.get(form.get("code") ?? "")
          const verifier = form.get("code_verifier") ?? ""
          if (
            request === undefined || form.get("redirect_uri") !== request.get("redirect_uri") ||
            createHash("sha256").update(verifier).digest("base64url") !== request.get("code_challenge")
          ) return json(res, 400, { error: "invalid_grant" })
          codes.delete(form.get("code")!)
          const token = `at-${randomUUID()}`
          seen.issued.push(token)
          return json(res, 200, {
            access_token: token,
            token_type: "Bearer",
            expires_in: 3600,
            refresh_token: `rt-${randomUUID()}`,
            scope: request.get("scope") ?? ""
          })
        }
        res.writeHead(404).end()
      })
    })
    const port = yield* Effect.acquireRelease(
      Effect.async<number>((resume) => {
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as net.AddressInfo).port)))
      }),
      () => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
    )
    issuer = `http://127.0.0.1:${port}`
    return { ...seen, issuer } satisfies Server
  }) satisfies Effect.Effect<Server, never, Scope.Scope>

/** The browser: opens the authorize URL, follows the one redirect to the callback listener. */
const browser = (urls: Array<string>) => (url: string) =>
  Effect.promise(async () => {
    urls.push(url)
    const first = await fetch(url, { redirect: "manual" })
    await first.text()
    const location = first.headers.get("location")
    if (first.status === 302 && location !== null) await fetch(location).then((r) => r.text(), () => "")
  })

describe("login oauth2 --issuer", () => {
  it.scopedLive("a server with a PAR endpoint: the request is pushed, the URL carries client_id and request_uri only, the token is stored", () =>
    Effect.gen(function*() {
      const server = yield* makeServer({ par: true })
      const dir = yield* tempDir
      const file = path.join(dir, "tokens.json")
      const env = { EFFECT_OAUTH2_STORE_KEY: storeKey(), EFFECT_OAUTH2_CLIENT_SECRET: clientSecret }
      const target = ["--issuer", server.issuer, "--client-id", clientId, "--scopes", "read trade", "--store", file]
      const urls: Array<string> = []
      const login = yield* cli(["login", "oauth2", ...target, "--port", "0", "--open"], { env, openUrl: browser(urls) })
      assert.strictEqual(login.code, 0, login.stderr)
      assert.strictEqual(server.par.length, 1)
      const url = new URL(urls[0]!)
      assert.deepStrictEqual([...url.searchParams.keys()].sort(), ["client_id", "request_uri"])
      assert.include(login.stderr, urls[0]!, "the URL is shown to open")
      assert.match(login.stdout, /^Logged in\. Bearer token for oauth2 \(127\.0\.0\.1:\d+\), scopes read trade/)
      const pushed = server.par[0]!
      assert.strictEqual(pushed.get("code_challenge_method"), "S256")
      assert.isFalse(pushed.has("client_secret"))

      const host = new URL(server.issuer).host
      const stored = yield* Effect.gen(function*() {
        const store = yield* FileTokenStore.make({ path: file, key: TokenCipher.rawKey(env.EFFECT_OAUTH2_STORE_KEY) })
        return Option.getOrThrow(
          yield* store.get({ provider: host, environment: host, clientId, scopes: ["read", "trade"] })
        )
      }).pipe(Effect.provide(NodeContext.layer), Effect.orDie)
      assert.strictEqual(Redacted.value(stored.value), server.issued[0])
      // Stamped as every login is (RefreshTokenLifetime.apply): the login and the refresh token's issue.
      assert.strictEqual(stored.authorizedAt, stored.issuedAt)
      assert.strictEqual(stored.refreshTokenIssuedAt, stored.issuedAt)

      // The stored token is what `token oauth2 --store` serves: no new token request.
      const token = yield* cli(["token", "oauth2", ...target, "--raw"], { env })
      assert.strictEqual(token.code, 0, token.stderr)
      assert.strictEqual(token.stdout, `${server.issued[0]}\n`)
      assert.strictEqual(server.token.length, 1)
      const secrets = [clientSecret, server.issued[0]!, pushed.get("state")!, Redacted.value(stored.refreshToken!)]
      assertNoSecrets(login.stdout + login.stderr, secrets, "login")
    }))

  it.scopedLive("a server without a PAR endpoint: the classic URL (state and PKCE challenge), the same login", () =>
    Effect.gen(function*() {
      const server = yield* makeServer({ par: false })
      const dir = yield* tempDir
      const env = { EFFECT_OAUTH2_STORE_KEY: storeKey(), EFFECT_OAUTH2_CLIENT_SECRET: clientSecret }
      const urls: Array<string> = []
      const login = yield* cli(
        ["login", "oauth2", "--issuer", server.issuer, "--client-id", clientId, "--store", path.join(dir, "t.json"), "--port", "0", "--open"],
        { env, openUrl: browser(urls) }
      )
      assert.strictEqual(login.code, 0, login.stderr)
      const query = new URL(urls[0]!).searchParams
      assert.isTrue(query.has("state"))
      assert.strictEqual(query.get("code_challenge_method"), "S256")
      assert.isFalse(query.has("request_uri"))
      assert.strictEqual(server.token.length, 1)
    }))

  it.scopedLive("a refused push (wrong secret): exit 3, no URL shown, no secret printed", () =>
    Effect.gen(function*() {
      const server = yield* makeServer({ par: true, required: true })
      const dir = yield* tempDir
      const env = { EFFECT_OAUTH2_STORE_KEY: storeKey(), EFFECT_OAUTH2_CLIENT_SECRET: "wrong-Secret-0f1e2d" }
      const urls: Array<string> = []
      const login = yield* cli(
        ["login", "oauth2", "--issuer", server.issuer, "--client-id", clientId, "--store", path.join(dir, "t.json"), "--port", "0", "--open"],
        { env, openUrl: browser(urls) }
      )
      assert.strictEqual(login.code, 3, login.stderr)
      assert.deepStrictEqual(urls, [])
      assert.deepStrictEqual(server.authorize, [])
      assert.strictEqual(server.par.length, 1)
      assertNoSecrets(login.stdout + login.stderr, ["wrong-Secret-0f1e2d"], "login")
    }))
})
