/**
 * Rotation safety in `AccessTokens` over a shared store: a renewal under the store's coordination starts from the
 * newest stored pair, never from a refresh token another holder of the store has already spent.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as AccessToken from "../src/AccessToken.js"
import * as AccessTokens from "../src/AccessTokens.js"
import * as Endpoint from "../src/Endpoint.js"
import * as OAuth2Client from "../src/OAuth2Client.js"
import * as TokenStore from "../src/TokenStore.js"
import * as TokenServer from "./utils/tokenServer.js"

describe("AccessTokens over a shared store, single-use refresh tokens", () => {
  it.scoped("a second service renews from the pair the first stored, not from the refresh token it spent", () =>
    Effect.gen(function*() {
      // A server whose refresh tokens are single use: each refresh answers a new one; a spent one is invalid_grant.
      const live = new Set(["r0"])
      const presented: Array<string> = []
      let next = 1
      const server = yield* TokenServer.make((request) => {
        const refreshToken = request.form.refresh_token ?? ""
        presented.push(refreshToken)
        if (!live.delete(refreshToken)) return TokenServer.oauthError("invalid_grant")
        const rotated = `r${next}`
        live.add(rotated)
        return TokenServer.token({ access_token: `a${next++}`, refresh_token: rotated, expires_in: 3600 })
      })
      const store = yield* TokenStore.makeMemory
      const endpoint = yield* Endpoint.make({ provider: "rotating", tokenUrl: server.url("/token"), authMethod: "client_secret_post" })
      const client = yield* OAuth2Client.make({ endpoint, credentials: Endpoint.credentials("bot", "secret") })
      const service = AccessTokens.make({ acquire: "stored" }).pipe(
        Effect.provideService(OAuth2Client.OAuth2Client, client),
        Effect.provideService(TokenStore.TokenStore, store)
      )
      const login = new AccessToken.AccessToken({
        value: Redacted.make("a0"),
        type: "Bearer",
        issuedAt: 0,
        expiresAt: 3_600_000,
        scopes: [],
        refreshToken: Redacted.make("r0"),
        extra: {}
      })
      yield* store.set({ provider: "rotating", environment: endpoint.environment, clientId: "bot", scopes: [] }, login)
      const a = yield* service
      const b = yield* service
      // Both hold the login's pair.
      assert.strictEqual(Redacted.value((yield* a.get).value), "a0")
      assert.strictEqual(Redacted.value((yield* b.get).value), "a0")
      // a renews: r0 is spent, (a1, r1) stored.
      assert.strictEqual(Redacted.value((yield* a.refresh).value), "a1")
      // b still holds (a0, r0): its renewal starts from the stored (a1, r1), and r0 is never sent again.
      assert.strictEqual(Redacted.value((yield* b.refresh).value), "a2")
      assert.strictEqual(Redacted.value((yield* a.refresh).value), "a3")
      assert.deepStrictEqual(presented, ["r0", "r1", "r2"])
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.scoped("with a refresh-token rule, each renewal is written once, under the coordination, stamped with its death", () =>
    Effect.gen(function*() {
      let next = 1
      const server = yield* TokenServer.make(() =>
        TokenServer.token({ access_token: `a${next}`, refresh_token: `r${next++}`, expires_in: 3600 })
      )
      const memory = yield* TokenStore.makeMemory
      const writes: Array<{ readonly underCoordination: boolean; readonly token: AccessToken.AccessToken }> = []
      let coordinating = false
      const store: TokenStore.Service = {
        ...memory,
        set: (key, token) =>
          Effect.zipRight(Effect.sync(() => writes.push({ underCoordination: coordinating, token })), memory.set(key, token)),
        coordinate: (key, stale, acquire) =>
          Effect.acquireUseRelease(
            Effect.sync(() => (coordinating = true)),
            () => memory.coordinate(key, stale, acquire),
            () => Effect.sync(() => (coordinating = false))
          )
      }
      const endpoint = yield* Endpoint.make({ provider: "rotating", tokenUrl: server.url("/token"), authMethod: "client_secret_post" })
      const client = yield* OAuth2Client.make({ endpoint, credentials: Endpoint.credentials("bot", "secret") })
      // Client credentials that come with a refresh token, which dies 7 days after this first grant (the "login").
      const service = yield* AccessTokens.make({ refreshTokenLifetime: { duration: "7 days", from: "login" } }).pipe(
        Effect.provideService(OAuth2Client.OAuth2Client, client),
        Effect.provideService(TokenStore.TokenStore, store)
      )
      yield* service.get
      yield* service.refresh
      assert.strictEqual(writes.length, 2)
      for (const write of writes) {
        assert.isTrue(write.underCoordination)
        // The first grant's death (7 days after it, at 0 on the TestClock) travels with every renewal into the store.
        assert.strictEqual(write.token.refreshTokenExpiresAt, 7 * 24 * 3_600_000)
      }
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))
})
