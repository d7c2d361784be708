/**
 * An `AccessTokens` over a scripted token server, for tests: the server, an undici client, a memory store (unless one
 * is given) and the service, all living in the test's scope.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import * as AccessTokens from "../../src/AccessTokens.js"
import * as Endpoint from "../../src/Endpoint.js"
import * as OAuth2Client from "../../src/OAuth2Client.js"
import type * as RefreshTokenLifetime from "../../src/RefreshTokenLifetime.js"
import * as TokenStore from "../../src/TokenStore.js"
import * as TokenServer from "./tokenServer.js"

/** The server answering `script`, and `AccessTokens.make(options)` over it, with `store` (default: a memory store). */
export const accessTokensOver = (script: TokenServer.Script, options: AccessTokens.Options, store?: TokenStore.Service) =>
  Effect.gen(function*() {
    const server = yield* TokenServer.make(script)
    const http = yield* Layer.build(NodeHttpClient.layerUndici)
    const memory = store ?? (yield* TokenStore.makeMemory)
    const client = yield* Endpoint.make({
      provider: "test",
      tokenUrl: server.url("/token"),
      authMethod: "client_secret_post"
    }).pipe(
      Effect.flatMap((endpoint) =>
        OAuth2Client.make({ endpoint, credentials: Endpoint.credentials("client-id", "client-secret") })
      ),
      Effect.provide(http),
      Effect.orDie
    )
    const tokens = yield* AccessTokens.make(options).pipe(
      Effect.provideService(OAuth2Client.OAuth2Client, client),
      Effect.provideService(TokenStore.TokenStore, memory)
    )
    return { server, tokens, store: memory }
  })

/** Every refresh-token event of `tokens`, as a subscriber of its stream hears it, subscribed before this returns. */
export const eventsOf = (tokens: AccessTokens.Service) =>
  Effect.gen(function*() {
    const events = yield* Queue.unbounded<RefreshTokenLifetime.Event>()
    yield* Effect.forkScoped(Stream.runForEach(tokens.refreshTokenEvents, (event) => Queue.offer(events, event)))
    // Let the subscriber subscribe before anything happens.
    for (let i = 0; i < 10; i++) yield* Effect.yieldNow()
    return events
  })
