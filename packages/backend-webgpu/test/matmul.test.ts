import type { ReduceOp, View } from '@siftjs/tensor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../src/index.js';
import { acquire, at, coords, expectClose, layout, randomData, size, strides } from './helpers.js';

const { backend: be, reason } = await acquire();

describe.skipIf(!be)(`webgpu matmul (${reason})`, () => {
  const b = be as WebGpuBackend;

  /**
   * a: [...batch, M, K] and b: [...batch, K, N], each laid out transposed or not, a batch dim possibly broadcast
   * (stride 0), at an offset; checked against float64 sums.
   */
  async function check(batch: number[], M: number, K: number, N: number, seed: number, transA: boolean, transB: boolean, bcast: number) {
    const mk = (rows: number, cols: number, trans: boolean, s: number, broadcastDim: number) => {
      const shape = [...batch, rows, cols];
      const mem = trans ? [...batch, cols, rows] : shape;
      const st = strides(mem);
      const str = trans ? [...st.slice(0, batch.length), st[batch.length + 1], st[batch.length]] : st.slice();
      if (broadcastDim >= 0 && broadcastDim < batch.length) str[broadcastDim] = 0;
      const offset = s % 5;
      const data = randomData(offset + size(mem), s);
      return { shape, strides: str, offset, data };
    };
    const A = mk(M, K, transA, seed, bcast);
    const B = mk(K, N, transB, seed + 1, bcast - 1);
    const [sa, sb] = [b.upload('float32', A.data), b.upload('float32', B.data)];
    const out = b.matmul({ storage: sa, dtype: 'float32', ...A }, { storage: sb, dtype: 'float32', ...B });
    const total = size(batch) * M * N;
    const got = await b.read(out, 'float32', total);
    const want = new Float64Array(total);
    const scale = new Float64Array(total);
    let o = 0;
    for (const bc of coords(batch)) {
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++, o++) {
          let s = 0;
          let m = 0;
          for (let k = 0; k < K; k++) {
            const p = at(A.data, A, [...bc, i, k]) * at(B.data, B, [...bc, k, j]);
            s += p;
            m += Math.abs(p);
          }
          want[o] = s;
          scale[o] = m;
        }
      }
    }
    for (let i = 0; i < total; i++) {
      const tol = 1e-6 * (scale[i] + 1) * 4;
      if (!(Math.abs(got[i] - want[i]) <= tol)) {
        throw new Error(`matmul batch ${JSON.stringify(batch)} M${M} K${K} N${N} tA ${transA} tB ${transB}: [${i}] = ${got[i]}, expected ${want[i]}`);
      }
    }
    for (const s of [sa, sb, out]) b.free(s);
  }

  it('matches float64 sums on random shapes, transposes, batches and broadcast batches', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 0, max: 70 }),
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 2 ** 30 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: -1, max: 2 }),
        async (batch, M, K, N, seed, ta, tb, bcast) => check(batch, M, K, N, seed, ta, tb, bcast),
      ),
      { numRuns: 30 },
    );
  });

  it('covers several tiles in every direction and a long K', async () => {
    await check([2], 131, 300, 97, 11, false, true, -1);
    await check([], 1, 1000, 1, 12, true, false, -1);
    await check([], 200, 17, 1, 13, false, false, -1);
  });
});

function reduceRef(op: ReduceOp | 'argmax' | 'argmin', data: ArrayLike<number>, v: Pick<View, 'shape' | 'strides' | 'offset'>, axes: number[]): number[] {
  const kept = v.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out: number[] = [];
  for (const kc of coords(kept)) {
    let acc = op === 'sum' ? 0 : op === 'max' || op === 'argmax' ? -Infinity : Infinity;
    let best = 0;
    let idx = 0;
    const red = v.shape.map((d, i) => (axes.includes(i) ? d : 1));
    for (const rc of coords(red)) {
      const x = at(data, v, kc.map((c, i) => c + rc[i]));
      if (op === 'sum') acc += x;
      else if (op === 'max' || op === 'argmax' ? x > acc : x < acc) {
        acc = x;
        best = idx;
      }
      idx++;
    }
    out.push(op === 'argmax' || op === 'argmin' ? best : acc);
  }
  return out;
}

