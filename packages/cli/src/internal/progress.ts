/**
 * Progress while the command waits: on a terminal, a line on standard error redrawn every second with the time
 * waited; elsewhere (a pipe, a log file, a test), one line. Standard output is never touched.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { remaining } from "./format.js"
import type { Io } from "./io.js"

const frames = ["|", "/", "-", "\\"]

/**
 * Runs `effect`, showing `label` once it has taken longer than `after` (zero: at once), or once `after` completes
 * when it is an effect (e.g. the login's URL has been printed).
 *
 * @internal
 */
export const withProgress = (io: Io, label: string, after: Duration.DurationInput | Effect.Effect<void>) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    let drawn = false
    const draw = (frame: number) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.sync(() => {
          drawn = true
          io.stderr(`\r${frames[frame % frames.length]} ${label} (${remaining(now - started)})\x1b[K`)
        }))
    const ticker = io.stderrIsTTY
      ? Effect.iterate(0, {
        while: () => true,
        body: (frame) => draw(frame).pipe(Effect.zipRight(Effect.sleep(Duration.seconds(1))), Effect.as(frame + 1))
      })
      : Effect.sync(() => io.stderr(`${label}...\n`))
    const start = Effect.isEffect(after) ? after : Effect.sleep(after)
    const fiber = yield* Effect.fork(Effect.zipRight(start, ticker))
    return yield* effect.pipe(
      Effect.ensuring(
        Fiber.interrupt(fiber).pipe(
          Effect.zipRight(Effect.sync(() => {
            if (drawn) io.stderr("\r\x1b[K")
          }))
        )
      )
    )
  })
