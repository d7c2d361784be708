import { defineConfig } from "vitest/config"

/**
 * Settings every package's vitest config starts from: workspace packages resolve to their TypeScript
 * sources (the "source" export condition), so tests never need a build first.
 */
export const shared = defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
