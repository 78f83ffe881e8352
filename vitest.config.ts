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
        // The governance store against a real PostgreSQL server: RADANON_TEST_DATABASE_URL must
        // point at a database the tests may empty (.ci/run starts one).
        test: {
          name: 'postgres',
          globalSetup: ['test/global-setup.ts'],
          include: ['test/postgres/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
