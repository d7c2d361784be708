/**
 * A real authorization server for the interop suite: panva's oidc-provider (pinned in package.json), started on
 * 127.0.0.1 by the test itself, plus a small protected resource on the same origin that checks bearer tokens against
 * the provider's own token store, and a headless "browser" that drives the provider's development login and consent
 * pages.
 *
 * The provider runs on the live clock (it reads `Date.now()`), so lifetimes here are real seconds: keep them short.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as http from "node:http"
import type * as net from "node:net"
import Provider from "oidc-provider"

/** The resource indicator every token is issued for (RFC 8707), so that tokens carry the trader scopes. */
export const RESOURCE = "urn:effect-oauth2:trader"

/** The API scopes the server knows. */
export const TRADER_SCOPES = ["TRADER_READ", "TRADER_TRADE"] as const

/** A registered client. Secrets here protect nothing: they exist for this test server only. */
export interface Client {
  readonly id: string
  readonly secret: string
}

/** The clients the server knows. */
export const clients = {
  /** client_credentials, client_secret_basic, both trader scopes. */
  basic: { id: "trader-basic", secret: "basic-Secret-3f9a1c77e2b04d" },
  /** client_credentials, client_secret_post, both trader scopes. */
  post: { id: "trader-post", secret: "post-Secret-81d0c4b2a96e5f" },
  /** client_credentials, client_secret_basic, with every character RFC 6749 §2.3.1 makes us form-encode. */
  reserved: { id: "desk:7@firm one&co+%/=", secret: "s3:cr@t w&rd+%/=-tail" },
  /** client_credentials, client_secret_basic, TRADER_READ only: asking for TRADER_TRADE is invalid_scope. */
  readOnly: { id: "trader-readonly", secret: "readonly-Secret-5c2e91f0" },
  /** authorization_code + refresh_token, client_secret_basic, a native app with a loopback redirect (any port). */
  app: { id: "trader-app", secret: "app-Secret-0a7b6c5d4e3f21" }
} as const satisfies Record<string, Client>

/** The options of {@link make}. */
export interface Options {
  /** Lifetime of access tokens and client-credentials tokens, in seconds. Default: 5. */
  readonly accessTokenTtl?: number | undefined
  /** Lifetime of refresh tokens, in seconds. Default: 600. */
  readonly refreshTokenTtl?: number | undefined
  /** More registered clients (oidc-provider client metadata), e.g. JWT-authenticated ones. Default: none. */
  readonly extraClients?: ReadonlyArray<Record<string, unknown>> | undefined
  /** The client authentication methods the server accepts (and advertises). Default: oidc-provider's (all five). */
  readonly clientAuthMethods?: ReadonlyArray<string> | undefined
  /**
   * Add `refresh_token_expires_in` (as Saxo sends it) to every token response that carries a refresh token: the
   * refresh token's remaining lifetime in seconds, as the provider itself stores it. oidc-provider 9 has no member of
   * that name; a middleware around its token endpoint adds it. Default: `false`.
   */
  readonly refreshTokenExpiresIn?: boolean | undefined
}

/** What one request to the token endpoint was: its grant type and `"success"` or the error code answered. */
export interface TokenRequest {
  readonly grantType: string
  readonly outcome: string
}

/** A running authorization server. */
export interface AuthServer {
  readonly issuer: string
  readonly tokenUrl: string
  readonly revocationUrl: string
  readonly introspectionUrl: string
  readonly authorizeUrl: string
  /** The protected resource: `GET` answers `{ client_id, scope }` for a live bearer token, 401 otherwise. */
  readonly apiUrl: string
  /** Every request to the token endpoint so far (grant type and outcome), in order. */
  readonly tokenRequests: Effect.Effect<ReadonlyArray<TokenRequest>>
  /** How many calls the protected resource answered 200 and 401. */
  readonly apiCalls: Effect.Effect<{ readonly ok: number; readonly unauthorized: number }>
}

/** Listens on a free loopback port; closing the scope destroys open sockets and closes the server. */
export const listen = (server: http.Server): Effect.Effect<number, never, Scope.Scope> => {
  const sockets = new Set<net.Socket>()
  server.on("connection", (socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })
  return Effect.acquireRelease(
    Effect.async<number>((resume) => {
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as net.AddressInfo).port)))
    }),
    () =>
      Effect.async<void>((resume) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resume(Effect.void))
      })
  )
}

