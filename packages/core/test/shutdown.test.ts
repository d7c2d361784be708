/**
 * Shutdown is bounded: `revokeOnClose` against a revocation endpoint that accepts the connection and never answers
 * still lets the scope close (issue 14, §3).
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as AccessTokens from "../src/AccessTokens.js"
import * as Endpoint from "../src/Endpoint.js"
import * as OAuth2Client from "../src/OAuth2Client.js"
import { captureLogs } from "../src/testing/providerTesting.js"
import * as TokenServer from "./utils/tokenServer.js"

describe("revokeOnClose", () => {
  it.scoped("a revocation endpoint that never answers does not keep the scope from closing", () =>
    Effect.gen(function*() {
      const server = yield* TokenServer.make((request) =>
        request.path === "/revoke" ? TokenServer.hang : TokenServer.token({ access_token: "tok", refresh_token: "rt" })
      )
      const http = yield* Layer.build(NodeHttpClient.layerUndici)
      const client = yield* Endpoint.make({
        provider: "test",
        tokenUrl: server.url("/token"),
        revocationUrl: server.url("/revoke"),
        authMethod: "client_secret_post",
        requestTimeout: "5 seconds"
      }).pipe(
        Effect.flatMap((endpoint) => OAuth2Client.make({ endpoint, credentials: Endpoint.credentials("id", "secret") })),
        Effect.provide(http),
        Effect.orDie
      )
      const scope = yield* Scope.make()
      // Finalizers log with the loggers of the fiber that registered them.
      const logs: Array<string> = []
      const tokens = yield* AccessTokens.make({ revokeOnClose: true }).pipe(
        Effect.provideService(OAuth2Client.OAuth2Client, client),
        Scope.extend(scope),
        Effect.provide(captureLogs(logs))
      )
      yield* tokens.get
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      // The revocation request is in flight (the endpoint read it and keeps silent), then its timeout elapses.
      yield* server.awaitRequests(2)
      yield* TestClock.adjust("5 seconds")
      yield* Fiber.join(closing)
      const revokes = (yield* server.requests).filter((r) => r.path === "/revoke")
      assert.strictEqual(revokes.length, 1, "the refresh token's revocation timed out; nothing else is tried")
      assert.isTrue(logs.some((line) => line.includes("revocation at shutdown failed") && line.includes("timed out")))
    }))
})
