import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ViteUserConfig, configDefaults, defineConfig } from 'vitest/config';
import { LAYER_NAME, buildVkComputeLayer, lavapipeEnv, lavapipeIcd } from './tools/vk-compute-layer/build.mjs';

// Tests run against the packages' TypeScript sources (the "source" export condition), so no build is needed
// between an edit and a test; tests/packages/built-entry.test.ts separately imports every built dist entry.
const conditions = ['source', 'module', 'node', 'import', 'default'];

// `npm run gpu:verify` trims the property suites to fit minutes of GPU time: SIFT_NUM_RUNS_MAX caps every property's
// numRuns (tests/support/fast-check-capped.ts stands in for '@fast-check/vitest'; same properties, fewer cases).
const numRunsCap = process.env.SIFT_NUM_RUNS_MAX
  ? [{ find: /^@fast-check\/vitest$/, replacement: fileURLToPath(new URL('tests/support/fast-check-capped.ts', import.meta.url)) }]
  : [];

/** The suites written once for every backend (tests/support/backends.ts), run again on WebGPU. */
const SHARED_SUITES = ['tests/parity/**/*.test.ts', 'tests/sift/**/*.test.ts', 'tests/nn/**/*.test.ts', 'tests/models/**/*.test.ts', 'tests/safetensors/**/*.test.ts'];

/**
 * Whether the WebGPU projects run: where an adapter is found (a GPU, SwiftShader or Mesa — see
 * packages/backend-webgpu/src/device/acquire.ts), and always under CI=true, where a missing adapter must fail the run.
 * SIFT_TEST_WEBGPU=0 leaves them out. One line says which adapter they use (or why they are skipped); Dawn's own
 * expected lines while it searches are filtered in acquire.ts.
 */
async function webgpuHere(): Promise<boolean> {
  if (process.env.SIFT_TEST_WEBGPU === '0') return false;
  const ci = process.env.CI === 'true';
  try {
    const { isAvailable } = await import('@siftjs/backend-webgpu');
    const a = await isAvailable();
    if (a.available) console.log(`[vitest] the WebGPU runs of the shared suites use ${a.reason}`);
    else console.log(`[vitest] the WebGPU runs of the shared suites ${ci ? 'will fail (CI=true)' : 'are skipped'}: ${a.reason}`);
    return a.available || ci;
  } catch (e) {
    console.log(`[vitest] the WebGPU runs of the shared suites ${ci ? 'will fail (CI=true)' : 'are skipped'}: ${(e as Error).message.split('\n')[0]}`);
    return ci;
  }
}

/** The half suites (WebGPU runs the four written for its kernels; half-ops and half-storage skip there, saying why). */
const HALF_SUITES = ['tests/parity/half-*.test.ts'];
/** The WebGPU backend's own float16 tests, and the half-weight model and SIFT tests, run on lavapipe's shader-f16 too. */
const F16_SUITES = ['packages/backend-webgpu/test/shader-f16.test.ts', 'packages/backend-webgpu/test/half.test.ts', 'tests/nn/module-to.test.ts', 'tests/sift/half-base.test.ts'];

/**
 * Whether the `webgpu-lavapipe` project runs: where the Vulkan layer tools/vk-compute-layer builds (gcc,
 * libvulkan-dev) and Mesa's lavapipe is installed (mesa-vulkan-drivers), and always under CI=true, where a missing
 * piece fails the run: the project's globalSetup (tests/support/vk-compute-layer-setup.ts) hands what is missing to
 * tests/lavapipe/adapter-f16.test.ts, which fails naming it. SIFT_TEST_WEBGPU=0 leaves it out.
 */
