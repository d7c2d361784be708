// Writes the release fields of every public package.json from its sources (or, with --check, fails when one is
// stale): one subpath export per public module (src/*.ts; src/internal/ is never exported), ESM and CommonJS
// builds with their own .d.ts, typesVersions for node10 resolution, and a publishConfig that pnpm applies at pack
// time so the tarball's exports carry no "source" condition (that condition exists only for the workspace: vitest,
// tsx and `tsc -b` resolve our packages to their TypeScript sources, with no build first).
//
//   node scripts/package-json.mjs           rewrite the files
//   node scripts/package-json.mjs --check   fail (exit 1) when a file differs from what would be written
import * as fs from "node:fs"
import * as path from "node:path"
import { packageDir, publicPackages, readManifest } from "./packages.mjs"

const repository = "https://github.com/effect-oauth2/effect-oauth2"

/** Entries that are not a top-level module: the test kits of core (under their historical names) and of node. */
const extraEntries = {
  core: { conformance: "testing/conformance", "provider-testing": "testing/providerTesting" },
  node: { testing: "testing/pki" }
}

const modulesOf = (name) =>
  fs.readdirSync(path.join(packageDir(name), "src"))
    .filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts") && file !== "index.ts" && file !== "bin.ts")
    .map((file) => file.slice(0, -3))
    .sort()

const conditions = (file) => ({
  import: { types: `./dist/esm/${file}.d.ts`, default: `./dist/esm/${file}.js` },
  require: { types: `./dist/cjs/${file}.d.ts`, default: `./dist/cjs/${file}.js` }
})

const generate = (name) => {
  const current = readManifest(name)
  const entries = [[".", "index"], ...modulesOf(name).map((m) => [`./${m}`, m])]
  for (const [subpath, file] of Object.entries(extraEntries[name] ?? {})) entries.push([`./${subpath}`, file])
  const hasBin = fs.existsSync(path.join(packageDir(name), "src", "bin.ts"))

  const published = { "./package.json": "./package.json" }
  const workspace = { "./package.json": "./package.json" }
  const typesVersions = {}
  for (const [subpath, file] of entries) {
    published[subpath] = conditions(file)
    workspace[subpath] = { source: `./src/${file}.ts`, ...conditions(file) }
    if (subpath !== ".") typesVersions[subpath.slice(2)] = [`./dist/cjs/${file}.d.ts`]
  }

  const {
    name: _n, version, description, license: _l, repository: _r, homepage: _h, bugs: _b, type: _t, engines: _e,
    sideEffects: _s, main: _m, module: _mo, types: _ty, typesVersions: _tv, exports: _x, bin: _bin, files: _f,
    publishConfig: _p, ...rest
  } = current
  const bin = hasBin ? { [binName(name)]: "./dist/esm/bin.js" } : undefined
  return {
    name: current.name,
    version,
    description,
    license: "MIT",
    repository: { type: "git", url: `git+${repository}.git`, directory: `packages/${name}` },
    homepage: `${repository}/tree/main/packages/${name}#readme`,
    bugs: { url: `${repository}/issues` },
    type: "module",
    engines: { node: ">=20" },
    // Importing a module runs nothing; only the executable does.
    sideEffects: hasBin ? ["./dist/esm/bin.js", "./dist/cjs/bin.js"] : [],
    main: "./dist/cjs/index.js",
    module: "./dist/esm/index.js",
    types: "./dist/cjs/index.d.ts",
    typesVersions: { "*": typesVersions },
    exports: workspace,
    files: ["dist/esm", "dist/cjs", "src", "README.md", "LICENSE", "CHANGELOG.md"],
    // Applied by `pnpm pack` / `pnpm publish`: what a consumer sees. The executable is declared only here, so that a
    // fresh `pnpm install` of the workspace (before any build) creates no dangling bin links.
    publishConfig: { access: "public", exports: published, ...(bin ? { bin } : {}) },
    ...rest
  }
}

const binName = (name) => ({ cli: "effect-oauth2", emulator: "effect-oauth2-emulator" })[name]

const check = process.argv.includes("--check")
let stale = 0
for (const name of publicPackages) {
  const file = path.join(packageDir(name), "package.json")
  const text = JSON.stringify(generate(name), null, 2) + "\n"
  if (fs.readFileSync(file, "utf8") === text) continue
  if (check) {
    stale++
    console.error(`packages/${name}/package.json is stale: run \`node scripts/package-json.mjs\` and commit the result`)
  } else {
    fs.writeFileSync(file, text)
    console.log(`wrote packages/${name}/package.json`)
  }
}
if (stale > 0) process.exit(1)
