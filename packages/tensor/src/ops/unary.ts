import { record } from '../autograd/record.js';
import type { UnaryOp } from '../backend/backend.js';
import type { Tensor } from '../tensor.js';
import { fromStorage, requireFloat } from './util.js';
import { zerosLike } from './creation.js';

/** Runs one unary kernel; float ops reject int and bool inputs with a DTypeError naming the op. */
export function unaryKernel(op: UnaryOp, x: Tensor, floatOnly = true): Tensor {
  if (floatOnly) requireFloat(op, x);
  const b = x.backend;
  const dtype = op === 'not' || op === 'isnan' ? 'bool' : x.dtype;
  return fromStorage(b, b.unary(op, x.raw()), dtype, x.shape);
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

// Each op: forward kernel + its derivative written with other ops (saved: [x] or [y] as the rule needs).

export function neg(x: Tensor): Tensor {
  return record('neg', unaryKernel('neg', x, false), [x], (g) => [neg(g)]);
}

export function exp(x: Tensor): Tensor {
  const y = unaryKernel('exp', x);
  return record('exp', y, [x], (g, [y]) => [g.mul(y)], [y]);
}

export function log(x: Tensor): Tensor {
  return record('log', unaryKernel('log', x), [x], (g, [x]) => [g.div(x)], [x]);
}

export function sqrt(x: Tensor): Tensor {
  const y = unaryKernel('sqrt', x);
  return record('sqrt', y, [x], (g, [y]) => [g.div(y.mul(2))], [y]);
}

/** d/dx x^(-1/2) = -1/2 · y³ */
export function rsqrt(x: Tensor): Tensor {
  const y = unaryKernel('rsqrt', x);
  return record('rsqrt', y, [x], (g, [y]) => [g.mul(y.pow(3)).mul(-0.5)], [y]);
}

export function abs(x: Tensor): Tensor {
  return record('abs', unaryKernel('abs', x, false), [x], (g, [x]) => [g.mul(sign(x))], [x]);
}

export function sign(x: Tensor): Tensor {
  return record('sign', unaryKernel('sign', x, false), [x], (g) => [zerosLike(g)]);
}

export function floor(x: Tensor): Tensor {
  return record('floor', unaryKernel('floor', x, false), [x], (g) => [zerosLike(g)]);
}

export function sin(x: Tensor): Tensor {
  return record('sin', unaryKernel('sin', x), [x], (g, [x]) => [g.mul(cos(x))], [x]);
}

export function cos(x: Tensor): Tensor {
  return record('cos', unaryKernel('cos', x), [x], (g, [x]) => [g.mul(sin(x)).neg()], [x]);
}

/** d tanh = 1 − y² */
export function tanh(x: Tensor): Tensor {
  const y = unaryKernel('tanh', x);
  return record('tanh', y, [x], (g, [y]) => [g.mul(y.square().neg().add(1))], [y]);
}

/** d σ = y(1 − y) */
export function sigmoid(x: Tensor): Tensor {
  const y = unaryKernel('sigmoid', x);
  return record('sigmoid', y, [x], (g, [y]) => [g.mul(y.mul(y.neg().add(1)))], [y]);
}

export function relu(x: Tensor): Tensor {
  return record('relu', unaryKernel('relu', x), [x], (g, [x]) => [g.mul(x.gt(0).cast(g.dtype))], [x]);
}

/** d erf = 2/√π · exp(−x²) */
export function erf(x: Tensor): Tensor {
  return record('erf', unaryKernel('erf', x), [x], (g, [x]) => [g.mul(x.square().neg().exp().mul(TWO_OVER_SQRT_PI))], [x]);
}

export function square(x: Tensor): Tensor {
  return record('square', unaryKernel('square', x, false), [x], (g, [x]) => [g.mul(x).mul(2)], [x]);
}

export function reciprocal(x: Tensor): Tensor {
  const y = unaryKernel('reciprocal', x);
  return record('reciprocal', y, [x], (g, [y]) => [g.mul(y.square()).neg()], [y]);
}

/**
 * GELU. 'none': x·Φ(x), derivative Φ(x) + x·φ(x). 'tanh': 0.5x(1 + tanh(u)), u = √(2/π)(x + 0.044715x³),
 * derivative 0.5(1 + t) + 0.5x(1 − t²)·√(2/π)(1 + 3·0.044715x²). Each derivative is one kernel (geluGrad,
 * geluTanhGrad): composed of elementwise ops it took a dozen passes over the activations.
 */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  const [op, grad] = approximate === 'tanh' ? (['geluTanh', 'geluTanhGrad'] as const) : (['gelu', 'geluGrad'] as const);
  return record(op, unaryKernel(op, x), [x], (g, [x]) => [g.mul(unaryKernel(grad, x))], [x]);
}

/** d silu = σ(x)(1 + x(1 − σ(x))) */
export function silu(x: Tensor): Tensor {
  return record('silu', unaryKernel('silu', x), [x], (g, [x]) => {
    const s = x.sigmoid();
    return [g.mul(s.mul(x.mul(s.neg().add(1)).add(1)))];
  }, [x]);
}
