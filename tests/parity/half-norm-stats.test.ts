import { fc, test } from '@fast-check/vitest';
import { type HalfDType, type Tensor, fromStorage, getBackend, layerNorm, rmsNorm, scope } from '@siftjs/tensor';
import { describe, expect, it } from 'vitest';
import { layerNorm as layerNormFallback } from '../../packages/tensor/src/fallbacks/layerNorm.js';
import { rmsNorm as rmsNormFallback } from '../../packages/tensor/src/fallbacks/rmsNorm.js';
import { HALVES, U32, describeHalfKernels, expectWithinHalf, halfTensor, halfValuesArb, readAndDispose, rowsArb } from '../support/half-suites.js';

/**
 * A layer norm or RMS norm of a float16 / bfloat16 x keeps its row statistics (mean, rstd) in float32, as PyTorch
 * does (the contract's `opmathDtype`, packages/tensor/src/backend/backend.ts). Rounded to the half format, the mean
 * of a row whose mean is large against its spread moves every x̂ = (x − μ)·rstd by half an ulp of μ times rstd, and
 * the gradient with it: the second property sees that through autograd, against float64 from the definition.
 *
 * Every bound is the float32 evaluation's error (U = 2^-24), derived below from the arithmetic, on top of the half
 * result's own rounding (expectWithinHalf). Sums are bounded as in half-reduce-rows: a sum of n terms in float32 is
 * within (n + 2)·U·Σ|terms| of the exact one, whatever the order (the CPU sums in float64: within the same bound).
 */

const RUNS = { numRuns: 12 };

interface RowStats {
  mu: number;
  rstd: number;
  /** The float32 error bound of the stored mean: its sum, its division, its rounding. */
  muErr: number;
  /** Relative: the float32 error bound of the stored rstd. */
  rstdRel: number;
}

/**
 * The float64 statistics of each row (μ = 0 for RMS norm) and how far a float32 evaluation may stray from them:
 * μ̃ within muErr; each deviation d̃ = x − μ̃ within muErr + U·|d| of d, so Σd̃² is within
 * Σ(muErr + U|d|)(2|d| + muErr + U|d|) plus its own (cols + 2)·U sum error (and U for the squares); rstd =
 * 1/√(var + eps) halves that relative error and adds its square root, division and rounding.
 */
function rowStats(xs: readonly number[], cols: number, centred: boolean, eps: number): RowStats[] {
  return Array.from({ length: xs.length / cols }, (_, r) => {
    const row = xs.slice(r * cols, (r + 1) * cols);
    const mu = centred ? row.reduce((a, b) => a + b, 0) / cols : 0;
    const muErr = centred ? (cols + 3) * U32 * (row.reduce((a, b) => a + Math.abs(b), 0) / cols) + U32 * Math.abs(mu) : 0;
    const d = row.map((x) => x - mu);
    const v = d.reduce((a, b) => a + b * b, 0) / cols;
    const dErr = d.map((di) => muErr + U32 * Math.abs(di));
    const vErr = (cols + 4) * U32 * v + d.reduce((a, di, j) => a + dErr[j] * (2 * Math.abs(di) + dErr[j]), 0) / cols;
    return { mu, rstd: 1 / Math.sqrt(v + eps), muErr, rstdRel: vErr / (2 * (v + eps)) + 4 * U32 };
  });
}

/** The statistics a half x's forward returns, read as float32: from the backend's fused kernel, else the fallback's. */
function forwardStats(x: Tensor, w: Tensor, bias: Tensor | null, cols: number, eps: number, centred: boolean): { mean: Tensor | null; rstd: Tensor } {
  const b = getBackend();
  const rows = x.size / cols;
  const fused = centred ? b.layerNorm : b.rmsNorm;
  if (!fused) {
    const f = centred ? layerNormFallback(x, w, bias, cols, eps) : rmsNormFallback(x, w, cols, eps);
    f.y.dispose();
    return { mean: f.mean, rstd: f.rstd };
  }
  const f = centred ? b.layerNorm!(x.raw(), w.raw(), bias!.raw(), cols, eps) : b.rmsNorm!(x.raw(), w.raw(), cols, eps);
  b.free(f.y);
  // Taken as float32 storages of `rows` elements: a half storage would not read back as the statistics.
  return { mean: f.mean ? fromStorage(b, f.mean, 'float32', [rows]) : null, rstd: fromStorage(b, f.rstd, 'float32', [rows]) };
}

