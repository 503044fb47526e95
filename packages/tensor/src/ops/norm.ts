import { record } from '../autograd/record.js';
import type { Backend, BackendStorage, NormForward, NormGradients, NormStats } from '../backend/backend.js';
import { layerNorm as layerNormFallback } from '../fallbacks/layerNorm.js';
import { layerNormBackward as layerNormBackwardFallback } from '../fallbacks/layerNormBackward.js';
import { type NormBackwardTensors, type NormForwardTensors } from '../fallbacks/norm-rows.js';
import { rmsNorm as rmsNormFallback } from '../fallbacks/rmsNorm.js';
import { rmsNormBackward as rmsNormBackwardFallback } from '../fallbacks/rmsNormBackward.js';
import { opmathDtype } from '../dtype.js';
import { ShapeError, fmtShape } from '../errors.js';
import { shapesEqual, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { backendOf, fromStorage, requireFloat } from './util.js';
import { contiguous, reshape } from './views.js';

/**
 * Layer normalisation over the trailing dims `normalizedShape`:
 *   y = (x − mean) / sqrt(var + eps) · weight + bias     (biased variance, as torch)
 * Forward and backward are fused kernels where the backend has them, else their references from primitives
 * (fallbacks/); the per-row mean and 1/std are kept for the backward, in float32 for a half x (`opmathDtype`).
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  const ns = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  checkNorm('layerNorm', x, ns, weight, bias);
  return fusedNorm('layerNorm', x, ns, weight, bias, eps);
}

/** RMS normalisation over the last dim: y = x / sqrt(mean(x²) + eps) · weight (LLaMA's RMSNorm). */
export function rmsNorm(x: Tensor, weight: Tensor | null = null, eps = 1e-6): Tensor {
  const ns = [x.shape[x.rank - 1] ?? 1];
  checkNorm('rmsNorm', x, ns, weight, null);
  return fusedNorm('rmsNorm', x, ns, weight, null, eps);
}

function checkNorm(op: string, x: Tensor, ns: number[], weight: Tensor | null, bias: Tensor | null): void {
  requireFloat(op, x);
  if (x.rank < ns.length || !shapesEqual(x.shape.slice(x.rank - ns.length), ns)) {
    throw new ShapeError(`${op}: input ${fmtShape(x.shape)} does not end with the normalized shape ${fmtShape(ns)}`);
  }
  for (const [name, p] of [['weight', weight], ['bias', bias]] as const) {
    if (p && !shapesEqual(p.shape, ns)) {
      throw new ShapeError(`${op}: ${name} has shape ${fmtShape(p.shape)}, expected the normalized shape ${fmtShape(ns)}`);
    }
    if (p && p.dtype !== x.dtype) throw new ShapeError(`${op}: ${name} is ${p.dtype} but the input is ${x.dtype}`);
  }
}

function fusedNorm(
  op: 'layerNorm' | 'rmsNorm',
  x: Tensor,
  ns: number[],
  weight: Tensor | null,
  bias: Tensor | null,
  eps: number,
): Tensor {
  const b = backendOf(op, x, weight, bias);
  const cols = sizeOf(ns);
  const xc = contiguous(x);
  const w = weight ? contiguous(weight) : null;
  const bb = bias ? contiguous(bias) : null;
  const { y, rstd, mean } = normForward(op, b, xc, w, bb, cols, eps);
  const inputs = [x, weight, bias].filter((t): t is Tensor => t !== null);
  const save = [xc, rstd, ...(mean ? [mean] : []), ...(w ? [w] : [])];
  const out = record(
    op,
    y,
    inputs,
    (g, saved, needs) => {
      const [xs, rs] = saved;
      const ms = mean ? saved[2] : null;
      const ws = w ? saved[saved.length - 1] : null;
      const gc = contiguous(g);
      // Frozen parameters (and an input that needs no gradient) are left out of the kernel's work.
      const wanted: NormGradients = { input: needs[0], weight: weight !== null && needs[1], bias: bias !== null && needs[needs.length - 1] };
      const r = normBackward(op, b, gc, xs, ws, { mean: ms, rstd: rs }, ns, wanted);
      const grads: (Tensor | null)[] = [r.dx];
      if (weight) grads.push(r.dweight);
      if (bias) grads.push(r.dbias);
      return grads;
    },
    save,
  );
  for (const t of [xc, w, bb, rstd, mean]) t?.dispose();
  return out;
}

/** The forward through the backend's fused kernel where it has one, else the reference from primitives (fallbacks/). */
function normForward(
  op: 'layerNorm' | 'rmsNorm',
  b: Backend,
  x: Tensor,
  w: Tensor | null,
  bias: Tensor | null,
  cols: number,
  eps: number,
): NormForwardTensors {
  let f: NormForward;
  if (op === 'layerNorm') {
    if (!b.layerNorm) return layerNormFallback(x, w, bias, cols, eps);
    f = b.layerNorm(x.raw(), w?.raw() ?? null, bias?.raw() ?? null, cols, eps);
  } else {
    if (!b.rmsNorm) return rmsNormFallback(x, w, cols, eps);
    f = b.rmsNorm(x.raw(), w?.raw() ?? null, cols, eps);
  }
  const rows = cols === 0 ? 0 : x.size / cols;
  const stats = opmathDtype(x.dtype); // float32 for a half x (the contract's NormStats)
  return {
    y: fromStorage(b, f.y, x.dtype, x.shape),
    rstd: fromStorage(b, f.rstd, stats, [rows], false),
    mean: f.mean ? fromStorage(b, f.mean, stats, [rows], false) : null,
  };
}

/** The backward through the backend's fused kernel where it has one, else the reference from primitives. */
function normBackward(
  op: 'layerNorm' | 'rmsNorm',
  b: Backend,
  dy: Tensor,
  x: Tensor,
  w: Tensor | null,
  stats: { mean: Tensor | null; rstd: Tensor },
  ns: readonly number[],
  wanted: NormGradients,
): NormBackwardTensors {
  const cols = sizeOf(ns);
  const s: NormStats = { rstd: stats.rstd.raw().storage, mean: stats.mean?.raw().storage };
  // Each fused kernel called by name: docs/core.md's table of rules that call kernels is read from these calls.
  let r: ReturnType<NonNullable<Backend['layerNormBackward']>>;
  if (op === 'layerNorm' && b.layerNormBackward) r = b.layerNormBackward(dy.raw(), x.raw(), w?.raw() ?? null, s, cols, wanted);
  else if (op === 'rmsNorm' && b.rmsNormBackward) r = b.rmsNormBackward(dy.raw(), x.raw(), w?.raw() ?? null, s, cols, wanted);
  else {
    const f =
      op === 'layerNorm' ? layerNormBackwardFallback(dy, x, w, stats, cols, wanted) : rmsNormBackwardFallback(dy, x, w, stats.rstd, cols, wanted);
    return { dx: f.dx, dweight: f.dweight && reshape(f.dweight, ns), dbias: f.dbias && reshape(f.dbias, ns) };
  }
  const take = (st: BackendStorage | null, want: boolean, shape: readonly number[]): Tensor | null => {
    if (st && !want) b.free(st); // a backend that computed more than it was asked: nobody holds it
    return st && want ? fromStorage(b, st, x.dtype, shape) : null;
  };
  return { dx: take(r.dx, wanted.input, x.shape), dweight: take(r.dweight, wanted.weight, ns), dbias: take(r.dbias, wanted.bias, ns) };
}
