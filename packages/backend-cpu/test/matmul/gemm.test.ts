import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { type FloatArray, gemm } from '../../src/kernels/matmul/gemm.js';

/**
 * How an operand's [rows × cols] view lies in its array: the usual layouts, padded and spaced strides, and the
 * zero strides of broadcast views.
 */
const LAYOUTS = ['rowMajor', 'colMajor', 'paddedRows', 'spacedCols', 'sameRows', 'sameCols', 'scalar'] as const;
type Layout = (typeof LAYOUTS)[number];

interface Operand {
  data: FloatArray;
  off: number;
  rs: number;
  cs: number;
}

/**
 * Deterministic values in [-1, 1) from a seed, with full 53-bit mantissas (two LCG steps each): values with short
 * mantissas would sum exactly in any order and hide summation-order bugs.
 */
function filler(seed: number): () => number {
  let s = seed | 0;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 0;
  return () => ((next() >>> 5) * 2 ** 26 + (next() >>> 6)) / 2 ** 52 - 1;
}

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
    case 'scalar':
      return [0, 0];
  }
}

/** A fresh array holding a [rows × cols] view with the given layout at element offset `off`, filled at random. */
function operand(f64: boolean, layout: Layout, rows: number, cols: number, off: number, rnd: () => number): Operand {
  const [rs, cs] = strides(layout, rows, cols);
  const length = off + (rows > 0 && cols > 0 ? (rows - 1) * rs + (cols - 1) * cs + 1 : 0) + 2;
  const data = f64 ? new Float64Array(length) : new Float32Array(length);
  for (let i = 0; i < length; i++) data[i] = rnd();
  return { data, off, rs, cs };
}

const at = (x: Operand, i: number, j: number) => x.data[x.off + i * x.rs + j * x.cs];

interface Case {
  m: number;
  n: number;
  k: number;
  f64: boolean;
  accumulate: boolean;
  aLayout: Layout;
  bLayout: Layout;
  aOff: number;
  bOff: number;
  cOff: number;
  ldcPad: number;
  seed: number;
}

/**
 * Runs gemm on the case and compares every element of C with a float64 triple loop, within a tolerance relative
 * to Σ|a||b| (+ |C| when accumulating); elements of C's array outside the M×N window must not change.
 */
function check(c: Case): void {
  const rnd = filler(c.seed);
  const A = operand(c.f64, c.aLayout, c.m, c.k, c.aOff, rnd);
  const B = operand(c.f64, c.bLayout, c.k, c.n, c.bOff, rnd);
  const ldc = c.n + c.ldcPad;
  const C = c.f64 ? new Float64Array(c.cOff + c.m * ldc + 2) : new Float32Array(c.cOff + c.m * ldc + 2);
  for (let i = 0; i < C.length; i++) C[i] = rnd();
  const before = C.slice();

  gemm(c.m, c.n, c.k, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, C, c.cOff, ldc, c.accumulate);

  // float32: each add into C rounds (once per 512-deep block); float64 sums over at most ~1000 terms.
  const tol = c.f64 ? 1e-12 : 1e-6;
  const inWindow = new Uint8Array(C.length);
  for (let i = 0; i < c.m; i++) {
    for (let j = 0; j < c.n; j++) {
      const idx = c.cOff + i * ldc + j;
      inWindow[idx] = 1;
      let sum = c.accumulate ? before[idx] : 0;
      let scale = Math.abs(sum);
      for (let p = 0; p < c.k; p++) {
        const prod = at(A, i, p) * at(B, p, j);
        sum += prod;
        scale += Math.abs(prod);
      }
      const err = Math.abs(C[idx] - sum);
      if (!(err <= tol * scale)) {
        throw new Error(`C[${i}, ${j}] = ${C[idx]}, expected ${sum} (error ${err}, bound ${tol * scale})`);
      }
    }
  }
  for (let idx = 0; idx < C.length; idx++) {
    if (!inWindow[idx] && !Object.is(C[idx], before[idx])) throw new Error(`C[${idx}] outside the window changed`);
  }
}

