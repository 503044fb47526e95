import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { CpuHeap } from '../../src/runtime/heap.js';
import { SIMD_SCRATCH_BYTES, type SimdKernels, instantiateKernel, makeSimdGemm, prepackB, prepackedBytes, simdScratchAt } from '../../src/kernels/matmul/gemm-simd.js';
import { type Gemm, gemm as tsGemm } from '../../src/kernels/matmul/gemm.js';
import { wasmBinaries } from '../../src/kernels/wasm/binaries.generated.js';
import { relaxedSimd } from '../../src/runtime/relaxed-simd.js';

/** The WebAssembly SIMD gemms over a heap of their own (operands must live in the heap to take the SIMD path). */
const heap = new CpuHeap(64 << 20);
let fallbackCalls = 0;

/** The plain kernel, and the fused multiply-add one where this engine has relaxed SIMD. */
const VARIANTS = relaxedSimd() ? ['gemm-f32', 'gemm-f32-fma'] : ['gemm-f32'];

function simdGemm(name: string): { simd: Gemm; kernels: SimdKernels } {
  const kernels = instantiateKernel(new WebAssembly.Module(Buffer.from(wasmBinaries[name], 'base64')), heap.memory)!;
  const scratch = simdScratchAt(heap.reserve(SIMD_SCRATCH_BYTES));
  const simd: Gemm = makeSimdGemm(heap.memory, kernels, scratch, (M, N, K, A, aOff, aRs, aCs, B, bOff, bRs, bCs, C, cOff, ldc, accumulate, direct) => {
    fallbackCalls++;
    tsGemm(M, N, K, A, aOff, aRs, aCs, B, bOff, bRs, bCs, C, cOff, ldc, accumulate, direct);
  });
  return { simd, kernels };
}

/** The usual layouts, padded and spaced strides, and the zero strides of broadcast views. */
const LAYOUTS = ['rowMajor', 'colMajor', 'paddedRows', 'spacedCols', 'sameRows', 'sameCols'] as const;
type Layout = (typeof LAYOUTS)[number];

function strides(layout: Layout, rows: number, cols: number): [number, number] {
  switch (layout) {
    case 'rowMajor':
      return [cols, 1];
    case 'colMajor':
      return [1, rows];
    case 'paddedRows':
      return [cols + 3, 1];
    case 'spacedCols':
      return [2 * cols + 1, 2];
    case 'sameRows':
      return [0, 1];
    case 'sameCols':
      return [1, 0];
  }
}

/** float32 values in [-1, 1) with full mantissas, from a seed. */
function filler(seed: number): () => number {
  let s = seed | 0;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 8) / 2 ** 23 - 1;
}

interface Operand {
  data: Float32Array;
  off: number;
  rs: number;
  cs: number;
}

/** A heap-backed float32 array holding a [rows × cols] view with `layout` at element offset `off`. */
function operand(layout: Layout, rows: number, cols: number, off: number, rnd: () => number, blocks: number[]): Operand {
  const [rs, cs] = strides(layout, rows, cols);
  const length = off + (rows > 0 && cols > 0 ? (rows - 1) * rs + (cols - 1) * cs + 1 : 0) + 2;
  const at = heap.alloc(length * 4);
  blocks.push(at, length * 4);
  const data = new Float32Array(heap.memory.buffer, at, length);
  for (let i = 0; i < length; i++) data[i] = rnd();
  return { data, off, rs, cs };
}

interface Case {
  m: number;
  n: number;
  k: number;
  accumulate: boolean;
  aLayout: Layout;
  bLayout: Layout;
  aOff: number;
  bOff: number;
  cOff: number;
  ldcPad: number;
  seed: number;
}

