import { type BackendStorage, type View, sizeOf } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';

/**
 * a [...batch, M, K] · b [...batch, K, N] over identical (already broadcast) batch dims; transposes arrive as
 * strides. The product runs in runtime/matmul-runner.ts: WebAssembly SIMD float32 GEMM (matmul/gemm-simd.ts over
 * wasm/gemm-f32.wat) or the TypeScript GEMM (matmul/gemm.ts), split over the worker threads (matmul/batched.ts).
 */
export function matmul(cpu: CpuContext, a: View, b: View): BackendStorage {
  const r = a.shape.length;
  const out = cpu.make(a.dtype, sizeOf(a.shape.slice(0, r - 1)) * b.shape[r - 1]);
  cpu.matmuls.run(cpu.array(a.storage), a, cpu.array(b.storage), b, cpu.array(out));
  return out;
}
