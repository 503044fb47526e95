import { setBackend } from '@siftjs/tensor';

/**
 * The backends the shared suites run on. `SIFT_BACKENDS=cpu,webgpu` picks them; each entry imports its package
 * (which registers it) and starts it. A suite written once runs unchanged on every backend listed here.
 */
export interface BackendUnderTest {
  name: string;
  start(): Promise<void>;
}

const known: Record<string, () => Promise<unknown>> = {
  cpu: () => import('@siftjs/backend-cpu'),
};

export function backendsUnderTest(): BackendUnderTest[] {
  const names = (process.env.SIFT_BACKENDS ?? 'cpu').split(',').map((s) => s.trim()).filter(Boolean);
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
