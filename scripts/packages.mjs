// The public packages of the workspace, in dependency order (a package comes after every package it imports).
// Shared by the build, pack, package.json and docs scripts: add a package here and they all pick it up.
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

/** Folder names under packages/, dependencies first. */
export const publicPackages = [
  "core",
  "emulator",
  "figure-markets",
  "figure-pay",
  "tradier",
  "openmarkets",
  "tastytrade",
  "tradestation",
  "saxo",
  "schwab",
  "redis",
  "node",
  "cli"
]

export const packageDir = (name) => path.join(root, "packages", name)

export const readJson = (file) => JSON.parse(fs.readFileSync(file, "utf8"))

export const readManifest = (name) => readJson(path.join(packageDir(name), "package.json"))
