import { fc } from '@fast-check/vitest';
import type { BackendStorage, View } from '@siftjs/tensor';
import { afterEach, expect } from 'vitest';
import { CpuBackend } from '../src/backend.js';

/**
 * The norm kernels' test cases (layerNorm.test.ts, rmsNorm.test.ts): both tiers' forward and backward against naive
 * float64 math from the definitions, each within an error bound derived from its arithmetic. Layer norm is the
 * centred case; RMS norm the uncentred one.
 */
export const simd = new CpuBackend({ threads: 1, blas: false });
export const ts = new CpuBackend({ threads: 1, simd: false, blas: false });
const live: [CpuBackend, BackendStorage][] = [];

/** The unit roundoff of float32: half an ulp of 1. */
const U = 2 ** -24;

/** Frees what each test uploaded or got back, and checks nothing else stayed in the heap. */
export function freeAfterEach(): void {
  afterEach(() => {
    for (const [b, s] of live.splice(0)) b.free(s);
    expect(simd.memoryStats().bytesInUse).toBe(0);
  });
}

/** Deterministic float32 values uniform in shift ± scale. */
export function values(seed: number, length: number, scale: number, shift: number): Float32Array {
  let s = seed | 0;
  return Float32Array.from({ length }, () => {
    s = (Math.imul(s, 1103515245) + 12345) | 0;
    return ((s >>> 8) / 2 ** 23 - 1) * scale + shift;
  });
}

function view(b: CpuBackend, data: Float32Array, shape: number[]): View {
  const storage = b.upload('float32', data);
  live.push([b, storage]);
  return { storage, dtype: 'float32', shape, strides: shape.length === 2 ? [shape[1], 1] : [1], offset: 0 };
}

function read(b: CpuBackend, s: BackendStorage | null | undefined, n: number): number[] {
  if (!s) return [];
  live.push([b, s]);
  return Array.from(b.readSync(s, 'float32', n));
}

export interface Case {
  rows: number;
  cols: number;
  centred: boolean;
  weight: boolean;
  bias: boolean;
  seed: number;
  /** x is uniform in shift ± spread. */
  shift: number;
  spread: number;
  /** The gradients asked for (the op asks only for those of inputs that require one). */
  wanted: { input: boolean; weight: boolean; bias: boolean };
}

type Tier = 'simd' | 'ts';
type Outputs = Record<'y' | 'mean' | 'rstd' | 'dx' | 'dw' | 'db', number[]>;

/**
 * Forward and backward by the textbook formulas in float64, straight from the definitions, and for each output the
 * error each tier may make, in units of U (float32's unit roundoff), derived from its arithmetic:
 *
 * SIMD (norm-f32.wat). A float32 lane summing a block of at most 12 terms errs by at most 11U of their magnitudes
 * (blocks are 8 terms, plus a row's tail); the float64 sum of the blocks adds nothing that matters. Per row:
 *   μa = float32(Σx/n): within 12U·mean|x| of μ; δ = mean(x − μa) within 12U·mean|x − μa|; with
 *   M = mean|x − μ| + 12U·mean|x| (0 for RMS norm, which has no mean), the stored mean μa + δ is within
 *   U·|μ| + 13U·M, and d = (x − μa) − δ within 2U·|d| + 13U·M of x − μ (x − μa is exact near μa).
 *   var = Σd²/n: the d² within 5U·d² + 26U·|d|·M, the blocks 11U: var within 42U·var (M² ≤ var, to first order);
 *   rstd within 21U + U for its rounding: 22U.
 *   Write X = |x̂| + rstd·(M + U·|μ|): x̂ = d·rstd is within 25U·X.
 *   y = x̂·w + b, two more roundings:                                 |Δy| ≤ 27U·(X·|w| + |b|)
 * The backward takes the saved mean as its μa (within U·|μ| + 13U·M of μ) and finds δ again (within
 * 12U·(M + U·|μ|)), so its x̂ is within 25U·X as well.
 *   Σg·x̂a (x̂a = (x − μa)·rstd, within 25U·X), products U, blocks 11U, less δ·rstd·Σg (δ within 12U·(M + U|μ|)):
 *   mean(g·x̂) within 50U·mean(|g|·X); mean(g) within 12U·mean|g|; g = dy·w within U.
 *   dx = rstd·((g − mg) − x̂·mgx): (g − mg) within U·(3|g| + 13·mean|g|), x̂·mgx within 77U·X·mean(|g|X), the
 *   difference and the product by rstd (22U + U) add 24U of each term:
 *                                                                       |Δdx| ≤ 101U·rstd·(|g| + mean|g| + X·mean(|g|·X))
 *   dw = Σ_rows dy·x̂: products within 26U·|dy|·X, summed in float32 blocks of 8 rows (7U), the blocks in float64,
 *   rounded once:                                                       |Δdw| ≤ 34U·Σ|dy|·X;  db = Σ dy likewise: 8U·Σ|dy|.
 * TypeScript (float64, rounded once): the forward within U·|y| (+2⁻⁴⁰ of the scale for float64's own sums); the
 * backward reads the mean and rstd the forward saved in float32, as PyTorch does, so x̂ moves by U·(|x̂| + |μ|·rstd) —
 * with X' = |x̂| + |μ|·rstd: rstd's U moves dx by U·rstd·|g − mg − x̂·mgx|, x̂ (U·X') and mgx (U·mean(|g|·X')) move
 * x̂·mgx by 2U·X'·mean(|g|·X'), and dx is rounded once more (U·|dx|):
 *   |Δdx| ≤ 4U·rstd·(|g| + mean|g| + X'·mean(|g|·X')),  |Δdw| ≤ 3U·Σ|dy|·X'.
 * (3U for dx, as first written, is short when every g·x̂ has one sign: fast-check found a row over it by 0.5%.)
 * These are worst cases: the errors seen are a fraction of them, and a kernel that takes μ in one float32, or its
 * variance as E[x²] − E[x]², misses them by orders of magnitude on rows with mean 1e4 and spread 1e-2.
 */
