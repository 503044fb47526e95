import { fc, test } from '@fast-check/vitest';
import { type BackendStorage, type HalfDType, type NormStats, type Tensor, fromStorage, getBackend, layerNorm, rmsNorm, scope, tensor } from '@siftjs/tensor';
import { describe, expect } from 'vitest';
import { HALVES, U32, describeHalfKernels, expectWithinHalf, halfTensor, halfValuesArb, readAndDispose, rowsArb } from '../support/half-suites.js';

/**
 * Reductions and the row kernels (softmax, log-softmax and their backward, layer norm and RMS norm forward and
 * backward) on float16 / bfloat16, against float64 from the inputs' half values (tests/support/half-suites.ts). Each
 * check's f32 slack is the op's condition times f32's unit roundoff: a sum of n terms in f32 is within
 * (n + 2)·2^-24·Σ|terms| of the exact sum, whatever the order.
 */

const RUNS = { numRuns: 12 };

/** The f32 error of a sum of `n` terms whose magnitudes add up to `mag`. */
const sumError = (n: number, mag: number) => (n + 2) * U32 * mag;

/** Rows of a [rows, cols] row-major array. */
const rowOf = (xs: number[], cols: number, r: number) => xs.slice(r * cols, (r + 1) * cols);
/** The tests that call a fused kernel itself. */
const DIRECT = 'fused kernels called directly (cpu-primitives has none: its fallbacks are checked through the ops, half-ops)';
const sumOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const absSum = (xs: number[]) => xs.reduce((a, b) => a + Math.abs(b), 0);

