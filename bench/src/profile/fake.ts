/**
 * CPU per request of the authorised client over a transport that answers in memory (one `setImmediate` per answer,
 * a 2-byte body with a Content-Length), against the same transport with a fixed header: what `withAccessToken`
 * itself costs, without the network's noise. `tsx bench/src/profile/fake.ts [rounds] [segmentMs] [concurrency]`.
 */
import * as Effect from "effect/Effect"
import { segment } from "../ours.js"
import { variants } from "./inMemory.js"

const rounds = Number(process.argv[2] ?? 6)
const segmentMs = Number(process.argv[3] ?? 300)
const concurrency = Number(process.argv[4] ?? 50)

const names = (process.env.VARIANTS ?? "bare,auth").split(",")
const results = new Map<string, Array<number>>(names.map((n) => [n, []]))
await Effect.runPromise(Effect.gen(function*() {
  for (const n of names) yield* segment(variants[n]!, segmentMs, concurrency)
  for (let r = 0; r < rounds; r++) {
    for (const n of r % 2 ? [...names].reverse() : names) {
      results.get(n)!.push((yield* segment(variants[n]!, segmentMs, concurrency)).cpuUsPerRequest)
    }
  }
}))
const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const base = median(results.get(names[0]!)!)
for (const [n, xs] of results) {
  console.log(`${n.padEnd(8)} ${median(xs).toFixed(1).padStart(7)} µs/req  +${(median(xs) - base).toFixed(1)}  (${xs.map((x) => x.toFixed(0)).join(" ")})`)
}