function reference(c: Case, x: Float32Array, w: Float32Array, b: Float32Array, dy: Float32Array) {
  const { rows, cols } = c;
  const want: Outputs = { y: [], mean: [], rstd: [], dx: [], dw: new Array(cols).fill(0), db: new Array(cols).fill(0) };
  const bound: Record<Tier, Outputs> = {
    simd: { y: [], mean: [], rstd: [], dx: [], dw: new Array(cols).fill(0), db: new Array(cols).fill(0) },
    ts: { y: [], mean: [], rstd: [], dx: [], dw: new Array(cols).fill(0), db: new Array(cols).fill(0) },
  };
  const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
  for (let r = 0; r < rows; r++) {
    const row = Array.from(x.subarray(r * cols, (r + 1) * cols));
    const mu = c.centred ? sum(row) / cols : 0;
    const rstd = 1 / Math.sqrt(sum(row.map((v) => (v - mu) ** 2)) / cols + 1e-5);
    const xh = row.map((v) => (v - mu) * rstd);
    const g = xh.map((_, j) => dy[r * cols + j] * (c.weight ? w[j] : 1));
    const mg = c.centred ? sum(g) / cols : 0;
    const mgx = sum(g.map((v, j) => v * xh[j])) / cols;
    const meanAbsX = sum(row.map(Math.abs)) / cols;
    const M = c.centred ? sum(row.map((v) => Math.abs(v - mu))) / cols + 12 * U * meanAbsX : 0;
    const X = xh.map((v) => Math.abs(v) + rstd * (M + U * Math.abs(mu)));
    const Xts = xh.map((v) => Math.abs(v) + Math.abs(mu) * rstd);
    const meanAbsG = c.centred ? sum(g.map(Math.abs)) / cols : 0;
    const meanGX = sum(g.map((v, j) => Math.abs(v) * X[j])) / cols;
    const meanGXts = sum(g.map((v, j) => Math.abs(v) * Xts[j])) / cols;
    if (c.centred) {
      want.mean.push(mu);
      bound.simd.mean.push(U * Math.abs(mu) + 13 * U * M);
      bound.ts.mean.push(U * Math.abs(mu) + 2 ** -40 * meanAbsX);
    }
    want.rstd.push(rstd);
    bound.simd.rstd.push(22 * U * rstd);
    bound.ts.rstd.push(U * rstd + 2 ** -40 * rstd);
    for (let j = 0; j < cols; j++) {
      const wj = c.weight ? w[j] : 1;
      const bj = c.bias ? b[j] : 0;
      const d = dy[r * cols + j];
      want.y.push(xh[j] * wj + bj);
      bound.simd.y.push(27 * U * (X[j] * Math.abs(wj) + Math.abs(bj)));
      bound.ts.y.push(U * Math.abs(xh[j] * wj + bj) + 2 ** -40 * (Math.abs(xh[j] * wj) + Math.abs(bj)));
      want.dx.push(rstd * (g[j] - mg - xh[j] * mgx));
      bound.simd.dx.push(101 * U * rstd * (Math.abs(g[j]) + meanAbsG + X[j] * meanGX));
      bound.ts.dx.push(4 * U * rstd * (Math.abs(g[j]) + meanAbsG + Xts[j] * meanGXts));
      want.dw[j] += d * xh[j];
      bound.simd.dw[j] += 34 * U * Math.abs(d) * X[j];
      bound.ts.dw[j] += 3 * U * Math.abs(d) * Xts[j];
      want.db[j] += d;
      bound.simd.db[j] += 8 * U * Math.abs(d);
      bound.ts.db[j] += 2 * U * Math.abs(d);
    }
  }
  return { want, bound };
}

