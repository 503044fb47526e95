/**
 * SIFT_BACKENDS=cuda, as gpu:verify runs the suites: the shared suites' backend list knows 'cuda'. Where CUDA can run,
 * it starts; elsewhere (this machine: no libcuda.so.1) starting it fails with the one reason setBackend('cuda') gives,
 * naming what is missing — not "unknown backend".
 */
import { isAvailable } from '@siftjs/backend-cuda';
import { BackendError } from '@siftjs/tensor';
import { afterAll, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';

const before = process.env.SIFT_BACKENDS;
afterAll(() => {
  if (before === undefined) delete process.env.SIFT_BACKENDS;
  else process.env.SIFT_BACKENDS = before;
});

it("SIFT_BACKENDS=cuda selects the CUDA backend: it starts where CUDA is, else one BackendError naming what is missing", async () => {
  process.env.SIFT_BACKENDS = 'cuda';
  const [cuda, ...rest] = backendsUnderTest();
  expect(rest).toEqual([]);
  expect(cuda.name).toBe('cuda');
  expect({ float64: cuda.float64, syncReads: cuda.syncReads }).toEqual({ float64: true, syncReads: false });
  const a = isAvailable();
  if (a.available) {
    await cuda.start();
    return;
  }
  const err = await cuda.start().then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BackendError);
  expect((err as Error).message).toBe(`setBackend: backend 'cuda' is not available here: ${a.reason}`);
});
