import type { AdamWConstants, AdamWHyper } from '../backend/backend.js';
import { ShapeError, fmtShape } from '../errors.js';
import { adamw as adamwFallback } from '../fallbacks/adamw.js';
import { adamwIncrement as adamwIncrementFallback } from '../fallbacks/adamwIncrement.js';
import type { Tensor } from '../tensor.js';
import { backendOf, requireDType, requireFloat } from './util.js';

function wholeStorage(op: string, name: string, t: Tensor, size: number): void {
  if (!t.coversStorage() || t.size !== size) {
    throw new ShapeError(`${op}: ${name} ${fmtShape(t.shape)} must be a whole contiguous tensor of ${size} elements`);
  }
}

/**
 * One fused AdamW step in place on `param`, `m`, `v` (PyTorch's update: decoupled weight decay
 * p ← p − lr·λ·p, then p ← p − lr·m̂/(√v̂ + eps) with bias-corrected moments). Not recorded by autograd. The
 * backend's fused kernel where it has one, else the reference from primitives (fallbacks/adamw.ts).
 */
export function adamwUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, h: AdamWHyper): void {
  requireFloat('adamwUpdate', param);
  const b = backendOf('adamwUpdate', param, grad, m, v);
  for (const [name, t] of [['param', param], ['grad', grad], ['m', m], ['v', v]] as const) {
    wholeStorage('adamwUpdate', name, t, param.size);
    requireDType('adamwUpdate', t, param.dtype);
  }
  if (b.adamw) b.adamw(param.raw().storage, grad.raw().storage, m.raw().storage, v.raw().storage, param.dtype, param.size, h);
  else adamwFallback(param, grad, m, v, h);
}

/**
 * AdamW's constants for step t (1-based), in float64, computed here once so that every backend's kernel uses the same
 * values: decay = 1 − lr·λ, 1 − β₁, 1 − β₂, ln β₁, ln β₂, and the bias corrections of `adamwBiasCorrection`.
 */
export function adamwConstants(h: AdamWHyper): AdamWConstants {
  const { lr, beta1, beta2, eps, weightDecay, step } = h;
  return {
    lr,
    beta1,
    beta2,
    eps,
    decay: 1 - lr * weightDecay,
    oneMinusBeta1: 1 - beta1,
    oneMinusBeta2: 1 - beta2,
    logBeta1: Math.log(beta1),
    logBeta2: Math.log(beta2),
    ...adamwBiasCorrection(h, step),
  };
}

/** The bias corrections at step t: stepSize = lr / (1 − β₁ᵗ), bc2 = √(1 − β₂ᵗ) (per component, with step counts). */
export function adamwBiasCorrection(c: { lr: number; beta1: number; beta2: number }, t: number): { stepSize: number; bc2: number } {
  return { stepSize: c.lr / (1 - c.beta1 ** t), bc2: Math.sqrt(1 - c.beta2 ** t) };
}

/** The tensors of one SIFT step: a sparse increment over the k chosen components of `param`. */
export interface IncrementTensors {
  /** The dense weight (whole and contiguous), updated at `indices`. */
  param: Tensor;
  /** int32 [k] flat positions in `param`. */
  indices: Tensor;
  /** [k] pre-trained values at `indices`. */
  base: Tensor;
  /** [k] the increment δ, stepped in place. */
  delta: Tensor;
  /** [k] the gradient of δ. */
  grad: Tensor;
  /** [k] AdamW's moments, in place. */
  m: Tensor;
  v: Tensor;
  /** [k] per-component step counts (incremented in place), or null when all components share `h.step`. */
  steps?: Tensor | null;
}

/**
 * SIFT's step, in place and not recorded (the paper's Figure 5): AdamW on the increment δ of the k chosen components
 * — m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², δ ← δ(1 − lr·λ) − lr/(1−β₁ᵗ) · m / (√v / √(1−β₂ᵗ) + eps) — then
 * param[indices] ← base + δ. Decay acts on δ, never on the pre-trained base. One kernel per tensor where the backend
 * has it, else the reference from primitives (fallbacks/adamwIncrement.ts).
 * With `steps`, each component's count is incremented and used for its own bias correction (`h.step` is ignored).
 */
export function adamwIncrement(t: IncrementTensors, h: AdamWHyper): void {
  const { param, indices, base, delta, grad, m, v } = t;
  const steps = t.steps ?? null;
  requireFloat('adamwIncrement', param);
  requireDType('adamwIncrement', indices, 'int32');
  requireFloat('adamwIncrement', delta);
  const k = indices.size;
  const b = backendOf('adamwIncrement', param, indices, base, delta, grad, m, v, ...(steps ? [steps] : []));
  wholeStorage('adamwIncrement', 'param', param, param.size);
  for (const [name, x] of [['indices', indices], ['base', base], ['delta', delta], ['grad', grad], ['m', m], ['v', v], ['steps', steps]] as const) {
    if (!x) continue;
    wholeStorage('adamwIncrement', name, x, k);
    if (name !== 'indices') requireDType('adamwIncrement', x, delta.dtype);
  }
  if (k === 0) return;
  const c = adamwConstants(h);
  if (!b.adamwIncrement) return adamwIncrementFallback({ ...t, steps }, c);
  b.adamwIncrement({
    param: param.raw().storage,
    paramDtype: param.dtype,
    paramSize: param.size,
    indices: indices.raw().storage,
    base: base.raw().storage,
    delta: delta.raw().storage,
    grad: grad.raw().storage,
    m: m.raw().storage,
    v: v.raw().storage,
    steps: steps ? steps.raw().storage : null,
    dtype: delta.dtype,
    k,
    c,
  });
}

/**
 * In place, not recorded: writes ('set') or adds ('add') `values` into the whole contiguous tensor `x` at flat
 * int32 `indices` — the write-back of sparse updates without copying `x`. Indices must be distinct for 'set'.
 */
export function scatterFlatInto(x: Tensor, indices: Tensor, values: Tensor, mode: 'set' | 'add' = 'set'): void {
  requireDType('scatterFlatInto', indices, 'int32');
  requireDType('scatterFlatInto', values, x.dtype);
  if (values.size !== indices.size) {
    throw new ShapeError(`scatterFlatInto: ${values.size} values ${fmtShape(values.shape)} for ${indices.size} indices ${fmtShape(indices.shape)}`);
  }
  wholeStorage('scatterFlatInto', 'x', x, x.size);
  const b = backendOf('scatterFlatInto', x, indices, values);
  const vc = values.isContiguous() ? values : values.contiguous();
  b.scatterFlat(x.raw().storage, x.dtype, indices.raw(), vc.raw(), mode);
  if (vc !== values) vc.dispose();
}
