import { SafetensorsFile } from '@siftjs/safetensors';
import type { Module } from '@siftjs/nn';
import { describeAt, findNonFinite, firstNonFinite, NonFiniteError } from '@siftjs/sift-optimizer';
import { type DType, keep, noGrad, scope, stack, type Tensor, zeros } from '@siftjs/tensor';

/*
 * Non-finite numbers are caught where they first appear: in the weights before training (here), in the loss,
 * the gradients and each step's update during training (fit.ts, with the loss's one read per step), and in
 * whatever would be saved (here, and in the delta and merge code): nothing non-finite is written.
 */

/** The training loss grew past its allowed multiple of the starting loss. */
export class DivergenceError extends Error {
  override name = 'DivergenceError';
}

export type Named = readonly (readonly [string, Tensor])[];

/**
 * Each tensor's sum, in `dtype`, stacked: one pass per tensor on the device, read with the step's loss. Not finite
 * when the tensor holds a NaN or an infinity (or values summing past the range, a sign of the same trouble). The
 * exact test, sum(x·0), costs a full-size temporary per tensor: it is kept for the checks made once.
 */
export function sums(tensors: readonly Tensor[], dtype: DType = 'float32'): Tensor {
  return noGrad(() =>
    scope(() => {
      const each = tensors.map((t) => (t.size > 0 ? t.detach().sum().cast(dtype) : zeros([], { dtype })));
      return keep(each.length ? stack(each) : zeros([0], { dtype }));
    }),
  );
}

/** Refuses a model with a NaN or an infinity in a weight, naming it: `source` says where the weights came from. */
export async function assertFiniteWeights(model: Module, source: string): Promise<void> {
  const bad = await findNonFinite([...model.namedParameters()]);
  if (bad) throw new NonFiniteError(`${source}: weight '${bad.name}' holds ${bad.where}; the weights must be finite`);
}

/** Refuses a safetensors file just written with a NaN or an infinity in any tensor, naming it (read on the host). */
export function assertFiniteFile(path: string, what: string): void {
  const f = SafetensorsFile.open(path);
  try {
    for (const key of f.keys()) {
      const { dtype, shape } = f.info(key);
      if (!/^(F|BF)\d+$/.test(dtype)) continue;
      const values = f.readArray(key);
      const at = firstNonFinite(values);
      if (at >= 0) throw new NonFiniteError(`${what}: '${key}' holds ${describeAt(values, at, shape)}; not saved`);
    }
  } finally {
    f.close();
  }
}
