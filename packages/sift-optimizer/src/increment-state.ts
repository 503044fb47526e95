import { type DType, keep, noGrad, type Tensor } from '@siftjs/tensor';
import type { SparseIncrement } from './sparse-increment.js';

/**
 * What one sparse tensor saves to resume bit-exactly, at any point of a run: between steps, between the passes of a
 * selection, with a re-selection due or nominated, between micro-batches. Tensors are live (the caller copies or
 * writes them).
 */
export interface IncrementState {
  /** AdamW steps taken (the bias-correction count while every component shares it). */
  step: number;
  /** Backward passes seen by a selection still in progress. */
  passes: number;
  /** Components a due re-selection will swap (0: none). */
  reselect: number;
  /** Whether a gradient has arrived since the last zeroGrad. */
  received: boolean;
  tensors: Record<string, Tensor>;
}

export function incrementState(s: SparseIncrement): IncrementState {
  const tensors: Record<string, Tensor> = {};
  const put = (key: string, t: Tensor | null) => t && (tensors[key] = t);
  put('indices', s.indices);
  put('base', s.base);
  put('delta', s.delta);
  put('exp_avg', s.m);
  put('exp_avg_sq', s.v);
  put('steps', s.steps);
  if (s.received) put('grad', s.grad);
  for (const [key, t] of Object.entries(s.selector.buffers())) put(key, t);
  put('nominees', s.reselection.nominees);
  put('nominee_grad', s.reselection.nomineeGrad);
  return { step: s.step, passes: s.selector.passes, reselect: s.reselection.pending, received: s.received, tensors };
}

/** Restores a state saved from the same weight and options; P[idx] is rewritten as base + δ. */
export function loadIncrementState(s: SparseIncrement, st: IncrementState): void {
  const t = st.tensors;
  const n = s.param.size;
  const r = st.reselect;
  const copy = (key: string, size: number, dtype: DType, shape: readonly number[] = [size]): Tensor | null => {
    const x = t[key];
    if (!x) return null;
    if (x.size !== size || x.dtype !== dtype) throw new Error(`SIFT loadStateDict: ${s.name}.${key} is ${x.dtype}[${x.size}], expected ${dtype}[${size}]`);
    return keep(noGrad(() => x.reshape([...shape]).clone()));
  };
  for (const x of [s.indices, s.base, s.delta, s.steps]) x?.dispose();
  s.indices = copy('indices', s.k, 'int32');
  s.base = copy('base', s.k, s.dtype);
  s.delta = copy('delta', s.k, s.dtype);
  s.steps = copy('steps', s.k, s.dtype);
  if (!s.indices !== !s.base || !s.indices !== !s.delta) throw new Error(`SIFT loadStateDict: ${s.name} needs indices, base and delta together`);
  for (const [key, into] of [['exp_avg', s.m], ['exp_avg_sq', s.v], ['grad', s.grad]] as const) {
    const x = copy(key, s.k, s.dtype);
    noGrad(() => (x ? into.copy_(x) : into.fill_(0)));
    x?.dispose();
  }
  s.step = st.step;
  s.received = st.received;
  // A selection's sums have the weight's shape, as the gradients added into them.
  const sums = { selection_sum: copy('selection_sum', n, s.dtype, s.param.shape) ?? undefined, selection_squares: copy('selection_squares', n, s.dtype, s.param.shape) ?? undefined };
  s.selector.restore(st.passes, sums);
  s.reselection.restore(r, copy('nominees', r, 'int32'), copy('nominee_grad', r, s.dtype));
  s.writeBack();
  s.askForSampledGradient();
}
