// The release build of every public package: ESM (dist/esm) and CommonJS (dist/cjs), each with its .d.ts and
// declaration maps (they point at the shipped src/), from one `tsc -b tsconfig.build.json` over all packages in
// dependency order. The build starts from clean output folders, so a tarball never carries a stale module.
//
//   node scripts/build.mjs    (the root `build` script)
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { packageDir, publicPackages, root } from "./packages.mjs"

for (const name of publicPackages) {
  const dir = packageDir(name)
  fs.rmSync(path.join(dir, "dist"), { recursive: true, force: true })
  for (const info of ["esm.tsbuildinfo", "cjs.tsbuildinfo"]) fs.rmSync(path.join(dir, "build", info), { force: true })
}

const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc")
execFileSync(process.execPath, [tsc, "-b", "tsconfig.build.json"], { cwd: root, stdio: "inherit" })

for (const name of publicPackages) {
  // The package is "type": "module"; this marker makes Node (and TypeScript) read dist/cjs as CommonJS.
  fs.writeFileSync(path.join(packageDir(name), "dist", "cjs", "package.json"), JSON.stringify({ type: "commonjs" }) + "\n")
}
console.log(`built ${publicPackages.length} packages (dist/esm, dist/cjs)`)