/**
 * Rows whose mean is large against their spread: 100 (and −100) plus a few steps of the format's spacing there
 * (1/16 for float16, 1/2 for bfloat16), so the mean is no value of the format, and an ordinary row beside them.
 */
function shiftedRows(dtype: HalfDType): number[] {
  const step = dtype === 'float16' ? 2 ** -4 : 2 ** -1;
  return [
    ...[0, 1, 3, -2, 5, -1, 2].map((k) => 100 + k * step),
    ...[0.5, -1.25, 2, 3.5, -3, 0.25, 1],
    ...[2, 0, -3, 1, 4, -1, 0].map((k) => -100 + k * step),
  ];
}

describeHalfKernels('half norms keep their statistics in float32', () => {
  describe.each(HALVES)('%s', (dtype) => {
    const normArb = rowsArb.chain((s) =>
      fc.tuple(halfValuesArb(s.rows * s.cols, dtype), halfValuesArb(s.cols, dtype, 0.5, 2), halfValuesArb(s.cols, dtype, -1, 1), fc.boolean()).map(([xs, w, bias, centred]) => ({ ...s, xs, w, bias, centred })),
    );

    test.prop([normArb], RUNS)('the forward returns mean and rstd in float32: the float64 statistics within float32 error', async ({ rows, cols, pad, xs, w, bias, centred }) => {
      const eps = 1e-5;
      const stats = scope(() => {
        const x = halfTensor(xs, dtype, [rows, cols], pad).contiguous();
        return forwardStats(x, halfTensor(w, dtype, [cols]).contiguous(), centred ? halfTensor(bias, dtype, [cols]).contiguous() : null, cols, eps, centred);
      });
      expect(stats.rstd.dtype).toBe('float32');
      if (centred) expect(stats.mean?.dtype).toBe('float32');
      else expect(stats.mean).toBeNull();
      const [mean, rstd] = [stats.mean ? await readAndDispose(stats.mean) : null, await readAndDispose(stats.rstd)];
      const ref = rowStats(xs, cols, centred, eps);
      // float32 error, far inside half an ulp of the format (2^-12 or 2^-9 relative, what a half statistic would lose)
      ref.forEach((s, r) => {
        expect(Math.abs(rstd[r] - s.rstd), `rstd of row ${r}: ${rstd[r]}, expected ${s.rstd}`).toBeLessThanOrEqual(s.rstdRel * s.rstd);
        if (mean) expect(Math.abs(mean[r] - s.mu), `mean of row ${r}: ${mean[r]}, expected ${s.mu}`).toBeLessThanOrEqual(s.muErr);
      });
    });

    for (const centred of [true, false]) {
      const op = centred ? 'layerNorm' : 'rmsNorm';
      it(`${op}'s gradients (autograd) of rows with mean ±100 against a spread of a few ulps of it match float64 from the definition`, async () => {
        const [rows, cols] = [3, 7];
        const eps = centred ? 1e-5 : 1e-6;
        const xs = shiftedRows(dtype);
        const w = [1.5, 0.75, 1, 2, 0.5, 1.25, 1];
        const bias = [0.25, -0.5, 0, 1, -1, 0.5, 0.125];
        // dL/dy: the loss is Σ y·c (each c a value of both formats)
        const c = Array.from({ length: rows * cols }, (_, i) => [1, -0.5, 2, 0.75, -1.5, 1.25, 0.5][(i * 3) % 7] * (i % 2 ? 1 : -1));
        const [x, wt, bt] = [halfTensor(xs, dtype, [rows, cols]), halfTensor(w, dtype, [cols]), halfTensor(bias, dtype, [cols])];
        for (const t of [x, wt, bt]) t.requiresGrad = true;
        try {
          scope(() => {
            const y = centred ? layerNorm(x, [cols], wt, bt, eps) : rmsNorm(x, wt, eps);
            y.mul(halfTensor(c, dtype, [rows, cols])).sum().backward();
          });
          expect([x.grad!.dtype, wt.grad!.dtype]).toEqual([dtype, dtype]);
          const [dx, dw, db] = [await x.grad!.toArray(), await wt.grad!.toArray(), centred ? await bt.grad!.toArray() : null];
          const want = normGradients(xs, w, c, rows, cols, centred, eps);
          expectWithinHalf(dx, want.dx, dtype, want.dxErr, `${op} ${dtype} dx`);
          expectWithinHalf(dw, want.dw, dtype, want.dwErr, `${op} ${dtype} dweight`);
          if (db) expectWithinHalf(db, want.db, dtype, want.dbErr, `${op} ${dtype} dbias`);
          else expect(bt.grad).toBeNull();
        } finally {
          for (const t of [x, wt, bt]) t.dispose();
        }
      });
    }
  });
});

