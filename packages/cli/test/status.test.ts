import * as AccessToken from "@effect-oauth2/core/AccessToken"
import * as FileTokenStore from "@effect-oauth2/core/FileTokenStore"
import * as TokenCipher from "@effect-oauth2/core/TokenCipher"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as fs from "node:fs"
import * as path from "node:path"
import { assertNoSecrets, cli, storeKey, tempDir } from "./utils.js"

const HOUR = 3_600_000
const DAY = 24 * HOUR

const tradierKey = { provider: "tradier", environment: "sandbox", clientId: "my-app", scopes: ["read", "trade"] }
const marketsKey = { provider: "figure-markets", environment: "uat", clientId: "bot", scopes: ["TRADER_READ"] }
const schwabKey = { provider: "schwab", environment: "production", clientId: "app-key", scopes: [] }

const SECRETS = ["access-value-1", "refresh-value-1", "access-value-2", "access-value-3", "refresh-value-3"]

const token = (fields: {
  readonly value: string
  readonly issuedAt: number
  readonly lifetime: number
  readonly refreshToken?: string
  readonly refreshTokenExpiresAt?: number
  readonly authorizedAt?: number
}) =>
  new AccessToken.AccessToken({
    value: Redacted.make(fields.value),
    type: "Bearer",
    issuedAt: fields.issuedAt,
    expiresAt: fields.issuedAt + fields.lifetime,
    scopes: [],
    ...(fields.refreshToken === undefined ? {} : { refreshToken: Redacted.make(fields.refreshToken) }),
    ...(fields.refreshTokenExpiresAt === undefined ? {} : { refreshTokenExpiresAt: fields.refreshTokenExpiresAt }),
    ...(fields.authorizedAt === undefined ? {} : { authorizedAt: fields.authorizedAt }),
    extra: {}
  })

/** A token file with a Tradier login whose refresh token dies in 10 hours and a Figure Markets token. */
const fixture = Effect.gen(function*() {
  const dir = yield* tempDir
  const file = path.join(dir, "tokens.json")
  const key = storeKey()
  const store = yield* FileTokenStore.make({ path: file, key: TokenCipher.rawKey(key) }).pipe(
    Effect.provide(NodeContext.layer),
    Effect.orDie
  )
  const now = Date.now()
  yield* store.set(
    tradierKey,
    token({
      value: "access-value-1",
      issuedAt: now - 10 * 60_000,
      lifetime: HOUR,
      refreshToken: "refresh-value-1",
      refreshTokenExpiresAt: now + 10 * HOUR,
      authorizedAt: now - 6 * DAY - 14 * HOUR
    })
  ).pipe(Effect.orDie)
  yield* store.set(marketsKey, token({ value: "access-value-2", issuedAt: now, lifetime: DAY })).pipe(Effect.orDie)
  return { dir, file, key, store, now }
})

