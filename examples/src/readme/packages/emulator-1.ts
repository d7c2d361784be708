import { Emulator } from "@effect-oauth2/emulator"
import { Effect } from "effect"

// Effect: scoped, on the runtime's Clock (TestClock.adjust ages its tokens)
export const program = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  const tokenUrl = `${emulator.urls.figureMarkets.main}/auth/oauth2/token`
  yield* emulator.setFaults("figure-markets.token", { failNext: { count: 2, status: 503, retryAfter: 1 } })
  return tokenUrl // ...point your client at it
}).pipe(Effect.provide(Emulator.layer()))

// Promise: live clock
export const withPromises = async () => {
  const emulator = await Emulator.start()
  await emulator.setFaults("tradier.token", { reset: { count: 1 } })
  await emulator.stop()
}
