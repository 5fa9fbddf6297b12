// The failover drills (npm run test:cluster): several processes and two PostgreSQL clusters, one file at a time.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['deploy/**/*.test.ts'],
    // A migrated PGlite dump and PostgreSQL template for the drills that start a platform in-process.
    globalSetup: ['src/testing/global-setup.ts', 'deploy/require-tools.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 240_000,
    hookTimeout: 240_000,
    reporters: ['default'],
  },
});
