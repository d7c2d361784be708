/**
 * The `oauth2` mode: any server, found by discovery from `--issuer`, with a client secret or a private key
 * (`private_key_jwt`), against a loopback authorization server that verifies the client assertion.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fc from "effect/FastCheck"
import { generateKeyPairSync } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import * as AuthServer from "./authServer.js"
import { assertNoSecrets, cli, closedPort, plain, storeKey, tempDir } from "./utils.js"

const clientId = "bot-client"
const clientSecret = "s3cret-for-the-bot-client"

const keys = generateKeyPairSync("ec", { namedCurve: "P-256" })
const pem = keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString()
const jwk = keys.privateKey.export({ format: "jwk" })
/** Pieces of the key that must never be printed: the PEM body's lines and the JWK's private member. */
const keyMaterial = [
  ...pem.split("\n").filter((line) => line !== "" && !line.startsWith("-----")),
  jwk.d!
]

const server = (options: Partial<AuthServer.Options> = {}) =>
  AuthServer.make({ clientId, clientSecret, publicKey: keys.publicKey, ...options })

const writeKey = (dir: string, mode: number, content: string = pem) => {
  const file = path.join(dir, "client-key.pem")
  fs.writeFileSync(file, content, { mode })
  fs.chmodSync(file, mode)
  return file
}

