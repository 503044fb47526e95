/**
 * Backend.unary: one strided map (shared/strided-map.ts) per op and element type. The WGSL functions below
 * replace built-ins whose accuracy or special values WGSL leaves open (log, exp, sin, cos, tanh).
 */
import type { BackendStorage, DType, UnaryOp, View } from '@siftjs/tensor';
import { NotImplementedError } from '../errors.js';
import { type GpuRuntime, shapeOf } from '../runtime.js';
import { type Scalar, valueType } from '../wgsl/common.js';
import { mapNew } from './shared/strided-map.js';

export function unary(rt: GpuRuntime, op: UnaryOp, x: View): BackendStorage {
  const label = `${op} ${x.dtype} ${shapeOf(x)}`;
  return rt.op(label, () => {
    // float16 / bfloat16 are computed in f32 (widened on load, rounded once on store)
    const elem = rt.elem(x.dtype, op);
    const expr = unaryExpr(op, valueType(elem));
    if (expr === null) throw new NotImplementedError(`${op} on ${x.dtype} (${shapeOf(x)})`);
    const outType: DType = op === 'not' || op === 'isnan' ? 'bool' : x.dtype;
    return mapNew(rt, label, outType, x.shape, [{ view: x, elem }], expr, UNARY_FUNCTIONS);
  });
}

/** erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, below float32 rounding at 1). */
const UNARY_FUNCTIONS = `
fn erf_f32(x: f32) -> f32 {
    let s = sign(x);
    let z = abs(x);
    let t = 1.0 / (1.0 + 0.3275911 * z);
    let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-z * z);
    return s * y;
}
fn tanh_f32(x: f32) -> f32 {
    // tanh's own formula overflows on some drivers for large |x|; past 15 it is ±1 in float32. clamp would turn a
    // NaN into a bound, so NaN is passed through first.
    if (is_nan(x)) { return x; }
    return tanh(clamp(x, -15.0, 15.0));
}
// WGSL leaves log and exp undefined outside their domain (SwiftShader gave log(−5) = 1.6, log(0) = −88, exp(NaN) =
// inf): the special values are set here as the CPU (IEEE) has them.
fn log_f32(x: f32) -> f32 {
    if (is_nan(x) || x < 0.0) { return nan_f32(); }
    if (x == 0.0) { return neg_inf(); }
    if (x == pos_inf()) { return x; }
    return log(x);
}
fn exp_f32(x: f32) -> f32 {
    if (is_nan(x)) { return x; }
    return exp(x);
}
fn sigmoid_f32(x: f32) -> f32 {
    if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
    let e = exp(x);
    return e / (1.0 + e);
}
// sin and cos of our own: WGSL promises only 2^-11 absolute error on [-π, π] for its builtins, and SwiftShader's
// were seen 5e-5 off. x = q·π/2 + r with π/2 in three float32 parts (q·C1 exact for |q| < 2^16), then Taylor
// polynomials on |r| ≤ π/4 (truncation below 3e-8), the quadrant picking ±sin r or ±cos r.
fn sin_poly(r: f32) -> f32 {
    let r2 = r * r;
    return r + r * r2 * (-0.16666666666666666 + r2 * (0.008333333333333333 + r2 * (-1.984126984126984e-4 + r2 * 2.755731922398589e-6)));
}
fn cos_poly(r: f32) -> f32 {
    let r2 = r * r;
    return 1.0 + r2 * (-0.5 + r2 * (0.041666666666666664 + r2 * (-0.001388888888888889 + r2 * 2.48015873015873e-5)));
}
// sin(x + shift·π/2): shift 0 gives sin, 1 gives cos.
fn sin_quadrant(x: f32, shift: i32) -> f32 {
    if (is_nan(x) || abs(x) > 1.0e30) { return nan_f32(); }
    let q = round(x * 0.63661977236758134);
    let r = ((x - q * 1.5703125) - q * 4.838267923332751e-4) - q * 2.5632829192545614e-12;
    let k = (i32(q) + shift) & 3;
    if (k == 0) { return sin_poly(r); }
    if (k == 1) { return cos_poly(r); }
    if (k == 2) { return -sin_poly(r); }
    return -cos_poly(r);
}
// The gelu derivatives are 1 and 0 past these bounds; testing first keeps ±inf from giving inf·0 = NaN.
fn gelu_grad_f32(x: f32) -> f32 {
    if (x > 40.0) { return 1.0; }
    if (x < -40.0) { return 0.0; }
    return 0.5 * (1.0 + erf_f32(x * 0.70710678118654752)) + x * exp(-0.5 * x * x) * 0.3989422804014327;
}
fn gelu_tanh_grad_f32(x: f32) -> f32 {
    if (x > 15.0) { return 1.0; }
    if (x < -15.0) { return 0.0; }
    let t = tanh_f32(0.79788456080286536 * (x + 0.044715 * x * x * x));
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * 0.79788456080286536 * (1.0 + 0.134145 * x * x);
}
`;

const UNARY_F32: Record<UnaryOp, string> = {
  neg: '-a',
  abs: 'abs(a)',
  sign: 'select(sign(a), a, is_nan(a))',
  exp: 'exp_f32(a)',
  log: 'log_f32(a)',
  sqrt: 'sqrt(a)',
  rsqrt: 'inverseSqrt(a)',
  sin: 'sin_quadrant(a, 0)',
  cos: 'sin_quadrant(a, 1)',
  tanh: 'tanh_f32(a)',
  sigmoid: 'sigmoid_f32(a)',
  relu: 'select(max(a, 0.0), a, is_nan(a))',
  erf: 'erf_f32(a)',
  gelu: '0.5 * a * (1.0 + erf_f32(a * 0.70710678118654752))',
  geluTanh: '0.5 * a * (1.0 + tanh_f32(0.79788456080286536 * (a + 0.044715 * a * a * a)))',
  geluGrad: 'gelu_grad_f32(a)',
  geluTanhGrad: 'gelu_tanh_grad_f32(a)',
  silu: 'a * sigmoid_f32(a)',
  square: 'a * a',
  reciprocal: '1.0 / a',
  floor: 'floor(a)',
  not: 'select(0u, 1u, a == 0.0)',
  isnan: 'select(0u, 1u, is_nan(a))',
};

const UNARY_I32: Partial<Record<UnaryOp, string>> = {
  neg: '-a',
  abs: 'abs(a)',
  sign: 'sign(a)',
  relu: 'max(a, 0)',
  square: 'a * a',
  floor: 'a',
  not: 'select(0u, 1u, a == 0)',
  isnan: '0u',
};

const UNARY_BOOL: Partial<Record<UnaryOp, string>> = {
  not: 'select(0u, 1u, a == 0u)',
  isnan: '0u',
  abs: 'a',
  relu: 'a',
  floor: 'a',
  square: 'a',
};

/** The expression for a unary op on an element type, or null where the op does not exist for it. */
function unaryExpr(op: UnaryOp, t: Scalar): string | null {
  if (t === 'f32') return UNARY_F32[op];
  if (t === 'i32') return UNARY_I32[op] ?? null;
  return UNARY_BOOL[op] ?? null;
}

