import { fc, test } from '@fast-check/vitest';
import { adamwSparseUpdate, adamwUpdate, scope, tensor } from '@siftjs/tensor';
import { beforeAll, describe } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { expectClose } from '../support/close.js';

/** AdamW as PyTorch documents it, written out in float64, one element at a time. */
function referenceAdamW(p: number, g: number, m: number, v: number, h: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; step: number }) {
  const p1 = p - h.lr * h.weightDecay * p;
  const m1 = h.beta1 * m + (1 - h.beta1) * g;
  const v1 = h.beta2 * v + (1 - h.beta2) * g * g;
  const mHat = m1 / (1 - h.beta1 ** h.step);
  const vHat = v1 / (1 - h.beta2 ** h.step);
  return { p: p1 - (h.lr * mHat) / (Math.sqrt(vHat) + h.eps), m: m1, v: v1 };
}

const vec = (n: number) => fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: n, maxLength: n });
const hyper = fc.record({
  lr: fc.double({ min: 1e-4, max: 0.1, noNaN: true }),
  beta1: fc.constantFrom(0.9, 0.8),
  beta2: fc.constantFrom(0.999, 0.95),
  eps: fc.constantFrom(1e-8, 1e-6),
  weightDecay: fc.constantFrom(0, 0.01, 0.1),
  step: fc.integer({ min: 1, max: 50 }),
});

describe.each(backendsUnderTest())('AdamW kernels on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop([fc.integer({ min: 0, max: 40 }).chain((n) => fc.tuple(vec(n), vec(n), vec(n), vec(n).map((v) => v.map(Math.abs)))), hyper])(
    'dense AdamW matches the reference update (float64)',
    ([p, g, m, v], h) =>
      scope(() => {
        const t = (a: number[]) => tensor(a, { dtype: 'float64' });
        const [pt, gt, mt, vt] = [t(p), t(g), t(m), t(v)];
        adamwUpdate(pt, gt, mt, vt, h);
        const e = p.map((_, i) => referenceAdamW(p[i], g[i], m[i], v[i], h));
        expectClose(pt.toArraySync(), e.map((r) => r.p), 1e-12, 1e-14, 'param');
        expectClose(mt.toArraySync(), e.map((r) => r.m), 1e-12, 1e-14, 'm');
        expectClose(vt.toArraySync(), e.map((r) => r.v), 1e-12, 1e-14, 'v');
      }),
  );

  test.prop([fc.integer({ min: 1, max: 40 }).chain((n) => fc.tuple(vec(n), fc.uniqueArray(fc.nat(n - 1), { maxLength: n }))), hyper])(
    'sparse AdamW steps only the chosen values and writes them into the parameter',
    ([p, idx], h) =>
      scope(() => {
        const k = idx.length;
        const g = idx.map((i) => Math.sin(i + 1));
        const param = tensor(p, { dtype: 'float64' });
        const values = tensor(idx.map((i) => p[i]), { dtype: 'float64' });
        const m = tensor(new Float64Array(k));
        const v = tensor(new Float64Array(k));
        adamwSparseUpdate(param, tensor(idx, { dtype: 'int32' }), values, tensor(g, { dtype: 'float64' }), m, v, h);
        const expected = [...p];
        idx.forEach((at, j) => (expected[at] = referenceAdamW(p[at], g[j], 0, 0, h).p));
        expectClose(param.toArraySync(), expected, 1e-12, 1e-14, 'param');
        expectClose(values.toArraySync(), idx.map((at) => expected[at]), 1e-12, 1e-14, 'values');
      }),
  );
});
