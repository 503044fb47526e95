import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../src/index.js';
import { acquire, at, coords, randomData, size, strides } from './helpers.js';

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
