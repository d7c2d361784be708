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
  /** How many gets were answered from `current` since the owner last took the count. */
  hits = 0
  /**
   * What runs when no token is usable: the slow path, or, while an acquisition is in flight, the awaiting of it (so
   * that a herd of callers joins it without the slow path's bookkeeping). Set by the owner.
   */
  constructor(public slow: Effect.Effect<A, E>) {
    super()
  }
  commit(): Effect.Effect<A, E> {
    const current = this.current
    if (current === undefined) return this.slow
    this.hits++
    return Exit.succeed(current)
  }
  /** Returns the hit count and resets it. */
  takeHits(): number {
    const hits = this.hits
    this.hits = 0
    return hits
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
