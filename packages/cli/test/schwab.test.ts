/**
 * `effect-oauth2 login schwab` against the emulator: over HTTPS on the registered callback (a certificate made at run
 * time, the browser warned about it), and by pasting the redirect URL (`--paste`); then `whoami` and `status` read the
 * stored login and its 7-day death.
 */
import * as AccessToken from "@effect-oauth2/core/AccessToken"
import * as FileTokenStore from "@effect-oauth2/core/FileTokenStore"
import * as TokenCipher from "@effect-oauth2/core/TokenCipher"
import { Clients, Emulator } from "@effect-oauth2/emulator"
import { Schwab } from "@effect-oauth2/schwab"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Https from "node:https"
import * as path from "node:path"
import * as Cli from "../src/Cli.js"
import { assertNoSecrets, closedPort, storeKey, tempDir } from "./utils.js"

const demo = Clients.schwabDemo

/** Runs the command in-process; `readLine` answers `login --paste`. */
const run = (
  args: ReadonlyArray<string>,
  options: {
    readonly env: Readonly<Record<string, string>>
    readonly openUrl?: (url: string) => Effect.Effect<void>
    readonly readLine?: Effect.Effect<string>
  }
) =>
  Effect.suspend(() => {
    let stdout = ""
    let stderr = ""
    const io: Partial<Cli.Io> = {
      stdout: (text) => void (stdout += text),
      stderr: (text) => void (stderr += text),
      stderrIsTTY: false,
      stdinIsTTY: true,
      env: options.env,
      readStdin: Effect.succeed(""),
      readLine: options.readLine ?? Effect.die("no terminal in tests"),
      openUrl: options.openUrl ?? (() => Effect.die("no browser in tests"))
    }
    return Effect.map(Cli.run(args, { io }), (code) => ({ code, stdout, stderr }))
  })

/** Where the emulator sends the browser after the (auto-approved) login: its `Location`. */
const landing = (authorizeUrl: string) =>
  Effect.promise(async () => {
    const answer = await fetch(authorizeUrl, { redirect: "manual" })
    await answer.text()
    return answer.headers.get("location") ?? ""
  })

/** A GET of the HTTPS callback, past the certificate warning (as the user proceeds): its status. */
const proceed = (url: string) =>
  Effect.async<number>((resume) => {
    const request = Https.get(url, { rejectUnauthorized: false, agent: false, timeout: 5000 }, (response) => {
      response.resume()
      response.on("end", () => resume(Effect.succeed(response.statusCode ?? 0)))
    })
    request.on("timeout", () => request.destroy(new Error("timeout")))
    request.on("error", () => resume(Effect.succeed(0)))
  })

