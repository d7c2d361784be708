/**
 * The cached get against its floor, alternating in one process: `yield*` of the `CachedGet` the service serves from
 * (holding a token), `yield* Effect.succeed(token)` (the floor of any Effect code), and a peer's hand-written cache (an
 * object read and a `Date.now()` comparison, awaited). Prints the best of the rounds, as gets/s, and ours ÷ each.
 * `tsx bench/src/profile/cachedGet.ts [rounds] [n]`.
 */
import * as Effect from "effect/Effect"
import { CachedGet } from "../../../packages/core/src/internal/cachedGet.js"

const rounds = Number(process.argv[2] ?? 15)
const n = Number(process.argv[3] ?? 1_000_000)
const token = { value: "tok" }
const cached = new CachedGet<typeof token, never>(Effect.die("slow path"))
cached.current = token

const ours = Effect.gen(function*() {
  for (let i = 0; i < n; i++) yield* cached
})
const floor = Effect.gen(function*() {
  for (let i = 0; i < n; i++) yield* Effect.succeed(token)
})
const peerCache = { token, expiresAt: Date.now() + 3_600_000 }
const getToken = async () => (Date.now() < peerCache.expiresAt ? peerCache.token : undefined)
const peer = async () => {
  for (let i = 0; i < n; i++) await getToken()
}

const time = async (run: () => Promise<unknown>) => {
  const start = performance.now()
  await run()
  return (n / (performance.now() - start)) * 1000
}
const best = { ours: 0, floor: 0, peer: 0 }
for (let r = 0; r < rounds; r++) {
  best.ours = Math.max(best.ours, await time(() => Effect.runPromise(ours)))
  best.floor = Math.max(best.floor, await time(() => Effect.runPromise(floor)))
  best.peer = Math.max(best.peer, await time(peer))
}
const m = (x: number) => `${(x / 1e6).toFixed(2)}M/s`
console.log(`ours ${m(best.ours)}  floor ${m(best.floor)}  peer ${m(best.peer)}  ours÷floor ${(best.ours / best.floor).toFixed(2)}  ours÷peer ${(best.ours / best.peer).toFixed(2)}`)
