import { type BackendStorage, type HalfDType, type View, contiguousStrides, isHalf, sizeOf } from '@siftjs/tensor';
import { blasLayout } from '../blas/blas-matmul.js';
import type { CpuContext } from '../runtime/context.js';
import type { CpuStorage } from '../runtime/storage.js';
import { copy } from './copy.js';
import { narrowStorage, widenView } from './support/half.js';

/**
 * a [...batch, M, K] · b [...batch, K, N] over identical (already broadcast) batch dims; transposes arrive as
 * strides. The product runs in runtime/matmul-runner.ts: the BLAS where one is loaded, else WebAssembly SIMD float32
 * GEMM (matmul/gemm-simd.ts over wasm/gemm-f32.wat) or the TypeScript GEMM (matmul/gemm.ts), split over the worker
 * threads (matmul/batched.ts).
 *
 * A float16 / bfloat16 operand (a half weight) is widened to float32 into a transient storage, in its own layout (a
 * transposed weight stays transposed, a weight broadcast over the batch is widened once), and the float32 product
 * runs on it, accumulating in float32. The result is float32, rounded to the half dtype only when both operands are
 * that half dtype.
 */
export function matmul(cpu: CpuContext, a: View, b: View): BackendStorage {
  if (!isHalf(a.dtype) && !isHalf(b.dtype)) return matmulSameType(cpu, a, b);
  const wa = isHalf(a.dtype) ? widenView(cpu, a) : a;
  let wb: View = b;
  try {
    wb = isHalf(b.dtype) ? widenView(cpu, b) : b;
    const out = matmulSameType(cpu, wa, wb) as CpuStorage;
    return a.dtype === b.dtype ? narrowStorage(cpu, out, a.dtype as HalfDType) : out;
  } finally {
    if (wa !== a) cpu.free(wa.storage);
    if (wb !== b) cpu.free(wb.storage);
  }
}

function matmulSameType(cpu: CpuContext, a: View, b: View): BackendStorage {
  const r = a.shape.length;
  const out = cpu.make(a.dtype, sizeOf(a.shape.slice(0, r - 1)) * b.shape[r - 1]);
  const [ac, bc] = [matrixLayout(cpu, a), matrixLayout(cpu, b)];
  try {
    cpu.matmuls.run(cpu.array(ac.storage), ac, cpu.array(bc.storage), bc, cpu.array(out));
  } finally {
    for (const [v, orig] of [[ac, a], [bc, b]] as const) if (v !== orig) cpu.free(v.storage);
  }
  return out;
}

/**
 * The operand itself where its matrices are rows or columns of memory (a BLAS layout), else a contiguous copy: a
 * broadcast matrix (the expanded gradient of a sum) or a doubly strided one would send the whole product down the
 * slow strided path (1.8 ms against 0.7 for [32, 128, 64]·[32, 64, 128] with a broadcast A), where the copy costs
 * O(m·k) beside the product's O(m·n·k).
 */
function matrixLayout(cpu: CpuContext, v: View): View {
  const r = v.shape.length;
  const [rows, cols] = v.shape.slice(r - 2);
  const [rs, cs] = v.strides.slice(r - 2);
  if (rows * cols <= 1 || blasLayout(rows, cols, rs, cs)) return v;
  return { storage: copy(cpu, v), dtype: v.dtype, shape: v.shape, strides: contiguousStrides(v.shape), offset: 0 };
}
