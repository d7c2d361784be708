/**
 * An effect run in a fiber of its own, bounded by a deadline: what `Effect.timeoutFail` does for a request, at a
 * third of the cost on the live clock.
 *
 * `Effect.timeoutFail` races the effect against a sleep in two new fibers, then interrupts the loser and merges the
 * winner's `FiberRef`s back into the caller: on the authorised client (a deadline for the answer, another for its
 * body) that came to about a third of the CPU a request costs (see `bench/ANALYSIS.md`). Here the effect runs in one
 * child fiber and the caller waits for it with a timer beside it (no fiber): the first of the two to end answers, and
 * a timer that fires first interrupts the child (which stops the transport: undici and fetch abort the request) and
 * waits for it to end, as `timeoutFail` does. The child's `FiberRef`s are not merged back: it only runs the request,
 * and what it sets (the hop guard's predicate) must stay in it.
 *
 * The timer is a plain `setTimeout` only under the live `Clock` (the one `Clock.make()` builds, recognised by its
 * prototype); under any other clock (`TestClock`, a simulated one) the deadline is that clock's `sleep`, through
 * `Effect.timeoutFail`, so tests drive it as before. Durations longer than the JS timer allows never fire, as in
 * Effect's own clock.
 *
 * @internal
 */
import type * as Arr from "effect/Array"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type * as FiberId from "effect/FiberId"
import * as FiberRef from "effect/FiberRef"
import * as FiberRefs from "effect/FiberRefs"
import * as Runtime from "effect/Runtime"

const livePrototype: unknown = Object.getPrototypeOf(Clock.make())

/** The longest delay a JS timer takes (Effect's clock treats longer ones as never). */
const maxTimerMillis = 2 ** 31 - 1

/** A `FiberRef` and the value it holds in the child. @internal */
export type Local = readonly [FiberRef.FiberRef<any>, unknown]

/**
 * Runs `effect` in a child fiber, bounded by `duration`; its outcome as an `Exit` (a timeout is `Exit.fail` of
 * `onTimeout()`). The caller's interruption interrupts the child, and waits for it. `locals` are set in the child
 * from its start (on the live clock in one step with the child's own `FiberRef`s, instead of one copy of them each).
 *
 * @internal
 */
export const exitWithin = <A, E, R, E2>(
  effect: Effect.Effect<A, E, R>,
  duration: Duration.Duration,
  onTimeout: () => E2,
  locals: ReadonlyArray<Local> = []
): Effect.Effect<Exit.Exit<A, E | E2>, never, R> =>
  Effect.clockWith((clock) => {
    if (Object.getPrototypeOf(clock) !== livePrototype) {
      // Another clock: its own sleep, raced by Effect (the child's outcome, or the timeout).
      const withLocals = locals.reduceRight<Effect.Effect<A, E, R>>(
        (next, [ref, value]) => Effect.zipRight(FiberRef.set(ref, value), next),
        effect
      )
      return Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(Effect.fork(restore(withLocals)), (child) =>
          restore(Effect.timeoutFail(Fiber.await(child), { duration, onTimeout })).pipe(
            Effect.exit,
            Effect.flatMap((outer) =>
              Exit.isSuccess(outer)
                ? Effect.succeed(outer.value as Exit.Exit<A, E | E2>)
                : Effect.as(Fiber.interrupt(child), outer as Exit.Exit<A, E | E2>)
            )
          ))
      )
    }
    const millis = Duration.toMillis(duration)
    // The child gets the caller's context, `FiberRef`s and runtime flags (its interruptibility), as a fork does; it
    // starts at once, in the caller's turn, instead of on the scheduler.
    return Effect.flatMap(Effect.runtime<R>(), (runtime) =>
      Effect.async<Exit.Exit<A, E | E2>>((resume) => {
        let settled = false
        let timer: ReturnType<typeof setTimeout> | undefined
        const observer = (exit: Exit.Exit<A, E>) => {
          if (settled) return
          settled = true
          if (timer !== undefined) clearTimeout(timer)
          resume(Effect.succeed(exit))
        }
        const child = Runtime.runFork(runtime)(
          effect,
          locals.length === 0 ? undefined : {
            updateRefs: (refs, id) =>
              FiberRefs.updateManyAs(refs, {
                forkAs: id,
                entries: locals.map(([ref, value]) => [ref, [[id, value]]] as const) as unknown as Arr.NonEmptyReadonlyArray<
                  readonly [FiberRef.FiberRef<any>, Arr.NonEmptyReadonlyArray<readonly [FiberId.Single, any]>]
                >
              })
          }
        )
        if (child.unsafePoll() === null && millis <= maxTimerMillis) {
          timer = setTimeout(() => {
            if (settled) return
            settled = true
            child.removeObserver(observer)
            resume(Effect.as(Fiber.interrupt(child), Exit.fail(onTimeout())))
          }, millis)
        }
        // Ended already (it ran to its end at once): this answers at once.
        child.addObserver(observer)
        // The caller interrupted: the child is interrupted too (and waited for), and the timer cleared.
        return Effect.suspend(() => {
          if (!settled) {
            settled = true
            if (timer !== undefined) clearTimeout(timer)
            child.removeObserver(observer)
          }
          return Fiber.interrupt(child)
        })
      }))
  })
