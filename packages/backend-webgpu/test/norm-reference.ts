/**
 * Layer norm and RMS norm on the GPU against float64 (the CPU's normRows / normRowsBackward written out again):
 * `check` runs one case's forward and backward and measures every output; layerNorm.test.ts and rmsNorm.test.ts
 * run it on their own kernels.
 */
import type { NormGradients, NormStats } from '@siftjs/tensor';
import fc from 'fast-check';
import { expect } from 'vitest';
import type { WebGpuBackend } from '../src/index.js';
import { expectClose, randomData } from './helpers.js';

export interface Case {
  rows: number;
  cols: number;
  centred: boolean;
  weight: boolean;
  bias: boolean;
  seed: number;
  /** Spread of the row means relative to their spread (large: cancellation in x − μ). */
  shift: number;
  /** The gradients asked for (default all): the others must come back null. */
  wanted?: NormGradients;
}

/** Float64 reference of the CPU's normRows / normRowsBackward (kernels/rows.ts), written out again. */
function reference(c: Case, x: Float32Array, w: Float32Array | null, b: Float32Array | null, dy: Float32Array, eps: number) {
  const { rows, cols, centred } = c;
  const y = new Float64Array(rows * cols);
  // f32 knows x − μ to about an ulp of |x| + |μ|: y's error scales with that times rstd·|w| (a row of near-equal
  // values, a shifted row).
  const yTol = new Float64Array(rows * cols);
  const dx = new Float64Array(rows * cols);
  const dxTol = new Float64Array(rows * cols);
  const mean = new Float64Array(rows);
  const rstd = new Float64Array(rows);
  const dw = new Float64Array(cols);
  const db = new Float64Array(cols);
  // Sums of magnitudes: the scale each parameter gradient's rounding error is measured against.
  const dwScale = new Float64Array(cols);
  const dbScale = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let mu = 0;
    if (centred) {
      for (let j = 0; j < cols; j++) mu += x[o + j];
      mu /= cols;
    }
    let ss = 0;
    for (let j = 0; j < cols; j++) ss += (x[o + j] - mu) ** 2;
    const rs = 1 / Math.sqrt(ss / cols + eps);
    mean[r] = mu;
    rstd[r] = rs;
    let sg = 0;
    let sgx = 0;
    for (let j = 0; j < cols; j++) {
      const xh = (x[o + j] - mu) * rs;
      y[o + j] = xh * (w ? w[j] : 1) + (b ? b[j] : 0);
      yTol[o + j] = 1e-6 * (1 + Math.abs(y[o + j])) + 4e-7 * (Math.abs(x[o + j]) + Math.abs(mu)) * rs * (w ? Math.abs(w[j]) : 1);
      const g = dy[o + j] * (w ? w[j] : 1);
      sg += g;
      sgx += g * xh;
      dw[j] += dy[o + j] * xh;
      db[j] += dy[o + j];
      // x̂ is known to about an ulp of |x| + |μ| (times rstd) in f32, which matters for a shifted row.
      dwScale[j] += Math.abs(dy[o + j] * xh) + 0.05 * Math.abs(dy[o + j]) * (Math.abs(x[o + j]) + Math.abs(mu)) * rs;
      dbScale[j] += Math.abs(dy[o + j]);
    }
    // dx's tolerance: the rounding of the row sums, and x̂'s error (above) carried through both of its terms.
    let ag = 0;
    let agx = 0;
    let agE = 0;
    const xhErr = (j: number) => 4e-7 * (Math.abs(x[o + j]) + Math.abs(mu)) * rs;
    for (let j = 0; j < cols; j++) {
      const g = Math.abs(dy[o + j] * (w ? w[j] : 1));
      ag += g / cols;
      agx += (g * Math.abs(x[o + j] - mu) * rs) / cols;
      agE += (g * xhErr(j)) / cols;
    }
    for (let j = 0; j < cols; j++) {
      const xh = (x[o + j] - mu) * rs;
      const g = dy[o + j] * (w ? w[j] : 1);
      dx[o + j] = rs * (g - (centred ? sg / cols : 0) - xh * (sgx / cols));
      dxTol[o + j] = 1e-5 * Math.abs(dx[o + j]) + rs * (1e-5 * (Math.abs(g) + ag + Math.abs(xh) * agx) + xhErr(j) * agx + Math.abs(xh) * agE);
    }
  }
  return { y, yTol, dx, dxTol, mean, rstd, dw, db, dwScale, dbScale };
}

