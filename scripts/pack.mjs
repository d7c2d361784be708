// Packs every public package into .tmp/tarballs (or the folder given as the first argument) with `pnpm pack`,
// which applies publishConfig (exports without the workspace-only "source" condition, the executables) and
// replaces `workspace:` ranges with real versions. Then checks each tarball is complete: every `exports`, `main`,
// `types`, `typesVersions` and `bin` target is inside, LICENSE and README are there, nothing points at src/ or test/,
// no `workspace:` range is left. Run `node scripts/build.mjs` first (the root `pack` script does).
//
//   node scripts/pack.mjs [outDir]
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { packageDir, publicPackages, root } from "./packages.mjs"

const outDir = path.resolve(root, process.argv[2] ?? ".tmp/tarballs")
fs.rmSync(outDir, { recursive: true, force: true })
fs.mkdirSync(outDir, { recursive: true })

// Inside a pnpm script npm_execpath is the running pnpm; otherwise fetch pnpm 10 as the README does.
const pnpm = (args, cwd) => {
  const execpath = process.env.npm_execpath
  return execpath !== undefined && /pnpm/.test(path.basename(execpath))
    ? execFileSync(process.execPath, [execpath, ...args], { cwd, encoding: "utf8" })
    : execFileSync("npx", ["-y", "pnpm@10", ...args], { cwd, encoding: "utf8" })
}

const targets = (value) =>
  typeof value === "string" ? [value] : value === null || typeof value !== "object" ? [] : Object.values(value).flatMap(targets)

const problems = []
const tarballs = []
for (const name of publicPackages) {
  const dir = packageDir(name)
  if (!fs.existsSync(path.join(dir, "dist", "esm", "index.js")) || !fs.existsSync(path.join(dir, "dist", "cjs", "index.js"))) {
    console.error(`packages/${name} is not built: run \`npx -y pnpm@10 build\` first`)
    process.exit(1)
  }
  pnpm(["pack", "--pack-destination", outDir], dir)
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"))
  const file = path.join(outDir, `${manifest.name.replace("@", "").replace("/", "-")}-${manifest.version}.tgz`)
  if (!fs.existsSync(file)) {
    problems.push(`${manifest.name}: pnpm pack wrote no ${path.basename(file)}`)
    continue
  }
  tarballs.push(file)
  const files = new Set(execFileSync("tar", ["-tzf", file], { encoding: "utf8" }).split("\n").filter(Boolean)
    .map((entry) => entry.replace(/^package\//, "")))
  const packed = JSON.parse(execFileSync("tar", ["-xzOf", file, "package/package.json"], { encoding: "utf8" }))
  const say = (message) => problems.push(`${manifest.name}: ${message}`)
  const text = JSON.stringify(packed)
  if (text.includes("workspace:")) say("a workspace: range is left in package.json")
  if (text.includes("\"source\"")) say("the workspace-only \"source\" condition leaked into package.json")
  for (const required of ["LICENSE", "README.md", "dist/cjs/package.json"]) if (!files.has(required)) say(`${required} is missing`)
  const referenced = [packed.main, packed.module, packed.types, ...targets(packed.exports), ...targets(packed.typesVersions),
    ...targets(packed.bin)].filter((target) => target !== undefined)
  for (const target of referenced) {
    const relative = path.posix.normalize(target)
    if (!files.has(relative)) say(`${target} is referenced but not in the tarball`)
    if (/^(src|test)\//.test(relative)) say(`${target} points at sources, not at the build`)
  }
  if (manifest.publishConfig?.bin !== undefined && packed.bin === undefined) say("the executable was not declared")
  console.log(`${path.relative(root, file)}  ${files.size} files`)
}
if (problems.length > 0) {
  console.error(problems.join("\n"))
  process.exit(1)
}
fs.writeFileSync(path.join(outDir, "tarballs.json"), JSON.stringify(tarballs.map((f) => path.basename(f)), null, 2) + "\n")
console.log(`packed ${tarballs.length} packages into ${path.relative(root, outDir)}`)