/** Runs `run` over fresh heap operands for the case, then frees them. */
function withOperands<T>(c: Case, run: (A: Operand, B: Operand, C: Float32Array, ldc: number, before: Float32Array) => T): T {
  const rnd = filler(c.seed);
  const blocks: number[] = [];
  try {
    const A = operand(c.aLayout, c.m, c.k, c.aOff, rnd, blocks);
    const B = operand(c.bLayout, c.k, c.n, c.bOff, rnd, blocks);
    const ldc = c.n + c.ldcPad;
    const length = c.cOff + c.m * ldc + 2;
    const at = heap.alloc(length * 4);
    blocks.push(at, length * 4);
    const C = new Float32Array(heap.memory.buffer, at, length);
    for (let i = 0; i < length; i++) C[i] = rnd();
    return run(A, B, C, ldc, C.slice());
  } finally {
    for (let i = 0; i < blocks.length; i += 2) heap.free(blocks[i], blocks[i + 1]);
  }
}

/** Every element of C within float32 rounding of a float64 triple loop; nothing outside the M×N window changes. */
function check(simd: Gemm, c: Case): void {
  withOperands(c, (A, B, C, ldc, before) => {
    simd(c.m, c.n, c.k, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, C, c.cOff, ldc, c.accumulate, false);
    const inWindow = new Uint8Array(C.length);
    for (let i = 0; i < c.m; i++) {
      for (let j = 0; j < c.n; j++) {
        const idx = c.cOff + i * ldc + j;
        inWindow[idx] = 1;
        let sum = c.accumulate ? before[idx] : 0;
        let scale = Math.abs(sum);
        for (let p = 0; p < c.k; p++) {
          const prod = A.data[A.off + i * A.rs + p * A.cs] * B.data[B.off + p * B.rs + j * B.cs];
          sum += prod;
          scale += Math.abs(prod);
        }
        // float32 sums of up to ~1100 terms: a relative error of k·2⁻²⁴ at worst, far less in practice
        const err = Math.abs(C[idx] - sum);
        if (!(err <= 2e-5 * scale + 1e-30)) throw new Error(`C[${i}, ${j}] = ${C[idx]}, expected ${sum} (error ${err})`);
      }
    }
    for (let idx = 0; idx < C.length; idx++) {
      if (!inWindow[idx] && !Object.is(C[idx], before[idx])) throw new Error(`C[${idx}] outside the window changed`);
    }
  });
}

const caseArb = (maxDim: number) =>
  fc.record({
    m: fc.integer({ min: 1, max: maxDim }),
    n: fc.integer({ min: 1, max: maxDim }),
    k: fc.integer({ min: 1, max: maxDim }),
    accumulate: fc.boolean(),
    aLayout: fc.constantFrom(...LAYOUTS),
    bLayout: fc.constantFrom(...LAYOUTS),
    aOff: fc.nat(5),
    bOff: fc.nat(5),
    cOff: fc.nat(5),
    ldcPad: fc.nat(3),
    seed: fc.integer(),
  });

