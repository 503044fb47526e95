import { scope, type Tensor } from '@siftjs/tensor';
import { expect } from 'vitest';

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
 * and every `grad.<name>` entry to 1e-4 relative after backward.
 */
export function expectMatchesGolden(
  model: { stateDict(): Record<string, Tensor>; zeroGrad(): void },
  golden: Record<string, Tensor>,
  run: () => { logits: Tensor; loss: Tensor | null },
): void {
  scope(() => {
    const { logits, loss } = run();
    expect(relError(logits.toArraySync(), golden.logits.toArraySync()), 'logits').toBeLessThan(1e-5);
    expect(Math.abs(loss!.itemSync() - golden.loss.itemSync()) / golden.loss.itemSync(), 'loss').toBeLessThan(1e-5);
    loss!.backward();
    const params = model.stateDict();
    for (const [key, g] of Object.entries(golden).filter(([k]) => k.startsWith('grad.'))) {
      expect(relError(params[key.slice(5)].grad!.toArraySync(), g.toArraySync()), key).toBeLessThan(1e-4);
    }
  });
  model.zeroGrad();
}
