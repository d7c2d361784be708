/**
 * The shared conformance suite: what every provider package's `AccessTokens` must do, run by each provider package
 * against its own layer pointed at the emulator (the pattern of `@effect/sql`'s shared suites).
 *
 * ```ts
 * import { conformance } from "@effect-oauth2/core/conformance"
 * conformance({ definition: FigureMarkets.definition, build: ..., harness: ... })
 * ```
 *
 * With a `definition`, it also runs one case per rule of core's validation (`OAuth2Provider.resolve`) through the
 * provider's own constructor: empty client id, empty client secret, a non-HTTPS host or token URL, an unknown
 * environment, scopes (unknown where the list is closed, any where the provider takes none, malformed where it is
 * open), and the definition's own `check` through `checks`.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as TestServices from "effect/TestServices"
import type * as AccessTokens from "../AccessTokens.js"
import type * as OAuth2Error from "../OAuth2Error.js"
import * as OAuth2Provider from "../OAuth2Provider.js"

/** What a provider package hands the suite. Build everything in the scope: the suite calls it once per test. */
export interface Harness {
  /** `AccessTokens` built by the provider's own layer, with valid credentials. */
  readonly tokens: AccessTokens.Service
  /** How many token requests the server has answered so far (from the emulator's counters). */
  readonly tokenRequests: Effect.Effect<number>
  /**
   * One call to the provider's protected API through the provider's authorised client; succeeds when the API
   * accepted the token.
   */
  readonly protectedCall: Effect.Effect<void, OAuth2Error.OAuth2Error | HttpClientError.HttpClientError>
  /** `AccessTokens` built by the same layer with a wrong client secret. */
  readonly withWrongSecret: Effect.Effect<AccessTokens.Service, never, Scope.Scope>
  /** Whether the provider supports revocation (then `revoke` must make the API reject the token). */
  readonly supportsRevocation: boolean
  /**
   * Whether a revocation ends the login the tokens come from (a provider whose revocation kills the refresh token):
   * the next call then asks once with the dead refresh token, is refused, and fails with `LoginRequired`. Default:
   * `false` (the next call gets a new token).
   */
  readonly revocationEndsLogin?: boolean | undefined
  /** Whether tokens come from client credentials (so `refresh` and `invalidate` can fetch a new one). */
  readonly clientCredentials: boolean
  /** Strings that must never appear in errors or logs: the client secret and the like. */
  readonly secrets: ReadonlyArray<string>
}

/** A case of a definition's own `check`: settings it must refuse, and what the refusal says. */
export interface CheckCase {
  readonly title: string
  /** Merged over valid settings. */
  readonly settings: Partial<OAuth2Provider.Settings>
  /** A text the `InvalidConfiguration`'s message includes. */
  readonly includes: string
}

/** The options of {@link conformance}. */
export interface Options {
  /** The provider's name, for the test titles. Default: the definition's title. */
  readonly name?: string | undefined
  /** The provider's definition: runs the validation cases. */
  readonly definition?: OAuth2Provider.Definition | undefined
  /**
   * Builds the provider with these settings through its own constructor (its package `layer` or `make`, with what it
   * needs besides the settings: an `HttpClient`, a `TokenStore`). It must send no request. Default:
   * `OAuth2Provider.make(definition, settings)` over an `HttpClient` that is never called.
   */
  readonly build?: ((settings: OAuth2Provider.Settings) => Effect.Effect<unknown, unknown, Scope.Scope>) | undefined
  /** Cases of the definition's own `check`. Default: none. */
  readonly checks?: ReadonlyArray<CheckCase> | undefined
  /**
   * Builds a fresh harness (an emulator, the provider's layers) in the test's scope. Default: none (only the
   * validation cases run; give a `definition`).
   */
  readonly harness?: Effect.Effect<Harness, never, Scope.Scope> | undefined
}

// `refreshToken` is read only by definitions whose tokens come from a given refresh token.
const validSettings: OAuth2Provider.Settings = {
  clientId: "conformance-client",
  clientSecret: "conformance-s3cret",
  refreshToken: "conformance-refresh-t0ken"
}

