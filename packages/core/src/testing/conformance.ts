/**
 * The shared conformance suite: what every provider package's `AccessTokens` must do, run by each provider package
 * against its own layer pointed at the emulator (the pattern of `@effect/sql`'s shared suites).
 *
 * ```ts
 * import { conformance } from "@effect-oauth2/core/conformance"
 * conformance({ name: "Figure Markets", harness: ... })
 * ```
 */
import type * as HttpClientError from "@effect/platform/HttpClientError"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as TestServices from "effect/TestServices"
import type * as AccessTokens from "../AccessTokens.js"
import type * as OAuth2Error from "../OAuth2Error.js"

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
  /** Whether tokens come from client credentials (so `refresh` and `invalidate` can fetch a new one). */
  readonly clientCredentials: boolean
  /** Strings that must never appear in errors or logs: the client secret and the like. */
  readonly secrets: ReadonlyArray<string>
}

/** The options of {@link conformance}. */
export interface Options {
  /** The provider's name, for the test titles. */
  readonly name: string
  /** Builds a fresh harness (an emulator, the provider's layers) in the test's scope. */
  readonly harness: Effect.Effect<Harness, never, Scope.Scope>
}

const noSecretIn = (harness: Harness, value: unknown, token?: string) => {
  const text = [String(value), JSON.stringify(value), value instanceof Error ? value.message : ""].join("\n")
  for (const secret of [...harness.secrets, ...(token === undefined ? [] : [token])]) {
    assert.notInclude(text, secret, "a secret leaked into an error")
  }
}

/** Registers the conformance tests. Runs with the live clock: the emulator and the client share real time. */
export const conformance = (options: Options): void => {
  const test = (name: string, body: (harness: Harness) => Effect.Effect<void, unknown, Scope.Scope>) =>
    it.live(name, () => Effect.scoped(Effect.flatMap(options.harness, body)).pipe(TestServices.provideLive))

  describe(`${options.name}: AccessTokens conformance`, () => {
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
        // The next call gets a new token (the revoked one was dropped) and succeeds.
        yield* h.protectedCall
        assert.strictEqual(yield* h.tokenRequests, 2)
      }))
  })
}
