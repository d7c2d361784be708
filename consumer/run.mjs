// The consumer test: what a stranger gets from npm. Installs the packed tarballs (from `node scripts/pack.mjs`) into a
// brand-new project outside the workspace with npm, using the README's own install line (effect 3 and the platform
// packages come from the registry), then:
//   1. a plain Node ESM program and 2. a CommonJS `require` program each get a Figure Markets token from the
//      emulator (installed from its tarball) and call get_who_am_i; internal modules must not resolve;
//   3. tsc type-checks a TypeScript version under moduleResolution node16 (ESM and .cts, then runs the output) and
//      bundler (with customConditions ["source"]: the workspace-only condition must not reach a consumer);
//   4. the installed executables: `effect-oauth2-emulator` serves, `effect-oauth2 whoami` talks to it;
//   5. publint (strict) and @arethetypeswrong/cli on every tarball.
//
//   node consumer/run.mjs [tarballDir]      (the root `test` script runs it after `pack-all`)
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { root } from "../scripts/packages.mjs"

const tarballDir = path.resolve(root, process.argv[2] ?? ".tmp/tarballs")
const listFile = path.join(tarballDir, "tarballs.json")
if (!fs.existsSync(listFile)) {
  console.error(`no tarballs in ${path.relative(root, tarballDir)}: run \`npx -y pnpm@10 pack-all\` first`)
  process.exit(1)
}
const tarballs = JSON.parse(fs.readFileSync(listFile, "utf8")).map((file) => path.join(tarballDir, file))
const nameOf = (tarball) => JSON.parse(execFileSync("tar", ["-xzOf", tarball, "package/package.json"], { encoding: "utf8" })).name
const byName = new Map(tarballs.map((tarball) => [nameOf(tarball), tarball]))

const started = Date.now()
const step = (title) => console.log(`\n== consumer (${Math.round((Date.now() - started) / 1000)} s): ${title}`)
const fail = (message) => {
  console.error(`consumer test failed: ${message}`)
  console.error(`the project is left in ${dir} for a look`)
  process.exit(1)
}
const run = (command, args, options = {}) => {
  try {
    return execFileSync(command, args, { cwd: dir, encoding: "utf8", timeout: options.timeout ?? 120_000, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...options.env } })
  } catch (error) {
    fail(`\`${[command, ...args].map((a) => path.isAbsolute(a) ? path.basename(a) : a).join(" ")}\` exited with ${error.status ?? error.signal}\n${error.stdout ?? ""}${error.stderr ?? ""}`)
  }
}
const bin = (name) => path.join(root, "node_modules", ".bin", name)

// --- the install line, taken from the README so that the README cannot drift from what is tested
const readme = fs.readFileSync(path.join(root, "README.md"), "utf8")
const install = /## Install\n[\s\S]*?```sh\n(npm install [^\n]+)\n/.exec(readme)?.[1]
if (install === undefined) {
  console.error("README.md has no `npm install …` line in a ```sh block of its ## Install section")
  process.exit(1)
}
const specs = install.split(/\s+/).slice(2).map((spec) => {
  if (!spec.startsWith("@effect-oauth2/")) return spec
  const tarball = byName.get(spec)
  if (tarball === undefined) {
    console.error(`README's install line names ${spec}, which is not a packed public package`)
    process.exit(1)
  }
  return tarball
})
// Every other tarball too (the emulator, the CLI, the other providers), and the compiler for step 3.
const rootManifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"))
for (const tarball of tarballs) if (!specs.includes(tarball)) specs.push(tarball)
// @types/ws: @effect/platform-node-shared's declarations import "ws", and the bundler check runs with skipLibCheck off.
specs.push(`typescript@${rootManifest.devDependencies.typescript}`, `@types/node@${rootManifest.devDependencies["@types/node"]}`, "@types/ws@8")

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "effect-oauth2-consumer-"))
for (const file of fs.readdirSync(path.join(root, "consumer", "fixture"))) {
  fs.copyFileSync(path.join(root, "consumer", "fixture", file), path.join(dir, file))
}

