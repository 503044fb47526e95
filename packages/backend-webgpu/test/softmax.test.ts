import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../src/index.js';
import { acquire, expectClose, randomData } from './helpers.js';

const { backend: be, reason } = await acquire();

describe.skipIf(!be)(`webgpu softmax rows (${reason})`, () => {
  const b = be as WebGpuBackend;

  function softmaxRef(x: ArrayLike<number>, off: number, rows: number, cols: number, log: boolean): number[] {
    const out: number[] = [];
    for (let r = 0; r < rows; r++) {
      let m = -Infinity;
      for (let c = 0; c < cols; c++) m = Math.max(m, x[off + r * cols + c]);
      let s = 0;
      for (let c = 0; c < cols; c++) s += Math.exp(x[off + r * cols + c] - m);
      for (let c = 0; c < cols; c++) out.push(log ? x[off + r * cols + c] - m - Math.log(s) : Math.exp(x[off + r * cols + c] - m) / s);
    }
    return out;
  }

  it('forward and backward, softmax and log-softmax, match float64 on random rows', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 200, max: 1500 })),
        fc.boolean(),
        fc.integer({ min: 1, max: 2 ** 30 }),
        fc.constantFrom(1, 30),
        async (rows, cols, log, seed, scale) => {
          const off = seed % 4;
          const x = randomData(off + rows * cols, seed, -2 * scale, 2 * scale);
          const sx = b.upload('float32', x);
          const xv = { storage: sx, dtype: 'float32' as const, shape: [rows, cols], strides: [cols, 1], offset: off };
          const y = b.softmax(xv, cols, log);
          const got = await b.read(y, 'float32', rows * cols);
          const want = softmaxRef(x, off, rows, cols, log);
          expectClose(got, want, 2e-5, log ? 2e-5 * scale : 1e-6, `${log ? 'log' : ''}softmax ${rows}x${cols}`);

          const dy = randomData(rows * cols, seed + 3);
          const sdy = b.upload('float32', dy);
          const yv = { storage: y, dtype: 'float32' as const, shape: [rows, cols], strides: [cols, 1], offset: 0 };
          const dx = await b.read(b.softmaxBackward(yv, { ...yv, storage: sdy }, cols, log), 'float32', rows * cols);
          const wantDx: number[] = [];
          for (let r = 0; r < rows; r++) {
            let s = 0;
            for (let c = 0; c < cols; c++) s += log ? dy[r * cols + c] : dy[r * cols + c] * want[r * cols + c];
            for (let c = 0; c < cols; c++) {
              const i = r * cols + c;
              wantDx.push(log ? dy[i] - Math.exp(want[i]) * s : want[i] * (dy[i] - s));
            }
          }
          expectClose(dx, wantDx, 1e-4, 1e-5, `${log ? 'log' : ''}softmax backward ${rows}x${cols}`);
          for (const s of [sx, y, sdy]) b.free(s);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('rows of 100 and 1e4 columns sum to one', async () => {
    for (const [rows, cols] of [
      [100, 3],
      [2, 10000],
    ]) {
      const s = b.upload('float32', randomData(rows * cols, 9, -10, 10));
      const y = await b.read(b.softmax({ storage: s, dtype: 'float32', shape: [rows, cols], strides: [cols, 1], offset: 0 }, cols, false), 'float32', rows * cols);
      for (let r = 0; r < rows; r++) {
        let t = 0;
        for (let c = 0; c < cols; c++) t += y[r * cols + c];
        expect(t).toBeCloseTo(1, 4);
      }
    }
  });
});
