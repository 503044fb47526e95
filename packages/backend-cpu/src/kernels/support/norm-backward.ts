import { type BackendStorage, type DType, type NormBackward, type NormGradients, type NormStats, type TypedArray, type View, sizeOf } from '@siftjs/tensor';
import type { CpuContext } from '../../runtime/context.js';
import type { WasmKernels } from '../../runtime/tiers.js';
import { chunkItems } from '../../threads/chunks.js';
import { NORM_CENTRED, NORM_WANT_DB, NORM_WANT_DW, NORM_WANT_DX, NORM_WEIGHT } from '../wasm/norm-f32.js';
import { allFloat32 } from './norm-forward.js';

/** The gradients one backward computes: dx where wanted, dw where wanted and there is a weight, db likewise. */
interface Wanted {
  dx: boolean;
  dw: boolean;
  db: boolean;
}

/**
 * The backward of layer norm (`centred`) or RMS norm: kernels/layerNormBackward.ts and kernels/rmsNormBackward.ts.
 * Computes only the gradients `wanted` names. Tiers: float32 as a row job of wasm/norm-f32.wat over the threads;
 * everything else in TypeScript. Weight and bias gradients are summed in float64 (the WebAssembly kernel: float32
 * blocks of 8 rows added into float64) and rounded once.
 */
export function normBackward(cpu: CpuContext, dy: View, x: View, weight: View | null, stats: NormStats, cols: number, centred: boolean, wanted: NormGradients): NormBackward {
  const n = sizeOf(x.shape);
  const rows = cols ? n / cols : 0;
  const want = { dx: wanted.input, dw: !!weight && wanted.weight, db: centred && wanted.bias };
  if (!want.dx && !want.dw && !want.db) return { dx: null, dweight: null, dbias: null };
  const dx = want.dx ? cpu.make(x.dtype, n) : null;
  const wasm = cpu.simd.all;
  if (wasm && allFloat32(dy, x, weight) && cols > 0) return normBackwardSimd(cpu, wasm, dy, x, weight, stats, cols, centred, want, dx);
  const dw = want.dw ? new Float64Array(cols) : null;
  const db = want.db ? new Float64Array(cols) : null;
  normRowsBackward(
    {
      dy: cpu.contiguous(dy),
      x: cpu.contiguous(x),
      w: weight ? cpu.contiguous(weight) : null,
      mean: centred && stats.mean ? cpu.array(stats.mean) : null,
      rstd: cpu.array(stats.rstd),
      dx: dx ? cpu.array(dx) : null,
      dw,
      db,
    },
    rows,
    cols,
  );
  return {
    dx,
    dweight: dw ? cpu.upload(x.dtype, toDType(dw, x.dtype)) : null,
    dbias: db ? cpu.upload(x.dtype, toDType(db, x.dtype)) : null,
  };
}

/**
 * normBackward in WebAssembly (float32), as a row job: each chunk of rows sums its weight and bias gradients into
 * float64 partials in heap scratch (through float32 block sums beside them), and the partials are added here in
 * chunk order.
 */
