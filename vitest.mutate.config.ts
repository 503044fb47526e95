import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// `npm run mutate` (StrykerJS, stryker.config.json): the tests that guard packages/sift-optimizer/src, on the CPU
// backend only. Stryker imports the test files again for every mutant, so what an import costs is paid ~2000 times:
// - the optimizer comes from its TypeScript source (each mutant is what the tests import); the packages below it
//   (tensor, nn, models, safetensors, backend-cpu) from their built dist, loaded by Node itself (`npm run mutate` builds
//   every package first: the CLI tests run its dist, which bundles the unmutated optimizer, and the backends list
//   imports the WebGPU package) — one bundled file each instead of hundreds of modules through Vite;
// - '@fast-check/vitest' is tests/support/fast-check-vitest-lite.ts (same test.prop, without its 2 s import);
// - one fast-check seed for the run (tests/support/mutate-setup.ts): property tests are named by seed.
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@siftjs\/sift-optimizer$/, replacement: here('packages/sift-optimizer/src/index.ts') },
      { find: /^@fast-check\/vitest$/, replacement: here('tests/support/fast-check-vitest-lite.ts') },
    ],
  },
  test: {
    // The CLI tests run the built dist, which does not see a mutated source file: only the library's own tests count.
    include: ['tests/sift/**/*.test.ts'],
    setupFiles: ['tests/support/mutate-setup.ts'],
    env: { SIFT_BACKENDS: 'cpu', SIFT_TEST_WEBGPU: '0' },
    testTimeout: 120_000,
    server: { deps: { external: [/\/packages\/(tensor|nn|models|safetensors|backend-cpu)\/dist\//] } },
    // Stryker's runner starts worker threads, which refuse Node flags such as --expose-gc: none here.
  },
});