describe("status", () => {
  it.scopedLive("every stored token: access expiry, refresh-token death with the warning reached, never a secret", () =>
    Effect.gen(function*() {
      const { file, key } = yield* fixture
      const env = { EFFECT_OAUTH2_STORE_KEY: key }
      const run = yield* cli(["status", "--store", file], { env })
      assert.strictEqual(run.code, 0, run.stderr)
      const lines = run.stdout.split("\n")
      assert.strictEqual(lines[0], "figure-markets (uat, client bot, scopes TRADER_READ)")
      assert.match(lines[1]!, /^ {2}access token: expires in (1d 0h 0m 0s|23h 59m 5\ds) \(\d{4}-.*Z\)$/)
      assert.strictEqual(lines[2], "  refresh token: none: log in again once the access token expires")
      assert.strictEqual(lines[3], "tradier (sandbox, client my-app, scopes read trade)")
      assert.match(lines[4]!, /^ {2}access token: expires in (50m 0s|49m 5\ds)/)
      assert.match(lines[5]!, /^ {2}refresh token: dies in (10h 0m 0s|9h 59m 5\ds) \(.*Z\), logged in .*Z$/)
      assert.strictEqual(
        lines[6],
        "  warning: the refresh token dies within 12h: log in again (effect-oauth2 login tradier) before then"
      )
      assertNoSecrets(run.stdout + run.stderr, SECRETS, "status")

      const json = yield* cli(["status", "--store", file, "--json"], { env })
      assert.strictEqual(json.code, 0, json.stderr)
      const parsed = JSON.parse(json.stdout) as {
        readonly ok: boolean
        readonly tokens: ReadonlyArray<Record<string, any>>
      }
      assert.isTrue(parsed.ok)
      assert.strictEqual(parsed.tokens.length, 2)
      const tradier = parsed.tokens[1]!
      assert.strictEqual(tradier["provider"], "tradier")
      assert.deepStrictEqual(tradier["scopes"], ["read", "trade"])
      assert.strictEqual(tradier["refreshToken"].state, "alive")
      assert.strictEqual(tradier["refreshToken"].warningSeconds, 12 * 3600)
      assert.isAtMost(Math.abs(tradier["refreshToken"].diesInSeconds - 10 * 3600), 5)
      assert.isFalse(tradier["needsLogin"])
      assertNoSecrets(json.stdout + json.stderr, SECRETS, "status --json")

      // Only one provider's.
      const one = yield* cli(["status", "tradier", "--store", file], { env })
      assert.strictEqual(one.code, 0, one.stderr)
      assert.notInclude(one.stdout, "figure-markets")
      assert.include(one.stdout, "tradier (sandbox")
    }))

  it.scopedLive("--warn: the user's own lead times decide the warning shown; bad ones are a usage error", () =>
    Effect.gen(function*() {
      const { file, key } = yield* fixture
      const env = { EFFECT_OAUTH2_STORE_KEY: key }
      const warningOf = (stdout: string) => stdout.split("\n").find((line) => line.startsWith("  warning:"))

      // Dies in 10 hours: inside 72h, not yet inside 6h.
      const wide = yield* cli(["status", "tradier", "--store", file, "--warn", "72h,6h"], { env })
      assert.strictEqual(wide.code, 0, wide.stderr)
      assert.strictEqual(
        warningOf(wide.stdout),
        "  warning: the refresh token dies within 3d: log in again (effect-oauth2 login tradier) before then"
      )
      // Inside no lead time: no warning, where the default (12h) would warn.
      const narrow = yield* cli(["status", "tradier", "--store", file, "--warn", "9h,1h"], { env })
      assert.strictEqual(narrow.code, 0, narrow.stderr)
      assert.isUndefined(warningOf(narrow.stdout))
      assert.match(narrow.stdout, /refresh token: dies in /)
      // Compound durations, any order: the shortest reached wins.
      const json = yield* cli(["status", "tradier", "--store", file, "--warn", "1h30m, 2d,11h", "--json"], { env })
      assert.strictEqual(json.code, 0, json.stderr)
      const parsed = JSON.parse(json.stdout) as { readonly tokens: ReadonlyArray<Record<string, any>> }
      assert.strictEqual(parsed.tokens[0]!["refreshToken"].warningSeconds, 11 * 3600)
      assertNoSecrets(json.stdout + json.stderr, SECRETS, "status --warn")

      for (const bad of ["72", "6 hours", "0h", "72h,,6h", "-1h"]) {
        const run = yield* cli(["status", "--store", file, `--warn=${bad}`], { env })
        assert.strictEqual(run.code, 2, `--warn ${bad}: ${run.stderr}`)
        assert.include(run.stderr, "--warn")
        assert.strictEqual(run.stdout, "")
      }
    }))

  it.scopedLive("a dead refresh token (or an expired token without one) needs a login: exit code 5", () =>
    Effect.gen(function*() {
      const { file, key, now, store } = yield* fixture
      yield* store.set(
        schwabKey,
        token({
          value: "access-value-3",
          issuedAt: now - 2 * HOUR,
          lifetime: 30 * 60_000,
          refreshToken: "refresh-value-3",
          refreshTokenExpiresAt: now - HOUR
        })
      ).pipe(Effect.orDie)
      const env = { EFFECT_OAUTH2_STORE_KEY: key }
      const run = yield* cli(["status", "--store", file], { env })
      assert.strictEqual(run.code, 5, run.stderr)
      assert.include(run.stdout, "schwab (production, client app-key)\n  access token: expired at ")
      assert.match(run.stdout, /refresh token: dead since .*Z: log in again \(effect-oauth2 login schwab\)\n/)
      assertNoSecrets(run.stdout + run.stderr, SECRETS, "status")
      const json = yield* cli(["status", "schwab", "--store", file, "--json"], { env })
      assert.strictEqual(json.code, 5)
      const parsed = JSON.parse(json.stdout) as { ok: boolean; exitCode: number; tokens: Array<Record<string, any>> }
      assert.isFalse(parsed.ok)
      assert.strictEqual(parsed.exitCode, 5)
      assert.strictEqual(parsed.tokens[0]!["refreshToken"].state, "dead")
      assert.isTrue(parsed.tokens[0]!["needsLogin"])
      // The others alone are fine.
      assert.strictEqual((yield* cli(["status", "tradier", "--store", file], { env })).code, 0)
    }))

  it.scopedLive("nothing stored: a note and 0; a provider asked about with nothing stored: 5", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = path.join(dir, "none.json")
      const env = { EFFECT_OAUTH2_STORE_KEY: storeKey() }
      const run = yield* cli(["status", "--store", file], { env })
      assert.strictEqual(run.code, 0, run.stderr)
      assert.strictEqual(run.stdout, `No token file at ${file}: nothing stored yet.\n`)
      assert.isFalse(fs.existsSync(file), "status writes nothing")
      const { file: full, key } = yield* fixture
      const missing = yield* cli(["status", "openmarkets", "--store", full], { env: { EFFECT_OAUTH2_STORE_KEY: key } })
      assert.strictEqual(missing.code, 5)
      assert.strictEqual(missing.stdout, `No stored token for openmarkets in ${full}.\n`)
    }))

  it.scopedLive("no key, or another key: exit code 2 with what to do, and the file left as it is", () =>
    Effect.gen(function*() {
      const { file } = yield* fixture
      const before = fs.readFileSync(file, "utf8")
      const noKey = yield* cli(["status", "--store", file])
      assert.strictEqual(noKey.code, 2)
      assert.include(noKey.stderr, "EFFECT_OAUTH2_STORE_KEY")
      const wrong = yield* cli(["status", "--store", file], { env: { EFFECT_OAUTH2_STORE_KEY: storeKey() } })
      assert.strictEqual(wrong.code, 2)
      assert.include(wrong.stderr, "was written with another key")
      assert.strictEqual(wrong.stdout, "")
      fs.writeFileSync(path.join(path.dirname(file), "junk.json"), "{ not json")
      const junk = yield* cli(["status", "--store", path.join(path.dirname(file), "junk.json")], {
        env: { EFFECT_OAUTH2_STORE_KEY: storeKey() }
      })
      assert.strictEqual(junk.code, 2)
      assert.include(junk.stderr, "corrupted")
      assert.strictEqual(fs.readFileSync(file, "utf8"), before)
    }))
})