const caseArb = (maxDim: number) =>
  fc.record({
    m: fc.integer({ min: 0, max: maxDim }),
    n: fc.integer({ min: 0, max: maxDim }),
    k: fc.integer({ min: 0, max: maxDim }),
    f64: fc.boolean(),
    accumulate: fc.boolean(),
    aLayout: fc.constantFrom(...LAYOUTS),
    bLayout: fc.constantFrom(...LAYOUTS),
    aOff: fc.nat(5),
    bOff: fc.nat(5),
    cOff: fc.nat(5),
    ldcPad: fc.nat(3),
    seed: fc.integer(),
  });

/** The product computed whole, then again block by block at the given row and column cuts (sorted, deduped). */
function wholeAndBlocks(c: Case, rowCuts: number[], colCuts: number[]): [FloatArray, FloatArray] {
  const rnd = filler(c.seed);
  const A = operand(c.f64, c.aLayout, c.m, c.k, c.aOff, rnd);
  const B = operand(c.f64, c.bLayout, c.k, c.n, c.bOff, rnd);
  const make = () => (c.f64 ? new Float64Array(c.m * c.n) : new Float32Array(c.m * c.n));
  const whole = make();
  gemm(c.m, c.n, c.k, A.data, A.off, A.rs, A.cs, B.data, B.off, B.rs, B.cs, whole, 0, c.n, false);
  const blocks = make();
  const rows = [0, ...rowCuts.filter((r) => r > 0 && r < c.m), c.m];
  const cols = [0, ...colCuts.filter((x) => x > 0 && x < c.n), c.n];
  for (let r = 0; r + 1 < rows.length; r++) {
    for (let q = 0; q + 1 < cols.length; q++) {
      const [r0, r1, c0, c1] = [rows[r], rows[r + 1], cols[q], cols[q + 1]];
      gemm(r1 - r0, c1 - c0, c.k, A.data, A.off + r0 * A.rs, A.rs, A.cs, B.data, B.off + c0 * B.cs, B.rs, B.cs, blocks, r0 * c.n + c0, c.n, false);
    }
  }
  return [whole, blocks];
}

function sortedCuts(max: number) {
  return fc.uniqueArray(fc.integer({ min: 1, max }), { maxLength: 4 }).map((a) => a.sort((x, y) => x - y));
}

