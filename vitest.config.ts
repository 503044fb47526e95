import { defineConfig } from 'vitest/config';

// Tests run against the packages' TypeScript sources (the "source" export condition), so no build is needed
// between an edit and a test; tests/packages/built-entry.test.ts separately imports every built dist entry.
export default defineConfig({
  resolve: { conditions: ['source', 'module', 'node', 'import', 'default'] },
  ssr: { resolve: { conditions: ['source', 'module', 'node', 'import', 'default'] } },
  test: {
    include: ['tests/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    // The leak test forces garbage collection to see the FinalizationRegistry reclaim undisposed tensors.
    execArgv: ['--expose-gc'],
    // CI sums the totals from this report into its closing "N passed, N failed" line.
    reporters: process.env.SIFT_TEST_REPORT ? ['default', ['json', { outputFile: process.env.SIFT_TEST_REPORT }]] : ['default'],
  },
});