function normBackwardSimd(
  cpu: CpuContext,
  wasm: WasmKernels,
  dy: View,
  x: View,
  weight: View | null,
  stats: NormStats,
  cols: number,
  centred: boolean,
  want: Wanted,
  dx: BackendStorage | null,
): NormBackward {
  const rows = sizeOf(x.shape) / cols;
  const chunk = chunkItems(cols);
  const chunks = Math.ceil(rows / chunk);
  // Per chunk: dw and db partials (float64), then the kernel's float32 block sums for both (one more float64's room).
  const bytes = chunks * 3 * cols * 8;
  const scratch = cpu.heap.alloc(bytes);
  try {
    // Allocation may grow the heap (detaching earlier views): every byte offset is taken after it.
    const partials = new Float64Array(cpu.heap.memory.buffer, scratch, chunks * 3 * cols).fill(0);
    const flags =
      (centred ? NORM_CENTRED : 0) | (weight ? NORM_WEIGHT : 0) | (want.dw ? NORM_WANT_DW : 0) | (want.db ? NORM_WANT_DB : 0) | (want.dx ? NORM_WANT_DX : 0);
    const at = (v: View | null) => (v ? cpu.contiguous(v).byteOffset : 0);
    const meanAt = centred && stats.mean ? cpu.array(stats.mean).byteOffset : 0;
    const args = [at(dy), at(x), at(weight), meanAt, cpu.array(stats.rstd).byteOffset, dx ? cpu.array(dx).byteOffset : 0, scratch, cols, flags, chunk];
    cpu.rowJob(wasm, normBackwardJob, args, rows, cols);
    const sum = (which: 0 | 1) => {
      const total = new Float64Array(cols);
      for (let c = 0; c < chunks; c++) {
        const base = (c * 3 + which) * cols;
        for (let j = 0; j < cols; j++) total[j] += partials[base + j];
      }
      return toDType(total, x.dtype);
    };
    return {
      dx,
      dweight: want.dw ? cpu.upload(x.dtype, sum(0)) : null,
      dbias: want.db ? cpu.upload(x.dtype, sum(1)) : null,
    };
  } finally {
    cpu.heap.free(scratch, bytes);
  }
}

/**
 * Row job (threads/row-jobs.ts) over rows: dy, x, w, mean (0: none), rstd, dx (0: not wanted), partials, cols,
 * flags, chunk. Chunk c adds its dw (then db) sums into partials + c·3·cols·8 bytes, zeroed by the caller; the
 * kernel's float32 block sums follow them.
 * Self-contained: workers run its source text.
 */
export function normBackwardJob(k: WasmKernels, a: Float64Array, r0: number, r1: number): void {
  const cols = a[7];
  const o = r0 * cols * 4;
  const part = a[6] + Math.floor(r0 / a[9]) * 3 * cols * 8;
  k.norm.normBackward(a[0] + o, a[1] + o, a[2], a[3] && a[3] + r0 * 4, a[4] + r0 * 4, a[5] && a[5] + o, part, part + cols * 8, part + cols * 16, r1 - r0, cols, a[8]);
}

function toDType(a: Float64Array, dtype: DType): TypedArray {
  return dtype === 'float64' ? a : Float32Array.from(a);
}

interface NormGradArrays {
  dy: TypedArray;
  x: TypedArray;
  w: TypedArray | null;
  mean: TypedArray | null;
  rstd: TypedArray;
  /** null: the input's gradient is not wanted (only dw / db are summed). */
  dx: TypedArray | null;
  dw: Float64Array | null;
  db: Float64Array | null;
}

/**
 * With x̂ = (x − μ)·rstd and g = dy·w:
 *   layer norm: dx = rstd·(g − mean(g) − x̂·mean(g·x̂));   RMS norm: dx = rstd·(g − x̂·mean(g·x̂))
 *   dw = Σ_rows dy·x̂,  db = Σ_rows dy   (accumulated in float64)
 */
function normRowsBackward(a: NormGradArrays, rows: number, cols: number): void {
  const { dy, x, w, mean, rstd, dx, dw, db } = a;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const mu = mean ? mean[r] : 0;
    const rs = rstd[r];
    let sumG = 0;
    let sumGX = 0;
    for (let j = 0; j < cols; j++) {
      const xh = (x[o + j] - mu) * rs;
      const g = w ? dy[o + j] * w[j] : dy[o + j];
      sumG += g;
      sumGX += g * xh;
      if (dw) dw[j] += dy[o + j] * xh;
      if (db) db[j] += dy[o + j];
    }
    if (!dx) continue;
    const mg = mean ? sumG / cols : 0;
    const mgx = sumGX / cols;
    for (let j = 0; j < cols; j++) {
      const xh = (x[o + j] - mu) * rs;
      const g = w ? dy[o + j] * w[j] : dy[o + j];
      dx[o + j] = rs * (g - mg - xh * mgx);
    }
  }
}
