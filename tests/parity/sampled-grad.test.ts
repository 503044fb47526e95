import { fc, test } from '@fast-check/vitest';
import { getBackend, keep, noGrad, setSampledGrad, type Tensor, tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect } from 'vitest';
import { backendsUnderTest, floatDtype } from '../support/backends.js';
import { expectClose } from '../support/close.js';
import { values } from '../support/read.js';

/**
 * A weight that asks for only some components of its gradient (sampled-grad.ts) gets, from every matmul that uses it
 * whole, exactly those components of Aᵀ·G — the definition, summed in float64 here — and from any other use the
 * dense gradient through its hooks as before. Backends without the sampledMatmul kernel send everything densely.
 */
const shapes = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  rows: fc.integer({ min: 1, max: 5 }),
  k: fc.integer({ min: 1, max: 6 }),
  n: fc.integer({ min: 1, max: 6 }),
  transposed: fc.boolean(),
  seed: fc.integer({ min: 1, max: 1000 }),
  alsoSummed: fc.boolean(),
});

const data = (len: number, seed: number) => Array.from({ length: len }, (_, i) => Math.sin(seed * 1.7 + i * 0.61) * 2);

describe.each(backendsUnderTest())('sampled weight gradients on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop([shapes.chain((s) => fc.tuple(fc.constant(s), fc.uniqueArray(fc.nat(s.k * s.n - 1), { minLength: 1, maxLength: s.k * s.n })))], { numRuns: backend.syncReads ? 40 : 6 })(
    'a matmul delivers G[idx] of its whole weight (x·W and x·Wᵀ, batched); other uses reach the hook densely; the parts sum to the definition',
    async ([s, idx]) => {
      const dtype = floatDtype();
      const m = s.batch * s.rows;
      const a = data(m * s.k, s.seed);
      const gy = data(m * s.n, s.seed + 7);
      const wShape = s.transposed ? [s.n, s.k] : [s.k, s.n];
      const w = tensor(data(s.k * s.n, s.seed + 3), { dtype, shape: wShape }).requiresGrad_();
      const indices = tensor(idx, { dtype: 'int32' });
      const delivered: Tensor[] = [];
      const dense: Tensor[] = [];
      setSampledGrad(w, { indices, deliver: (v) => delivered.push(keep(v.clone())) });
      w.registerHook((g) => {
        dense.push(keep(g.clone()));
        return null;
      });
      const x = tensor(a, { dtype, shape: [s.batch, s.rows, s.k] });
      const weights = tensor(gy, { dtype, shape: [s.batch, s.rows, s.n] });
      const wt = s.transposed ? w.T : w;
      let loss = x.matmul(wt).mul(weights).sum();
      // A use that is not a matmul of the whole weight: its gradient (all ones) comes densely, through the hook.
      if (s.alsoSummed) loss = loss.add(w.sum());
      loss.backward();

      // The definition: dW[r, c] = Σₘ a[m, r]·gy[m, c] for W [K, N]; for W [N, K] used as Wᵀ, dW[o, i] = Σₘ a[m, i]·gy[m, o].
      const expected = idx.map((f) => {
        const [r, c] = s.transposed ? [f % s.k, Math.floor(f / s.k)] : [Math.floor(f / s.n), f % s.n];
        let sum = s.alsoSummed ? 1 : 0;
        for (let i = 0; i < m; i++) sum += a[i * s.k + r] * gy[i * s.n + c];
        return sum;
      });
      const got = new Array<number>(idx.length).fill(0);
      for (const v of delivered) (await values(v)).forEach((x, j) => (got[j] += x));
      for (const g of dense) {
        const gathered = noGrad(() => g.reshape([g.size]).gatherFlat(indices));
        (await values(gathered)).forEach((x, j) => (got[j] += x));
        gathered.dispose();
      }
      const tol = dtype === 'float64' ? { rtol: 1e-12, atol: 1e-12 } : { rtol: 1e-5, atol: 1e-5 };
      expectClose(got, expected, tol.rtol, tol.atol, 'G[idx]');
      if (getBackend().sampledMatmul) {
        expect(delivered.length, 'one delivery from the matmul').toBe(1);
        expect(dense.length, 'a dense gradient only for the summed use').toBe(s.alsoSummed ? 1 : 0);
      } else {
        expect(delivered.length).toBe(0);
        expect(dense.length).toBe(1);
      }
      expect(w.grad).toBeNull();
      setSampledGrad(w, null);
      for (const t of [...delivered, ...dense, w, x, weights, indices, loss]) t.dispose();
    },
  );
});