describe.skipIf(!be)(`webgpu reductions (${reason})`, () => {
  const b = be as WebGpuBackend;

  const reduceCase = fc
    .record({
      shape: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }),
      seed: fc.integer({ min: 1, max: 2 ** 30 }),
      mask: fc.integer({ min: 1, max: 15 }),
    })
    .map(({ shape, seed, mask }) => {
      let axes = shape.map((_, i) => i).filter((i) => mask & (1 << i));
      if (axes.length === 0) axes = [shape.length - 1];
      return { shape, seed, axes };
    });

  it.each(['sum', 'max', 'min'] as ReduceOp[])('float32 %s over any axes of a strided view matches float64', async (op) => {
    await fc.assert(
      fc.asyncProperty(reduceCase, async ({ shape, seed, axes }) => {
        const l = layout(shape, seed, { broadcast: true });
        const data = randomData(l.length, seed);
        const s = b.upload('float32', data);
        const v = { storage: s, dtype: 'float32' as const, shape, strides: l.strides, offset: l.offset };
        const want = reduceRef(op, data, v, axes);
        const out = b.reduce(op, v, axes);
        const got = await b.read(out, 'float32', want.length);
        expectClose(got, want, 1e-5, 1e-5, `${op} ${JSON.stringify(shape)} axes ${axes}`);
        b.free(s);
        b.free(out);
      }),
      { numRuns: 25 },
    );
  });

  it('int32 and bool sums are exact and give int32', async () => {
    await fc.assert(
      fc.asyncProperty(reduceCase, async ({ shape, seed, axes }) => {
        const l = layout(shape, seed);
        const f = randomData(l.length, seed, -1000, 1000);
        for (const [dtype, data] of [
          ['int32', Int32Array.from(f, Math.round)],
          ['bool', Uint8Array.from(f, (x) => (x > 0 ? 1 : 0))],
        ] as const) {
          const s = b.upload(dtype, data);
          const v = { storage: s, dtype, shape, strides: l.strides, offset: l.offset };
          const want = reduceRef('sum', data, v, axes);
          const got = await b.read(b.reduce('sum', v, axes), 'int32', want.length);
          expect(Array.from(got)).toEqual(want);
          const mx = await b.read(b.reduce('max', v, axes), dtype, want.length);
          expect(Array.from(mx)).toEqual(reduceRef('max', data, v, axes));
          b.free(s);
        }
      }),
      { numRuns: 15 },
    );
  });

  it('long reductions (one workgroup per output) and many short ones', async () => {
    for (const [shape, axes] of [
      [[3, 20000], [1]],
      [[20000, 3], [0]],
      [[50000], [0]],
      [[30000, 2], [1]],
      [[7, 300, 5], [0, 2]],
    ] as [number[], number[]][]) {
      const data = randomData(size(shape), 5);
      const s = b.upload('float32', data);
      const v = { storage: s, dtype: 'float32' as const, shape, strides: strides(shape), offset: 0 };
      for (const op of ['sum', 'max'] as const) {
        const want = reduceRef(op, data, v, axes);
        const got = await b.read(b.reduce(op, v, axes), 'float32', want.length);
        const R = size(axes.map((a) => shape[a]));
        expectClose(got, want, 1e-5, op === 'sum' ? 1e-6 * R : 0, `${op} ${JSON.stringify(shape)} axes ${axes}`);
      }
      b.free(s);
    }
  });

  it('argmax / argmin along an axis match the first extreme index', async () => {
    await fc.assert(
      fc.asyncProperty(reduceCase, fc.nat(), async ({ shape, seed }, ax) => {
        const axis = ax % shape.length;
        const l = layout(shape, seed);
        const data = randomData(l.length, seed);
        const s = b.upload('float32', data);
        const v = { storage: s, dtype: 'float32' as const, shape, strides: l.strides, offset: l.offset };
        for (const op of ['argmax', 'argmin'] as const) {
          const want = reduceRef(op, data, v, [axis]);
          expect(Array.from(await b.read(b.argReduce(op, v, axis), 'int32', want.length))).toEqual(want);
        }
        b.free(s);
      }),
      { numRuns: 20 },
    );
  });
});

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
