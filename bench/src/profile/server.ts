/**
 * The bench server on a fixed port, for profiling sessions (`tsx bench/src/profile/server.ts 47123`).
 */
import { start } from "../server.js"

const server = await start({ port: Number(process.argv[2] ?? 47123) })
console.log(server.url)