function lavapipeHere(): boolean {
  if (process.env.SIFT_TEST_WEBGPU === '0') return false;
  const ci = process.env.CI === 'true';
  let missing: string | null = null;
  try {
    buildVkComputeLayer();
    if (!existsSync(lavapipeIcd())) missing = `lavapipe's ICD ${lavapipeIcd()} is missing (Debian: mesa-vulkan-drivers)`;
  } catch (e) {
    missing = (e as Error).message.split('\n')[0];
  }
  if (missing) console.log(`[vitest] the half suites on lavapipe ${ci ? 'will fail (CI=true)' : 'are skipped'}: ${missing}`);
  else console.log(`[vitest] the half suites also run on lavapipe (Vulkan, shader-f16) through ${LAYER_NAME}`);
  return !missing || ci;
}

export default defineConfig(async (): Promise<ViteUserConfig> => {
  // Vitest evaluates this file again for each project that extends it: probe (and say so) once per process.
  const cache = globalThis as { siftWebgpuHere?: Promise<boolean>; siftLavapipeHere?: boolean };
  const webgpu = await (cache.siftWebgpuHere ??= webgpuHere());
  const lavapipe = (cache.siftLavapipeHere ??= lavapipeHere());
  return {
    resolve: { conditions, alias: numRunsCap },
    ssr: { resolve: { conditions } },
    test: {
      testTimeout: 60_000,
      pool: 'forks',
      // The leak test forces garbage collection to see the FinalizationRegistry reclaim undisposed tensors.
      execArgv: ['--expose-gc'],
      // CI sums the totals from this report into its closing "N passed, N failed" line.
      reporters: process.env.SIFT_TEST_REPORT ? ['default', ['json', { outputFile: process.env.SIFT_TEST_REPORT }]] : ['default'],
      projects: [
        // Everything, the shared suites on cpu and cpu-ts (or SIFT_BACKENDS).
        // (tests/lavapipe needs the webgpu-lavapipe project's environment.)
        {
          extends: true,
          test: { name: 'cpu', include: ['tests/**/*.test.ts', 'packages/*/test/**/*.test.ts'], exclude: [...configDefaults.exclude, 'tests/lavapipe/**'] },
        },
        // `cpu` runs its matmuls through the platform's BLAS where there is one: the parity suite again without it.
        { extends: true, test: { name: 'cpu-wasm', include: ['tests/parity/**/*.test.ts'], env: { SIFT_BACKENDS: 'cpu-wasm' } } },
        // The parity suite on a backend with only the contract's primitives (the CPU's, every fused kernel hidden):
        // the ops' references from primitives (packages/tensor/src/fallbacks) against the same float64 oracles.
        { extends: true, test: { name: 'cpu-primitives', include: ['tests/parity/**/*.test.ts'], env: { SIFT_BACKENDS: 'cpu-primitives' } } },
        ...(webgpu
          ? [
              // The shared suites on WebGPU at the full feature level (SwiftShader where there is no GPU)…
              { extends: true as const, test: { name: 'webgpu', include: SHARED_SUITES, env: { SIFT_BACKENDS: 'webgpu' } } },
              // …and the parity suite once more on Mesa's OpenGL ES in compatibility mode: the kernels fit its limits.
              {
                extends: true as const,
                test: { name: 'webgpu-compat', include: ['tests/parity/**/*.test.ts'], env: { SIFT_BACKENDS: 'webgpu', SIFT_WEBGPU_ADAPTER: 'opengles' } },
              },
            ]
          : []),
        ...(lavapipe
          ? [
              // The half suites on Mesa's lavapipe (Vulkan), the one adapter here that offers shader-f16: Dawn takes it
              // through a layer that reports two texture-array features compute shaders never use
              // (tools/vk-compute-layer). tests/lavapipe checks the layer, and shader-f16 itself.
              {
                extends: true as const,
                test: {
                  name: 'webgpu-lavapipe',
                  include: [...HALF_SUITES, ...F16_SUITES, 'tests/lavapipe/**/*.test.ts'],
                  globalSetup: ['tests/support/vk-compute-layer-setup.ts'],
                  env: { SIFT_BACKENDS: 'webgpu', SIFT_WEBGPU_ADAPTER: 'default', SIFT_EXPECT_SHADER_F16: '1', ...lavapipeEnv() },
                },
              },
            ]
          : []),
      ],
    },
  };
});
