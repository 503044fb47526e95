import { fc, test } from '@fast-check/vitest';
import { embedding, fromStorage, getBackend, scatterFlat, scope, tensor, topkAbs } from '@siftjs/tensor';
import { describe, expect } from 'vitest';
import { HALVES, U32, describeHalfKernels, expectWithinHalf, halfTensor, halfUlp, halfValuesArb, readAndDispose, toHalf } from '../support/half-suites.js';

/**
 * matmul, the gathers and scatters and topkAbs on float16 / bfloat16 (tests/support/half-suites.ts for the bounds):
 * matmul accumulates in f32 and rounds once, with half operands on either side or both, transposed and batched;
 * gathers and topkAbs move patterns exactly; scatter-adds sum in f32 and round once.
 */

const RUNS = { numRuns: 10 };

/** Σ_k a[m, k]·b[k, n] and Σ_k |a·b| for row-major a [M, K], b [K, N]. */
function matmulRef(a: number[], b: number[], M: number, K: number, N: number): { c: number[]; mag: number[] } {
  const c: number[] = [];
  const mag: number[] = [];
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      let t = 0;
      for (let k = 0; k < K; k++) {
        s += a[m * K + k] * b[k * N + n];
        t += Math.abs(a[m * K + k] * b[k * N + n]);
      }
      c.push(s);
      mag.push(t);
    }
  }
  return { c, mag };
}

/** The transpose of a row-major [R, C] array. */
const transposed = (x: number[], R: number, C: number) => Array.from({ length: R * C }, (_, i) => x[(i % R) * C + Math.floor(i / R)]);

const dimsArb = fc.record({ M: fc.integer({ min: 1, max: 9 }), K: fc.integer({ min: 1, max: 13 }), N: fc.integer({ min: 1, max: 9 }), pad: fc.integer({ min: 0, max: 3 }) });

