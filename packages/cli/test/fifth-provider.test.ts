/**
 * A fifth provider, defined here and nowhere else: the command lists it, prints its environment variables, gets,
 * revokes and self-tests its tokens against a loopback server, and refuses what its definition refuses, with no
 * change to the command's source. Its whole cost is `{ definition }` in `Cli.run`'s `providers`.
 */
import { assert, describe, it } from "@effect/vitest"
import * as OAuth2Provider from "@effect-oauth2/core/OAuth2Provider"
import * as Effect from "effect/Effect"
import { generateKeyPairSync } from "node:crypto"
import * as fs from "node:fs"
import * as Cli from "../src/Cli.js"
import * as CliProvider from "../src/CliProvider.js"
import * as AuthServer from "./authServer.js"
import { assertNoSecrets, plain, type Result } from "./utils.js"

const definition: OAuth2Provider.Definition = {
  name: "acme",
  title: "Acme Brokerage",
  envPrefix: "ACME",
  environments: {
    sandbox: { auth: "https://auth.sandbox.acme.test" },
    production: { auth: "https://auth.acme.test" }
  },
  defaultEnvironment: "sandbox",
  acquire: "client_credentials",
  scopes: { kind: "closed", known: ["read", "trade"], default: ["read"], delimiter: " " },
  authorizationServer: { tokenUrl: "{auth}/token", authMethod: "client_secret_basic", defaultLifetime: "1 hour" },
  revocation: { url: "{auth}/revoke" },
  introspection: { unsupported: "Acme documents no introspection endpoint: run `effect-oauth2 whoami acme`." },
  login: { unsupported: "acme uses the client-credentials grant: there is nothing to log in to." },
  apis: { api: "{auth}/api" }
}

const providers = [...CliProvider.providers, { definition }]
const clientId = "acme-client"
const clientSecret = "acme-secret-0123456789"
const keys = generateKeyPairSync("ec", { namedCurve: "P-256" })

/** The command with the fifth provider, output captured (as `utils.cli`, plus `providers`). */
const run = (
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string>> = {},
  stdin?: string
): Effect.Effect<Result> =>
  Effect.suspend(() => {
    let stdout = ""
    let stderr = ""
    const io: Partial<Cli.Io> = {
      stdout: (text) => void (stdout += text),
      stderr: (text) => void (stderr += text),
      stderrIsTTY: false,
      stdinIsTTY: stdin === undefined,
      env,
      readStdin: Effect.succeed(stdin ?? ""),
      openUrl: () => Effect.die("no browser in tests")
    }
    return Effect.map(Cli.run(args, { io, providers }), (code) => ({ code, stdout, stderr }))
  })

const server = AuthServer.make({ clientId, clientSecret, publicKey: keys.publicKey, methods: ["client_secret_basic"] })

