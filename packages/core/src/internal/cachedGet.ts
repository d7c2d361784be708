/**
 * The hot path of `AccessTokens.get`.
 *
 * While a valid token is cached, `get` must cost no more than `Effect.succeed(token)`: a bot calls it on every
 * request, and the point of a cache is that a cache hit is nearly free. Effect's generator runner (and its run loop)
 * resolves a yielded `Exit.Success` inline, without a trip through the fiber's run loop; any other effect (`sync`,
 * `suspend`, `flatMap` over `Clock`) costs three to six times as much.
 *
 * `CachedGet` is one stable effect value whose shape follows the cache: while `current` holds a token it *is* a
 * successful `Exit` of that token (`_tag`/`_op` "Success", `value`); otherwise it is a `Commit` effect that runs the
 * slow path. Being one stable object, it can be stored, destructured or composed like any effect and always reflects
 * the cache at the moment it runs. Validity is not checked against the clock here: the owner clears `current` from a
 * fiber sleeping on `Clock` until the token stops being usable, so `TestClock` still drives expiry.
 *
 * While an acquisition is in flight (and no token is usable), `joining` holds the effect that awaits it: callers
 * arriving then join it directly, skipping the slow path's bookkeeping, which would only end by joining it too. That
 * is what a herd of first calls on a cold client does, so it matters there.
 *
 * It relies on the Effect 3 runtime's recognition of exits (`_tag`, `_op`, `value`, `effect_instruction_i0`),
 * which the test suite checks through `yield*`, `flatMap`, `Effect.all` and `runSync`.
 *
 * @internal
 */
import type * as Effect from "effect/Effect"
import * as Effectable from "effect/Effectable"
import * as Exit from "effect/Exit"

/** @internal */
export class CachedGet<A, E> extends Effectable.Class<A, E> {
  /** The value served with no work; `undefined` sends callers to the slow path. */
  current: A | undefined = undefined
  /** Awaits the acquisition in flight; `undefined` when there is none. Used only while `current` is `undefined`. */
  joining: Effect.Effect<A, E> | undefined = undefined
  /** How many gets were answered from `current` since the owner last took the count. */
  hits = 0
  /** How many gets joined `joining` since the owner last took the count. */
  joins = 0
  constructor(readonly slow: Effect.Effect<A, E>) {
    super()
  }
  commit(): Effect.Effect<A, E> {
    const current = this.current
    if (current === undefined) {
      const joining = this.joining
      if (joining === undefined) return this.slow
      this.joins++
      return joining
    }
    this.hits++
    return Exit.succeed(current)
  }
  /** Returns the hit count and resets it. */
  takeHits(): number {
    const hits = this.hits
    this.hits = 0
    return hits
  }
  /** Sends callers straight to `joining` (the awaiting of the acquisition `key`) until `stopJoining(key)`. */
  startJoining(key: unknown, joining: Effect.Effect<A, E>): void {
    this.joiningKey = key
    this.joining = joining
  }
  /** Ends `startJoining(key)`; a later acquisition's joining is left alone. */
  stopJoining(key: unknown): void {
    if (this.joiningKey !== key) return
    this.joiningKey = undefined
    this.joining = undefined
  }
  private joiningKey: unknown = undefined
  /** Returns the join count and resets it. */
  takeJoins(): number {
    const joins = this.joins
    this.joins = 0
    return joins
  }
}

const hit = <A, E>(self: CachedGet<A, E>): A | undefined => {
  const current = self.current
  if (current !== undefined) self.hits++
  return current
}

Object.defineProperties(CachedGet.prototype, {
  _tag: {
    get(this: CachedGet<unknown, unknown>) {
      return this.current === undefined ? "Commit" : "Success"
    }
  },
  _op: {
    get(this: CachedGet<unknown, unknown>) {
      return this.current === undefined ? "Commit" : "Success"
    }
  },
  value: {
    get(this: CachedGet<unknown, unknown>) {
      return hit(this)
    }
  },
  effect_instruction_i0: {
    get(this: CachedGet<unknown, unknown>) {
      return hit(this)
    }
  }
})
