import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "docs/api/**", "node_modules/**", "coverage/**", "jest.config.js", "test/sequencer.js", "scripts/*.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "no-console": ["error", { allow: ["error"] }],
    },
  },
  {
    files: ["bench/**/*.ts", "scripts/**/*.ts", "test/**/*.ts"],
    // Tests poke at mock payloads whose shape is the engine's, not ours.
    rules: { "no-console": "off", "@typescript-eslint/no-explicit-any": "off" },
  },
);
