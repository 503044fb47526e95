import { type BackendStorage, type BinaryOp, COMPARISON_OPS, type TypedArray, type View, sizeOf } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import { BINARY_ROWS, type Fn2, type Row2, binaryFn } from './support/binary-ops.js';
import { type Geometry, collapse, forEachRow } from './support/strided.js';
import { type ElementwiseKernels, MIN_ROW, SIMD_BINARY_OPS } from './wasm/elementwise-f32.js';
import { halfOperands } from './support/half-operands.js';

/**
 * Comparisons and logical ops give bool, the others the inputs' dtype. Tiers: float32 add/sub/mul/div over rows
 * that read each operand contiguously or as one broadcast value by wasm/elementwise-f32.wat (the same bits);
 * everything else by the TypeScript tables (support/binary-ops.ts).
 * Half operands widen to float32 and the result is rounded back (support/half-operands.ts).
 */
export const binary = halfOperands(function binary(cpu: CpuContext, op: BinaryOp, a: View, b: View): BackendStorage {
  const compare = COMPARISON_OPS.has(op);
  const out = cpu.make(compare ? 'bool' : a.dtype, sizeOf(a.shape));
  const [x, y, o] = [cpu.array(a.storage), cpu.array(b.storage), cpu.array(out)];
  const code = SIMD_BINARY_OPS[op];
  const simd = cpu.simd.elementwise;
  if (simd && code !== undefined && a.dtype === 'float32' && b.dtype === 'float32') {
    if (binarySimd(simd, code, x as Float32Array, a, y as Float32Array, b, o as Float32Array)) return out;
  }
  const float = a.dtype === 'float32' || a.dtype === 'float64';
  mapBinary(binaryFn(op, a.dtype), x, a, y, b, o, float && !compare ? BINARY_ROWS[op] : undefined);
  return out;
});

/**
 * out (contiguous, fresh) = a op b for float32 views in the heap, where each innermost row reads each operand
 * contiguously or as one broadcast value (the usual cases: same shapes, a scalar, a bias row, a column). Returns
 * false, having done nothing, for other layouts or short rows; the caller then runs the TypeScript kernel, which
 * gives the same bits.
 */
function binarySimd(k: ElementwiseKernels, op: number, a: Float32Array, ag: Geometry, b: Float32Array, bg: Geometry, out: Float32Array): boolean {
  const walk = collapse(ag.shape, [ag.strides, bg.strides]);
  const last = walk.shape.length - 1;
  const sa = walk.strides[0][last];
  const sb = walk.strides[1][last];
  if ((sa !== 0 && sa !== 1) || (sb !== 0 && sb !== 1) || walk.shape[last] < MIN_ROW) return false;
  const aAt = a.byteOffset;
  const bAt = b.byteOffset;
  let o = out.byteOffset;
  forEachRow(walk, [ag.offset, bg.offset], (off, n) => {
    k.binary(op, aAt + off[0] * 4, sa, bAt + off[1] * 4, sb, o, n);
    o += n * 4;
  });
  return true;
}

/** out (contiguous, fresh) = f(a, b) for two strided views of one shape; `row`: f written out over one row. */
function mapBinary(f: Fn2, a: TypedArray, ag: Geometry, b: TypedArray, bg: Geometry, out: TypedArray, row?: Row2): void {
  const walk = collapse(ag.shape, [ag.strides, bg.strides]);
  const last = walk.shape.length - 1;
  const sa = walk.strides[0][last];
  const sb = walk.strides[1][last];
  let o = 0;
  if (row) {
    forEachRow(walk, [ag.offset, bg.offset], (off, n) => {
      row(a, off[0], sa, b, off[1], sb, out, o, n);
      o += n;
    });
    return;
  }
  if (walk.shape.length === 1 && sa === 1 && sb === 1) {
    // The common case: same-shape contiguous operands.
    const ao = ag.offset;
    const bo = bg.offset;
    const n = walk.shape[0];
    for (let j = 0; j < n; j++) out[j] = f(a[ao + j], b[bo + j]);
    return;
  }
  forEachRow(walk, [ag.offset, bg.offset], (off, n) => {
    let i = off[0];
    let k = off[1];
    for (let j = 0; j < n; j++, i += sa, k += sb) out[o++] = f(a[i], b[k]);
  });
}
