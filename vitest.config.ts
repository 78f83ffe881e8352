import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          globalSetup: ['test/global-setup.ts'],
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'conformance',
          globalSetup: ['test/global-setup.ts'],
          include: ['test/conformance/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      {
        // Tests that need system services a fresh clone does not have: a PostgreSQL server
        // (RADANON_TEST_DATABASE_URL, a database the tests may empty) and Debian's chromium.
        // .ci/run installs and starts both.
        test: {
          name: 'system',
          globalSetup: ['test/global-setup.ts'],
          include: ['test/postgres/**/*.test.ts', 'test/system/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