/** No request may leave during validation: this client fails the test if one does. */
const noHttp = HttpClient.make((request) => Effect.dieMessage(`validation sent a request to ${request.url}`))

/** The validation cases: one per rule of `OAuth2Provider.resolve`, through the provider's own constructor. */
const validation = (
  definition: OAuth2Provider.Definition,
  build: (settings: OAuth2Provider.Settings) => Effect.Effect<unknown, unknown, Scope.Scope>,
  checks: ReadonlyArray<CheckCase>
) => {
  const refuses = (title: string, settings: Partial<OAuth2Provider.Settings>, includes: ReadonlyArray<string>) =>
    it.live(title, () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Effect.scoped(build({ ...validSettings, ...settings })))
        assert.strictEqual((error as { _tag?: unknown })._tag, "InvalidConfiguration", String(error))
        const text = [String(error), JSON.stringify(error)].join("\n")
        for (const expected of includes) assert.include(text, expected)
        assert.notInclude(text, validSettings.clientSecret as string, "the client secret leaked into an error")
        assert.notInclude(text, validSettings.refreshToken as string, "the refresh token leaked into an error")
      }))
  const hosts = OAuth2Provider.hostNames(definition)
  const scopes = definition.scopes
  describe(`${definition.title}: validation (one case per rule)`, () => {
    it.live("valid settings build, and send no request", () => Effect.scoped(Effect.asVoid(build(validSettings))))
    refuses("an empty client id", { clientId: "  " }, ["clientId"])
    refuses("an empty client secret", { clientSecret: "" }, ["clientSecret"])
    if (definition.acquire === "refresh_token") {
      refuses("no refresh token (tokens come from one)", { refreshToken: undefined }, ["refreshToken", "_REFRESH_TOKEN"])
      refuses("an empty refresh token", { refreshToken: " " }, ["refreshToken"])
    }
    if (definition.userAgent !== undefined) {
      refuses("a User-Agent with a line break", { userAgent: "bot/1.0\r\nX-Injected: 1" }, ["userAgent"])
    }
    for (const host of hosts) {
      refuses(`a non-HTTPS ${host} host`, { hosts: { [host]: `http://${host}.conformance.example` } }, ["https://"])
    }
    refuses("a non-HTTPS token URL", { tokenUrl: "http://token.conformance.example/token" }, ["https://"])
    refuses(
      "an unknown environment",
      { environment: "no-such-environment" },
      Object.keys(definition.environments)
    )
    if (scopes.kind === "closed") {
      refuses("an unknown scope (the list is closed)", { scopes: ["no-such-scope"] }, ["no-such-scope"])
    } else if (scopes.kind === "none") {
      refuses("any scope (the provider takes none)", { scopes: ["no-such-scope"] }, ["no scope"])
    } else {
      refuses("a malformed scope (the list is open)", { scopes: ["two words"] }, ["single words"])
      it.live("an unlisted well-formed scope passes (the list is open)", () =>
        Effect.scoped(Effect.asVoid(build({ ...validSettings, scopes: ["conformance.unlisted"] }))))
    }
    if (scopes.required === true) refuses("no scope where one is required", { scopes: [] }, ["at least one"])
    for (const check of checks) refuses(`its own check: ${check.title}`, check.settings, [check.includes])
  })
}

const noSecretIn = (harness: Harness, value: unknown, token?: string) => {
  const text = [String(value), JSON.stringify(value), value instanceof Error ? value.message : ""].join("\n")
  for (const secret of [...harness.secrets, ...(token === undefined ? [] : [token])]) {
    assert.notInclude(text, secret, "a secret leaked into an error")
  }
}