describe("a fifth provider, from its definition alone", () => {
  it.effect("is listed, with its environment variables (OAuth2Provider.variables), in --help", () =>
    Effect.gen(function*() {
      const help = plain((yield* run(["token", "--help"])).stdout)
      assert.include(help, "acme")
      const names = OAuth2Provider.variables(definition).map((v) => v.name)
      assert.deepStrictEqual(names.slice(0, 5), ["ACME_CLIENT_ID", "ACME_CLIENT_SECRET", "ACME_ENV", "ACME_SCOPES", "ACME_AUTH_URL"])
      assert.include(help, `acme: ${names.join(", ")}`)
      assert.include(help, "acme sandbox|production (default sandbox)")
      // The built-in providers are still there, each with its definition's variables.
      for (const entry of CliProvider.providers) {
        assert.include(help, `${entry.definition.name}: ${OAuth2Provider.variables(entry.definition).map((v) => v.name).join(", ")}`)
      }
      // Without it in `providers`, the command does not know it.
      let stderr = ""
      const code = yield* Cli.run(["token", "acme"], { io: { env: {}, stdout: () => {}, stderr: (t) => void (stderr += t) } })
      assert.strictEqual(code, 2)
      assert.include(stderr, "figure-markets")
    }))

  it.scoped("gets, revokes and self-tests a token at a loopback server given as its host", () =>
    Effect.gen(function*() {
      const auth = yield* server
      const env = { ACME_CLIENT_ID: clientId, ACME_CLIENT_SECRET: clientSecret, ACME_AUTH_URL: auth.issuer }

      const token = yield* run(["token", "acme", "--json", "--show"], env)
      assert.strictEqual(token.code, 0, token.stderr)
      const answer = JSON.parse(token.stdout) as Record<string, unknown>
      assert.strictEqual(answer["ok"], true)
      assert.strictEqual(answer["provider"], "acme")
      assert.strictEqual(answer["environment"], "sandbox")
      assert.deepStrictEqual(answer["scopes"], ["read"])
      assert.strictEqual(answer["token"], auth.issued[0])
      assert.deepStrictEqual(auth.seen.map((s) => [s.path, s.auth]), [["/token", "basic"]])
      assert.include(auth.seen[0]!.body, "scope=read")

      const revoked = yield* run(["revoke", "acme", "--token-stdin"], env, auth.issued[0]!)
      assert.strictEqual(revoked.code, 0, revoked.stderr)
      assert.include(revoked.stdout, "Revoked the acme access token (sandbox)")
      assert.deepStrictEqual(auth.seen.map((s) => s.path), ["/token", "/revoke"])

      const whoami = yield* run(["whoami", "acme", "--scopes", "trade"], env)
      assert.strictEqual(whoami.code, 0, whoami.stderr)
      assert.include(whoami.stdout, "acme (sandbox): credentials accepted, a token was granted with scopes trade.")
      assertNoSecrets(token.stderr + revoked.stdout + revoked.stderr + whoami.stdout + whoami.stderr, [clientSecret], "acme")
    }))

  it.scoped("refuses what its definition refuses, before any request", () =>
    Effect.gen(function*() {
      const auth = yield* server
      const env = { ACME_CLIENT_ID: clientId, ACME_CLIENT_SECRET: clientSecret, ACME_AUTH_URL: auth.issuer }
      const unknownScope = yield* run(["token", "acme", "--scopes", "admin"], env)
      assert.notStrictEqual(unknownScope.code, 0)
      assert.include(unknownScope.stderr, "admin")
      const env2 = yield* run(["token", "acme", "--env", "staging"], env)
      assert.strictEqual(env2.code, 2)
      assert.include(env2.stderr, "--env must be one of sandbox, production for acme")
      const introspect = yield* run(["introspect", "acme", "--token-stdin"], env, "x")
      assert.strictEqual(introspect.code, 9)
      assert.include(introspect.stderr, "Acme documents no introspection endpoint")
      const login = yield* run(["login", "acme"], env)
      assert.strictEqual(login.code, 9)
      assert.include(login.stderr, "nothing to log in to")
      const emulator = yield* run(["token", "acme", "--emulator"], env)
      assert.strictEqual(emulator.code, 2)
      assert.include(emulator.stderr, "--emulator serves figure-markets, figure-pay, tradier, openmarkets, schwab, tradestation, tastytrade, saxo, not acme")
      const noCredentials = yield* run(["token", "acme"], { ACME_AUTH_URL: auth.issuer })
      assert.strictEqual(noCredentials.code, 2)
      assert.include(noCredentials.stderr, "ACME_CLIENT_ID and ACME_CLIENT_SECRET are not set")
      assert.deepStrictEqual(auth.seen, [])
    }))
})

describe("the README's table of environment variables", () => {
  it("is each built-in definition's OAuth2Provider.variables, in order", () => {
    const readme = fs.readFileSync(new URL("../README.md", import.meta.url), "utf8")
    for (const { definition } of CliProvider.providers) {
      const row = `| ${definition.name} | ${OAuth2Provider.variables(definition).map((v) => `\`${v.name}\``).join(", ")} |`
      assert.include(readme, row)
    }
  })
})
