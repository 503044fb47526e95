import { noGrad } from '../autograd/grad-mode.js';
import { record } from '../autograd/record.js';
import type { BinaryOp } from '../backend/backend.js';
import { promoteTypes } from '../dtype.js';
import { DTypeError, fmtShape } from '../errors.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { cast } from './cast.js';
import { sumTo } from './reduce.js';
import { where } from './compare.js';
import { backendOf, expandedView, fromStorage, type Operand, toTensor } from './util.js';

/**
 * Broadcasts, promotes both operands to a common dtype and runs one binary kernel. Returns the output and the
 * (possibly cast) operands; the caller records the gradient against the original operands.
 */
export function binaryKernel(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  const backend = backendOf(op, a, b);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const dtype = promoteTypes(a.dtype, b.dtype);
  // The gradient is recorded against the original operands by the caller; the casts here are not on the tape.
  const ac = a.dtype === dtype ? a : noGrad(() => cast(a, dtype));
  const bc = b.dtype === dtype ? b : noGrad(() => cast(b, dtype));
  try {
    const logical = op === 'eq' || op === 'ne' || op === 'lt' || op === 'le' || op === 'gt' || op === 'ge' || op === 'and' || op === 'or';
    const storage = backend.binary(op, expandedView(ac, shape), expandedView(bc, shape));
    return fromStorage(backend, storage, logical ? 'bool' : dtype, shape);
  } finally {
    if (ac !== a) ac.dispose();
    if (bc !== b) bc.dispose();
  }
}

/** Runs `fn` on two tensors, turning a number operand into a scalar tensor (disposed afterwards). */
function withOperands(a: Tensor, b: Operand, fn: (a: Tensor, b: Tensor) => Tensor): Tensor {
  const bt = toTensor(b, a);
  try {
    return fn(a, bt);
  } finally {
    if (bt !== b) bt.dispose();
  }
}

function arithmetic(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  if (a.dtype === 'bool' || b.dtype === 'bool') {
    throw new DTypeError(`${op}: bool operands (${fmtShape(a.shape)} ${a.dtype}, ${fmtShape(b.shape)} ${b.dtype}); cast to a number type first`);
  }
  return binaryKernel(op, a, b);
}

export function add(a: Tensor, b: Operand): Tensor {
  return withOperands(a, b, (a, b) =>
    record('add', arithmetic('add', a, b), [a, b], (g, _, n) => [n[0] ? sumTo(g, a.shape) : null, n[1] ? sumTo(g, b.shape) : null]),
  );
}

export function sub(a: Tensor, b: Operand): Tensor {
  return withOperands(a, b, (a, b) =>
    record('sub', arithmetic('sub', a, b), [a, b], (g, _, n) => [
      n[0] ? sumTo(g, a.shape) : null,
      n[1] ? sumTo(g.neg(), b.shape) : null,
    ]),
  );
}

export function mul(a: Tensor, b: Operand): Tensor {
  return withOperands(a, b, (a, b) =>
    record(
      'mul',
      arithmetic('mul', a, b),
      [a, b],
      (g, [as, bs], n) => [n[0] ? sumTo(g.mul(bs), a.shape) : null, n[1] ? sumTo(g.mul(as), b.shape) : null],
      [a, b],
    ),
  );
}

/** d(a/b) = g/b, −g·a/b² */
export function div(a: Tensor, b: Operand): Tensor {
  return withOperands(a, b, (a, b) =>
    record(
      'div',
      arithmetic('div', a, b),
      [a, b],
      (g, [as, bs], n) => [
        n[0] ? sumTo(g.div(bs), a.shape) : null,
        n[1] ? sumTo(g.mul(as).div(bs.square()).neg(), b.shape) : null,
      ],
      [a, b],
    ),
  );
}

/** d(aᵇ) = g·b·aᵇ⁻¹ and g·aᵇ·ln a */
export function pow(a: Tensor, b: Operand): Tensor {
  return withOperands(a, b, (a, b) => {
    const y = arithmetic('pow', a, b);
    return record(
      'pow',
      y,
      [a, b],
      (g, [as, bs, ys], n) => [
        n[0] ? sumTo(g.mul(bs).mul(as.pow(bs.sub(1))), a.shape) : null,
        n[1] ? sumTo(g.mul(ys).mul(as.log()), b.shape) : null,
      ],
      [a, b, y],
    );
  });
}

/** Where the operands tie the gradient is split evenly, as PyTorch does. */
function extremum(op: 'maximum' | 'minimum', a: Tensor, b: Tensor): Tensor {
  return record(
    op,
    arithmetic(op, a, b),
    [a, b],
    (g, [as, bs], n) => {
      const wins = op === 'maximum' ? as.gt(bs) : as.lt(bs);
      const ties = as.eq(bs);
      const half = g.mul(0.5);
      const zero = g.zerosLike();
      const ga = where(wins, g, where(ties, half, zero));
      const gb = where(wins, zero, where(ties, half, g));
      return [n[0] ? sumTo(ga, a.shape) : null, n[1] ? sumTo(gb, b.shape) : null];
    },
    [a, b],
  );
}

export function maximum(a: Tensor, b: Operand): Tensor {
  return withOperands(a, b, (a, b) => extremum('maximum', a, b));
}

export function minimum(a: Tensor, b: Operand): Tensor {
  return withOperands(a, b, (a, b) => extremum('minimum', a, b));
}
