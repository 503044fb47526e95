import { type AdamWIncrementArgs, type BackendStorage, type TypedArray, adamwBiasCorrection, DTypeError, isHalf, numberToHalfBits } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import { checkIndex } from './support/indices.js';

/** SIFT's step on one sparse tensor, in place (the contract's adamwIncrement; the paper's Figure 5). */
export function adamwIncrement(cpu: CpuContext, a: AdamWIncrementArgs): void {
  if (isHalf(a.dtype)) {
    throw new DTypeError(`adamwIncrement: the increment and its moments are ${a.dtype}; keep them float32 (an update below the half spacing would be lost), the parameter may be half`);
  }
  const f = (s: BackendStorage) => cpu.array(s, a.dtype);
  const idx = cpu.array(a.indices, 'int32') as Int32Array;
  const param = cpu.array(a.param, a.paramDtype);
  // A half parameter (a frozen bf16 base weight) takes base + δ rounded once to nearest even from the exact sum, as
  // a float32 one does (and as fallbacks/adamwIncrement.ts computes it); δ itself stays in `a.dtype`.
  const paramDtype = a.paramDtype;
  const store: Store = isHalf(paramDtype) ? (at, v) => void (param[at] = numberToHalfBits(v, paramDtype)) : (at, v) => void (param[at] = v);
  stepIncrement(a, store, idx, f(a.base), f(a.delta), f(a.grad), f(a.m), f(a.v), a.steps ? f(a.steps) : null);
}

/** Writes one parameter element. */
type Store = (at: number, value: number) => void;

/**
 * The step in float64, one component at a time, with the constants of `adamwConstants` / `adamwBiasCorrection`
 * (@siftjs/tensor): the same AdamW arithmetic on the increment δ, then param[idx] = base + δ — the sum of the two stored values, rounded once to the parameter's dtype,
 * which is exactly fl(base + δ) as applyDelta and mergeInto compute it.
 */
function stepIncrement(
  a: Omit<AdamWIncrementArgs, 'param' | 'indices' | 'base' | 'delta' | 'grad' | 'm' | 'v' | 'steps'>,
  store: Store,
  idx: Int32Array,
  base: TypedArray,
  delta: TypedArray,
  g: TypedArray,
  m: TypedArray,
  v: TypedArray,
  steps: TypedArray | null,
): void {
  const { beta1, beta2, oneMinusBeta1, oneMinusBeta2, eps, decay } = a.c;
  for (let i = 0; i < a.k; i++) checkIndex('adamwIncrement', idx[i], a.paramSize);
  for (let i = 0; i < a.k; i++) {
    const gi = g[i];
    const mi = beta1 * m[i] + oneMinusBeta1 * gi;
    const vi = beta2 * v[i] + oneMinusBeta2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    let { stepSize, bc2 } = a.c;
    if (steps) {
      const t = steps[i] + 1;
      steps[i] = t;
      ({ stepSize, bc2 } = adamwBiasCorrection(a.c, t));
    }
    delta[i] = delta[i] * decay - (stepSize * mi) / (Math.sqrt(vi) / bc2 + eps);
    store(idx[i], base[i] + delta[i]);
  }
}
