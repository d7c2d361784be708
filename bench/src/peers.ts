/**
 * The peers, each used the way its README leads a user to "give me a valid token" and "call the API with it".
 *
 * Where a library has no cache (simple-oauth2, client-oauth2, openid-client), the cache is the one a user writes
 * after reading its README: keep the last token, ask for a new one when the library's own expiry check says so.
 * No single flight, no skew beyond what the library's check builds in; labelled "hand-written cache" in the tables.
 */
import type * as Badgateway from "@badgateway/oauth2-client"
import type ClientOAuth2 from "client-oauth2"
import { createRequire } from "node:module"
import type * as OpenId from "openid-client"
import { SECRET } from "./server.js"

const require = createRequire(import.meta.url)

/**
 * A library module loaded on demand, so that a process loads only the library it measures (the cold start compares
 * processes that have imported their own library and nothing else).
 */
const lazy = <M>(load: () => Promise<M>) => {
  let module: M | undefined
  return {
    load: async () => {
      module ??= await load()
    },
    get: (): M => {
      if (module === undefined) throw new Error("peer library used before load()")
      return module
    }
  }
}

/** One client of a peer library, bound to one client id. */
export interface PeerInstance {
  /** A valid access token, the library's way (its cache, or the hand-written one). */
  readonly getToken: () => Promise<string>
  /** An authorised GET the library's way; resolves to the status the application sees (body read). */
  readonly request: (url: string) => Promise<number>
  /** Replaces the cached token now (the long run's refresh cycles, on real time). */
  readonly forceRefresh: () => Promise<void>
  /** Drops timers the library holds, where it has any. */
  readonly close: () => void
}

/** A peer library. */
export interface Peer {
  readonly name: string
  readonly version: string
  /** Whether the token cache is the library's own, or the hand-written one its README leads to. */
  readonly cache: "built-in" | "hand-written"
  /** What the cache and the authorised request are, in a line. */
  readonly usage: string
  /** Known to crash the process it runs in: always run it in a child process of its own. */
  readonly crashProne?: boolean
  /** Loads the library (outside any measurement). */
  readonly load: () => Promise<void>
  readonly create: (options: { readonly base: string; readonly tokenUrl: string; readonly clientId: string }) => PeerInstance
}

const readStatus = async (response: Response): Promise<number> => {
  await response.arrayBuffer()
  return response.status
}

/** `fetch` with a fixed `Authorization` header: every peer's "bare" client. */
export const bareFetch = (url: string, token: string): Promise<number> =>
  fetch(url, { headers: { authorization: `Bearer ${token}` } }).then(readStatus)

// -- simple-oauth2 (no types shipped) ---------------------------------------------------------------------------------

interface SimpleAccessToken {
  readonly token: { readonly access_token: string }
  expired(windowSeconds?: number): boolean
}
interface SimpleOAuth2 {
  readonly ClientCredentials: new(options: unknown) => {
    getToken(params: Record<string, unknown>): Promise<SimpleAccessToken>
  }
}

const simpleOAuth2Module = lazy(async () => require("simple-oauth2") as SimpleOAuth2)

const simpleOAuth2: Peer = {
  name: "simple-oauth2",
  version: (require("simple-oauth2/package.json") as { version: string }).version,
  cache: "hand-written",
  usage: "`client.getToken()` kept until `token.expired()`; `fetch` with the header",
  load: simpleOAuth2Module.load,
  create: ({ base, clientId }) => {
    const { ClientCredentials } = simpleOAuth2Module.get()
    const client = new ClientCredentials({
      client: { id: clientId, secret: SECRET },
      auth: { tokenHost: base, tokenPath: "/token" }
    })
    let token: SimpleAccessToken | undefined
    const current = async (): Promise<SimpleAccessToken> => {
      if (token === undefined || token.expired()) token = await client.getToken({})
      return token
    }
    const getToken = async () => (await current()).token.access_token
    return {
      getToken,
      request: async (url) => bareFetch(url, await getToken()),
      forceRefresh: async () => {
        token = await client.getToken({})
      },
      close: () => {}
    }
  }
}

// -- client-oauth2 ----------------------------------------------------------------------------------------------------

/**
 * client-oauth2's documented hook: "The second argument to the constructor can inject a custom request function."
 * Its default transport (popsicle 12) crashes Node 20 with ERR_INTERNAL_ASSERTION as soon as two token requests run
 * at once on a kept-alive connection, so the library is measured both ways.
 */
const fetchRequest = async (method: string, url: string, body: string, headers: Record<string, string | Array<string>>) => {
  const flat: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers)) flat[k] = Array.isArray(v) ? v.join(", ") : v
  const response = await fetch(url, { method, body, headers: flat })
  return { status: response.status, body: await response.text() }
}

type ClientOAuth2Token = ClientOAuth2.Token

const clientOAuth2Module = lazy(async () => require("client-oauth2") as typeof ClientOAuth2)

