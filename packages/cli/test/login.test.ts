import * as AccessToken from "@effect-oauth2/core/AccessToken"
import * as FileTokenStore from "@effect-oauth2/core/FileTokenStore"
import * as TokenCipher from "@effect-oauth2/core/TokenCipher"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import { Tradier } from "@effect-oauth2/tradier"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as path from "node:path"
import { assertNoSecrets, cli, storeKey, tempDir } from "./utils.js"

/** What the user's browser saw: the authorize URL, and the callback it was sent back to (code and state). */
interface Visit {
  readonly authorizeUrl: string
  readonly callbackUrl: string | undefined
}

/**
 * The user's browser for `login --open`: opens the authorize URL (the emulator, in auto-approve or auto-deny mode,
 * redirects at once) and follows the redirect to the callback listener. One redirect, no more.
 */
const browser = (visits: Array<Visit>) => (authorizeUrl: string) =>
  Effect.promise(async () => {
    const first = await fetch(authorizeUrl, { redirect: "manual" })
    await first.text()
    const callbackUrl = first.status === 302 ? first.headers.get("location") ?? undefined : undefined
    // Recorded before the callback: the command may end (and its listener close) as soon as it arrives.
    visits.push({ authorizeUrl, callbackUrl })
    if (callbackUrl !== undefined) await fetch(callbackUrl, { redirect: "manual" }).then((r) => r.text(), () => "")
  })

const secretsOf = (visit: Visit): Array<string> => {
  const callback = new URL(visit.callbackUrl!)
  return [callback.searchParams.get("code") ?? "", callback.searchParams.get("state") ?? ""].filter((s) => s !== "")
}

/** The token `login` stored, read back the way a bot would. */
const storedToken = (file: string, key: string, clientId: string) =>
  Effect.gen(function*() {
    const store = yield* FileTokenStore.make({ path: file, key: TokenCipher.rawKey(key) })
    const token = yield* store.get(Tradier.storeKey({ clientId }))
    return Option.getOrThrow(token)
  }).pipe(Effect.provide(NodeContext.layer), Effect.orDie)

/** Replaces the token `login` stored, as another run (or the passing of time) would have left it. */
const replaceStoredToken = (file: string, key: string, clientId: string, token: AccessToken.AccessToken) =>
  Effect.gen(function*() {
    const store = yield* FileTokenStore.make({ path: file, key: TokenCipher.rawKey(key) })
    yield* store.set(Tradier.storeKey({ clientId }), token)
  }).pipe(Effect.provide(NodeContext.layer), Effect.orDie)