function run(backend: CpuBackend, c: Case, x: Float32Array, w: Float32Array, b: Float32Array, dy: Float32Array): Outputs {
  const { rows, cols } = c;
  const xv = view(backend, x, [rows, cols]);
  const wv = c.weight ? view(backend, w, [cols]) : null;
  const f = c.centred ? backend.layerNorm(xv, wv, c.bias ? view(backend, b, [cols]) : null, cols, 1e-5) : backend.rmsNorm(xv, wv, cols, 1e-5);
  const stats = { rstd: f.rstd, mean: f.mean };
  const dyv = view(backend, dy, [rows, cols]);
  const g = c.centred ? backend.layerNormBackward(dyv, xv, wv, stats, cols, c.wanted) : backend.rmsNormBackward(dyv, xv, wv, stats, cols, c.wanted);
  const asked = { dx: c.wanted.input, dweight: c.weight && c.wanted.weight, dbias: c.centred && c.wanted.bias };
  for (const key of ['dx', 'dweight', 'dbias'] as const) expect(g[key] !== null, `${key} computed`).toBe(asked[key]);
  return {
    y: read(backend, f.y, rows * cols),
    rstd: read(backend, f.rstd, rows),
    mean: read(backend, f.mean, rows),
    dx: read(backend, g.dx, rows * cols),
    dw: read(backend, g.dweight, cols),
    db: read(backend, g.dbias, cols),
  };
}

/** |got − want| ≤ bound, element by element. */
function within(got: number[], want: number[], bound: number[], what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= bound[i])) {
      throw new Error(`${what}[${i}] = ${got[i]}, expected ${want[i]} ± ${bound[i]} (off by ${Math.abs(got[i] - want[i])})`);
    }
  }
}

/** Cases of layer norm (centred) or RMS norm; rows with a large mean and a small spread among them. */
export const caseArb = (centred: boolean) =>
  fc.record({
    rows: fc.integer({ min: 1, max: 12 }),
    // short rows (every tail length) and rows past a few float32 blocks
    cols: fc.oneof(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 64, max: 300 })),
    centred: fc.constant(centred),
    weight: fc.boolean(),
    bias: fc.boolean(),
    seed: fc.integer(),
    shift: fc.constantFrom(0, 3, -100, 1e4),
    spread: fc.constantFrom(2, 1e-2),
    wanted: fc.oneof(
      fc.constant({ input: true, weight: true, bias: true }),
      fc.record({ input: fc.boolean(), weight: fc.boolean(), bias: fc.boolean() }),
    ),
  });

/** One case: each tier's forward and backward within its bound of the float64 reference. */
export function checkCase(raw: Case): void {
  const c = { ...raw, bias: raw.bias && raw.centred };
  const n = c.rows * c.cols;
  const x = values(c.seed, n, c.spread, c.shift);
  const w = values(c.seed ^ 1, c.cols, 1, 1);
  const b = values(c.seed ^ 2, c.cols, 1, 0);
  const dy = values(c.seed ^ 3, n, 1, 0);
  const { want, bound } = reference(c, x, w, b, dy);
  for (const [tier, backend] of [['simd', simd], ['ts', ts]] as const) {
    const got = run(backend, c, x, w, b, dy);
    const check = (key: keyof Outputs, on: boolean) => {
      if (on) within(got[key], want[key], bound[tier][key], `${tier} ${key}`);
    };
    check('y', true);
    check('rstd', true);
    check('mean', c.centred);
    check('dx', c.wanted.input);
    check('dw', c.weight && c.wanted.weight);
    check('db', c.centred && c.wanted.bias);
  }
}
