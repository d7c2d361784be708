import * as FileTokenStore from "@effect-oauth2/core/FileTokenStore"
import * as TokenCipher from "@effect-oauth2/core/TokenCipher"
import * as TokenStore from "@effect-oauth2/core/TokenStore"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import { Saxo } from "@effect-oauth2/saxo"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as http from "node:http"
import * as path from "node:path"
import { assertNoSecrets, cli, closedPort, storeKey, tempDir } from "./utils.js"

/** The user's browser for `login --open`: the emulator's Saxo redirects at once; the callback is followed. */
const browser = (seen: Array<string>) => (authorizeUrl: string) =>
  Effect.promise(async () => {
    seen.push(authorizeUrl)
    const first = await fetch(authorizeUrl, { redirect: "manual" })
    await first.text()
    const callbackUrl = first.headers.get("location")
    if (first.status === 302 && callbackUrl !== null) {
      seen.push(callbackUrl)
      await fetch(callbackUrl, { redirect: "manual" }).then((r) => r.text(), () => "")
    }
  })

describe("saxo, from its definition and a registry entry", () => {
  it.scopedLive("login (core's, from the definition), token, whoami and status read the stored pair; no secret shown", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ port: 0 })
      const dir = yield* tempDir
      const file = path.join(dir, "tokens.json")
      const env = { EFFECT_OAUTH2_STORE_KEY: storeKey() }
      const target = ["--emulator", emulator.baseUrl, "--store", file]
      const seen: Array<string> = []
      const login = yield* cli(["login", "saxo", ...target, "--port", "0", "--open"], { env, openUrl: browser(seen) })
      assert.strictEqual(login.code, 0, login.stderr)
      assert.match(login.stdout, /^Logged in\. Bearer token for saxo \(sim\)/)
      const authorize = new URL(seen[0]!)
      assert.strictEqual(authorize.searchParams.get("client_id"), Clients.saxoDemo.clientId)

      const stored = yield* Effect.gen(function*() {
        const store = yield* FileTokenStore.make({ path: file, key: TokenCipher.rawKey(env.EFFECT_OAUTH2_STORE_KEY) })
        return Option.getOrThrow(yield* store.get(Saxo.storeKey({ clientId: Clients.saxoDemo.clientId })))
      }).pipe(Effect.provide(NodeContext.layer), Effect.orDie)
      assert.isDefined(stored.refreshTokenExpiresAt)

      const me = yield* cli(["whoami", "saxo", ...target], { env })
      assert.strictEqual(me.code, 0, me.stderr)
      assert.match(me.stdout, /^saxo \(sim\): user demo-user \(Demo User\)/)
      const json = yield* cli(["whoami", "saxo", ...target, "--json"], { env })
      assert.deepInclude(JSON.parse(json.stdout), { provider: "saxo", environment: "sim", userId: "demo-user" })
      const token = yield* cli(["token", "saxo", ...target, "--json"], { env })
      assert.strictEqual(token.code, 0, token.stderr)
      const status = yield* cli(["status", "saxo", "--store", file, "--json"], { env })
      assert.strictEqual(status.code, 0, status.stderr)
      const callback = new URL(seen[1]!)
      const secrets = [
        Clients.saxoDemo.clientSecret,
        Redacted.value(stored.value),
        Redacted.value(stored.refreshToken!),
        callback.searchParams.get("code")!
      ]
      for (const [what, out] of Object.entries({ login, me, json, token, status })) {
        assertNoSecrets(out.stdout + out.stderr, secrets, what)
      }
    }))

  it.scopedLive("status of a PKCE app's stored login (from Saxo.login): the verifier and tokens never shown", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ port: 0 })
      const dir = yield* tempDir
      const file = path.join(dir, "tokens.json")
      const key = storeKey()
      const token = yield* Effect.gen(function*() {
        const store = yield* FileTokenStore.make({ path: file, key: TokenCipher.rawKey(key) })
        return yield* Saxo.login({ clientId: Clients.saxoPkceDemo.clientId, hosts: emulator.brokerUrls.saxo }, {
          onAuthorizeUrl: (url) => browser([])(url),
          timeout: "20 seconds"
        }).pipe(
          Effect.provide(NodeHttpServer.layer(() => http.createServer(), { host: "127.0.0.1", port: 0 })),
          Effect.provideService(TokenStore.TokenStore, store)
        )
      }).pipe(Effect.provide(NodeContext.layer), Effect.provide(NodeHttpClient.layerUndici), Effect.orDie)
      assert.isDefined(token.codeVerifier)
      for (const args of [["status", "--store", file, "--json"], ["status", "saxo", "--store", file]]) {
        const status = yield* cli(args, { env: { EFFECT_OAUTH2_STORE_KEY: key } })
        assert.strictEqual(status.code, 0, status.stderr)
        assert.include(status.stdout, "saxo")
        assertNoSecrets(
          status.stdout + status.stderr,
          [Redacted.value(token.codeVerifier!), Redacted.value(token.value), Redacted.value(token.refreshToken!)],
          args.join(" ")
        )
      }
    }))

  it.scopedLive("login of a PKCE app (no SAXO_CLIENT_SECRET): an S256 challenge, no secret, then token and whoami", () =>
    Effect.gen(function*() {
      // The app's registered AppUrl on a free port (SAXO_CALLBACK_URL): the listener follows it, no --port.
      const pkce = { ...Clients.saxoPkceDemo, callbackUrl: `http://127.0.0.1:${yield* closedPort}/callback` }
      const emulator = yield* Emulator.make({ port: 0, clients: { saxo: [Clients.saxoDemo, pkce] } })
      const dir = yield* tempDir
      const file = path.join(dir, "tokens.json")
      const env = { EFFECT_OAUTH2_STORE_KEY: storeKey(), SAXO_CLIENT_ID: pkce.clientId, SAXO_CALLBACK_URL: pkce.callbackUrl }
      const target = ["--emulator", emulator.baseUrl, "--store", file]
      const seen: Array<string> = []
      const login = yield* cli(["login", "saxo", ...target, "--open"], { env, openUrl: browser(seen) })
      assert.strictEqual(login.code, 0, login.stderr)
      assert.match(login.stdout, /^Logged in\. Bearer token for saxo \(sim\)/)
      const authorize = new URL(seen[0]!)
      assert.strictEqual(authorize.searchParams.get("client_id"), pkce.clientId)
      assert.strictEqual(authorize.searchParams.get("code_challenge_method"), "S256")
      assert.strictEqual(authorize.searchParams.get("redirect_uri"), pkce.callbackUrl)
      const requests = (yield* emulator.tokenRequests).filter((r) => r.provider === "saxo")
      assert.deepStrictEqual(requests.map((r) => [r.grantType, r.clientId, r.status]), [["authorization_code", pkce.clientId, 200]])

      const stored = yield* Effect.gen(function*() {
        const store = yield* FileTokenStore.make({ path: file, key: TokenCipher.rawKey(env.EFFECT_OAUTH2_STORE_KEY) })
        return Option.getOrThrow(yield* store.get(Saxo.storeKey({ clientId: pkce.clientId })))
      }).pipe(Effect.provide(NodeContext.layer), Effect.orDie)
      assert.isDefined(stored.codeVerifier)
      const me = yield* cli(["whoami", "saxo", ...target], { env })
      assert.strictEqual(me.code, 0, me.stderr)
      assert.match(me.stdout, /^saxo \(sim\): user /)
      for (const [what, out] of Object.entries({ login, me })) {
        assertNoSecrets(
          out.stdout + out.stderr,
          [Redacted.value(stored.value), Redacted.value(stored.refreshToken!), Redacted.value(stored.codeVerifier!)],
          what
        )
      }
    }))
})
