/**
 * Elementwise kernels over strided views: one template for unary and binary ops, `where`, copies and casts.
 * Each invocation computes one output element: its linear index is split into coordinates (the rank is baked
 * into the source after dims are collapsed), and each operand's offset is its own offset plus coordinates
 * times its strides (0 for broadcast dims). The output is a strided view too, which is how `copyInto` writes
 * into a slice in place.
 */
import type { BinaryOp, UnaryOp } from '@siftjs/tensor';
import { HELPERS, LINEAR_GROUP, type Scalar, paramBlock, pu, storage, stridedOffsets } from './common.js';

export interface MapSpec {
  /** Input element types, bound as a, b, c. */
  inputs: Scalar[];
  out: Scalar;
  /** WGSL expression over the loaded inputs `a`, `b`, `c` giving the output value. */
  expr: string;
  /** Extra WGSL functions the expression calls. */
  functions?: string;
  rank: number;
  workgroup: number;
}

const NAMES = ['a', 'b', 'c'];

/** Parameter words: n, shape[rank], then for the output and each input: offset, strides[rank]. */
export function mapParamWords(rank: number, inputs: number): number {
  return 1 + rank + (inputs + 1) * (1 + rank);
}

export function mapSource(spec: MapSpec): string {
  const { rank, inputs } = spec;
  const words = mapParamWords(rank, inputs.length);
  const operands = [{ name: 'o_off', at: 1 + rank }, ...inputs.map((_, j) => ({ name: `${NAMES[j]}_off`, at: 1 + rank + (j + 1) * (1 + rank) }))];
  return `${paramBlock(words)}
${storage(1, 'out', spec.out, true)}
${inputs.map((t, j) => storage(j + 2, `in_${NAMES[j]}`, t, false)).join('\n')}
${HELPERS}
${spec.functions ?? ''}
@compute @workgroup_size(${spec.workgroup})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
    ${LINEAR_GROUP}
    let i = group * ${spec.workgroup}u + lid;
    if (i >= ${pu(0)}) { return; }
    ${stridedOffsets('i', rank, 1, operands)}
    ${inputs.map((_, j) => `let ${NAMES[j]} = in_${NAMES[j]}[${NAMES[j]}_off];`).join('\n    ')}
    out[o_off] = ${spec.expr};
}
`;
}

// ---------------------------------------------------------------- op expressions

/** erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, below float32 rounding at 1). */
export const ERF = `
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

export const POW = `
fn pow_f32(a: f32, b: f32) -> f32 {
    if (b == 0.0) { return 1.0; }
    if (is_nan(a) || is_nan(b)) { return nan_f32(); }
    if (a == 0.0) {
        if (b > 0.0) { return 0.0; }
        return pos_inf();
    }
    if (a > 0.0) { return exp2(b * log2(a)); }
    // Negative base: defined only for whole exponents; the sign follows the exponent's parity.
    if (floor(b) != b) { return nan_f32(); }
    let r = exp2(b * log2(-a));
    let half = b * 0.5;
    if (floor(half) != half) { return -r; }
    return r;
}
fn pow_i32(a: i32, b: i32) -> i32 {
    if (b < 0) { return 0; }
    var r = 1;
    var base = a;
    var e = u32(b);
    loop {
        if (e == 0u) { break; }
        if ((e & 1u) == 1u) { r = r * base; }
        base = base * base;
        e = e >> 1u;
    }
    return r;
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
export function unaryExpr(op: UnaryOp, t: Scalar): string | null {
  if (t === 'f32') return UNARY_F32[op];
  if (t === 'i32') return UNARY_I32[op] ?? null;
  return UNARY_BOOL[op] ?? null;
}

const CMP: Partial<Record<BinaryOp, string>> = { eq: '==', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' };

/** The expression for a binary op; comparisons and logical ops give u32 (bool). */
export function binaryExpr(op: BinaryOp, t: Scalar): string | null {
  const cmp = CMP[op];
  if (cmp) return `select(0u, 1u, a ${cmp} b)`;
  const zero = t === 'f32' ? '0.0' : t === 'i32' ? '0' : '0u';
  if (op === 'and') return `select(0u, 1u, a != ${zero} && b != ${zero})`;
  if (op === 'or') return `select(0u, 1u, a != ${zero} || b != ${zero})`;
  if (t === 'f32') {
    switch (op) {
      case 'add':
        return 'a + b';
      case 'sub':
        return 'a - b';
      case 'mul':
        return 'a * b';
      case 'div':
        return 'a / b';
      case 'pow':
        return 'pow_f32(a, b)';
      case 'maximum':
        return 'select(max(a, b), nan_f32(), is_nan(a) || is_nan(b))';
      case 'minimum':
        return 'select(min(a, b), nan_f32(), is_nan(a) || is_nan(b))';
    }
  }
  if (t === 'i32') {
    switch (op) {
      case 'add':
        return 'a + b';
      case 'sub':
        return 'a - b';
      case 'mul':
        return 'a * b';
      // Truncating division; 0 where dividing by zero (as the CPU backend).
      case 'div':
        return 'select(a / b, 0, b == 0)';
      case 'pow':
        return 'pow_i32(a, b)';
      case 'maximum':
        return 'max(a, b)';
      case 'minimum':
        return 'min(a, b)';
    }
  }
  if (t === 'u32' && (op === 'maximum' || op === 'mul')) return op === 'mul' ? 'a * b' : 'max(a, b)';
  if (t === 'u32' && op === 'minimum') return 'min(a, b)';
  return null;
}

/** A conversion between element types (JS semantics for in-range values; float → int truncates). */
export function castExpr(from: Scalar, to: Scalar): string {
  if (from === to) return 'a';
  if (to === 'u32') return from === 'f32' ? 'select(0u, 1u, a != 0.0)' : 'select(0u, 1u, a != 0)';
  if (to === 'f32') return 'f32(a)';
  // to i32
  return from === 'f32' ? 'select(i32(a), 0, is_nan(a))' : 'i32(a)';
}
