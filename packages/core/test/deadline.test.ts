import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as TestClock from "effect/TestClock"
import { exitWithin } from "../src/internal/deadline.js"

const ref = FiberRef.unsafeMake("caller's")

/** An effect that never ends on its own, and says when it started and whether it was interrupted. */
const hanging = Effect.gen(function*() {
  const started = yield* Deferred.make<void>()
  const interrupted = yield* Deferred.make<void>()
  const effect = Deferred.succeed(started, undefined).pipe(
    Effect.zipRight(Effect.never),
    Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined))
  )
  return { started, interrupted, effect }
})

// Both clocks: the live one (a plain timer) and TestClock (Effect.timeoutFail over its sleep).
describe("exitWithin (the authorised request's deadline)", () => {
  it.live("live clock: the effect's outcome, success or failure, and FiberRefs it set stay in its fiber", () =>
    Effect.gen(function*() {
      const ok = yield* exitWithin(
        Effect.zipRight(FiberRef.set(ref, "child's"), Effect.delay(Effect.succeed(1), "5 millis")),
        Duration.seconds(5),
        () => "timeout"
      )
      assert.deepStrictEqual(ok, Exit.succeed(1))
      assert.strictEqual(yield* FiberRef.get(ref), "caller's")
      const failed = yield* exitWithin(Effect.fail("boom"), Duration.seconds(5), () => "timeout")
      assert.deepStrictEqual(failed, Exit.fail("boom"))
    }))

  it.live("live clock: past the deadline, the timeout error, and the effect is interrupted before it answers", () =>
    Effect.gen(function*() {
      const { effect, interrupted } = yield* hanging
      const exit = yield* exitWithin(effect, Duration.millis(20), () => "timeout")
      assert.deepStrictEqual(exit, Exit.fail("timeout"))
      assert.isTrue(yield* Deferred.isDone(interrupted))
    }))

  it.live("live clock: interrupting the caller interrupts the effect and waits for it", () =>
    Effect.gen(function*() {
      const { effect, interrupted, started } = yield* hanging
      const caller = yield* Effect.fork(exitWithin(effect, Duration.minutes(5), () => "timeout"))
      yield* Deferred.await(started)
      yield* Fiber.interrupt(caller)
      assert.isTrue(yield* Deferred.isDone(interrupted))
    }))

  it.live("live clock: a deadline longer than a JS timer allows never fires (as Effect's clock)", () =>
    Effect.gen(function*() {
      const exit = yield* exitWithin(Effect.succeed(2), Duration.days(30), () => "timeout")
      assert.deepStrictEqual(exit, Exit.succeed(2))
    }))

  it.effect("TestClock: the deadline follows the clock, the effect is interrupted, and FiberRefs stay apart", () =>
    Effect.gen(function*() {
      const { effect, interrupted, started } = yield* hanging
      const caller = yield* Effect.fork(
        exitWithin(Effect.zipRight(FiberRef.set(ref, "child's"), effect), Duration.seconds(10), () => "timeout")
      )
      yield* Deferred.await(started)
      yield* TestClock.adjust("9 seconds")
      assert.isTrue((yield* Fiber.poll(caller))._tag === "None")
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* Fiber.join(caller), Exit.fail("timeout"))
      assert.isTrue(yield* Deferred.isDone(interrupted))
      assert.strictEqual(yield* FiberRef.get(ref), "caller's")
      const ok = yield* exitWithin(Effect.succeed(3), Duration.seconds(10), () => "timeout")
      assert.deepStrictEqual(ok, Exit.succeed(3))
    }))

  it.effect("TestClock: interrupting the caller interrupts the effect", () =>
    Effect.gen(function*() {
      const { effect, interrupted, started } = yield* hanging
      const caller = yield* Effect.fork(exitWithin(effect, Duration.seconds(10), () => "timeout"))
      yield* Deferred.await(started)
      yield* Fiber.interrupt(caller)
      assert.isTrue(yield* Deferred.isDone(interrupted))
    }))
})
