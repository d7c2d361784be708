import { defineWorkspace } from "vitest/config"

// Every package, the examples and the benchmark harness carry their own vitest.config.ts.
export default defineWorkspace(["packages/*/vitest.config.ts", "{examples,bench}/vitest.config.ts"])
