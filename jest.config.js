/** Jest runs the TypeScript sources directly through ts-jest; type checking is
 * done once for the whole tree by `tsc --noEmit` in `npm test`, so ts-jest only
 * transpiles (isolatedModules in tsconfig) and the suite stays fast. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
  testTimeout: 30000,
  maxWorkers: 2,
  globalSetup: "<rootDir>/test/support/globalSetup.ts",
  reporters: ["default", "<rootDir>/test/support/summaryReporter.js"],
};
