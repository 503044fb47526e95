/** Backend.binary: one strided map (shared/strided-map.ts) per op and element type; comparisons give bool. */
import { type BackendStorage, type BinaryOp, COMPARISON_OPS, type DType, DTypeError, ShapeError, type View } from '@siftjs/tensor';
import { NotImplementedError } from '../errors.js';
import { type GpuRuntime, shapeOf } from '../runtime.js';
import { type Scalar, valueType, zeroOf } from '../wgsl/common.js';
import { mapNew } from './shared/strided-map.js';

export function binary(rt: GpuRuntime, op: BinaryOp, a: View, b: View): BackendStorage {
  const label = `${op} ${a.dtype} ${shapeOf(a)}, ${b.dtype} ${shapeOf(b)}`;
  return rt.op(label, () => {
    if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
      throw new ShapeError(`webgpu ${op}: operands ${shapeOf(a)} and ${shapeOf(b)} must have one shape (broadcast by strides)`);
    }
    if (a.dtype !== b.dtype) throw new DTypeError(`webgpu ${op}: operand dtypes ${a.dtype} and ${b.dtype} differ`);
    // float16 / bfloat16 are computed in f32 (widened on load, rounded once on store)
    const elem = rt.elem(a.dtype, op);
    const expr = binaryExpr(op, valueType(elem));
    if (expr === null) throw new NotImplementedError(`${op} on ${a.dtype} (${shapeOf(a)})`);
    const outType: DType = COMPARISON_OPS.has(op) ? 'bool' : a.dtype;
    return mapNew(rt, label, outType, a.shape, [{ view: a, elem }, { view: b, elem }], expr, POW);
  });
}

const POW = `
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

const CMP: Partial<Record<BinaryOp, string>> = { eq: '==', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' };

/** The expression for a binary op; comparisons and logical ops give u32 (bool). */
function binaryExpr(op: BinaryOp, t: Scalar): string | null {
  const cmp = CMP[op];
  if (cmp) return `select(0u, 1u, a ${cmp} b)`;
  const zero = zeroOf(t);
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

