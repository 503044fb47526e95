import { defineConfig } from 'vitest/config';

// `npm run mutate` (StrykerJS, stryker.config.json): the tests that guard packages/sift-optimizer/src, on the CPU
// backend only, against the packages' TypeScript sources (so each mutant is what the tests import).
const conditions = ['source', 'module', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    // The CLI tests run the built dist, which does not see a mutated source file: only the library's own tests count.
    include: ['tests/sift/**/*.test.ts'],
    env: { SIFT_BACKENDS: 'cpu', SIFT_TEST_WEBGPU: '0' },
    testTimeout: 120_000,
    pool: 'forks',
    execArgv: ['--expose-gc'],
  },
});
