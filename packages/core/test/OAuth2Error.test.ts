import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as fc from "effect/FastCheck"
import * as Schema from "effect/Schema"
import * as OAuth2Error from "../src/OAuth2Error.js"

const source = "token-endpoint" as const

/** One instance of every class of the family, with what its message must say. */
const samples: ReadonlyArray<{
  readonly error: OAuth2Error.OAuth2Error
  readonly tag: OAuth2Error.OAuth2Error["_tag"]
  readonly retryable: boolean
  /** Fragments the message must contain: what happened, and what to do. */
  readonly says: ReadonlyArray<string>
}> = [
  {
    error: new OAuth2Error.InvalidScope({ provider: "openmarkets", source, requestedScopes: ["oms-api", "news-api"] }),
    tag: "InvalidScope",
    retryable: false,
    says: ["[openmarkets]", "refused the requested scopes: oms-api news-api", "A new token will not help"]
  },
  {
    error: new OAuth2Error.InvalidScope({
      source: "resource-server",
      requestedScopes: ["read"],
      requiredScope: "trade",
      status: 403
    }),
    tag: "InvalidScope",
    retryable: false,
    says: ["refused the call for lack of scope", `needs "trade"`, "the token carries: read"]
  },
  {
    error: new OAuth2Error.Unauthorized({ provider: "tradier", source, reason: "invalid_client", status: 401 }),
    tag: "Unauthorized",
    retryable: false,
    says: ["[tradier]", "Unauthorized (invalid_client)", "Check the client id and secret", "environment"]
  },
  {
    error: new OAuth2Error.Unauthorized({ source, reason: "invalid_grant", description: "code expired" }),
    tag: "Unauthorized",
    retryable: false,
    says: ["invalid_grant", "server said: code expired", "log in again"]
  },
  {
    error: new OAuth2Error.Unauthorized({ source: "resource-server", reason: "rejected-token", status: 401 }),
    tag: "Unauthorized",
    retryable: false,
    says: ["rejected a freshly acquired token", "same environment"]
  },
  {
    error: new OAuth2Error.Expired({
      source,
      expiredAt: Date.UTC(2025, 0, 2, 3, 4, 5),
      hint: "Log in again.",
      lastFailure: "connection refused"
    }),
    tag: "Expired",
    retryable: true,
    says: ["expired at 2025-01-02T03:04:05.000Z", "no new one could be had", "Log in again.", "Last attempt: connection refused"]
  },
  {
    error: new OAuth2Error.Expired({ source, hint: "Log in again." }),
    tag: "Expired",
    retryable: false,
    says: ["No valid access token can be had. Log in again."]
  },
  {
    error: new OAuth2Error.RateLimited({ provider: "figure-markets", source, status: 429, retryAfterMillis: 90_000 }),
    tag: "RateLimited",
    retryable: true,
    says: ["[figure-markets]", "Rate limited", "HTTP 429", "Try again in 1m 30s"]
  },
  {
    error: new OAuth2Error.RateLimited({ source, status: 429 }),
    tag: "RateLimited",
    retryable: true,
    says: ["no Retry-After", "back off"]
  },
  {
    error: new OAuth2Error.TransportError({
      source,
      reason: "Timeout",
      request: "POST https://auth.example.com/token",
      description: "no complete answer within 30s"
    }),
    tag: "TransportError",
    retryable: true,
    says: ["POST https://auth.example.com/token timed out", "not a credentials problem", "check the URL, DNS, proxy"]
  },
  {
    error: new OAuth2Error.TransportError({
      source,
      reason: "Network",
      request: "POST https://auth.example.com/token",
      description: "ECONNREFUSED"
    }),
    tag: "TransportError",
    retryable: true,
    says: ["failed: ECONNREFUSED", "retrying can help"]
  },
  {
    error: new OAuth2Error.MalformedResponse({ source, status: 200, contentType: "text/html", reason: "not JSON" }),
    tag: "MalformedResponse",
    retryable: false,
    says: ["Unusable answer", "HTTP 200, text/html", "not JSON", "Check that the URL points at the provider"]
  },
  {
    error: new OAuth2Error.MalformedResponse({ source, status: 502, reason: "an HTML body" }),
    tag: "MalformedResponse",
    retryable: true,
    says: ["HTTP 502", "passing server fault", "retrying can help"]
  },
  {
    error: new OAuth2Error.ProtocolError({ source, status: 400, error: "invalid_request", errorDescription: "bad" }),
    tag: "ProtocolError",
    retryable: false,
    says: ["answered HTTP 400 invalid_request", "server said: bad", "rejected the request as malformed", "client auth style"]
  },
  {
    error: new OAuth2Error.ProtocolError({ source, status: 400, error: "unsupported_grant_type" }),
    tag: "ProtocolError",
    retryable: false,
    says: ["does not support this grant"]
  },
  {
    error: new OAuth2Error.ProtocolError({ source, status: 500 }),
    tag: "ProtocolError",
    retryable: true,
    says: ["HTTP 500", "The server is failing", "retrying can help"]
  },
  {
    error: new OAuth2Error.ProtocolError({ source, status: 400, error: "temporarily_unavailable" }),
    tag: "ProtocolError",
    retryable: true,
    says: ["temporarily_unavailable", "retrying can help"]
  },
  {
    error: new OAuth2Error.ProtocolError({ source, status: 400, error: "x", errorUri: "https://e.example.com/x" }),
    tag: "ProtocolError",
    retryable: false,
    says: ["See https://e.example.com/x."]
  },
  {
    error: new OAuth2Error.AuthorizationFailed({ source: "authorization", reason: "state_mismatch" }),
    tag: "AuthorizationFailed",
    retryable: false,
    says: ["state does not match", "forged or replayed", "Start the login again"]
  },
  {
    error: new OAuth2Error.AuthorizationFailed({ source: "authorization", reason: "access_denied" }),
    tag: "AuthorizationFailed",
    retryable: false,
    says: ["The user refused", "Start the login again"]
  },
  {
    error: new OAuth2Error.AuthorizationFailed({ source: "authorization", reason: "server_error", description: "oops" }),
    tag: "AuthorizationFailed",
    retryable: false,
    says: [`ended the authorization with "server_error"`, "server said: oops"]
  },
  {
    error: new OAuth2Error.Unsupported({ provider: "figure-pay", source: "configuration", operation: "revocation", hint: "Drop the token." }),
    tag: "Unsupported",
    retryable: false,
    says: ["[figure-pay] revocation is not supported by this provider.", "Drop the token."]
  },
  {
    error: new OAuth2Error.InvalidConfiguration({ source: "configuration", description: "tokenUrl must use https://" }),
    tag: "InvalidConfiguration",
    retryable: false,
    says: ["Invalid configuration: tokenUrl must use https://"]
  },
  {
    error: new OAuth2Error.TokenStoreError({
      source: "token-store",
      operation: "get",
      description: "the file was written with another key"
    }),
    tag: "TokenStoreError",
    retryable: true,
    says: ["Token store get failed", "another key"]
  },
  {
    error: new OAuth2Error.ServiceClosed({ provider: "tradier", source: "configuration", service: "AccessTokens" }),
    tag: "ServiceClosed",
    retryable: false,
    says: ["[tradier] The AccessTokens service is closed", "Use it only inside the scope that provides it"]
  },
  {
    error: new OAuth2Error.Expired({
      provider: "tradier",
      source,
      expiredAt: Date.UTC(2030, 0, 1, 12),
      refusedAt: Date.UTC(2030, 0, 1, 11),
      hint: "Log in again."
    }),
    tag: "Expired",
    retryable: false,
    says: [
      "refused to renew the access token at 2030-01-01T11:00:00.000Z, before its expiry at 2030-01-01T12:00:00.000Z",
      "Log in again."
    ]
  },
  {
    error: new OAuth2Error.LoginRequired({
      provider: "saxo",
      source,
      refreshTokenExpiredAt: Date.UTC(2030, 0, 1, 10),
      accessTokenExpiresAt: Date.UTC(2030, 0, 1, 10, 20)
    }),
    tag: "LoginRequired",
    retryable: false,
    says: [
      "[saxo] The refresh token expired at 2030-01-01T10:00:00.000Z (the lifetime the server gave it)",
      "the access token expired at 2030-01-01T10:20:00.000Z",
      "log in again."
    ]
  },
  {
    error: new OAuth2Error.LoginRequired({
      source,
      refusedAt: Date.UTC(2030, 0, 1, 11),
      accessTokenExpiresAt: Date.UTC(2030, 0, 1, 12)
    }),
    tag: "LoginRequired",
    retryable: false,
    says: [
      "The server refused the refresh token at 2030-01-01T11:00:00.000Z (expired or revoked)",
      "the access token is valid until 2030-01-01T12:00:00.000Z but cannot be renewed",
      "log in again."
    ]
  }
]

