/**
 * A simulated `Clock` for the long run: time moves only when `advance` is called, and sleepers whose time has come
 * are resumed at once. Effect's `TestClock` does the same but, on every adjustment, polls (with `setTimeout(0)`)
 * until every fiber is suspended, which costs several milliseconds per refresh cycle; ten thousand cycles need a
 * clock without that. Our library reads all time from `Clock`, so it runs unchanged on either.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"

interface Timer {
  readonly at: number
  readonly resume: (effect: Effect.Effect<void>) => void
}

export class SimClock implements Clock.Clock {
  readonly [Clock.ClockTypeId]: Clock.ClockTypeId = Clock.ClockTypeId
  private now: number
  private timers: Array<Timer> = []
  constructor(start: number = Date.now()) {
    this.now = start
  }
  unsafeCurrentTimeMillis(): number {
    return this.now
  }
  readonly currentTimeMillis: Effect.Effect<number> = Effect.sync(() => this.now)
  unsafeCurrentTimeNanos(): bigint {
    return BigInt(this.now) * 1_000_000n
  }
  readonly currentTimeNanos: Effect.Effect<bigint> = Effect.sync(() => this.unsafeCurrentTimeNanos())
  sleep(duration: Duration.Duration): Effect.Effect<void> {
    return Effect.async<void>((resume) => {
      const timer: Timer = { at: this.now + Duration.toMillis(duration), resume }
      if (timer.at <= this.now) return resume(Effect.void)
      this.timers.push(timer)
      return Effect.sync(() => {
        const i = this.timers.indexOf(timer)
        if (i >= 0) this.timers.splice(i, 1)
      })
    })
  }
  /** Sleepers waiting on this clock. */
  get pending(): number {
    return this.timers.length
  }
  /** Moves time forward and resumes every sleeper whose time has come, earliest first. */
  advance(millis: number): void {
    this.now += Math.max(0, millis)
    for (;;) {
      const due = this.timers.filter((t) => t.at <= this.now).sort((a, b) => a.at - b.at)
      if (due.length === 0) return
      this.timers = this.timers.filter((t) => t.at > this.now)
      for (const t of due) t.resume(Effect.void)
    }
  }
}
