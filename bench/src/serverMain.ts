/**
 * The server as a process of its own (full runs), so that its work does not share the measured process's event
 * loop. Reports its URL over IPC; exits when the parent disconnects.
 */
import { start } from "./server.js"

const server = await start()
process.send?.({ url: server.url })
process.on("disconnect", () => {
  void server.close().then(() => process.exit(0))
})