describe("OAuth2Error", () => {
  it("every class of the union is sampled", () => {
    const sampled = new Set(samples.map((s) => s.tag))
    for (const member of OAuth2Error.OAuth2Error.members) {
      assert.isTrue(sampled.has(member._tag), `no sample of ${member._tag}`)
    }
  })

  for (const { error, retryable, says, tag } of samples) {
    it(`${tag}: tag, guard, retryable (${retryable}) and a message that says what happened and what to do`, () => {
      assert.strictEqual(error._tag, tag)
      assert.isTrue(OAuth2Error.isOAuth2Error(error))
      assert.strictEqual(error[OAuth2Error.TypeId], OAuth2Error.TypeId)
      assert.instanceOf(error, Error)
      assert.strictEqual(error.retryable, retryable)
      assert.strictEqual(OAuth2Error.isRetryable(error), retryable)
      for (const fragment of says) assert.include(error.message, fragment)
      assert.include(String(error), error.message)
    })

    it(`${tag}: encodes with the union schema and decodes back to an equal error`, () => {
      const encoded = Schema.encodeSync(OAuth2Error.OAuth2Error)(error)
      assert.strictEqual(encoded._tag, tag)
      const json = JSON.parse(JSON.stringify(encoded))
      const decoded = Schema.decodeUnknownSync(OAuth2Error.OAuth2Error)(json)
      assert.strictEqual(decoded._tag, tag)
      assert.strictEqual(decoded.message, error.message)
      assert.strictEqual(decoded.retryable, error.retryable)
      assert.isTrue(OAuth2Error.isOAuth2Error(decoded))
    })
  }

  it("isOAuth2Error is false for other values", () => {
    for (const value of [new Error("x"), null, undefined, "InvalidScope", { _tag: "InvalidScope" }, 42]) {
      assert.isFalse(OAuth2Error.isOAuth2Error(value))
    }
  })

  it("RateLimited.retryAfter is the server's wait as a Duration", () => {
    const limited = new OAuth2Error.RateLimited({ source, status: 429, retryAfterMillis: 1500 })
    assert.isTrue(Duration.equals(limited.retryAfter!, Duration.millis(1500)))
    assert.isUndefined(new OAuth2Error.RateLimited({ source, status: 429 }).retryAfter)
  })

  it("no provider: no prefix", () => {
    const error = new OAuth2Error.Unsupported({ source: "configuration", operation: "introspection" })
    assert.strictEqual(error.message, "introspection is not supported by this provider.")
  })

  it.effect("errors are yieldable and caught by tag", () =>
    Effect.gen(function*() {
      const failing: Effect.Effect<string, OAuth2Error.OAuth2Error> = new OAuth2Error.RateLimited({
        source,
        status: 429,
        retryAfterMillis: 10
      })
      const result = yield* failing.pipe(
        Effect.catchTags({
          RateLimited: (e) => Effect.succeed(`wait ${e.retryAfterMillis}`),
          Unauthorized: () => Effect.succeed("login")
        })
      )
      assert.strictEqual(result, "wait 10")
    }))
})

