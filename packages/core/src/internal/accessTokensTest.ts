/**
 * The test double of `AccessTokens`: a scripted token with no HTTP.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import * as AccessToken from "../AccessToken.js"
import { type OAuth2Error } from "../OAuth2Error.js"

import type { Service, TestOptions } from "../AccessTokens.js"

export const makeTest = (
  options: TestOptions
): Effect.Effect<Service & { readonly acquisitions: Effect.Effect<number> }> =>
  Effect.gen(function*() {
    const script = options.script === undefined || options.script.length === 0 ? ["test-access-token"] : options.script
    const lifetime = Duration.toMillis(Duration.decode(options.lifetime ?? Duration.hours(1)))
    const scopes = options.scopes ?? []
    const provider = options.provider ?? "test"
    const cached = yield* Ref.make<AccessToken.AccessToken | undefined>(undefined)
    const count = yield* Ref.make(0)
    const next: Effect.Effect<AccessToken.AccessToken, OAuth2Error> = Effect.gen(function*() {
      const index = yield* Ref.getAndUpdate(count, (n) => n + 1)
      const step = script[Math.min(index, script.length - 1)]!
      if (typeof step === "string") {
        const now = yield* Clock.currentTimeMillis
        const token = new AccessToken.AccessToken({
          value: Redacted.make(step),
          type: "Bearer",
          issuedAt: now,
          expiresAt: now + lifetime,
          scopes,
          extra: {}
        })
        yield* Ref.set(cached, token)
        return token
      }
      if (step instanceof AccessToken.AccessToken) {
        yield* Ref.set(cached, step)
        return step
      }
      return yield* Effect.fail(step)
    })
    const get = Effect.flatMap(Ref.get(cached), (token) =>
      token === undefined
        ? next
        : Effect.flatMap(Clock.currentTimeMillis, (now) => (now < token.expiresAt ? Effect.succeed(token) : next)))
    const invalidate = (token: AccessToken.AccessToken) =>
      Ref.update(cached, (c) => (c !== undefined && AccessToken.sameValue(c, token) ? undefined : c))
    return {
      provider,
      get,
      refresh: next,
      invalidate,
      revoke: Ref.set(cached, undefined),
      current: Effect.map(Ref.get(cached), Option.fromNullable),
      set: (token) => Ref.set(cached, token),
      // The double has no refresh tokens to watch: it tells nothing.
      refreshTokenEvents: Stream.empty,
      acquisitions: Ref.get(count)
    }
  })