describe("oauth2: discovery mode", () => {
  it.scopedLive("token via --issuer and a client secret, from flags, the environment or the config file", () =>
    Effect.gen(function*() {
      const as = yield* server()
      const dir = yield* tempDir
      const fromFlags = yield* cli(
        ["token", "oauth2", "--issuer", as.issuer, "--client-id", clientId, "--scopes", "read trade"],
        { env: { EFFECT_OAUTH2_CLIENT_SECRET: clientSecret } }
      )
      assert.strictEqual(fromFlags.code, 0, fromFlags.stderr)
      const host = new URL(as.issuer).host
      assert.match(fromFlags.stdout, new RegExp(`^Bearer token for oauth2 \\(${host}\\), scopes read trade, expires in `))
      assert.deepStrictEqual(as.seen.map((s) => [s.path, s.auth]), [["/token", "basic"]])
      assert.include(as.seen[0]!.body, "grant_type=client_credentials")

      const fromEnv = yield* cli(["token", "oauth2", "--json"], {
        env: { EFFECT_OAUTH2_ISSUER: as.issuer, EFFECT_OAUTH2_CLIENT_ID: clientId, EFFECT_OAUTH2_CLIENT_SECRET: clientSecret }
      })
      assert.strictEqual(fromEnv.code, 0, fromEnv.stderr)
      const parsed = JSON.parse(fromEnv.stdout) as Record<string, unknown>
      assert.strictEqual(parsed["ok"], true)
      assert.strictEqual(parsed["provider"], "oauth2")
      assert.notProperty(parsed, "token")

      const file = path.join(dir, "effect-oauth2.json")
      fs.writeFileSync(file, JSON.stringify({ oauth2: { issuer: as.issuer, clientId, clientSecret } }), { mode: 0o600 })
      const fromFile = yield* cli(["token", "oauth2", "--config", file])
      assert.strictEqual(fromFile.code, 0, fromFile.stderr)
      assert.strictEqual(as.issued.length, 3)
      assertNoSecrets(
        [fromFlags, fromEnv, fromFile].map((r) => r.stdout + r.stderr).join(""),
        [clientSecret, ...as.issued],
        "secret mode"
      )
    }))

  it.scopedLive("token via --issuer and --private-key (ES256 PEM): private_key_jwt, the key never shown", () =>
    Effect.gen(function*() {
      const as = yield* server()
      const dir = yield* tempDir
      const keyFile = writeKey(dir, 0o600)
      const base = ["token", "oauth2", "--issuer", as.issuer, "--client-id", clientId, "--private-key", keyFile]
      const runs = [
        yield* cli(base),
        yield* cli([...base, "--json", "--verbose"]),
        yield* cli([...base, "--key-id", "key-2024", "--alg", "ES256"]),
        // the same from the environment, the read-only mode 400 allowed too
        yield* cli(["token", "oauth2", "--json"], {
          env: {
            EFFECT_OAUTH2_ISSUER: as.issuer,
            EFFECT_OAUTH2_CLIENT_ID: clientId,
            EFFECT_OAUTH2_PRIVATE_KEY_FILE: writeKey(yield* tempDir, 0o400)
          }
        })
      ]
      for (const run of runs) assert.strictEqual(run.code, 0, run.stderr)
      assert.deepStrictEqual(as.seen.map((s) => s.auth), [
        "private_key_jwt",
        "private_key_jwt",
        "private_key_jwt kid=key-2024",
        "private_key_jwt"
      ])
      assert.include(runs[0]!.stdout, "Bearer token for oauth2")
      const whoami = yield* cli(["whoami", "oauth2", ...base.slice(2)])
      assert.strictEqual(whoami.code, 0, whoami.stderr)
      assert.include(whoami.stdout, `oauth2 (${new URL(as.issuer).host}): credentials accepted, a token was granted`)
      runs.push(whoami)
      assertNoSecrets(runs.map((r) => r.stdout + r.stderr).join(""), [...keyMaterial, ...as.issued], "key mode")
    }))

  it.scopedLive("a key file other users may read is refused before any request, the key unread and unshown", () =>
    Effect.gen(function*() {
      const as = yield* server()
      const dir = yield* tempDir
      for (const mode of [0o644, 0o640, 0o604, 0o660]) {
        const keyFile = writeKey(dir, mode)
        const result = yield* cli(
          ["token", "oauth2", "--issuer", as.issuer, "--client-id", clientId, "--private-key", keyFile, "--json"]
        )
        assert.strictEqual(result.code, 2, result.stderr)
        assert.include(result.stderr, `private key file ${keyFile}: it holds secrets and other users may read it`)
        assert.include(result.stderr, `chmod 600 ${keyFile}`)
        assert.strictEqual((JSON.parse(result.stdout) as { exitCode: number }).exitCode, 2)
        assertNoSecrets(result.stdout + result.stderr, keyMaterial, `mode ${mode.toString(8)}`)
      }
      assert.deepStrictEqual(as.seen, [], "no request with a refused key")
    }))

  it.scopedLive("an issuer that does not match the metadata's: configuration exit code, saying what to fix", () =>
    Effect.gen(function*() {
      const as = yield* server({ statedIssuer: (origin) => `${origin}/tenant-a` })
      const result = yield* cli(["token", "oauth2", "--issuer", as.issuer, "--client-id", clientId], {
        env: { EFFECT_OAUTH2_CLIENT_SECRET: clientSecret }
      })
      assert.strictEqual(result.code, 2, result.stderr)
      assert.include(result.stderr, `${as.issuer}/tenant-a`, "the issuer the server states")
      assert.include(result.stderr, "set issuer to exactly its value")
      assert.include(result.stderr, "hint: the oauth2 settings: --issuer (EFFECT_OAUTH2_ISSUER)")
      assert.deepStrictEqual(as.seen, [], "no token request")
      assertNoSecrets(result.stdout + result.stderr, [clientSecret], "mismatch")
    }))

  it.scopedLive("--store: a second token comes from the encrypted file; revoke acts on the stored one and removes it", () =>
    Effect.gen(function*() {
      const as = yield* server()
      const dir = yield* tempDir
      const store = path.join(dir, "tokens.json")
      const env = { EFFECT_OAUTH2_CLIENT_SECRET: clientSecret, EFFECT_OAUTH2_STORE_KEY: storeKey() }
      const base = ["--issuer", as.issuer, "--client-id", clientId, "--store", store]
      const first = yield* cli(["token", "oauth2", ...base], { env })
      const second = yield* cli(["token", "oauth2", ...base], { env })
      assert.strictEqual(first.code, 0, first.stderr)
      assert.strictEqual(second.code, 0, second.stderr)
      assert.strictEqual(as.issued.length, 1, "the second run read the file")
      const revoked = yield* cli(["revoke", "oauth2", ...base], { env })
      assert.strictEqual(revoked.code, 0, revoked.stderr)
      assert.include(revoked.stdout, `and removed it from ${store}`)
      assert.include(as.seen[1]!.body, `token=${as.issued[0]}`)
      assertNoSecrets(fs.readFileSync(store, "utf8"), [as.issued[0]!, clientSecret], "the token file")
    }))

  it.scopedLive("an issuer nobody answers at: TransportError (7), with a hint about the issuer, not the emulator", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const result = yield* cli(["token", "oauth2", "--issuer", `http://127.0.0.1:${port}`, "--client-id", clientId], {
        env: { EFFECT_OAUTH2_CLIENT_SECRET: clientSecret }
      })
      assert.strictEqual(result.code, 7, result.stderr)
      assert.include(result.stderr, "hint: check that the server at --issuer (EFFECT_OAUTH2_ISSUER) is reachable")
      assert.notInclude(result.stderr, "--emulator")
    }))

  it.scopedLive("a method the server does not list is refused before any token request", () =>
    Effect.gen(function*() {
      const as = yield* server({ methods: ["client_secret_basic"] })
      const dir = yield* tempDir
      const keyFile = writeKey(dir, 0o600)
      const noKeyMethod = yield* cli(
        ["token", "oauth2", "--issuer", as.issuer, "--client-id", clientId, "--private-key", keyFile]
      )
      assert.strictEqual(noKeyMethod.code, 2, noKeyMethod.stderr)
      assert.include(noKeyMethod.stderr, "private_key_jwt")
      const post = yield* cli(
        ["token", "oauth2", "--issuer", as.issuer, "--client-id", clientId, "--auth-method", "client_secret_post"],
        { env: { EFFECT_OAUTH2_CLIENT_SECRET: clientSecret } }
      )
      assert.strictEqual(post.code, 2, post.stderr)
      assert.include(post.stderr, "client_secret_post")
      assert.deepStrictEqual(as.seen, [])
      assertNoSecrets(noKeyMethod.stderr + post.stderr, [clientSecret, ...keyMaterial], "method")
    }))

  it.scopedLive("revoke and introspect a token from standard input, with the private key", () =>
    Effect.gen(function*() {
      const as = yield* server()
      const dir = yield* tempDir
      const base = ["--issuer", as.issuer, "--client-id", clientId, "--private-key", writeKey(dir, 0o600)]
      const token = yield* cli(["token", "oauth2", ...base, "--raw"])
      assert.strictEqual(token.code, 0, token.stderr)
      const introspected = yield* cli(["introspect", "oauth2", ...base, "--token-stdin", "--json"], { stdin: token.stdout })
      assert.strictEqual(introspected.code, 0, introspected.stderr)
      assert.strictEqual((JSON.parse(introspected.stdout) as { active: boolean }).active, true)
      const revoked = yield* cli(["revoke", "oauth2", ...base, "--token-stdin"], { stdin: token.stdout })
      assert.strictEqual(revoked.code, 0, revoked.stderr)
      assert.include(revoked.stdout, "Revoked the oauth2 access token")
      assert.deepStrictEqual(as.seen.map((s) => [s.path, s.auth]), [
        ["/token", "private_key_jwt"],
        ["/introspect", "private_key_jwt"],
        ["/revoke", "private_key_jwt"]
      ])
      assertNoSecrets(introspected.stdout + introspected.stderr + revoked.stdout + revoked.stderr, keyMaterial, "revoke")
    }))

  it.scopedLive("a key file owned by another user is refused, even at mode 600", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const keyFile = writeKey(dir, 0o600)
      // Only root can give a file away; elsewhere the check is the same code path as the mode's.
      if (process.getuid?.() !== 0) return
      fs.chownSync(keyFile, 65534, 65534)
      const result = yield* cli(
        ["token", "oauth2", "--issuer", "https://auth.example.com", "--client-id", clientId, "--private-key", keyFile]
      )
      assert.strictEqual(result.code, 2, result.stderr)
      assert.include(result.stderr, `private key file ${keyFile}: it holds secrets and belongs to another user (uid 65534`)
      assertNoSecrets(result.stdout + result.stderr, keyMaterial, "foreign owner")
    }))

  it.scopedLive("the config file: the oauth2 members only in its \"oauth2\" section, the key file named there", () =>
    Effect.gen(function*() {
      const as = yield* server()
      const dir = yield* tempDir
      const keyFile = writeKey(dir, 0o600)
      const write = (content: unknown) => {
        const file = path.join(dir, "effect-oauth2.json")
        fs.writeFileSync(file, JSON.stringify(content), { mode: 0o600 })
        return file
      }
      const good = yield* cli(["token", "oauth2", "--config", write({
        oauth2: { issuer: as.issuer, clientId, privateKeyFile: keyFile, keyId: "k1", alg: "ES256", audience: as.issuer }
      })])
      assert.strictEqual(good.code, 0, good.stderr)
      assert.deepStrictEqual(as.seen.map((s) => s.auth), ["private_key_jwt kid=k1"])
      // the flag wins over the file
      const flagWins = yield* cli(["token", "oauth2", "--key-id", "k2", "--config", write({
        oauth2: { issuer: as.issuer, clientId, privateKeyFile: keyFile, keyId: "k1" }
      })])
      assert.strictEqual(flagWins.code, 0, flagWins.stderr)
      assert.strictEqual(as.seen[1]!.auth, "private_key_jwt kid=k2")
      for (const [content, expected] of [
        [{ "figure-pay": { issuer: as.issuer } }, "unknown member \"figure-pay.issuer\""],
        [{ oauth2: { environment: "uat" } }, "unknown member \"oauth2.environment\""],
        [{ oauth2: { privateKey: pem } }, "unknown member \"oauth2.privateKey\""]
      ] as const) {
        const bad = yield* cli(["token", "oauth2", "--config", write(content)])
        assert.strictEqual(bad.code, 2, bad.stderr)
        assert.include(bad.stderr, expected)
        assertNoSecrets(bad.stderr, keyMaterial, "config")
      }
    }))

  it.effect("--help names the oauth2 mode, its flags and its environment variables", () =>
    Effect.gen(function*() {
      const help = plain((yield* cli(["token", "--help"])).stdout)
      for (const text of ["oauth2", "--issuer", "--private-key", "--auth-method", "--key-id", "--alg", "--audience"]) {
        assert.include(help, text)
      }
      assert.include(help, "oauth2: EFFECT_OAUTH2_ISSUER, EFFECT_OAUTH2_CLIENT_ID, EFFECT_OAUTH2_CLIENT_SECRET, EFFECT_OAUTH2_PRIVATE_KEY_FILE")
    }))

  it.effect.prop(
    "the oauth2 flags are refused with the four providers, saying they are for the oauth2 mode",
    [
      fc.constantFrom("figure-markets", "figure-pay", "tradier", "openmarkets"),
      fc.constantFrom("--issuer", "--private-key", "--auth-method", "--key-id", "--alg", "--audience")
    ],
    ([provider, flag]) =>
      Effect.gen(function*() {
        const result = yield* cli(["token", provider, flag, "x", "--emulator"])
        assert.strictEqual(result.code, 2, result.stderr)
        assert.include(result.stderr, `${flag} is for the oauth2 mode`)
      }),
    { fastCheck: { numRuns: 12 } }
  )

  it.scopedLive("missing settings and flags that make no sense for oauth2 are usage errors that say what to give", () =>
    Effect.gen(function*() {
      const none = yield* cli(["token", "oauth2"])
      assert.strictEqual(none.code, 2)
      assert.include(none.stderr, "EFFECT_OAUTH2_ISSUER and EFFECT_OAUTH2_CLIENT_ID and EFFECT_OAUTH2_CLIENT_SECRET, EFFECT_OAUTH2_PRIVATE_KEY_FILE or EFFECT_OAUTH2_CERT_FILE are not set")
      const env = yield* cli(["token", "oauth2", "--issuer", "https://auth.example.com", "--env", "uat"])
      assert.strictEqual(env.code, 2)
      assert.include(env.stderr, "oauth2 has no --env")
      const emulator = yield* cli(["token", "oauth2", "--emulator"])
      assert.strictEqual(emulator.code, 2)
      assert.include(emulator.stderr, "--emulator serves the built-in providers, not discovery")
      const dir = yield* tempDir
      const method = yield* cli(
        ["token", "oauth2", "--issuer", "https://auth.example.com", "--client-id", "c", "--auth-method", "magic"],
        { env: { EFFECT_OAUTH2_CLIENT_SECRET: clientSecret } }
      )
      assert.strictEqual(method.code, 2)
      assert.include(method.stderr, "EFFECT_OAUTH2_AUTH_METHOD")
      const missingKey = yield* cli([
        "token",
        "oauth2",
        "--issuer",
        "https://auth.example.com",
        "--client-id",
        "c",
        "--private-key",
        path.join(dir, "nope.pem")
      ])
      assert.strictEqual(missingKey.code, 2)
      assert.include(missingKey.stderr, "cannot read the private key file")
    }))
})