describe.each(VARIANTS)('WebAssembly SIMD gemm (%s)', (name) => {
  const { simd, kernels } = simdGemm(name);

  test.prop([caseArb(80)], { numRuns: 200 })('matches a float64 triple loop for M, N, K in 1..80, any layout', (c) => {
    check(simd, c);
  });

  it.each([
    [130, 67, 300],
    [129, 1030, 9],
    [20, 1030, 600],
    [300, 17, 1100],
    [257, 140, 520],
    [1, 700, 530],
    [600, 1, 513],
    [5, 5, 2000],
    [131, 1033, 257],
  ])('crosses the block boundaries: %i×%i×%i', (m, n, k) => {
    check(simd, { m, n, k, accumulate: false, aLayout: 'rowMajor', bLayout: 'rowMajor', aOff: 1, bOff: 2, cOff: 3, ldcPad: 1, seed: m * n + k });
    check(simd, { m, n, k, accumulate: true, aLayout: 'colMajor', bLayout: 'colMajor', aOff: 0, bOff: 5, cOff: 0, ldcPad: 0, seed: m + n * k });
    check(simd, { m, n, k, accumulate: false, aLayout: 'spacedCols', bLayout: 'paddedRows', aOff: 2, bOff: 0, cOff: 1, ldcPad: 2, seed: m ^ n ^ k });
  });

  test.prop(
    [
      caseArb(300),
      fc.uniqueArray(fc.integer({ min: 1, max: 299 }), { maxLength: 3 }),
      fc.uniqueArray(fc.integer({ min: 1, max: 299 }), { maxLength: 3 }),
    ],
    { numRuns: 40 },
  )('is bitwise the same whole or split into row and column blocks at any cut', (c, rowCuts, colCuts) => {
    withOperands({ ...c, accumulate: false, cOff: 0, ldcPad: 0 }, (A, B, C) => {
      const { m, n, k } = c;
      simd(m, n, k, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, C, 0, n, false, false);
      const whole = Array.from(C.subarray(0, m * n));
      C.fill(0);
      const rows = [0, ...rowCuts.filter((r) => r < m).sort((x, y) => x - y), m];
      const cols = [0, ...colCuts.filter((x) => x < n).sort((x, y) => x - y), n];
      for (let r = 0; r + 1 < rows.length; r++) {
        for (let q = 0; q + 1 < cols.length; q++) {
          const [r0, r1, c0, c1] = [rows[r], rows[r + 1], cols[q], cols[q + 1]];
          simd(r1 - r0, c1 - c0, k, A.data, A.off + r0 * A.rs, A.rs, A.cs, B.data, B.off + c0 * B.cs, B.rs, B.cs, C, r0 * n + c0, n, false, false);
        }
      }
      expect(Array.from(C.subarray(0, m * n))).toEqual(whole);
    });
  });

  test.prop([caseArb(300), fc.integer({ min: 1, max: 299 })], { numRuns: 30 })(
    'with B packed whole beforehand (prepackB), row blocks give the same bits as the whole product',
    (c, cut) => {
      withOperands({ ...c, accumulate: false, cOff: 0, ldcPad: 0 }, (A, B, C) => {
        const { m, n, k } = c;
        simd(m, n, k, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, C, 0, n, false, false);
        const whole = Array.from(C.subarray(0, m * n));
        C.fill(0);
        const bytes = prepackedBytes(k, n);
        const packed = heap.alloc(bytes);
        try {
          prepackB(kernels, k, n, B.data.byteOffset + B.off * 4, B.rs, B.cs, packed);
          for (const [r0, r1] of [[0, Math.min(cut, m)], [Math.min(cut, m), m]]) {
            if (r1 > r0) simd(r1 - r0, n, k, A.data, A.off + r0 * A.rs, A.rs, A.cs, B.data, B.off, B.rs, B.cs, C, r0 * n, n, false, false, packed);
          }
        } finally {
          heap.free(packed, bytes);
        }
        expect(Array.from(C.subarray(0, m * n))).toEqual(whole);
      });
    },
  );

  it('sends direct (small) products, K = 0 and arrays outside the heap to the fallback', () => {
    const before = fallbackCalls;
    const outside = new Float32Array(16);
    simd(4, 4, 1, outside, 0, 1, 1, outside, 0, 4, 1, outside, 0, 4, false, false);
    withOperands({ m: 8, n: 8, k: 8, accumulate: false, aLayout: 'rowMajor', bLayout: 'rowMajor', aOff: 0, bOff: 0, cOff: 0, ldcPad: 0, seed: 1 }, (A, B, C) => {
      simd(8, 8, 8, A.data, 0, 8, 1, B.data, 0, 8, 1, C, 0, 8, false, true);
      simd(8, 8, 0, A.data, 0, 8, 1, B.data, 0, 8, 1, C, 0, 8, false, false);
      expect(Array.from(C.subarray(0, 64)).every((v) => v === 0)).toBe(true);
    });
    expect(fallbackCalls - before).toBe(3);
  });
});
