import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Root-only suites (raw IP, namespaces) run one file at a time: they share
    // the machine's network namespace names and the 2 CI cores.
    fileParallelism: true,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default'],
  },
});