const clientOAuth2 = (transport: "default" | "fetch"): Peer => ({
  name: transport === "default" ? "client-oauth2" : "client-oauth2+fetch",
  version: (require("client-oauth2/package.json") as { version: string }).version,
  cache: "hand-written",
  usage: `\`credentials.getToken()\` kept until \`token.expired()\`; \`token.sign(request)\` then \`fetch\`; token requests ${
    transport === "default" ? "through its default transport (popsicle)" : "through `fetch`, given as the documented custom request function"
  }`,
  crashProne: transport === "default",
  load: clientOAuth2Module.load,
  create: ({ clientId, tokenUrl }) => {
    const ClientOAuth2 = clientOAuth2Module.get()
    const options = { clientId, clientSecret: SECRET, accessTokenUri: tokenUrl }
    const auth = transport === "default" ? new ClientOAuth2(options) : new ClientOAuth2(options, fetchRequest)
    let token: ClientOAuth2Token | undefined
    const current = async (): Promise<ClientOAuth2Token> => {
      if (token === undefined || token.expired()) token = await auth.credentials.getToken()
      return token
    }
    return {
      getToken: async () => (await current()).accessToken,
      request: async (url) => {
        const signed = (await current()).sign({ method: "get", url, headers: {} })
        const response = await fetch(signed.url, { method: "GET", headers: signed.headers as Record<string, string> })
        return readStatus(response)
      },
      forceRefresh: async () => {
        token = await auth.credentials.getToken()
      },
      close: () => {}
    }
  }
})

// -- @badgateway/oauth2-client ----------------------------------------------------------------------------------------

const badgatewayModule = lazy(() => import("@badgateway/oauth2-client") as Promise<typeof Badgateway>)

const badgateway: Peer = {
  name: "@badgateway/oauth2-client",
  version: (require("@badgateway/oauth2-client/package.json") as { version: string }).version,
  cache: "built-in",
  usage: "`OAuth2Fetch` (`getNewToken: client.clientCredentials`): `getAccessToken()`, `fetch(url)`",
  load: badgatewayModule.load,
  create: ({ base, clientId }) => {
    const { OAuth2Client: BadgatewayClient, OAuth2Fetch } = badgatewayModule.get()
    const client = new BadgatewayClient({
      server: base,
      tokenEndpoint: "/token",
      clientId,
      clientSecret: SECRET
    })
    const wrapper = new OAuth2Fetch({ client, getNewToken: () => client.clientCredentials() })
    return {
      getToken: () => wrapper.getAccessToken(),
      request: async (url) => readStatus(await wrapper.fetch(url)),
      forceRefresh: async () => {
        await wrapper.refreshToken()
      },
      close: () => {}
    }
  }
}

// -- openid-client ----------------------------------------------------------------------------------------------------

const openidModule = lazy(() => import("openid-client") as Promise<typeof OpenId>)

const openidClient: Peer = {
  name: "openid-client",
  version: (require("openid-client/package.json") as { version: string }).version,
  cache: "hand-written",
  usage: "`clientCredentialsGrant()` kept until `expiresIn() === 0`; `fetchProtectedResource()`",
  load: openidModule.load,
  create: ({ base, clientId, tokenUrl }) => {
    const openid = openidModule.get()
    const config = new openid.Configuration({ issuer: base, token_endpoint: tokenUrl }, clientId, SECRET)
    openid.allowInsecureRequests(config)
    let tokens: Awaited<ReturnType<typeof OpenId.clientCredentialsGrant>> | undefined
    const getToken = async () => {
      if (tokens === undefined || tokens.expiresIn() === 0) tokens = await openid.clientCredentialsGrant(config)
      return tokens.access_token
    }
    return {
      getToken,
      request: async (url) => {
        try {
          return readStatus(await openid.fetchProtectedResource(config, await getToken(), new URL(url), "GET"))
        } catch (error) {
          // A 401 with a challenge is thrown (WWWAuthenticateChallengeError), its body unread: the caller sees a 401.
          if (error instanceof openid.WWWAuthenticateChallengeError) {
            await error.response.body?.cancel()
            return error.status
          }
          throw error
        }
      },
      forceRefresh: async () => {
        tokens = await openid.clientCredentialsGrant(config)
      },
      close: () => {}
    }
  }
}

/** Every peer, in table order. */
export const peers: ReadonlyArray<Peer> = [
  badgateway,
  openidClient,
  simpleOAuth2,
  clientOAuth2("default"),
  clientOAuth2("fetch")
]

const added: Array<Peer> = []

/** Makes more peers known by name (a module of extra peers, once loaded): tables and verdicts treat them as peers. */
export const addPeers = (more: ReadonlyArray<Peer>): void => {
  for (const peer of more) if (peerByName(peer.name) === undefined) added.push(peer)
}

export const peerByName = (name: string): Peer | undefined =>
  peers.find((p) => p.name === name) ?? added.find((p) => p.name === name)
