/** @type {import('jest').Config} */
module.exports = {
  // Jest's node environment plus the temp-folder guard (test/environment.ts).
  testEnvironment: '<rootDir>/test/environment.ts',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Type checking is `npm run check`; tests only transpile, which keeps the huge provider typings out of the hot path.
    '^.+\\.tsx?$': ['ts-jest', { diagnostics: false }],
  },
  setupFilesAfterEnv: ['<rootDir>/test/setup-jest.ts'],
  testTimeout: 120000,
  // Integration tests start real components (Pub/Sub emulator, Chromium); two workers fit the 2-core machines.
  maxWorkers: 2,
};
