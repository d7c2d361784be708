import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { AccessToken } from "../src/AccessToken.js"
import * as AccessTokens from "../src/AccessTokens.js"
import * as Endpoint from "../src/Endpoint.js"
import * as OAuth2Client from "../src/OAuth2Client.js"
import * as TokenStore from "../src/TokenStore.js"

/** A token-endpoint client that is never called: these policies act on the store and the cache only. */
const client = Endpoint.make({ provider: "policies", tokenUrl: "https://auth.policies.example/token" }).pipe(
  Effect.flatMap((endpoint) => OAuth2Client.make({ endpoint, credentials: Endpoint.credentials("id", "secret") })),
  Effect.provide(NodeHttpClient.layerUndici),
  Effect.orDie
)

const key: TokenStore.Key = { provider: "policies", environment: "default", clientId: "id", scopes: [] }

const token = (value: string, refresh: string | undefined) =>
  Effect.map(Clock.currentTimeMillis, (now) =>
    new AccessToken({
      value: Redacted.make(value),
      type: "Bearer",
      issuedAt: now,
      expiresAt: now + 3_600_000,
      scopes: [],
      refreshToken: refresh === undefined ? undefined : Redacted.make(refresh),
      extra: {}
    }))

const build = (options: AccessTokens.Options, store: TokenStore.Service) =>
  Effect.flatMap(client, (oauth2) =>
    AccessTokens.make({ acquire: "stored", ...options }).pipe(
      Effect.provideService(OAuth2Client.OAuth2Client, oauth2),
      Effect.provideService(TokenStore.TokenStore, store)
    ))

describe("AccessTokens named token policies", () => {
  it.scoped("dropRefreshTokens: neither the stored token nor a token given to set keeps its refresh token", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.makeMemory
      yield* store.set(key, yield* token("stored", "stored-refresh"))
      const tokens = yield* build({ dropRefreshTokens: true }, store)
      const got = yield* tokens.get
      assert.strictEqual(Redacted.value(got.value), "stored")
      assert.isUndefined(got.refreshToken)
      yield* tokens.set(yield* token("given", "given-refresh"))
      const current = Option.getOrThrow(yield* tokens.current)
      assert.strictEqual(Redacted.value(current.value), "given")
      assert.isUndefined(current.refreshToken)
      assert.isUndefined(Option.getOrThrow(yield* store.get(key)).refreshToken)

      // without the option, the refresh token stays
      const plain = yield* build({}, store)
      yield* plain.set(yield* token("kept", "kept-refresh"))
      assert.strictEqual(Redacted.value(Option.getOrThrow(yield* plain.current).refreshToken!), "kept-refresh")
    }))

  it.scoped("keepUnrenewableOnInvalidate: a token without a refresh token survives invalidate; one with is dropped", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.makeMemory
      const tokens = yield* build({ keepUnrenewableOnInvalidate: true }, store)
      const unrenewable = yield* token("unrenewable", undefined)
      yield* tokens.set(unrenewable)
      yield* tokens.invalidate(unrenewable)
      assert.strictEqual(Redacted.value(Option.getOrThrow(yield* tokens.current).value), "unrenewable")

      const renewable = yield* token("renewable", "renewable-refresh")
      yield* tokens.set(renewable)
      yield* tokens.invalidate(renewable)
      assert.isTrue(Option.isNone(yield* tokens.current))

      // without the option, an unrenewable token is dropped too
      const plain = yield* build({}, yield* TokenStore.makeMemory)
      yield* plain.set(unrenewable)
      yield* plain.invalidate(unrenewable)
      assert.isTrue(Option.isNone(yield* plain.current))
    }))
})