/** Registers the conformance tests. Runs with the live clock: the emulator and the client share real time. */
export const conformance = (options: Options): void => {
  const definition = options.definition
  if (definition !== undefined) {
    validation(
      definition,
      options.build ??
        ((settings) =>
          OAuth2Provider.make(definition, settings).pipe(Effect.provideService(HttpClient.HttpClient, noHttp))),
      options.checks ?? []
    )
  }
  const name = options.name ?? definition?.title ?? "provider"
  const harness = options.harness
  if (harness === undefined) return
  const test = (name: string, body: (harness: Harness) => Effect.Effect<void, unknown, Scope.Scope>) =>
    it.live(name, () => Effect.scoped(Effect.flatMap(harness, body)).pipe(TestServices.provideLive))

  describe(`${name}: AccessTokens conformance`, () => {
    test("get returns a Bearer token, then serves it from the cache", (h) =>
      Effect.gen(function*() {
        const first = yield* h.tokens.get
        const second = yield* h.tokens.get
        assert.strictEqual(first.type, "Bearer")
        assert.isAbove(first.expiresAt, first.issuedAt)
        assert.isTrue(Redacted.value(first.value).length > 0)
        assert.strictEqual(Redacted.value(second.value), Redacted.value(first.value))
        assert.strictEqual(yield* h.tokenRequests, 1)
        noSecretIn(h, first, Redacted.value(first.value))
      }))

    test("50 concurrent gets on a cold cache make one token request", (h) =>
      Effect.gen(function*() {
        const all = yield* Effect.all(Array.from({ length: 50 }, () => h.tokens.get), { concurrency: "unbounded" })
        assert.strictEqual(new Set(all.map((t) => Redacted.value(t.value))).size, 1)
        assert.strictEqual(yield* h.tokenRequests, 1)
      }))

    test("the protected API accepts the token", (h) =>
      Effect.gen(function*() {
        yield* h.protectedCall
        yield* h.protectedCall
        assert.strictEqual(yield* h.tokenRequests, 1)
      }))

    test("a wrong client secret is Unauthorized (invalid_client), not retryable, and names no secret", (h) =>
      Effect.gen(function*() {
        const tokens = yield* h.withWrongSecret
        const error = yield* Effect.flip(tokens.get)
        assert.strictEqual(error._tag, "Unauthorized")
        if (error._tag === "Unauthorized") assert.strictEqual(error.reason, "invalid_client")
        assert.isFalse(error.retryable)
        noSecretIn(h, error)
      }))

    test("invalidate and refresh get a new token where the provider issues them", (h) =>
      Effect.gen(function*() {
        const first = yield* h.tokens.get
        if (!h.clientCredentials) return
        yield* h.tokens.invalidate(first)
        const second = yield* h.tokens.get
        assert.notStrictEqual(Redacted.value(second.value), Redacted.value(first.value))
        const third = yield* h.tokens.refresh
        assert.notStrictEqual(Redacted.value(third.value), Redacted.value(second.value))
        assert.strictEqual(yield* h.tokenRequests, 3)
        yield* h.protectedCall
      }))

    test("revoke: the API rejects the token afterwards, or the provider says it cannot", (h) =>
      Effect.gen(function*() {
        yield* h.protectedCall
        const result = yield* Effect.either(h.tokens.revoke)
        if (!h.supportsRevocation) {
          assert.isTrue(result._tag === "Left" && result.left._tag === "Unsupported")
          return
        }
        assert.strictEqual(result._tag, "Right")
        if (h.revocationEndsLogin === true) {
          const before = yield* h.tokenRequests
          const error = yield* Effect.flip(h.protectedCall)
          assert.strictEqual(error._tag, "LoginRequired")
          assert.strictEqual(yield* h.tokenRequests, before + 1)
          noSecretIn(h, error)
          // The refused refresh token is dead: later calls fail the same way without sending it again.
          assert.strictEqual((yield* Effect.flip(h.protectedCall))._tag, "LoginRequired")
          assert.strictEqual((yield* Effect.flip(h.tokens.get))._tag, "LoginRequired")
          assert.strictEqual(yield* h.tokenRequests, before + 1)
          return
        }
        // The next call gets a new token (the revoked one was dropped) and succeeds.
        yield* h.protectedCall
        assert.strictEqual(yield* h.tokenRequests, 2)
      }))
  })
}
