// The linter `npm test` runs: ESLint's and typescript-eslint's recommended rules. A rule is
// turned off in one place only with `-- <why>` beside it (reportUnusedDisableDirectives
// keeps those true).
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["dist/**", "node_modules/**", ".demo/**", ".bench/**", ".tools/**", ".e2e/**", "coverage/**", "**/*.d.ts"],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: "error" },
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, globals: { ...globals.node } },
    rules: {
      // Unused names are errors, except `_name` for what a signature or a destructuring must name.
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none", destructuredArrayIgnorePattern: "^_" },
      ],
    },
  },
  {
    // Plain CommonJS: the provider loader and the programs the engine runs as they are.
    files: ["**/*.js"],
    languageOptions: { sourceType: "commonjs", globals: { ...globals.node } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
