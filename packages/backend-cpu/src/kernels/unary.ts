import { type BackendStorage, type TypedArray, type UnaryOp, type View, isContiguous, sizeOf } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import type { WasmKernels } from '../runtime/tiers.js';
import { type Geometry, collapse, forEachRow } from './support/strided.js';
import { type Fn1, type Row1, UNARY, UNARY_ROWS } from './support/unary-ops.js';
import { type RowsKernels, SIMD_UNARY_OPS } from './wasm/rows-f32.js';
import { halfOperands } from './support/half-operands.js';

/**
 * Same dtype out as in, except `not` and `isnan` (→ bool). Tiers: exp, tanh, sigmoid, erf, both gelus and their
 * derivatives of contiguous float32 as a row job of wasm/rows-f32.wat over the threads (float32 lanes; the error
 * bounds are in test/unary-bounds.ts), of strided float32 rows by the same kernel on this thread; everything else by
 * the TypeScript tables (support/unary-ops.ts, float64).
 * Half operands widen to float32 and the result is rounded back (support/half-operands.ts).
 */
export const unary = halfOperands(function unary(cpu: CpuContext, op: UnaryOp, x: View): BackendStorage {
  const outType = op === 'not' || op === 'isnan' ? 'bool' : x.dtype;
  const out = cpu.make(outType, sizeOf(x.shape));
  const f = x.dtype === 'int32' && op === 'neg' ? (v: number) => -v | 0 : UNARY[op];
  const code = SIMD_UNARY_OPS[op];
  const { all, rows } = cpu.simd;
  if (all && code !== undefined && x.dtype === 'float32' && isContiguous(x.shape, x.strides)) {
    const n = sizeOf(x.shape);
    cpu.rowJob(all, unaryJob, [code, cpu.array(x.storage).byteOffset + x.offset * 4, cpu.array(out).byteOffset], n, 1);
    return out;
  }
  if (rows && code !== undefined && x.dtype === 'float32') {
    if (unarySimd(rows, code, cpu.array(x.storage) as Float32Array, x, cpu.array(out) as Float32Array)) return out;
  }
  const float = x.dtype === 'float32' || x.dtype === 'float64';
  mapUnary(f, cpu.array(x.storage), x, cpu.array(out), float ? UNARY_ROWS[op] : undefined);
  return out;
});

/** Row job (threads/row-jobs.ts) over elements: op, x, out. Self-contained: workers run its source text. */
export function unaryJob(k: WasmKernels, a: Float64Array, r0: number, r1: number): void {
  k.rows.unary(a[0], a[1] + r0 * 4, a[2] + r0 * 4, r1 - r0);
}

/** out (contiguous, fresh) = f(x) for a float32 view whose rows are contiguous; false (nothing done) otherwise. */
function unarySimd(k: RowsKernels, op: number, x: Float32Array, xg: Geometry, out: Float32Array): boolean {
  const walk = collapse(xg.shape, [xg.strides]);
  const last = walk.shape.length - 1;
  if (walk.strides[0][last] !== 1 || walk.shape[last] < 4) return false;
  const xAt = x.byteOffset;
  let o = out.byteOffset;
  forEachRow(walk, [xg.offset], (off, n) => {
    k.unary(op, xAt + off[0] * 4, o, n);
    o += n * 4;
  });
  return true;
}

/** out (contiguous, fresh) = f(x) over a strided view; `row`, where given, is f written out over one row. */
export function mapUnary(f: Fn1, x: TypedArray, xg: Geometry, out: TypedArray, row?: Row1): void {
  const walk = collapse(xg.shape, [xg.strides]);
  const s = walk.strides[0][walk.strides[0].length - 1];
  let o = 0;
  forEachRow(walk, [xg.offset], (off, n) => {
    if (row) {
      row(x, off[0], s, out, o, n);
      o += n;
      return;
    }
    let i = off[0];
    for (let j = 0; j < n; j++, i += s) out[o++] = f(x[i]);
  });
}
