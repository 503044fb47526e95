import type { Tensor } from '@siftjs/tensor';
import { expect } from 'vitest';
import { read } from './read.js';

/** max |a − e| / max |e|: one relative error for a whole tensor. */
export function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / scale;
}

/**
 * Checks a model against a golden file written by PyTorch (tests/golden/*.py): logits and loss to 1e-5 relative,
 * and every `grad.<name>` entry to 1e-4 relative after backward. The models are float32 on every backend, so the
 * bounds are the same everywhere; the values are read after the forward and backward have been recorded.
 */
export async function expectMatchesGolden(
  model: { stateDict(): Record<string, Tensor>; zeroGrad(): void },
  golden: Record<string, Tensor>,
  run: () => { logits: Tensor; loss: Tensor | null },
): Promise<void> {
  const gradKeys = Object.keys(golden).filter((k) => k.startsWith('grad.'));
  const got = await read(() => {
    const { logits, loss } = run();
    loss!.backward();
    const params = model.stateDict();
    return { logits, loss: loss!, grads: gradKeys.map((key) => params[key.slice(5)].grad!) };
  });
  const want = await read(() => ({ logits: golden.logits, loss: golden.loss, grads: gradKeys.map((key) => golden[key]) }));
  expect(relError(got.logits, want.logits), 'logits').toBeLessThan(1e-5);
  expect(Math.abs(got.loss[0] - want.loss[0]) / want.loss[0], 'loss').toBeLessThan(1e-5);
  gradKeys.forEach((key, i) => expect(relError(got.grads[i], want.grads[i]), key).toBeLessThan(1e-4));
  model.zeroGrad();
}
