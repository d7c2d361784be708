/**
 * `login tastytrade`: the partner login, from tastytrade's definition alone (core's `OAuth2Provider.login`), against
 * the emulator; then `token`, `whoami` and `status` read the stored login when no personal grant is given.
 */
import * as FileTokenStore from "@effect-oauth2/core/FileTokenStore"
import * as TokenCipher from "@effect-oauth2/core/TokenCipher"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as path from "node:path"
import { assertNoSecrets, cli, storeKey, tempDir } from "./utils.js"

const demo = Clients.tastytradeDemo

/** The user's browser for `login --open`: opens the authorize URL (the emulator approves at once), follows one redirect. */
const browser = (visits: Array<{ authorizeUrl: string; callbackUrl: string | undefined }>) => (authorizeUrl: string) =>
  Effect.promise(async () => {
    const first = await fetch(authorizeUrl, { redirect: "manual" })
    await first.text()
    const callbackUrl = first.status === 302 ? first.headers.get("location") ?? undefined : undefined
    visits.push({ authorizeUrl, callbackUrl })
    if (callbackUrl !== undefined) await fetch(callbackUrl, { redirect: "manual" }).then((r) => r.text(), () => "")
  })

describe("login tastytrade", () => {
  it.scopedLive("the partner login lands in the file store; token, whoami and status read it without a grant", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ port: 0 })
      const dir = yield* tempDir
      const file = path.join(dir, "tokens.json")
      // The app's own credentials, no TASTYTRADE_REFRESH_TOKEN: the partner way.
      const env = {
        EFFECT_OAUTH2_STORE_KEY: storeKey(),
        TASTYTRADE_CLIENT_ID: demo.clientId,
        TASTYTRADE_CLIENT_SECRET: demo.clientSecret
      }
      const target = ["--emulator", emulator.baseUrl, "--store", file]
      const visits: Array<{ authorizeUrl: string; callbackUrl: string | undefined }> = []
      const login = yield* cli(["login", "tastytrade", ...target, "--port", "0", "--open"], {
        env,
        openUrl: browser(visits)
      })
      assert.strictEqual(login.code, 0, login.stderr)
      const authorize = new URL(visits[0]!.authorizeUrl)
      assert.strictEqual(`${authorize.origin}${authorize.pathname}`, `${emulator.hosts.tastytrade.auth}/auth.html`)
      assert.strictEqual(authorize.searchParams.get("client_id"), demo.clientId)
      assert.match(login.stdout, /^Logged in\. Bearer token for tastytrade \(sandbox\)/)
      assert.include(login.stdout, `The token is stored, encrypted, in ${file}.`)

      const stored = yield* Effect.gen(function*() {
        const store = yield* FileTokenStore.make({ path: file, key: TokenCipher.rawKey(env.EFFECT_OAUTH2_STORE_KEY) })
        return Option.getOrThrow(
          yield* store.get({ provider: "tastytrade", environment: "sandbox", clientId: demo.clientId, scopes: [] })
        )
      }).pipe(Effect.provide(NodeContext.layer), Effect.orDie)
      assert.isDefined(stored.refreshToken)
      assert.strictEqual(stored.authorizedAt, stored.issuedAt)

      const token = yield* cli(["token", "tastytrade", ...target, "--raw"], { env })
      assert.strictEqual(token.code, 0, token.stderr)
      assert.strictEqual(token.stdout, `${Redacted.value(stored.value)}\n`)
      const me = yield* cli(["whoami", "tastytrade", ...target], { env })
      assert.strictEqual(me.code, 0, me.stderr)
      assert.match(me.stdout, /^tastytrade \(sandbox\): customer demo-customer/)
      // One code exchange, and no refresh: the stored access token served both.
      assert.deepStrictEqual(
        (yield* emulator.tokenRequests).map((r) => [r.endpoint, r.grantType, r.status]),
        [["tastytrade.token", "authorization_code", 200]]
      )

      const status = yield* cli(["status", "tastytrade", "--store", file], { env })
      assert.strictEqual(status.code, 0, status.stderr)
      assert.include(status.stdout, `tastytrade (sandbox, client ${demo.clientId})`)
      assert.match(status.stdout, /refresh token: lifetime unknown .*, logged in \d{4}-/)

      const callback = new URL(visits[0]!.callbackUrl!)
      const secrets = [
        Redacted.value(stored.value),
        Redacted.value(stored.refreshToken!),
        callback.searchParams.get("code")!,
        demo.clientSecret
      ]
      assertNoSecrets(login.stdout + me.stdout + me.stderr + status.stdout + status.stderr, secrets, "tastytrade")
    }))

  it.scopedLive("--emulator without credentials: the demo app logs in too (its grant is not used for a login)", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ port: 0 })
      const dir = yield* tempDir
      const file = path.join(dir, "tokens.json")
      const env = { EFFECT_OAUTH2_STORE_KEY: storeKey() }
      const visits: Array<{ authorizeUrl: string; callbackUrl: string | undefined }> = []
      const login = yield* cli(["login", "tastytrade", "--emulator", emulator.baseUrl, "--store", file, "--port", "0", "--open"], {
        env,
        openUrl: browser(visits)
      })
      assert.strictEqual(login.code, 0, login.stderr)
      assert.include(login.stderr, "demo credentials")
      assert.deepStrictEqual((yield* emulator.tokenRequests).map((r) => r.grantType), ["authorization_code"])
    }))
})
