import type { AdamWHyper } from '../backend/backend.js';
import { ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { backendOf, requireDType, requireFloat } from './util.js';

function wholeStorage(op: string, name: string, t: Tensor, size: number): void {
  if (!t.coversStorage() || t.size !== size) {
    throw new ShapeError(`${op}: ${name} ${fmtShape(t.shape)} must be a whole contiguous tensor of ${size} elements`);
  }
}

/**
 * One fused AdamW step in place on `param`, `m`, `v` (PyTorch's update: decoupled weight decay
 * p ← p − lr·λ·p, then p ← p − lr·m̂/(√v̂ + eps) with bias-corrected moments). Not recorded by autograd.
 */
export function adamwUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, h: AdamWHyper): void {
  requireFloat('adamwUpdate', param);
  const b = backendOf('adamwUpdate', param, grad, m, v);
  for (const [name, t] of [['param', param], ['grad', grad], ['m', m], ['v', v]] as const) {
    wholeStorage('adamwUpdate', name, t, param.size);
    requireDType('adamwUpdate', t, param.dtype);
  }
  b.adamw(param.raw().storage, grad.raw().storage, m.raw().storage, v.raw().storage, param.dtype, param.size, h);
}

/**
 * Sparse AdamW in place: steps `values` [k] with `grad`, `m`, `v` [k], then writes the values into `param` at the
 * flat int32 `indices` — SIFT's update.
 */
export function adamwSparseUpdate(
  param: Tensor,
  indices: Tensor,
  values: Tensor,
  grad: Tensor,
  m: Tensor,
  v: Tensor,
  h: AdamWHyper,
): void {
  requireDType('adamwSparseUpdate', indices, 'int32');
  const b = backendOf('adamwSparseUpdate', param, indices, values, grad, m, v);
  const k = values.size;
  wholeStorage('adamwSparseUpdate', 'param', param, param.size);
  for (const [name, t] of [['indices', indices], ['values', values], ['grad', grad], ['m', m], ['v', v]] as const) {
    wholeStorage('adamwSparseUpdate', name, t, k);
  }
  b.adamwSparse(param.raw().storage, indices.raw().storage, values.raw().storage, grad.raw().storage, m.raw().storage, v.raw().storage, param.dtype, k, h);
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