describe("login schwab", () => {
  it.scopedLive("--paste: the pasted URL completes the login; whoami and status read it, the death 7 days out", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ port: 0 })
      const dir = yield* tempDir
      const file = path.join(dir, "tokens.json")
      const env = { EFFECT_OAUTH2_STORE_KEY: storeKey() }
      const target = ["--emulator", emulator.baseUrl, "--store", file]
      const landed = yield* Deferred.make<string>()
      const login = yield* run(["login", "schwab", ...target, "--paste", "--open"], {
        env,
        openUrl: (url) => Effect.flatMap(landing(url), (location) => Deferred.succeed(landed, location)),
        readLine: Deferred.await(landed)
      })
      assert.strictEqual(login.code, 0, login.stderr)
      assert.include(login.stderr, "paste it here")
      assert.notInclude(login.stderr, "not private", "no listener, no certificate warning")
      assert.match(login.stdout, /^Logged in\. Bearer token for schwab \(production\), scopes api/)
      const code = new URL(yield* Deferred.await(landed)).searchParams.get("code")!
      assertNoSecrets(login.stdout + login.stderr, [code, demo.clientSecret], "login")

      const whoami = yield* run(["whoami", "schwab", ...target], { env })
      assert.strictEqual(whoami.code, 0, whoami.stderr)
      assert.strictEqual(whoami.stdout, "schwab (production): 1 account(s): 12345678\n")

      const status = yield* run(["status", "schwab", "--store", file], { env })
      assert.strictEqual(status.code, 0, status.stderr)
      assert.match(status.stdout, /schwab/)
      assert.match(status.stdout, /refresh token: dies in (6d 23h|7d)/, status.stdout)
      const json = yield* run(["status", "schwab", "--store", file, "--json"], { env })
      const entry = (JSON.parse(json.stdout) as { tokens: ReadonlyArray<{ refreshToken: { state: string; diesInSeconds: number } }> })
        .tokens[0]!
      assert.strictEqual(entry.refreshToken.state, "alive")
      assert.isAbove(entry.refreshToken.diesInSeconds, 7 * 86400 - 120)

      // Eight days later (the same login, as the file would hold it): dead, a login needed, exit code 5.
      const key = yield* Schwab.storeKey({ clientId: demo.clientId, clientSecret: demo.clientSecret })
      yield* Effect.gen(function*() {
        const store = yield* FileTokenStore.make({ path: file, key: TokenCipher.rawKey(env.EFFECT_OAUTH2_STORE_KEY) })
        const token = Option.getOrThrow(yield* store.get(key))
        const shift = (t: number | undefined) => t === undefined ? undefined : t - 8 * 86_400_000
        yield* store.set(key, new AccessToken.AccessToken({
          ...token,
          issuedAt: shift(token.issuedAt)!,
          expiresAt: shift(token.expiresAt)!,
          authorizedAt: shift(token.authorizedAt),
          refreshTokenIssuedAt: shift(token.refreshTokenIssuedAt),
          refreshTokenExpiresAt: shift(token.refreshTokenExpiresAt)
        }))
      }).pipe(Effect.provide(NodeContext.layer), Effect.orDie)
      const dead = yield* run(["status", "schwab", "--store", file], { env })
      assert.strictEqual(dead.code, 5, dead.stdout + dead.stderr)
      assert.match(dead.stdout, /refresh token: dead since .*: log in again/, dead.stdout)
      assert.include(dead.stdout, "effect-oauth2 login schwab")
      const token = yield* run(["token", "schwab", "--emulator", emulator.baseUrl, "--store", file], { env })
      assert.strictEqual(token.code, 5, token.stderr)
      assert.include(token.stderr, "log in again")
    }))

  it.scopedLive("--paste with a tampered state: refused, nothing stored", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ port: 0 })
      const dir = yield* tempDir
      const file = path.join(dir, "tokens.json")
      const env = { EFFECT_OAUTH2_STORE_KEY: storeKey() }
      const landed = yield* Deferred.make<string>()
      const login = yield* run(["login", "schwab", "--emulator", emulator.baseUrl, "--store", file, "--paste", "--open"], {
        env,
        openUrl: (url) =>
          Effect.flatMap(landing(url), (location) => Deferred.succeed(landed, location.replace(/state=[^&]+/, "state=x"))),
        readLine: Deferred.await(landed)
      })
      assert.notStrictEqual(login.code, 0)
      assert.include(login.stderr, "state")
      assert.strictEqual((yield* emulator.countersFor("schwab.token")).requests, 0)
    }))

  it.scopedLive("HTTPS loopback on the registered callback: the browser warned, the callback served over TLS", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const callbackUrl = `https://127.0.0.1:${port}`
      const emulator = yield* Emulator.make({ port: 0, clients: { schwab: [{ ...demo, callbackUrl }] } })
      const dir = yield* tempDir
      const file = path.join(dir, "tokens.json")
      const env = { EFFECT_OAUTH2_STORE_KEY: storeKey(), SCHWAB_CALLBACK_URL: callbackUrl }
      const statuses: Array<number> = []
      const login = yield* run(["login", "schwab", "--emulator", emulator.baseUrl, "--store", file, "--open"], {
        env,
        openUrl: (url) =>
          Effect.flatMap(landing(url), (location) => Effect.map(proceed(location), (status) => void statuses.push(status)))
      })
      assert.strictEqual(login.code, 0, login.stderr)
      assert.include(login.stderr, `redirect_uri=${encodeURIComponent(callbackUrl)}`)
      assert.include(login.stderr, "not private")
      assert.include(login.stderr, `exactly ${callbackUrl}`)
      assert.deepStrictEqual(statuses, [200])
      assert.strictEqual((yield* emulator.countersFor("schwab.token")).successes, 1)
    }))
})