describeHalfKernels('half reductions and row kernels', (backend) => {

  describe.each(HALVES)('%s', (dtype) => {
    const dataArb = rowsArb.chain((s) => halfValuesArb(s.rows * s.cols, dtype).map((xs) => ({ ...s, xs })));

    test.prop([dataArb], RUNS)('sum over rows and over columns: within half an ulp plus the f32 sum error', async ({ rows, cols, pad, xs }) => {
      const [byRow, byCol] = await Promise.all([
        readAndDispose(scope(() => halfTensor(xs, dtype, [rows, cols], pad).sum(1))),
        readAndDispose(scope(() => halfTensor(xs, dtype, [rows, cols], pad).sum(0))),
      ]);
      const rowsOf = Array.from({ length: rows }, (_, r) => rowOf(xs, cols, r));
      const colsOf = Array.from({ length: cols }, (_, c) => rowsOf.map((row) => row[c]));
      expectWithinHalf(byRow, rowsOf.map(sumOf), dtype, rowsOf.map((r) => sumError(cols, absSum(r))), `sum(1) ${dtype}`);
      expectWithinHalf(byCol, colsOf.map(sumOf), dtype, colsOf.map((c) => sumError(rows, absSum(c))), `sum(0) ${dtype}`);
    });

    test.prop([dataArb], RUNS)('max, min and argmax are exact (the first of equal maxima)', async ({ rows, cols, pad, xs }) => {
      const t = halfTensor(xs, dtype, [rows, cols], pad);
      try {
        const [mx, mn, am] = await Promise.all([readAndDispose(t.max(1)), readAndDispose(t.min(0)), readAndDispose(t.argmax(1))]);
        const rowsOf = Array.from({ length: rows }, (_, r) => rowOf(xs, cols, r));
        // (the sign of a zero maximum is the order's choice: compared as numbers)
        const num = (vs: number[]) => vs.map((v) => v + 0);
        expect(num(mx)).toEqual(num(rowsOf.map((r) => Math.max(...r))));
        expect(num(mn)).toEqual(num(Array.from({ length: cols }, (_, c) => Math.min(...rowsOf.map((r) => r[c])))));
        expect(am).toEqual(rowsOf.map((r) => r.indexOf(Math.max(...r))));
      } finally {
        t.dispose();
      }
    });

    test.prop([dataArb], RUNS)('softmax and log-softmax over rows', async ({ rows, cols, pad, xs }) => {
      const [sm, lsm] = await Promise.all([
        readAndDispose(scope(() => halfTensor(xs, dtype, [rows, cols], pad).softmax(-1))),
        readAndDispose(scope(() => halfTensor(xs, dtype, [rows, cols], pad).logSoftmax(-1))),
      ]);
      const want: number[] = [];
      const wantLog: number[] = [];
      const slack: number[] = [];
      const slackLog: number[] = [];
      for (let r = 0; r < rows; r++) {
        const row = rowOf(xs, cols, r);
        const m = Math.max(...row);
        const s = sumOf(row.map((v) => Math.exp(v - m)));
        for (const v of row) {
          want.push(Math.exp(v - m) / s);
          wantLog.push(v - m - Math.log(s));
          // exp of x − m (≤ 8 in size: a few ulps each) and the f32 sum of cols terms, relative
          slack.push((cols + 16) * U32 * (Math.exp(v - m) / s));
          // x − m − log s: each term's f32 rounding, absolute
          slackLog.push(16 * U32 * (Math.abs(v) + Math.abs(m) + Math.abs(Math.log(s)) + 1));
        }
      }
      expectWithinHalf(sm, want, dtype, slack, `softmax ${dtype}`);
      expectWithinHalf(lsm, wantLog, dtype, slackLog, `logSoftmax ${dtype}`);
    });

    describe.skipIf(!backend.fusedKernels)(DIRECT, () => {
      test.prop([rowsArb.chain((s) => fc.tuple(halfValuesArb(s.rows * s.cols, dtype, 0, 1), halfValuesArb(s.rows * s.cols, dtype)).map(([y, dy]) => ({ ...s, y, dy }))), fc.boolean()], RUNS)(
        'softmaxBackward: dx = y·(dy − Σ dy·y), and dy − exp(y)·Σ dy for log-softmax',
        async ({ rows, cols, pad, y, dy }, log) => {
          const b = getBackend();
          const dx = await readAndDispose(
            scope(() => {
              const [ty, tdy] = [halfTensor(y, dtype, [rows, cols]), halfTensor(dy, dtype, [rows, cols], pad)];
              return fromKernel(b.softmaxBackward!(ty.contiguous().raw(), tdy.contiguous().raw(), cols, log), dtype, [rows, cols]);
            }),
          );
          const want: number[] = [];
          const slack: number[] = [];
          for (let r = 0; r < rows; r++) {
            const [yr, dr] = [rowOf(y, cols, r), rowOf(dy, cols, r)];
            const s = log ? sumOf(dr) : sumOf(dr.map((d, i) => d * yr[i]));
            const sMag = log ? absSum(dr) : absSum(dr.map((d, i) => d * yr[i]));
            yr.forEach((yv, i) => {
              want.push(log ? dr[i] - Math.exp(yv) * s : yv * (dr[i] - s));
              const scale = log ? Math.abs(dr[i]) + 8 * Math.exp(yv) * (Math.abs(s) + sMag) : Math.abs(yv) * (Math.abs(dr[i]) + Math.abs(s) + sMag);
              slack.push(sumError(cols, 1) * scale);
            });
          }
          expectWithinHalf(dx, want, dtype, slack, `softmaxBackward${log ? ' (log)' : ''} ${dtype}`);
        },
      );
    });

    const normArb = rowsArb.chain((s) =>
      fc.tuple(halfValuesArb(s.rows * s.cols, dtype), halfValuesArb(s.cols, dtype, 0.5, 2), halfValuesArb(s.cols, dtype, -1, 1), fc.boolean()).map(([xs, w, bias, centred]) => ({ ...s, xs, w, bias, centred })),
    );

    test.prop([normArb], RUNS)('layer norm and RMS norm forward: y = (x − μ)·rstd·w (+ b)', async ({ rows, cols, pad, xs, w, bias, centred }) => {
      const eps = 1e-5;
      const y = await readAndDispose(
        scope(() => {
          const x = halfTensor(xs, dtype, [rows, cols], pad);
          const wt = halfTensor(w, dtype, [cols], 1 - (pad % 2));
          return centred ? layerNorm(x, [cols], wt, halfTensor(bias, dtype, [cols]), eps) : rmsNorm(x, wt, eps);
        }),
      );
      const ref = normReference(xs, rows, cols, centred, eps);
      const want: number[] = [];
      const slack: number[] = [];
      for (let r = 0; r < rows; r++) {
        const { mu, rstd } = ref[r];
        for (let c = 0; c < cols; c++) {
          const x = xs[r * cols + c];
          const xh = (x - mu) * rstd;
          want.push(xh * w[c] + (centred ? bias[c] : 0));
          // μ and the variance are f32 sums of cols terms; x̂·w then rounds a few times
          slack.push(sumError(cols, 4) * ((Math.abs(xh) + (Math.abs(x) + Math.abs(mu)) * rstd) * Math.abs(w[c]) + (centred ? Math.abs(bias[c]) : 0)));
        }
      }
      expectWithinHalf(y, want, dtype, slack, `${centred ? 'layerNorm' : 'rmsNorm'} ${dtype}`);
    });

    describe.skipIf(!backend.fusedKernels)(DIRECT, () => {
      test.prop([normArb.chain((s) => halfValuesArb(s.rows * s.cols, dtype).map((dy) => ({ ...s, dy })))], RUNS)(
        'layer norm and RMS norm backward from float32 statistics beside half x and dy: dx, dweight, dbias',
        async ({ rows, cols, pad, xs, w, dy, centred }) => {
          const eps = 1e-5;
          const ref = normReference(xs, rows, cols, centred, eps);
          // The statistics are inputs of the backward, in the contract's opmathDtype: float32 for a half x (what the
          // forward returns). Here the float64 ones rounded to float32; the expected gradients are the definition's
          // at exactly those values.
          const mu = ref.map((s) => (centred ? Math.fround(s.mu) : 0));
          const rstd = ref.map((s) => Math.fround(s.rstd));
          const b = getBackend();
          const out = scope(() => {
            const x = halfTensor(xs, dtype, [rows, cols], pad).contiguous();
            const g = halfTensor(dy, dtype, [rows, cols], 3 - pad).contiguous();
            const wt = halfTensor(w, dtype, [cols]).contiguous();
            const stats: NormStats = { rstd: tensor(rstd, { dtype: 'float32' }).raw().storage, mean: centred ? tensor(mu, { dtype: 'float32' }).raw().storage : undefined };
            const wanted = { input: true, weight: true, bias: centred };
            const r = centred ? b.layerNormBackward!(g.raw(), x.raw(), wt.raw(), stats, cols, wanted) : b.rmsNormBackward!(g.raw(), x.raw(), wt.raw(), stats, cols, wanted);
            return { dx: fromKernel(r.dx!, dtype, [rows, cols]), dw: fromKernel(r.dweight!, dtype, [cols]), db: r.dbias ? fromKernel(r.dbias, dtype, [cols]) : null };
          });
          const [dx, dw, db] = [await readAndDispose(out.dx), await readAndDispose(out.dw), out.db ? await readAndDispose(out.db) : null];
          const wantDx: number[] = [];
          const slackDx: number[] = [];
          const wantDw = new Array<number>(cols).fill(0);
          const magDw = new Array<number>(cols).fill(0);
          const wantDb = new Array<number>(cols).fill(0);
          const magDb = new Array<number>(cols).fill(0);
          for (let r = 0; r < rows; r++) {
            const xh = rowOf(xs, cols, r).map((x) => (x - mu[r]) * rstd[r]);
            const g = rowOf(dy, cols, r).map((d, c) => d * w[c]);
            const mg = centred ? sumOf(g) / cols : 0;
            const mgx = sumOf(g.map((v, c) => v * xh[c])) / cols;
            const [magG, magGx] = [absSum(g) / cols, absSum(g.map((v, c) => v * xh[c])) / cols];
            // A backend may refine the given mean (the CPU's WebAssembly tier finds the row's mean again, from the
            // float32 one): that moves μ by up to its float32 rounding, U·|μ|, and dx by ∂dx/∂μ = rstd²·(mgx + x̂·mg) times it.
            const muShift = centred ? U32 * Math.abs(mu[r]) * rstd[r] ** 2 : 0;
            for (let c = 0; c < cols; c++) {
              wantDx.push(rstd[r] * (g[c] - mg - xh[c] * mgx));
              const x = xs[r * cols + c];
              slackDx.push(
                sumError(cols, 4) * rstd[r] * (Math.abs(g[c]) + magG + (Math.abs(xh[c]) + (Math.abs(x) + Math.abs(mu[r])) * rstd[r]) * magGx) +
                  muShift * (Math.abs(mgx) + Math.abs(xh[c] * mg)),
              );
              const d = dy[r * cols + c];
              wantDw[c] += d * xh[c];
              magDw[c] += Math.abs(d) * (Math.abs(xh[c]) + (Math.abs(x) + Math.abs(mu[r])) * rstd[r]);
              wantDb[c] += d;
              magDb[c] += Math.abs(d);
            }
          }
          const tag = `${centred ? 'layerNorm' : 'rmsNorm'}Backward ${dtype}`;
          expectWithinHalf(dx, wantDx, dtype, slackDx, `${tag} dx`);
          expectWithinHalf(dw, wantDw, dtype, magDw.map((m) => sumError(rows, 4 * m)), `${tag} dweight`);
          if (centred) expectWithinHalf(db!, wantDb, dtype, magDb.map((m) => sumError(rows, m)), `${tag} dbias`);
          else expect(db).toBeNull();
        },
      );
    });
  });
});

/** The per-row statistics in float64: μ (0 for RMS) and rstd = 1/√(mean((x − μ)²) + eps). */
function normReference(xs: number[], rows: number, cols: number, centred: boolean, eps: number): { mu: number; rstd: number }[] {
  return Array.from({ length: rows }, (_, r) => {
    const row = rowOf(xs, cols, r);
    const mu = centred ? sumOf(row) / cols : 0;
    return { mu, rstd: 1 / Math.sqrt(sumOf(row.map((x) => (x - mu) ** 2)) / cols + eps) };
  });
}

/** A kernel's output storage as a tensor of `dtype` (the caller's scope owns it). */
function fromKernel(storage: BackendStorage, dtype: HalfDType, shape: number[]): Tensor {
  return fromStorage(getBackend(), storage, dtype, shape);
}
