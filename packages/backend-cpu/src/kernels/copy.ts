import { type BackendStorage, type View, sizeOf } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import type { WasmKernels } from '../runtime/tiers.js';
import { STREAM_ITEM, chunkItems } from '../threads/chunks.js';
import { collapse, forEachRow } from './support/strided.js';
import { contiguousGeometry, copyStrided } from './support/copy-strided.js';

/**
 * A contiguous copy of a strided view. Tiers: 4-byte elements by wasm/elementwise-f32.wat's `copy32`, one call per
 * matrix of the view's last two (merged) dims — a transposed matrix in tiles, contiguous rows by memory.copy, one
 * long run (contiguous, or a broadcast value) in chunks over the threads;
 * everything else in TypeScript (support/copy-strided.ts), whose per-element loop over the shared heap ran at
 * ~3 ns an element (attention's dKᵀ, 8×4×128×64, in 0.80 ms).
 */
export function copy(cpu: CpuContext, x: View): BackendStorage {
  const n = sizeOf(x.shape);
  const out = cpu.make(x.dtype, n);
  const wasm = cpu.simd.elementwise;
  if (wasm && (x.dtype === 'float32' || x.dtype === 'int32') && n > 0) {
    const walk = collapse(x.shape, [x.strides]);
    const r = walk.shape.length;
    const [rows, cols] = r >= 2 ? [walk.shape[r - 2], walk.shape[r - 1]] : [1, walk.shape[r - 1] ?? 1];
    const [sRow, sCol] = r >= 2 ? [walk.strides[0][r - 2], walk.strides[0][r - 1]] : [0, walk.strides[0][r - 1] ?? 1];
    const base = cpu.array(x.storage).byteOffset;
    let at = cpu.array(out).byteOffset;
    const all = cpu.simd.all;
    if (rows === 1 && r === 1 && all && cols > chunkItems(1) * STREAM_ITEM) {
      // One long run (a contiguous view, or a broadcast value such as an expanded loss gradient): over the threads.
      cpu.rowJob(all, copyJob, [base + x.offset * 4, at, sCol, cols], Math.ceil(cols / STREAM_ITEM), 1);
      return out;
    }
    const outer = { shape: [...walk.shape.slice(0, Math.max(0, r - 2)), 1], strides: [[...walk.strides[0].slice(0, Math.max(0, r - 2)), 0]] };
    forEachRow(outer, [x.offset], (off) => {
      wasm.copy32(base + off[0] * 4, at, rows, cols, sRow, sCol, cols);
      at += rows * cols * 4;
    });
    return out;
  }
  copyStrided(cpu.array(x.storage), x, cpu.array(out), contiguousGeometry(x.shape));
  return out;
}

/**
 * Row job (threads/row-jobs.ts) over items of 8 elements (threads/chunks.ts, STREAM_ITEM) of one run of 4-byte
 * elements: src, dst (byte offsets), the source's element stride (1, or 0 for a broadcast value), the run's length.
 * Self-contained: workers run its source text.
 */
export function copyJob(k: WasmKernels, a: Float64Array, r0: number, r1: number): void {
  const [e0, e1] = [r0 * 8, Math.min(a[3], r1 * 8)];
  k.elementwise.copy32(a[0] + e0 * a[2] * 4, a[1] + e0 * 4, 1, e1 - e0, 0, a[2], 0);
}