describe('gemm kernel', () => {
  test.prop([caseArb(70)], { numRuns: 300 })('matches a float64 triple loop for M, N, K in 0..70, any layout', (c) => {
    check(c);
  });

  test.prop([caseArb(24).map((c) => ({ ...c, k: 0 }))], { numRuns: 30 })('K = 0 gives zeros, or leaves C as it was when accumulating', (c) => {
    check(c);
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
  ])('crosses the block boundaries: %i×%i×%i', (m, n, k) => {
    for (const f64 of [false, true]) {
      check({ m, n, k, f64, accumulate: false, aLayout: 'rowMajor', bLayout: 'rowMajor', aOff: 1, bOff: 2, cOff: 3, ldcPad: 1, seed: m * n + k });
      check({ m, n, k, f64, accumulate: true, aLayout: 'colMajor', bLayout: 'colMajor', aOff: 0, bOff: 5, cOff: 0, ldcPad: 0, seed: m + n * k });
    }
  });

  test.prop([caseArb(90), sortedCuts(89), sortedCuts(89)], { numRuns: 150 })(
    'is bitwise the same whole or split into row and column blocks (packed and direct paths agree)',
    (c, rowCuts, colCuts) => {
      const [whole, blocks] = wholeAndBlocks(c, rowCuts, colCuts);
      expect(Array.from(blocks)).toEqual(Array.from(whole));
    },
  );

  it('is bitwise the same split in blocks across K-block, row-block and strip boundaries', () => {
    for (const f64 of [false, true]) {
      const c: Case = { m: 150, n: 70, k: 1030, f64, accumulate: false, aLayout: 'colMajor', bLayout: 'spacedCols', aOff: 1, bOff: 1, cOff: 0, ldcPad: 0, seed: 7 };
      const [whole, blocks] = wholeAndBlocks(c, [3, 64, 131], [2, 5, 37, 53]);
      expect(Array.from(blocks)).toEqual(Array.from(whole));
    }
  });

  it('sums in the same order on its packed and unpacked paths (whole vs one row or column at a time)', () => {
    const every = (n: number) => Array.from({ length: n - 1 }, (_, i) => i + 1);
    for (const k of [1, 7, 13, 100, 515, 1030]) {
      for (const f64 of [true, false]) {
        const c: Case = { m: 24, n: 21, k, f64, accumulate: false, aLayout: 'rowMajor', bLayout: 'colMajor', aOff: 0, bOff: 0, cOff: 0, ldcPad: 0, seed: k };
        const [whole, byRow] = wholeAndBlocks(c, every(c.m), []);
        const [, byColumn] = wholeAndBlocks(c, [], every(c.n));
        expect(Array.from(byRow)).toEqual(Array.from(whole));
        expect(Array.from(byColumn)).toEqual(Array.from(whole));
      }
    }
  });

  it('carries nothing from one product to the next in its scratch', () => {
    // Infinity × the zero padding of a 20-wide (not 16-multiple) panel leaves NaN in unused accumulator columns;
    // the next, wider product reuses them.
    const rnd = filler(3);
    const A = operand(true, 'rowMajor', 150, 40, 0, rnd);
    const B = operand(true, 'rowMajor', 40, 20, 0, rnd);
    A.data.fill(Number.POSITIVE_INFINITY);
    gemm(150, 20, 40, A.data, 0, A.rs, A.cs, B.data, 0, B.rs, B.cs, new Float64Array(150 * 20), 0, 20, false);
    for (const [m, n] of [
      [150, 40],
      [3, 40],
    ]) {
      check({ m, n, k: 40, f64: true, accumulate: false, aLayout: 'rowMajor', bLayout: 'rowMajor', aOff: 0, bOff: 0, cOff: 0, ldcPad: 0, seed: 5 });
    }
  });

  it('confines a NaN or Infinity in A to its row of C', () => {
    for (const [m, n, k] of [
      [3, 3, 3],
      [40, 40, 40],
      [150, 20, 600],
    ]) {
      for (const f64 of [false, true]) {
        const rnd = filler(m + n + k);
        const A = operand(f64, 'rowMajor', m, k, 0, rnd);
        const B = operand(f64, 'rowMajor', k, n, 0, rnd);
        A.data[1 * A.rs + (k - 1)] = Number.NaN;
        A.data[(m - 1) * A.rs] = Number.POSITIVE_INFINITY;
        for (let i = 0; i < B.data.length; i++) B.data[i] = 0.25 + Math.abs(B.data[i]); // positive: no Inf − Inf
        const C = f64 ? new Float64Array(m * n) : new Float32Array(m * n);
        gemm(m, n, k, A.data, 0, A.rs, A.cs, B.data, 0, B.rs, B.cs, C, 0, n, false);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            const v = C[i * n + j];
            if (i === 1) expect(v).toBeNaN();
            else if (i === m - 1) expect(v).toBe(Number.POSITIVE_INFINITY);
            else expect(Number.isFinite(v)).toBe(true);
          }
        }
      }
    }
  });

  it('leaves C untouched when M or N is 0', () => {
    const C = new Float32Array([1, 2, 3]);
    const A = new Float32Array([1, 2, 3, 4]);
    gemm(0, 3, 2, A, 0, 2, 1, A, 0, 3, 1, C, 0, 3, false);
    gemm(3, 0, 2, A, 0, 2, 1, A, 0, 3, 1, C, 0, 3, false);
    expect(Array.from(C)).toEqual([1, 2, 3]);
  });
});