/** |got[i] − want[i]| ≤ tol[i] for every i; the message names the first miss. */
function within(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: (i: number) => number): void {
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tol(i))) throw new Error(`${what}[${i}] = ${got[i]}, expected ${want[i]} (±${tol(i)})`);
  }
}

export async function check(b: WebGpuBackend, c: Case): Promise<void> {
  const { rows, cols, centred, seed } = c;
  const n = rows * cols;
  const eps = 1e-5;
  const off = seed % 3;
  const x = randomData(off + n, seed, -2, 2);
  // Shift each row by its own constant: the statistics must not lose the row's spread to cancellation.
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) x[off + r * cols + j] += c.shift * ((r % 5) - 2);
  const xs = x.subarray(off);
  const w = c.weight ? randomData(cols, seed + 1, 0.5, 1.5) : null;
  const bias = c.bias ? randomData(cols, seed + 2, -1, 1) : null;
  const dy = randomData(n, seed + 3, -1, 1);
  const want = reference(c, xs, w, bias, dy, eps);

  const sx = b.upload('float32', x);
  const xv = { storage: sx, dtype: 'float32' as const, shape: [rows, cols], strides: [cols, 1], offset: off };
  // The weight sits at an offset of its buffer, as a view of a larger parameter would.
  const vec = (data: Float32Array | null) => {
    if (!data) return null;
    const s = b.upload('float32', Float32Array.from([9, ...data]));
    return { storage: s, dtype: 'float32' as const, shape: [cols], strides: [1], offset: 1 };
  };
  const [wv, bv] = [vec(w), vec(bias)];
  const f = centred ? b.layerNorm(xv, wv, bv, cols, eps) : b.rmsNorm(xv, wv, cols, eps);
  const what = `${centred ? 'layerNorm' : 'rmsNorm'} ${rows}x${cols} w ${!!w} b ${!!bias} shift ${c.shift} seed ${seed}`;
  within(`${what}: y`, await b.read(f.y, 'float32', n), want.y, (i) => want.yTol[i]);
  expectClose(await b.read(f.rstd, 'float32', rows), want.rstd, 5e-6, 0, `${what}: rstd`);
  if (centred) expectClose(await b.read(f.mean!, 'float32', rows), want.mean, 1e-6, 1e-6 * (1 + c.shift), `${what}: mean`);
  else expect(f.mean).toBeUndefined();

  const sdy = b.upload('float32', Float32Array.from([0, 0, ...dy]));
  const dyv = { storage: sdy, dtype: 'float32' as const, shape: [rows, cols], strides: [cols, 1], offset: 2 };
  const stats: NormStats = { rstd: f.rstd, mean: f.mean };
  const wanted = c.wanted ?? { input: true, weight: true, bias: true };
  const g = centred ? b.layerNormBackward(dyv, xv, wv, stats, cols, wanted) : b.rmsNormBackward(dyv, xv, wv, stats, cols, wanted);
  if (wanted.input) within(`${what}: dx`, await b.read(g.dx!, 'float32', n), want.dx, (i) => want.dxTol[i]);
  else expect(g.dx).toBeNull();
  if (w && wanted.weight) within(`${what}: dweight`, await b.read(g.dweight!, 'float32', cols), want.dw, (j) => 2e-5 * want.dwScale[j] + 1e-6);
  else expect(g.dweight).toBeNull();
  if (centred && wanted.bias) within(`${what}: dbias`, await b.read(g.dbias!, 'float32', cols), want.db, (j) => 2e-5 * want.dbScale[j] + 1e-6);
  else expect(g.dbias).toBeNull();

  for (const s of [sx, sdy, wv?.storage, bv?.storage, f.y, f.rstd, f.mean, g.dx, g.dweight, g.dbias]) if (s) b.free(s);
}

/** [rows, cols] at the edges: one row, one column, rows longer than a workgroup, and 2000 short rows. */
export const EDGE_SHAPES = [
  [1, 1],
  [1, 3],
  [3, 1],
  [1, 4099],
  [2000, 7],
] as const;

export const caseArb = fc.record({
  rows: fc.oneof(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 7, max: 300 })),
  // Few columns (fewer than a workgroup), a non-multiple of 4, and more than a workgroup's invocations.
  cols: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 200, max: 1300 })),
  centred: fc.boolean(),
  weight: fc.boolean(),
  bias: fc.boolean(),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
  shift: fc.constantFrom(0, 0, 30),
  // A frozen weight or bias (or an input that needs no gradient) is not asked for.
  wanted: fc.oneof(fc.constant(undefined), fc.record({ input: fc.boolean(), weight: fc.boolean(), bias: fc.boolean() })),
}).map((c) => ({ ...c, bias: c.bias && c.centred }));
