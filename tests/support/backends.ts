import { registerBackend, setBackend } from '@siftjs/tensor';

/**
 * The backends the shared suites run on (default: cpu and cpu-ts). `SIFT_BACKENDS=cpu,webgpu` picks them; each entry imports its package
 * (which registers it) and starts it. A suite written once runs unchanged on every backend listed here.
 */
export interface BackendUnderTest {
  name: string;
  start(): Promise<void>;
}

const known: Record<string, () => Promise<unknown>> = {
  cpu: () => import('@siftjs/backend-cpu'),
  // The CPU backend with its TypeScript kernels only: the fallback where WebAssembly SIMD is missing.
  'cpu-ts': async () => {
    const { CpuBackend } = await import('@siftjs/backend-cpu');
    registerBackend('cpu-ts', () => new CpuBackend({ simd: false }));
  },
  // WebGPU (Dawn in Node): partial so far — kernels it lacks throw "not implemented on webgpu yet".
  webgpu: () => import('@siftjs/backend-webgpu'),
};

export function backendsUnderTest(): BackendUnderTest[] {
  const names = (process.env.SIFT_BACKENDS ?? 'cpu,cpu-ts').split(',').map((s) => s.trim()).filter(Boolean);
  return names.map((name) => ({
    name,
    async start() {
      const load = known[name];
      if (!load) throw new Error(`SIFT_BACKENDS names '${name}', which the test suite does not know`);
      await load();
      await setBackend(name);
    },
  }));
}
