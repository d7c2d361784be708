// Makes sure the test command has the `redis-server` the @effect-oauth2/redis tests start (each on a free loopback
// port with its own data directory). Run first by the root `test` script, so that a new contributor and CI
// (.ci/run) go through the same steps:
//   - found on PATH (or REDIS_SERVER_BIN points at it): nothing to do;
//   - missing, and apt-get is there and can be run (as root, or through password-less sudo): installs the
//     redis-server package and stops the system service the package may start (the tests run their own);
//   - otherwise: exits 1 saying exactly what to run.
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

const found = (command) => {
  if (command.includes("/")) return fs.existsSync(command)
  return (process.env.PATH ?? "").split(path.delimiter).some((dir) => dir !== "" && fs.existsSync(path.join(dir, command)))
}

const binary = process.env.REDIS_SERVER_BIN ?? "redis-server"
if (found(binary)) process.exit(0)
if (process.env.REDIS_SERVER_BIN !== undefined) {
  console.error(`REDIS_SERVER_BIN is ${binary}, which does not exist: point it at a redis-server, or unset it.`)
  process.exit(1)
}

const howTo = `The @effect-oauth2/redis tests need a redis-server binary (any version from 6 on); none is on PATH.
Install it, then run the test command again:
  Debian/Ubuntu:  sudo apt-get install -y redis-server
  Fedora/RHEL:    sudo dnf install -y redis
  Alpine:         sudo apk add redis
  macOS:          brew install redis
or point REDIS_SERVER_BIN at a redis-server you already have.`

const isRoot = typeof process.getuid === "function" && process.getuid() === 0
const sudoWorks = !isRoot && found("sudo") && spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status === 0
if (process.platform !== "linux" || !found("apt-get") || (!isRoot && !sudoWorks)) {
  console.error(howTo)
  process.exit(1)
}

const asRoot = (args) => {
  const [command, rest] = isRoot ? [args[0], args.slice(1)] : ["sudo", ["-n", ...args]]
  execFileSync(command, rest, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } })
}
console.log("redis-server is missing: installing it with apt-get (the @effect-oauth2/redis tests start their own)")
try {
  asRoot(["apt-get", "update", "-qq"])
  asRoot(["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq", "redis-server"])
} catch {
  console.error(`apt-get could not install redis-server.\n${howTo}`)
  process.exit(1)
}
// A service the package may have started is not needed: the tests start theirs on free ports.
spawnSync(isRoot ? "service" : "sudo", isRoot ? ["redis-server", "stop"] : ["-n", "service", "redis-server", "stop"], { stdio: "ignore" })
if (!found(binary)) {
  console.error(`apt-get ran, but redis-server is still not on PATH.\n${howTo}`)
  process.exit(1)
}
console.log("redis-server installed")