/** Starts oidc-provider on 127.0.0.1 (a free port) for the life of the scope. */
export const make = (options: Options = {}): Effect.Effect<AuthServer, never, Scope.Scope> =>
  Effect.gen(function*() {
    const accessTtl = options.accessTokenTtl ?? 5
    const refreshTtl = options.refreshTokenTtl ?? 600
    const tokenRequests: Array<TokenRequest> = []
    const apiCalls = { ok: 0, unauthorized: 0 }
    let handler: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_req, res) => {
      res.writeHead(503).end()
    }
    const server = http.createServer((req, res) => handler(req, res))
    const port = yield* listen(server)
    const issuer = `http://127.0.0.1:${port}`

    const ccClient = (client: Client, method: string, scope: string) => ({
      client_id: client.id,
      client_secret: client.secret,
      grant_types: ["client_credentials"],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: method,
      scope
    })
    const provider = new Provider(issuer, {
      clients: [
        ccClient(clients.basic, "client_secret_basic", "TRADER_READ TRADER_TRADE"),
        ccClient(clients.post, "client_secret_post", "TRADER_READ TRADER_TRADE"),
        ccClient(clients.reserved, "client_secret_basic", "TRADER_READ TRADER_TRADE"),
        ccClient(clients.readOnly, "client_secret_basic", "TRADER_READ"),
        {
          client_id: clients.app.id,
          client_secret: clients.app.secret,
          application_type: "native",
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          // A native client's loopback redirect matches on any port (RFC 8252 §7.3).
          redirect_uris: ["http://127.0.0.1/callback"],
          token_endpoint_auth_method: "client_secret_basic",
          scope: "openid offline_access TRADER_READ TRADER_TRADE"
        },
        ...(options.extraClients ?? [])
      ],
      ...(options.clientAuthMethods === undefined ? {} : { clientAuthMethods: [...options.clientAuthMethods] }),
      scopes: ["openid", "offline_access", ...TRADER_SCOPES],
      findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
      cookies: { keys: ["interop-cookie-key-not-a-secret"] },
      pkce: { required: () => true },
      rotateRefreshToken: true,
      ttl: {
        AccessToken: accessTtl,
        ClientCredentials: accessTtl,
        AuthorizationCode: 60,
        RefreshToken: refreshTtl,
        IdToken: 60,
        Interaction: 60,
        Session: 600,
        Grant: 600
      },
      features: {
        devInteractions: { enabled: true },
        clientCredentials: { enabled: true },
        introspection: { enabled: true },
        revocation: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: (_ctx: unknown, _client: unknown, oneOf?: string) => oneOf ?? RESOURCE,
          useGrantedResource: () => true,
          getResourceServerInfo: () => ({
            scope: TRADER_SCOPES.join(" "),
            accessTokenFormat: "opaque",
            accessTokenTTL: accessTtl
          })
        }
      }
    })
    if (options.refreshTokenExpiresIn === true) {
      provider.use(async (ctx, next) => {
        await next()
        const body = ctx.body as { refresh_token?: unknown; refresh_token_expires_in?: number } | undefined
        if (ctx.method !== "POST" || ctx.path !== "/token" || typeof body?.refresh_token !== "string") return
        const stored = await provider.RefreshToken.find(body.refresh_token)
        if (stored?.exp !== undefined) body.refresh_token_expires_in = stored.exp - Math.floor(Date.now() / 1000)
      })
    }
    const grantTypeOf = (ctx: unknown): string =>
      String((ctx as { oidc?: { params?: { grant_type?: unknown } } }).oidc?.params?.grant_type ?? "unknown")
    provider.on("grant.success", (ctx: unknown) => tokenRequests.push({ grantType: grantTypeOf(ctx), outcome: "success" }))
    provider.on("grant.error", (ctx: unknown, error: { error?: string }) =>
      tokenRequests.push({ grantType: grantTypeOf(ctx), outcome: error.error ?? "error" }))
    const api = async (req: http.IncomingMessage, res: http.ServerResponse) => {
      const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")
      const value = match?.[1]
      const token = value === undefined
        ? undefined
        : (await provider.ClientCredentials.find(value)) ?? (await provider.AccessToken.find(value))
      if (token === undefined || !token.isValid) {
        apiCalls.unauthorized++
        res.writeHead(401, { "www-authenticate": "Bearer error=\"invalid_token\"" }).end()
        return
      }
      apiCalls.ok++
      res.writeHead(200, { "content-type": "application/json" })
      res.end(JSON.stringify({ client_id: token.clientId, scope: token.scope ?? null }))
    }

    const callback = provider.callback()
    handler = (req, res) => {
      if (req.url?.startsWith("/api/") === true) {
        api(req, res).catch(() => res.writeHead(500).end())
      } else {
        callback(req, res)
      }
    }
    return {
      issuer,
      tokenUrl: `${issuer}/token`,
      revocationUrl: `${issuer}/token/revocation`,
      introspectionUrl: `${issuer}/token/introspection`,
      authorizeUrl: `${issuer}/auth`,
      apiUrl: `${issuer}/api/whoami`,
      tokenRequests: Effect.sync(() => [...tokenRequests]),
      apiCalls: Effect.sync(() => ({ ...apiCalls }))
    } satisfies AuthServer
  })

