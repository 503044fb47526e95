import { type Tensor, tensor } from '@siftjs/tensor';
import * as ref from '../reference/index.js';
import { caps } from './backends.js';
import { expectClose } from './close.js';
import { read, values } from './read.js';

type FloatDType = 'float32' | 'float64';

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

export function toTensor(r: ref.Ref, dtype: FloatDType = 'float64', requiresGrad = false): Tensor {
  const data = dtype === 'float64' ? Float64Array.from(r.data) : Float32Array.from(r.data);
  return tensor(data, { shape: r.shape, dtype, requiresGrad });
}

/** A tensor's elements as a reference array (read asynchronously: any backend). */
export async function toRef(t: Tensor): Promise<ref.Ref> {
  return ref.ref([...t.shape], Float64Array.from(await values(t)));
}


/**
 * float32 inputs rounded, so the float32 forward is compared with the reference on the same numbers. On a backend that
 * flushes float32 subnormals to zero (caps().subnormals false), they are flushed here too: the device never sees them.
 */
export function roundF32(r: ref.Ref): ref.Ref {
  const rounded = Float64Array.from(Float32Array.from(r.data));
  if (!caps().subnormals) rounded.forEach((v, i) => (rounded[i] = Math.abs(v) < 2 ** -126 ? v * 0 : v));
  return ref.ref(r.shape, rounded);
}

/** `r` as the backend will hold it in `dtype`: rounded to float32 for float32, unchanged for float64. */
export function roundTo(r: ref.Ref, dtype: FloatDType): ref.Ref {
  return dtype === 'float32' ? roundF32(r) : r;
}

/** The dtypes a check asked for become the ones the running backend has: float64 runs as float32 where it is missing. */
function runnable(dtypes: readonly FloatDType[]): FloatDType[] {
  const have = caps().float64;
  return [...new Set(dtypes.map((d) => (d === 'float64' && !have ? 'float32' : d)))];
}

export interface ForwardOptions extends Tolerance {
  /** The precisions to check in (default float64 only). On a backend without float64, float64 is checked as float32. */
  dtypes?: readonly FloatDType[];
  /** Tolerances of the float32 check (default rtol 2e-5, atol 1e-5); `rtol` / `atol` are the float64 check's. */
  f32?: Tolerance;
}

/**
 * Forward: ours against the float64 reference, in each of `dtypes`. Tolerances are relative to the reference's
 * magnitude: float64 by default to 1e-10 (atol 1e-12); float32 on inputs rounded to float32 first.
 */
export async function checkForward(
  ours: (xs: Tensor[]) => Tensor,
  reference: (xs: ref.Ref[]) => ref.Ref,
  inputs: ref.Ref[],
  opts: ForwardOptions = {},
): Promise<void> {
  for (const dtype of runnable(opts.dtypes ?? ['float64'])) {
    const rtol = dtype === 'float64' ? (opts.rtol ?? 1e-10) : (opts.f32?.rtol ?? 2e-5);
    const atol = dtype === 'float64' ? (opts.atol ?? 1e-12) : (opts.f32?.atol ?? 1e-5);
    const rin = dtype === 'float32' ? inputs.map(roundF32) : inputs;
    const expected = reference(rin);
    let shape: number[] = [];
    const got = await read(() => {
      const out = ours(rin.map((r) => toTensor(r, dtype)));
      shape = [...out.shape];
      return out;
    });
    if (shape.join() !== expected.shape.join()) {
      throw new Error(`shape ${JSON.stringify(shape)}, expected ${JSON.stringify(expected.shape)}`);
    }
    expectClose(got, expected.data, rtol, atol, `forward (${dtype})`);
  }
}

export interface GradientOptions extends Tolerance {
  differentiable?: boolean[];
  /** Tolerances where the backend has no float64 and the gradient is float32 (default rtol 1e-4, atol 1e-5). */
  f32?: Tolerance;
}

/**
 * Gradient: our backward of L = Σ out·w against central finite differences of the *reference* forward, so the check
 * is independent of our own code. In float64 (rtol 1e-5, atol 1e-6 by default) where the backend has it; elsewhere
 * our float32 gradient, at float32 tolerances, against the float64 differences taken at the float32-rounded inputs.
 */
export async function checkGradient(
  ours: (xs: Tensor[]) => Tensor,
  reference: (xs: ref.Ref[]) => ref.Ref,
  inputs: ref.Ref[],
  weights: ref.Ref,
  opts: GradientOptions = {},
): Promise<void> {
  const differentiable = opts.differentiable ?? inputs.map(() => true);
  const dtype: FloatDType = caps().float64 ? 'float64' : 'float32';
  const rtol = dtype === 'float64' ? (opts.rtol ?? 1e-5) : (opts.f32?.rtol ?? 1e-4);
  const atol = dtype === 'float64' ? (opts.atol ?? 1e-6) : (opts.f32?.atol ?? 1e-5);
  const rin = dtype === 'float32' ? inputs.map(roundF32) : inputs;
  const w = dtype === 'float32' ? roundF32(weights) : weights;
  const numeric = ref.numericGrad((xs) => {
    const y = reference(xs);
    let s = 0;
    for (let i = 0; i < y.data.length; i++) s += y.data[i] * w.data[i];
    return s;
  }, rin);
  const grads = await read(() => {
    const leaves = rin.map((r, i) => toTensor(r, dtype, differentiable[i]));
    const out = ours(leaves);
    if (!out.requiresGrad) throw new Error('output does not require grad');
    out.backward(toTensor(w, dtype));
    return leaves.map((leaf) => leaf.grad);
  });
  grads.forEach((g, i) => {
    if (!differentiable[i]) return;
    if (g === null) {
      if (numeric[i].data.every((v) => Math.abs(v) <= atol)) return;
      throw new Error(`input ${i}: no gradient, expected a non-zero one`);
    }
    expectClose(g, numeric[i].data, rtol, atol, `gradient of input ${i} (${dtype})`);
  });
}