step(`npm install (README line: ${install})`)
run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...specs], { timeout: 600_000 })
const effectVersion = JSON.parse(fs.readFileSync(path.join(dir, "node_modules", "effect", "package.json"), "utf8")).version
if (!effectVersion.startsWith("3.")) fail(`npm installed effect ${effectVersion}, not effect 3`)
console.log(`installed into ${dir} (effect ${effectVersion})`)

const checkResult = (output, format) => {
  const line = output.trim().split("\n").at(-1) ?? ""
  let result
  try {
    result = JSON.parse(line)
  } catch {
    fail(`${format}: expected one JSON line, got:\n${output}`)
  }
  if (result.format !== format) fail(`${format}: wrong program answered: ${line}`)
  if (!(result.tokenLength > 0)) fail(`${format}: no access token: ${line}`)
  if (!/^firms\/[^/]+\/users\/[^/]+$/.test(result.user)) fail(`${format}: get_who_am_i answered ${line}`)
  if ("internal" in result && result.internal !== "ERR_PACKAGE_PATH_NOT_EXPORTED") {
    fail(`${format}: @effect-oauth2/core/internal/wire must not resolve, got ${result.internal}`)
  }
  console.log(`${format}: ${line}`)
}

step("plain node ESM program")
checkResult(run(process.execPath, ["esm.mjs"]), "esm")

step("CommonJS require program")
checkResult(run(process.execPath, ["cjs.cjs"]), "cjs")

const tsc = path.join(dir, "node_modules", "typescript", "bin", "tsc")
step("tsc, moduleResolution node16 (ESM and CommonJS), then the compiled programs")
run(process.execPath, [tsc, "-p", "tsconfig.node16.json"])
checkResult(run(process.execPath, ["out/typed.js"]), "typed-esm")
checkResult(run(process.execPath, ["out/typed-cjs.cjs"]), "typed-cjs")

step("tsc --noEmit, moduleResolution bundler, customConditions [\"source\"]")
run(process.execPath, [tsc, "-p", "tsconfig.bundler.json"])
console.log("bundler: no errors")

step("the installed executables")
const installedBin = (name) => path.join(dir, "node_modules", ".bin", name)
const help = run(installedBin("effect-oauth2-emulator"), ["--help"])
if (!help.startsWith("Usage: effect-oauth2-emulator")) fail(`effect-oauth2-emulator --help says:\n${help}`)
run(installedBin("effect-oauth2"), ["--help"])
const emulator = spawn(installedBin("effect-oauth2-emulator"), ["--port", "0", "--provider", "figure-markets"], {
  cwd: dir,
  stdio: ["ignore", "pipe", "pipe"]
})
try {
  const url = await new Promise((resolve, reject) => {
    let out = ""
    const timer = setTimeout(() => reject(new Error(`the emulator printed no URL within 30 s:\n${out}`)), 30_000)
    const onData = (chunk) => {
      out += chunk
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
      if (match) {
        clearTimeout(timer)
        resolve(match[1])
      }
    }
    emulator.stdout.on("data", onData)
    emulator.stderr.on("data", onData)
    emulator.on("exit", (code) => reject(new Error(`the emulator exited with ${code}:\n${out}`)))
  }).catch((error) => fail(error.message))
  const whoami = run(installedBin("effect-oauth2"), ["whoami", "figure-markets", "--emulator", url], { timeout: 60_000 })
  if (!/firms\/[^/\s]+\/users\/[^/\s]+/.test(whoami)) fail(`effect-oauth2 whoami printed:\n${whoami}`)
  console.log(`effect-oauth2 whoami figure-markets --emulator ${url}: ${whoami.trim().split("\n")[0]}`)
} finally {
  emulator.kill("SIGINT")
}

step("publint --strict and attw on every tarball")
for (const tarball of tarballs) {
  const publint = run(bin("publint"), ["run", tarball, "--strict"])
  const attw = run(bin("attw"), [tarball, "--format", "ascii"])
  const name = nameOf(tarball)
  console.log(`${name}: publint: ${publint.trim().split("\n").at(-1)}; attw: ${/No problems found/.test(attw) ? "no problems found" : attw}`)
}

fs.rmSync(dir, { recursive: true, force: true })
console.log(`\nconsumer test passed in ${Math.round((Date.now() - started) / 1000)} s`)