/** What the headless browser does at the provider's pages. */
export interface BrowseOptions {
  /** The login name typed into the login form. Default: `"alice"`. */
  readonly login?: string | undefined
  /** Approve the consent page, or abort the interaction (the provider then answers `access_denied`). Default: approve. */
  readonly consent?: "approve" | "deny" | undefined
  /** Changes the redirect back to the client before it is visited (a forged or mixed-up callback). Default: none. */
  readonly rewriteCallback?: ((url: URL) => void) | undefined
}

/**
 * Follows an authorization URL like a browser with a cookie jar: through the provider's login form and consent page
 * (oidc-provider's development interactions) to the redirect back to the client, which it visits too. Returns the
 * callback URL (it carries the code and state: a test may use it, nothing may log it).
 */
export const browse = (
  issuer: string,
  start: string,
  options: BrowseOptions = {}
): Effect.Effect<string> =>
  Effect.promise(async () => {
    const jar = new Map<string, string>()
    const cookieHeader = () => [...jar].map(([name, value]) => `${name}=${value}`).join("; ")
    let url = start
    let form: URLSearchParams | undefined
    for (let hop = 0; hop < 20; hop++) {
      if (!url.startsWith(`${issuer}/`)) {
        if (options.rewriteCallback !== undefined) {
          const rewritten = new URL(url)
          options.rewriteCallback(rewritten)
          url = rewritten.href
        }
        const response = await fetch(url)
        await response.arrayBuffer()
        return url
      }
      const response = await fetch(url, {
        method: form === undefined ? "GET" : "POST",
        redirect: "manual",
        headers: {
          cookie: cookieHeader(),
          ...(form === undefined ? {} : { "content-type": "application/x-www-form-urlencoded" })
        },
        ...(form === undefined ? {} : { body: form.toString() })
      })
      for (const cookie of response.headers.getSetCookie()) {
        const pair = cookie.split(";")[0] ?? ""
        const eq = pair.indexOf("=")
        const name = pair.slice(0, eq).trim()
        const value = pair.slice(eq + 1).trim()
        if (value === "") jar.delete(name)
        else jar.set(name, value)
      }
      form = undefined
      const location = response.headers.get("location")
      if (response.status >= 300 && response.status < 400 && location !== null) {
        await response.arrayBuffer()
        url = new URL(location, url).href
        continue
      }
      const html = await response.text()
      if (response.status !== 200) throw new Error(`the provider answered ${response.status} at ${new URL(url).pathname}`)
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1]
      const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1]
      const abort = /href="([^"]*\/abort)"/.exec(html)?.[1]
      if (action === undefined || prompt === undefined) throw new Error("the provider's page has no interaction form")
      if (options.consent === "deny" && abort !== undefined && prompt === "consent") {
        url = new URL(abort, url).href
        continue
      }
      url = new URL(action, url).href
      form = prompt === "login"
        ? new URLSearchParams({ prompt, login: options.login ?? "alice", password: "any" })
        : new URLSearchParams({ prompt })
    }
    throw new Error("the authorization flow did not reach the client's redirect in 20 hops")
  })
