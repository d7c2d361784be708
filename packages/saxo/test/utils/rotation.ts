/**
 * The rotation tests' child processes (rotationChild.ts): their configuration and a spawner that reads their JSON
 * lines and kills them with the scope.
 */
import * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { fileURLToPath } from "node:url"
import { type JsonLinesChild, spawnJsonLinesChild } from "../../../redis/test/utils/rotation.js"

export type StoreConfig =
  | { readonly kind: "redis"; readonly url: string; readonly prefix: string }
  | { readonly kind: "file"; readonly path: string }

export interface ChildConfig {
  readonly clientId: string
  readonly hosts: { readonly logon: string; readonly openapi: string }
  readonly store: StoreConfig
  readonly key: string
  readonly refreshes: number
  readonly deadlineMs: number
}

export type ChildEvent =
  | { readonly event: "ready" | "refreshed" | "done"; readonly pid: number }
  | { readonly event: "error"; readonly pid: number; readonly tag: string | undefined; readonly message: string }

export type Child = JsonLinesChild<ChildEvent>

const childScript = fileURLToPath(new URL("./rotationChild.ts", import.meta.url))

/** Starts rotationChild.ts through tsx (sources, not builds); killed with the scope. */
export const spawn = (config: ChildConfig): Effect.Effect<Child, never, Scope.Scope> =>
  spawnJsonLinesChild<ChildEvent>(childScript, "EO2_SAXO_ROTATION", config)

export const within = Duration.seconds(60)