describeHalfKernels('half matmul, indexing and topkAbs', () => {

  describe.each(HALVES)('%s', (dtype) => {
    const matArb = dimsArb.chain((d) => fc.tuple(halfValuesArb(d.M * d.K, dtype, -2, 2), halfValuesArb(d.K * d.N, dtype, -2, 2)).map(([a, b]) => ({ ...d, a, b })));

    test.prop([matArb, fc.boolean()], RUNS)('a @ b and a @ wᵀ of half operands: f32 sums, one rounding', async ({ M, K, N, pad, a, b }, transposeB) => {
      const got = await readAndDispose(
        scope(() => {
          const ta = halfTensor(a, dtype, [M, K], pad);
          // wᵀ: b stored as w [N, K], used transposed (x·Wᵀ, a Linear layer's product)
          const tb = transposeB ? halfTensor(transposed(b, K, N), dtype, [N, K], 1).transpose(0, 1) : halfTensor(b, dtype, [K, N], 1);
          return ta.matmul(tb);
        }),
      );
      const { c, mag } = matmulRef(a, b, M, K, N);
      expectWithinHalf(got, c, dtype, mag.map((m) => (K + 2) * U32 * m), `matmul ${dtype}${transposeB ? ' (b transposed)' : ''}`);
    });

    test.prop([dimsArb.chain((d) => fc.tuple(fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: d.M * d.K, maxLength: d.M * d.K }), halfValuesArb(d.K * d.N, dtype, -2, 2)).map(([a, b]) => ({ ...d, a, b })))], RUNS)(
      'float32 activations @ a half weight: the weight widened in the kernel, a float32 result',
      async ({ M, K, N, a, b }) => {
        const a32 = Array.from(Float32Array.from(a));
        const bk = getBackend();
        const got = await readAndDispose(
          scope(() => {
            const x = tensor(Float32Array.from(a32), { shape: [M, K] });
            const w = halfTensor(transposed(b, K, N), dtype, [N, K], 1).transpose(0, 1);
            // the backend kernel with mixed operands (the matmul op would cast the weight to float32 first)
            return fromStorage(bk, bk.matmul(x.raw(), w.raw()), 'float32', [M, N]);
          }),
        );
        const { c, mag } = matmulRef(a32, b, M, K, N);
        got.forEach((g, i) => {
          // products below f32's smallest normal may be flushed to zero by the device (each is under 2^-126)
          const bound = (K + 2) * U32 * mag[i] + K * 2 ** -126;
          if (!(Math.abs(g - c[i]) <= bound)) expect.fail(`mixed matmul element ${i}: ${g}, expected ${c[i]} ± ${bound}`);
        });
      },
    );

    test.prop([fc.integer({ min: 520, max: 700 }), fc.integer({ min: 1, max: 3 })], { numRuns: 3 })(
      'a long K (split into slices on WebGPU, summed in f32, rounded once)',
      async (K, N) => {
        const a = Array.from({ length: 2 * K }, (_, i) => ((i * 37) % 17) / 8 - 1);
        const b = Array.from({ length: K * N }, (_, i) => ((i * 11) % 13) / 8 - 0.75);
        const got = await readAndDispose(scope(() => halfTensor(a, dtype, [2, K]).matmul(halfTensor(b, dtype, [K, N], 1))));
        const { c, mag } = matmulRef(a, b, 2, K, N);
        expectWithinHalf(got, c, dtype, mag.map((m) => (K + 2) * U32 * m), `matmul K=${K} ${dtype}`);
      },
    );

    test.prop([fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 5 }), fc.array(fc.nat(), { minLength: 1, maxLength: 9 })], RUNS)(
      'embedding (gatherRows) and gatherFlat copy patterns exactly',
      async (V, D, raw) => {
        const values = Array.from({ length: V * D }, (_, i) => [-0, 1.5, -2.75, 0.0078125, 3][i % 5] * (1 + (i % 3)));
        const ids = raw.map((r) => r % V);
        const rows = await readAndDispose(scope(() => embedding(halfTensor(values, dtype, [V, D], 1), tensor(Int32Array.from(ids)))));
        expect(rows).toEqual(ids.flatMap((id) => values.slice(id * D, (id + 1) * D)));
        const flat = raw.map((r) => r % (V * D));
        const picked = await readAndDispose(scope(() => halfTensor(values, dtype, [V, D], 1).transpose(0, 1).gatherFlat(tensor(Int32Array.from(flat)))));
        const t = transposed(values, V, D);
        expect(picked).toEqual(flat.map((f) => t[f]));
      },
    );

    test.prop([fc.integer({ min: 1, max: 11 }), fc.array(fc.nat(), { minLength: 1, maxLength: 12 })], RUNS)(
      "scatterFlat 'set' writes patterns into neighbours of untouched halves; 'add' sums repeats in f32 and rounds once",
      async (n, raw) => {
        const base = Array.from({ length: n }, (_, i) => (i % 2 ? 1 : -1) * (i + 1) * 0.25);
        const idx = raw.map((r) => r % n);
        const distinct = [...new Set(idx)];
        const src = distinct.map((_, j) => 100 + j);
        const set = await readAndDispose(scope(() => scatterFlat(halfTensor(base, dtype, [n], 1), tensor(Int32Array.from(distinct)), halfTensor(src, dtype, [distinct.length]), 'set')));
        const wantSet = [...base];
        distinct.forEach((i, j) => (wantSet[i] = src[j]));
        expect(set).toEqual(wantSet);
        const adds = idx.map((_, j) => [0.1, -0.3, 0.7][j % 3]).map((v) => toHalf(v, dtype));
        const added = await readAndDispose(scope(() => scatterFlat(halfTensor(base, dtype, [n], 1), tensor(Int32Array.from(idx)), halfTensor(adds, dtype, [idx.length], 1), 'add')));
        const wantAdd = [...base];
        const mag = base.map(Math.abs);
        const count = base.map(() => 0);
        idx.forEach((i, j) => {
          wantAdd[i] += adds[j];
          mag[i] += Math.abs(adds[j]);
          count[i]++;
        });
        // WebGPU sums an element's adds in f32 and rounds once; CUDA rounds at every atomic add (as PyTorch's
        // index_add_ on half tensors): each add after the first may add half an ulp of a partial sum (≤ mag)
        const slack = mag.map((m, i) => (idx.length + 2) * U32 * m + Math.max(0, count[i] - 1) * halfUlp(m, dtype));
        expectWithinHalf(added, wantAdd, dtype, slack, `scatterFlat add ${dtype}`);
      },
    );

    test.prop([fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), fc.array(fc.nat(), { minLength: 1, maxLength: 10 })], RUNS)(
      'scatterAddRows (the embedding backward) sums each row in f32 and rounds once',
      async (rows, D, raw) => {
        const ids = raw.map((r) => r % rows);
        const src = Array.from({ length: ids.length * D }, (_, i) => toHalf(Math.sin(i + 1) * 2, dtype));
        const bk = getBackend();
        const got = await readAndDispose(
          scope(() => {
            const s = halfTensor(src, dtype, [ids.length, D], 1);
            return fromStorage(bk, bk.scatterAddRows(rows, tensor(Int32Array.from(ids)).raw(), s.raw()), dtype, [rows, D]);
          }),
        );
        const want = new Array<number>(rows * D).fill(0);
        const mag = new Array<number>(rows * D).fill(0);
        ids.forEach((id, k) => {
          for (let j = 0; j < D; j++) {
            want[id * D + j] += src[k * D + j];
            mag[id * D + j] += Math.abs(src[k * D + j]);
          }
        });
        expectWithinHalf(got, want, dtype, mag.map((m) => (ids.length + 2) * U32 * m), `scatterAddRows ${dtype}`);
      },
    );

    test.prop([fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 2 ** 31 })], RUNS)(
      'topkAbs picks the k largest |x| (ties: lower index first) and returns their patterns unchanged',
      async (R, C, seed) => {
        // few distinct magnitudes, so ties are common; both signs of each
        const values = Array.from({ length: R * C }, (_, i) => [0.5, -0.5, 2, -2, 0, -0.0078125, 0.0078125, 3][(seed + i * 7919) % 8] * (((seed >> 3) + i) % 3 === 0 ? 1 : -1));
        const k = 1 + (seed % (R * C));
        const { values: v, indices } = scope(() => topkAbs(halfTensor(values, dtype, [R, C], 1).transpose(0, 1), k));
        const [gotV, gotI] = [await readAndDispose(v), await readAndDispose(indices)];
        const t = transposed(values, R, C);
        const order = t.map((_, i) => i).sort((i, j) => Math.abs(t[j]) - Math.abs(t[i]) || i - j).slice(0, k);
        expect(gotI).toEqual(order);
        expect(gotV.map((x) => Object.is(x, -0) ? '-0' : x)).toEqual(order.map((i) => (Object.is(t[i], -0) ? '-0' : t[i])));
      },
    );
  });
});
