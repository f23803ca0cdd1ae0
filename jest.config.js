/**
 * Two projects:
 *  - unit: pure helpers and components under Pulumi mocks; no Docker, no engine (`npm run test:unit`).
 *  - lab:  real `pulumi up` on the local lab through the Automation API (`npm run test:lab`);
 *          needs what scripts/setup.sh installs, which `npm test` runs first.
 * Type checking is `npm run build`'s job; ts-jest only transpiles, which keeps the unit suite fast.
 */
const tsJest = ["ts-jest", { diagnostics: false }];

/** @type {import('jest').Config} */
module.exports = {
  // Evaluating a whole example program under mocks takes seconds on a loaded 2-core machine (jest's
  // 5 s default failed one under load): a bound against hangs, not a speed check. Lab tests set
  // their own.
  testTimeout: 60000,
  // Lab files that need the Kubernetes build run after the others (test/sequencer.js).
  testSequencer: "<rootDir>/test/sequencer.js",
  projects: [
    {
      displayName: "unit",
      testEnvironment: "node",
      roots: ["<rootDir>/test/unit"],
      testMatch: ["**/*.test.ts"],
      transform: { "^.+\\.ts$": tsJest },
      // Every refusal message a unit test produces is scanned for the secrets of its file.
      setupFilesAfterEnv: ["<rootDir>/test/unit/guard/secret-guard.ts"],
      // Examples import the library as a user does; their unit tests evaluate them against this checkout's source.
      moduleNameMapper: { "^flotilla$": "<rootDir>/lib/index.ts", "^flotilla/(aws|azure|proxmox)$": "<rootDir>/lib/hosts/$1/index.ts", "^flotilla/kubernetes$": "<rootDir>/lib/workload/deploy/pulumi-kubernetes/index.ts" },
    },
    {
      displayName: "lab",
      testEnvironment: "node",
      roots: ["<rootDir>/test/lab"],
      testMatch: ["**/*.test.ts"],
      transform: { "^.+\\.ts$": tsJest },
    },
  ],
};
