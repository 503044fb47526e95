import { record } from '../autograd/record.js';
import { promoteTypes } from '../dtype.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { binaryKernel } from './binary.js';
import { cast } from './cast.js';
import { noGrad } from '../autograd/grad-mode.js';
import { sumTo } from './reduce.js';
import { unaryKernel } from './unary.js';
import { backendOf, expandedView, fromStorage, type Operand, requireDType, scalarOn, toTensor } from './util.js';

/** Comparisons produce bool tensors and carry no gradient. */
function compare(op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge', a: Tensor, b: Operand): Tensor {
  const bt = toTensor(b, a);
  try {
    return binaryKernel(op, a, bt);
  } finally {
    if (bt !== b) bt.dispose();
  }
}

export const eq = (a: Tensor, b: Operand) => compare('eq', a, b);
export const ne = (a: Tensor, b: Operand) => compare('ne', a, b);
export const lt = (a: Tensor, b: Operand) => compare('lt', a, b);
export const le = (a: Tensor, b: Operand) => compare('le', a, b);
export const gt = (a: Tensor, b: Operand) => compare('gt', a, b);
export const ge = (a: Tensor, b: Operand) => compare('ge', a, b);

export function logicalAnd(a: Tensor, b: Tensor): Tensor {
  requireDType('logicalAnd', a, 'bool');
  requireDType('logicalAnd', b, 'bool');
  return binaryKernel('and', a, b);
}

export function logicalOr(a: Tensor, b: Tensor): Tensor {
  requireDType('logicalOr', a, 'bool');
  requireDType('logicalOr', b, 'bool');
  return binaryKernel('or', a, b);
}

export function logicalNot(a: Tensor): Tensor {
  requireDType('logicalNot', a, 'bool');
  return unaryKernel('not', a, false);
}

export function isnan(a: Tensor): Tensor {
  return unaryKernel('isnan', a, false);
}

/** Elementwise `cond ? a : b` with broadcasting of all three; the gradient goes to the side that was taken. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  requireDType('where', cond, 'bool');
  const like = typeof a === 'number' ? (typeof b === 'number' ? null : b) : a;
  const at = typeof a === 'number' ? (like ? toTensor(a, like) : scalarOn(cond.backend, a, 'float32')) : a;
  const bt = typeof b === 'number' ? toTensor(b, at) : b;
  const made = [at !== a ? at : null, bt !== b ? bt : null];
  try {
    const backend = backendOf('where', cond, at, bt);
    const shape = broadcastShapes('where', cond.shape, at.shape, bt.shape);
    const dtype = promoteTypes(at.dtype, bt.dtype);
    const ac = at.dtype === dtype ? at : noGrad(() => cast(at, dtype));
    const bc = bt.dtype === dtype ? bt : noGrad(() => cast(bt, dtype));
    const out = fromStorage(
      backend,
      backend.where(expandedView(cond, shape), expandedView(ac, shape), expandedView(bc, shape)),
      dtype,
      shape,
    );
    if (ac !== at) ac.dispose();
    if (bc !== bt) bc.dispose();
    return record(
      'where',
      out,
      [at, bt],
      (g, [c], n) => {
        const zero = g.zerosLike();
        return [
          n[0] ? sumTo(where(c, g, zero), at.shape) : null,
          n[1] ? sumTo(where(c, zero, g), bt.shape) : null,
        ];
      },
      [cond],
    );
  } finally {
    for (const t of made) t?.dispose();
  }
}

/** `x` with `value` where `mask` is true. */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  return where(mask, value, x);
}