/**
 * The float64 gradients of L = Σ y·c from the definition (with x̂ = (x − μ)·rstd, g = c·w):
 *   dx = rstd·(g − mean(g) − x̂·mean(g·x̂))   (RMS norm: μ = 0, without mean(g));  dw = Σ_rows c·x̂;  db = Σ_rows c,
 * and each one's float32 error bound: x̂ is within D = rstd·(muErr + U·(|x| + |μ|)) + (rstdRel + 2U)·|x̂| (rowStats);
 * dx's row sums add (cols + 2)·U of their terms, its products and differences 4U of each term, and rstd's error
 * scales the whole; dw sums c·x̂ over the rows.
 */
function normGradients(xs: number[], w: number[], c: number[], rows: number, cols: number, centred: boolean, eps: number) {
  const stats = rowStats(xs, cols, centred, eps);
  const out = { dx: [] as number[], dxErr: [] as number[], dw: new Array<number>(cols).fill(0), dwErr: new Array<number>(cols).fill(0), db: new Array<number>(cols).fill(0), dbErr: new Array<number>(cols).fill(0) };
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  for (let r = 0; r < rows; r++) {
    const { mu, rstd, muErr, rstdRel } = stats[r];
    const x = xs.slice(r * cols, (r + 1) * cols);
    const cr = c.slice(r * cols, (r + 1) * cols);
    const xh = x.map((v) => (v - mu) * rstd);
    const D = x.map((v, j) => rstd * (muErr + U32 * (Math.abs(v) + Math.abs(mu))) + (rstdRel + 2 * U32) * Math.abs(xh[j]));
    const g = cr.map((v, j) => v * w[j]);
    const mg = centred ? mean(g) : 0;
    const gx = g.map((v, j) => v * xh[j]);
    const mgx = mean(gx);
    const magG = mean(g.map(Math.abs));
    const magGx = mean(gx.map(Math.abs));
    const magGD = mean(g.map((v, j) => Math.abs(v) * D[j]));
    for (let j = 0; j < cols; j++) {
      const dx = rstd * (g[j] - mg - xh[j] * mgx);
      out.dx.push(dx);
      const sums = (cols + 2) * U32 * (magG + Math.abs(xh[j]) * magGx);
      const terms = 4 * U32 * (Math.abs(g[j]) + magG + Math.abs(xh[j]) * magGx);
      out.dxErr.push(rstd * (sums + terms + D[j] * Math.abs(mgx) + Math.abs(xh[j]) * magGD) + (rstdRel + 2 * U32) * Math.abs(dx));
      out.dw[j] += cr[j] * xh[j];
      out.dwErr[j] += Math.abs(cr[j]) * (D[j] + (rows + 4) * U32 * Math.abs(xh[j]));
      out.db[j] += cr[j];
      out.dbErr[j] += (rows + 2) * U32 * Math.abs(cr[j]);
    }
  }
  return out;
}
