import { fc } from '@fast-check/vitest';
import type { BackendStorage, View } from '@siftjs/tensor';
import { afterEach, expect } from 'vitest';
import { CpuBackend } from '../src/backend.js';

/**
 * The norm kernels' test cases (layerNorm.test.ts, rmsNorm.test.ts): the WebAssembly SIMD forward and backward against
 * naive float64 math and the TypeScript kernels. Layer norm is the centred case; RMS norm the uncentred one.
 */
export const simd = new CpuBackend({ threads: 1, blas: false });
export const ts = new CpuBackend({ threads: 1, simd: false, blas: false });
const live: [CpuBackend, BackendStorage][] = [];

/** Frees what each test uploaded or got back, and checks nothing else stayed in the heap. */
export function freeAfterEach(): void {
  afterEach(() => {
    for (const [b, s] of live.splice(0)) b.free(s);
    expect(simd.memoryStats().bytesInUse).toBe(0);
  });
}

function values(seed: number, length: number, scale: number, shift: number): Float32Array {
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
  shift: number;
  /** The gradients asked for (the op asks only for those of inputs that require one). */
  wanted: { input: boolean; weight: boolean; bias: boolean };
}

/** Forward and backward by the textbook formulas in float64, straight from the definitions. */
function reference(c: Case, x: Float32Array, w: Float32Array, b: Float32Array, dy: Float32Array) {
  const { rows, cols } = c;
  const y: number[] = [];
  const dx: number[] = [];
  // dx cancels terms of size rstd·(|g| + |mean g| + |x̂·mean(g·x̂)|); the saved float32 μ and rstd move x̂ by up to
  // 2⁻²⁴·(1 + |μ|·rstd) relative: the scale each dx is compared at.
  const dxScale: number[] = [];
  const dw = new Array<number>(cols).fill(0);
  // The scale each dweight is compared at: Σ |dy|·(|x̂| + 1 + |μ|·rstd). The backward reads the mean and rstd the
  // forward saved in float32 (as PyTorch does), so x̂ carries |μ|·rstd·2⁻²⁴ of the mean's rounding; at a row mean
  // of −100 and two columns that alone is ~1e-5 of the result.
  const dwScale = new Array<number>(cols).fill(0);
  const db = new Array<number>(cols).fill(0);
  for (let r = 0; r < rows; r++) {
    const row = Array.from(x.subarray(r * cols, (r + 1) * cols));
    const mu = c.centred ? row.reduce((s, v) => s + v, 0) / cols : 0;
    const rstd = 1 / Math.sqrt(row.reduce((s, v) => s + (v - mu) ** 2, 0) / cols + 1e-5);
    const xh = row.map((v) => (v - mu) * rstd);
    const g = xh.map((_, j) => dy[r * cols + j] * (c.weight ? w[j] : 1));
    const mg = c.centred ? g.reduce((s, v) => s + v, 0) / cols : 0;
    const mgx = g.reduce((s, v, j) => s + v * xh[j], 0) / cols;
    for (let j = 0; j < cols; j++) {
      y.push(xh[j] * (c.weight ? w[j] : 1) + (c.bias ? b[j] : 0));
      dx.push(rstd * (g[j] - mg - xh[j] * mgx));
      dxScale.push(rstd * (Math.abs(g[j]) + Math.abs(mg) + Math.abs(xh[j] * mgx)) * (1 + Math.abs(mu) * rstd));
      dw[j] += dy[r * cols + j] * xh[j];
      dwScale[j] += Math.abs(dy[r * cols + j]) * (Math.abs(xh[j]) + 1 + Math.abs(mu) * rstd);
      db[j] += dy[r * cols + j];
    }
  }
  return { y, dx, dxScale, dw, dwScale, db };
}

function run(backend: CpuBackend, c: Case, x: Float32Array, w: Float32Array, b: Float32Array, dy: Float32Array) {
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

/** Within float32 rounding of the float64 value, at the magnitude `scale` (one number, or one per element). */
function close(got: number[], want: number[], scale: number | number[], what: string): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const tol = 4e-6 * (Math.abs(want[i]) + (typeof scale === 'number' ? scale : scale[i]));
    if (!(Math.abs(got[i] - want[i]) <= tol)) throw new Error(`${what}[${i}] = ${got[i]}, expected ${want[i]}`);
  }
}

/** Equal or one float32 ulp apart (the two kernels sum rows in different orders, in float64). */
function withinUlp(a: number[], b: number[], what: string): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    const ulp = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(a[i]), Math.abs(b[i])))) - 23);
    if (!(Math.abs(a[i] - b[i]) <= ulp)) throw new Error(`${what}[${i}]: SIMD ${a[i]}, TypeScript ${b[i]}`);
  }
}

/** Cases of layer norm (centred) or RMS norm. */
export const caseArb = (centred: boolean) =>
  fc.record({
    rows: fc.integer({ min: 1, max: 12 }),
    cols: fc.integer({ min: 1, max: 70 }),
    centred: fc.constant(centred),
    weight: fc.boolean(),
    bias: fc.boolean(),
    seed: fc.integer(),
    shift: fc.constantFrom(0, 3, -100),
    wanted: fc.oneof(
      fc.constant({ input: true, weight: true, bias: true }),
      fc.record({ input: fc.boolean(), weight: fc.boolean(), bias: fc.boolean() }),
    ),
  });

/** One case: forward and backward against float64 math, and within an ulp of the TypeScript kernels. */
export function checkCase(raw: Case): void {
  const c = { ...raw, bias: raw.bias && raw.centred };
  const n = c.rows * c.cols;
  const x = values(c.seed, n, 2, c.shift);
  const w = values(c.seed ^ 1, c.cols, 1, 1);
  const b = values(c.seed ^ 2, c.cols, 1, 0);
  const dy = values(c.seed ^ 3, n, 1, 0);
  const want = reference(c, x, w, b, dy);
  const got = run(simd, c, x, w, b, dy);
  const scale = Math.max(1, ...want.y.map(Math.abs));
  close(got.y, want.y, 1, 'y');
  if (c.wanted.input) close(got.dx, want.dx, want.dxScale, 'dx');
  if (c.weight && c.wanted.weight) close(got.dw, want.dw, want.dwScale.map((d) => d * scale), 'dweight');
  if (c.centred && c.wanted.bias) close(got.db, want.db, c.rows, 'dbias');
  const other = run(ts, c, x, w, b, dy);
  for (const key of ['y', 'rstd', 'mean', 'dx', 'dw', 'db'] as const) withinUlp(got[key], other[key], key);
}