describe("login tradier", () => {
  it.scopedLive("auto-approve: the token lands in the file store; token and whoami read it from there", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ port: 0, tradierAuthorization: "auto-approve" })
      const dir = yield* tempDir
      const file = path.join(dir, "tokens.json")
      const env = { EFFECT_OAUTH2_STORE_KEY: storeKey() }
      const visits: Array<Visit> = []
      const target = ["--emulator", emulator.baseUrl, "--store", file]

      const login = yield* cli(["login", "tradier", ...target, "--port", "0", "--open"], {
        env,
        openUrl: browser(visits)
      })
      assert.strictEqual(login.code, 0, login.stderr)
      assert.strictEqual(visits.length, 1)
      const visit = visits[0]!
      assert.include(login.stderr, visit.authorizeUrl, "the authorize URL is shown to open")
      assert.include(login.stderr, "waiting for the login in the browser")
      assert.match(login.stdout, /^Logged in\. Bearer token for tradier \(sandbox\), scopes read, expires in 23h 59m 5\ds\.\n/)
      assert.include(login.stdout, `The token is stored, encrypted, in ${file}.`)

      const stored = yield* storedToken(file, env.EFFECT_OAUTH2_STORE_KEY, Clients.tradierDemo.clientId)
      const secrets = [Redacted.value(stored.value), ...secretsOf(visit), Clients.tradierDemo.clientSecret]
      assertNoSecrets(login.stdout, secrets, "login stdout")
      assertNoSecrets(login.stderr, [Redacted.value(stored.value), secretsOf(visit)[0]!], "login stderr")

      const token = yield* cli(["token", "tradier", ...target], { env })
      assert.strictEqual(token.code, 0, token.stderr)
      assert.match(token.stdout, /^Bearer token for tradier \(sandbox\), scopes read, expires in 23h 59m \d+s\n$/)
      assertNoSecrets(token.stdout + token.stderr, secrets, "token")
      const raw = yield* cli(["token", "tradier", ...target, "--raw"], { env })
      assert.strictEqual(raw.stdout, `${Redacted.value(stored.value)}\n`)

      const whoami = yield* cli(["whoami", "tradier", ...target], { env })
      assert.strictEqual(whoami.code, 0, whoami.stderr)
      assert.strictEqual(whoami.stdout, `tradier (sandbox): user id-${Clients.tradierDemo.clientId} (Demo User)\n`)
      assert.strictEqual((yield* emulator.countersFor("tradier.token")).successes, 1, "one code exchange, no more")
    }))

  it.scopedLive("a partner's refresh token stays in the store, never in the output", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ port: 0, tradierAuthorization: "auto-approve" })
      const dir = yield* tempDir
      const file = path.join(dir, "tokens.json")
      const partner = Clients.tradierPartnerDemo
      const env = { EFFECT_OAUTH2_STORE_KEY: storeKey(), TRADIER_CLIENT_SECRET: partner.clientSecret }
      const target = ["--emulator", emulator.baseUrl, "--store", file, "--client-id", partner.clientId]
      const visits: Array<Visit> = []
      const login = yield* cli(["login", "tradier", ...target, "--port", "0", "--open", "--json"], {
        env,
        openUrl: browser(visits)
      })
      assert.strictEqual(login.code, 0, login.stderr)
      assert.deepInclude(JSON.parse(login.stdout), { refreshable: true, store: file })
      const stored = yield* storedToken(file, env.EFFECT_OAUTH2_STORE_KEY, partner.clientId)
      const refresh = Redacted.value(stored.refreshToken!)
      const [code] = secretsOf(visits[0]!)
      // The login's standard error shows the authorize URL, state included, for the user to open: nothing else.
      assertNoSecrets(login.stdout, [refresh, partner.clientSecret, ...secretsOf(visits[0]!)], "login stdout")
      assertNoSecrets(login.stderr, [refresh, partner.clientSecret, code!], "login stderr")
      const token = yield* cli(["token", "tradier", ...target, "--json", "--show"], { env })
      assert.strictEqual(token.code, 0, token.stderr)
      assert.strictEqual((JSON.parse(token.stdout) as { readonly token: string }).token, Redacted.value(stored.value))
      assertNoSecrets(token.stdout + token.stderr, [refresh, partner.clientSecret, ...secretsOf(visits[0]!)], "token")
    }))

  it.scopedLive("a stored login whose refresh token has died: LoginRequired (5) with the login hint, no request", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ port: 0, tradierAuthorization: "auto-approve" })
      const dir = yield* tempDir
      const file = path.join(dir, "tokens.json")
      const partner = Clients.tradierPartnerDemo
      const env = { EFFECT_OAUTH2_STORE_KEY: storeKey(), TRADIER_CLIENT_SECRET: partner.clientSecret }
      const target = ["--emulator", emulator.baseUrl, "--store", file, "--client-id", partner.clientId]
      const login = yield* cli(["login", "tradier", ...target, "--port", "0", "--open"], { env, openUrl: browser([]) })
      assert.strictEqual(login.code, 0, login.stderr)
      const stored = yield* storedToken(file, env.EFFECT_OAUTH2_STORE_KEY, partner.clientId)
      assert.isDefined(stored.refreshToken)
      // An hour later: the access token has expired, and so has the refresh token (as its server said it would).
      const past = Date.now() - 60_000
      yield* replaceStoredToken(
        file,
        env.EFFECT_OAUTH2_STORE_KEY,
        partner.clientId,
        new AccessToken.AccessToken({
          value: stored.value,
          type: stored.type,
          issuedAt: past - 3_600_000,
          expiresAt: past,
          scopes: stored.scopes,
          refreshToken: stored.refreshToken,
          refreshTokenExpiresAt: past,
          extra: {}
        })
      )
      yield* emulator.resetCounters
      const result = yield* cli(["token", "tradier", ...target], { env })
      assert.strictEqual(result.code, 5, result.stderr)
      assert.include(result.stderr, "log in again")
      assert.include(result.stderr, "effect-oauth2 login tradier")
      assert.strictEqual(result.stdout, "")
      assert.strictEqual((yield* emulator.countersFor("tradier.refresh")).requests, 0, "a dead refresh token is not sent")
      assert.strictEqual((yield* emulator.countersFor("tradier.token")).requests, 0)
      assertNoSecrets(result.stderr, [Redacted.value(stored.value), Redacted.value(stored.refreshToken!)], "stderr")
    }))

  it.scopedLive("refused by the user: AuthorizationFailed (10), nothing stored", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ port: 0, tradierAuthorization: "auto-deny" })
      const dir = yield* tempDir
      const file = path.join(dir, "tokens.json")
      const visits: Array<Visit> = []
      const result = yield* cli(["login", "tradier", "--emulator", emulator.baseUrl, "--store", file, "--port", "0", "--open"], {
        env: { EFFECT_OAUTH2_STORE_KEY: storeKey() },
        openUrl: browser(visits)
      })
      assert.strictEqual(result.code, 10, result.stderr)
      assert.include(result.stderr, "The user refused the authorization request")
      assert.strictEqual(result.stdout, "")
      const state = new URL(visits[0]!.callbackUrl!).searchParams.get("state")!
      // The state is in the authorize URL the user is shown; the failure report itself never repeats it.
      const report = result.stderr.slice(result.stderr.indexOf("error:"))
      assertNoSecrets(report, [state], "denied")
    }))

  it.scopedLive("nobody logs in: AuthorizationFailed (10) after --timeout", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ port: 0 })
      const dir = yield* tempDir
      const result = yield* cli(
        ["login", "tradier", "--emulator", emulator.baseUrl, "--store", path.join(dir, "t.json"), "--port", "0", "--timeout", "1"],
        { env: { EFFECT_OAUTH2_STORE_KEY: storeKey() } }
      )
      assert.strictEqual(result.code, 10, result.stderr)
      assert.include(result.stderr, "Nobody completed the login before the timeout")
    }))

  it.scopedLive("a busy callback port: usage (2)", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ port: 0 })
      const dir = yield* tempDir
      const port = new URL(emulator.baseUrl).port
      const result = yield* cli(
        ["login", "tradier", "--emulator", emulator.baseUrl, "--store", path.join(dir, "t.json"), "--port", port],
        { env: { EFFECT_OAUTH2_STORE_KEY: storeKey() } }
      )
      assert.strictEqual(result.code, 2, result.stderr)
      assert.include(result.stderr, `Cannot listen on 127.0.0.1:${port}`)
    }))
})
