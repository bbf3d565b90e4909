// The linter: typescript-eslint's strict, type-aware rules over src/ and test/ (npm run check:lint).
import eslint from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", "**/*.mjs", "**/*.cjs", "**/*.d.mts"] },
  eslint.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // noUncheckedIndexedAccess makes every indexed read `T | undefined`; in the kernel and the
      // codecs an index is in range by construction, and `!` says so where a check would cost.
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true, allowBoolean: true }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
    },
  },
  {
    // The JavaScript files (the bin launcher, this config) are outside tsconfig's project: linted without types.
    files: ["**/*.js"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: { process: "readonly" } },
  },
  {
    // Column-generic Arrow plumbing: apache-arrow's own declarations default Data, Vector, RecordBatch
    // and the rest to `any` (arrow.ts re-exports them as they are), and code that moves any kind of
    // column (the output-order gather, the batch builder, the thread transfer codec) handles those.
    files: ["src/frame/arrow.ts", "src/frame/outputOrder.ts", "src/frame/sourceBatch.ts", "src/frame/gatherColumn.ts", "src/frame/batchTransfer.ts"],
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
    },
  },
  {
    // Below the CLI nothing prints or ends the process: the library returns or throws, src/cli/ talks to the terminal.
    files: ["src/**/*.ts"],
    ignores: ["src/cli/**"],
    rules: {
      "no-console": "error",
      "no-restricted-properties": [
        "error",
        { object: "process", property: "exit", message: "Only src/cli/ ends the process: throw a PanicDriftError." },
        { object: "process", property: "stdout", message: "Only src/cli/ writes to the terminal." },
        { object: "process", property: "stderr", message: "Only src/cli/ writes to the terminal." },
        { object: "process", property: "exitCode", message: "Only src/cli/ sets the exit code." },
      ],
    },
  },
  {
    files: ["test/**/*.ts", "fixtures/**/*.ts", "vitest.config.ts"],
    rules: {
      // Tests read JSON, parquet rows and child-process output whose shape the assertions check.
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
    },
  },
);
