// @ts-check
import js from "@eslint/js"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["**/dist/**", "**/build/**", "**/node_modules/**", "**/.tmp/**", "**/tmp/**", "docs/api/**", "**/*.d.ts", "bench/RESULTS.md"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: "module" },
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-empty-object-type": "off",
      "@typescript-eslint/no-namespace": "off",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "no-restricted-imports": ["error", { paths: [{ name: "@effect/schema", message: "Use effect/Schema." }] }],
      "require-yield": "off"
    }
  },
  {
    // Release and consumer-test scripts run on plain Node.
    files: ["scripts/**/*.mjs", "consumer/**/*.{mjs,cjs}"],
    languageOptions: {
      globals: { process: "readonly", console: "readonly", require: "readonly", setTimeout: "readonly", clearTimeout: "readonly" }
    }
  },
  {
    // The consumer test's CommonJS program is CommonJS on purpose.
    files: ["consumer/**/*.cjs"],
    languageOptions: { sourceType: "commonjs" },
    rules: { "@typescript-eslint/no-require-imports": "off" }
  }
)
