import { type Tensor, scope, tensor } from '@siftjs/tensor';
import * as ref from '../reference/index.js';
import { expectClose } from './close.js';

export function toTensor(r: ref.Ref, dtype: 'float32' | 'float64' = 'float64', requiresGrad = false): Tensor {
  const data = dtype === 'float64' ? Float64Array.from(r.data) : Float32Array.from(r.data);
  return tensor(data, { shape: r.shape, dtype, requiresGrad });
}

export function toRef(t: Tensor): ref.Ref {
  return ref.ref([...t.shape], Float64Array.from(t.toArraySync()));
}

/** float32 inputs rounded, so the float32 forward is compared with the reference on the same numbers. */
export function roundF32(r: ref.Ref): ref.Ref {
  return ref.ref(r.shape, Float64Array.from(Float32Array.from(r.data)));
}

/**
 * Forward: ours in float64 against the reference. Tolerances are relative to the reference's magnitude.
 */
export function checkForward(
  ours: (xs: Tensor[]) => Tensor,
  reference: (xs: ref.Ref[]) => ref.Ref,
  inputs: ref.Ref[],
  opts: { dtype?: 'float32' | 'float64'; rtol?: number; atol?: number } = {},
): void {
  const dtype = opts.dtype ?? 'float64';
  const rtol = opts.rtol ?? (dtype === 'float64' ? 1e-10 : 2e-5);
  const atol = opts.atol ?? (dtype === 'float64' ? 1e-12 : 1e-5);
  const rin = dtype === 'float32' ? inputs.map(roundF32) : inputs;
  const expected = reference(rin);
  scope(() => {
    const out = ours(rin.map((r) => toTensor(r, dtype)));
    if (out.shape.join() !== expected.shape.join()) {
      throw new Error(`shape ${JSON.stringify(out.shape)}, expected ${JSON.stringify(expected.shape)}`);
    }
    expectClose(out.toArraySync(), expected.data, rtol, atol, `forward (${dtype})`);
  });
}

/**
 * Gradient: our backward (float64) of L = Σ out·w against central finite differences of the *reference*
 * forward, so the check is independent of our own code.
 */
export function checkGradient(
  ours: (xs: Tensor[]) => Tensor,
  reference: (xs: ref.Ref[]) => ref.Ref,
  inputs: ref.Ref[],
  weights: ref.Ref,
  { differentiable = inputs.map(() => true), rtol = 1e-5, atol = 1e-6 } = {},
): void {
  const numeric = ref.numericGrad((xs) => {
    const y = reference(xs);
    let s = 0;
    for (let i = 0; i < y.data.length; i++) s += y.data[i] * weights.data[i];
    return s;
  }, inputs);
  scope(() => {
    const leaves = inputs.map((r, i) => toTensor(r, 'float64', differentiable[i]));
    const out = ours(leaves);
    if (!out.requiresGrad) throw new Error('output does not require grad');
    out.backward(toTensor(weights));
    leaves.forEach((leaf, i) => {
      if (!differentiable[i]) return;
      if (leaf.grad === null) {
        if (numeric[i].data.every((v) => Math.abs(v) <= atol)) return;
        throw new Error(`input ${i}: no gradient, expected a non-zero one`);
      }
      expectClose(leaf.grad.toArraySync(), numeric[i].data, rtol, atol, `gradient of input ${i}`);
    });
  });
}