describe("sanitize: the one sanitiser of server text", () => {
  const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]/u
  const piece = fc.oneof(
    fc.string({ unit: "binary", maxLength: 40 }),
    fc.constantFrom("\u001b[2J", "\u001b]8;;https://evil.example\u0007link\u001b]8;;\u0007", "\u009b1;31m", "\r\n", "\u0000", "\u202e", "\u2067", "\u2028", "\ufeff", "\udfff", "\ud83d\ude00")
  )
  const text = fc.array(piece, { maxLength: 10 }).map((parts) => parts.join(""))

  it.prop("for any text: no control, format or separator character, at most max + 1 characters", [text, fc.integer({ min: 1, max: 300 })], ([input, max]) => {
    const out = OAuth2Error.sanitize(input, max)
    assert.notMatch(out, UNSAFE)
    assert.isAtMost(out.length, max + 1)
    // Sanitising again changes nothing but, at most, the cap's own mark.
    assert.strictEqual(OAuth2Error.sanitize(out, max + 1), out)
  }, { fastCheck: { numRuns: 500 } })

  it("plain text passes unchanged; sequences go whole; breaks become spaces; a cut never splits a pair", () => {
    assert.strictEqual(OAuth2Error.sanitize("The account is locked (see https://x.example/a?b=c)"), "The account is locked (see https://x.example/a?b=c)")
    assert.strictEqual(OAuth2Error.sanitize("a\u001b[2Jb\u001b]0;title\u0007c\u009b31md"), "abcd")
    assert.strictEqual(OAuth2Error.sanitize("line one\r\nerror: line two"), "line one  error: line two")
    assert.strictEqual(OAuth2Error.sanitize("abc\u202edef\u200b"), "abcdef")
    assert.strictEqual(OAuth2Error.sanitize("ab\ud83d\ude00", 3), "ab…")
    assert.strictEqual(OAuth2Error.sanitize("x".repeat(10_000), 10), `${"x".repeat(10)}…`)
    assert.strictEqual(OAuth2Error.sanitize(`${"\u0000".repeat(10_000)}tail`, 10), "…")
  })
})
