import { fc, test } from '@fast-check/vitest';
import { adamwSparseUpdate, adamwUpdate, tensor, zeros } from '@siftjs/tensor';
import { beforeAll, describe } from 'vitest';
import { backendsUnderTest, floatDtype } from '../support/backends.js';
import { expectClose } from '../support/close.js';
import { read } from '../support/read.js';

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

/**
 * Float64 to 1e-12 where the backend has it. Elsewhere the same update in float32 on float32-rounded inputs, against the
 * float64 reference at float32 tolerances.
 */
const tolerance = (dtype: 'float32' | 'float64') => (dtype === 'float64' ? { rtol: 1e-12, atol: 1e-14 } : { rtol: 1e-5, atol: 1e-6 });
const rounding = (dtype: 'float32' | 'float64') => (dtype === 'float64' ? (a: number[]) => a : (a: number[]) => a.map(Math.fround));

describe.each(backendsUnderTest())('AdamW kernels on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop([fc.integer({ min: 0, max: 40 }).chain((n) => fc.tuple(vec(n), vec(n), vec(n), vec(n).map((v) => v.map(Math.abs)))), hyper])(
    `dense AdamW matches the reference update (${floatDtype(backend)})`,
    async (inputs, h) => {
      const dtype = floatDtype();
      const [p, g, m, v] = inputs.map(rounding(dtype));
      const got = await read(() => {
        const t = (a: number[]) => tensor(a, { dtype });
        const [pt, gt, mt, vt] = [t(p), t(g), t(m), t(v)];
        adamwUpdate(pt, gt, mt, vt, h);
        return { p: pt, m: mt, v: vt };
      });
      const e = p.map((_, i) => referenceAdamW(p[i], g[i], m[i], v[i], h));
      const { rtol, atol } = tolerance(dtype);
      expectClose(got.p, e.map((r) => r.p), rtol, atol, 'param');
      expectClose(got.m, e.map((r) => r.m), rtol, atol, 'm');
      expectClose(got.v, e.map((r) => r.v), rtol, atol, 'v');
    },
  );

  test.prop([fc.integer({ min: 1, max: 40 }).chain((n) => fc.tuple(vec(n), fc.uniqueArray(fc.nat(n - 1), { maxLength: n }))), hyper])(
    'sparse AdamW steps only the chosen values and writes them into the parameter',
    async ([p0, idx], h) => {
      const dtype = floatDtype();
      const k = idx.length;
      const p = rounding(dtype)(p0);
      const g = rounding(dtype)(idx.map((i) => Math.sin(i + 1)));
      const got = await read(() => {
        const param = tensor(p, { dtype });
        const values = tensor(idx.map((i) => p[i]), { dtype });
        const m = zeros([k], { dtype });
        const v = zeros([k], { dtype });
        adamwSparseUpdate(param, tensor(idx, { dtype: 'int32' }), values, tensor(g, { dtype }), m, v, h);
        return { param, values };
      });
      const expected = [...p];
      idx.forEach((at, j) => (expected[at] = referenceAdamW(p[at], g[j], 0, 0, h).p));
      const { rtol, atol } = tolerance(dtype);
      expectClose(got.param, expected, rtol, atol, 'param');
      expectClose(got.values, idx.map((at) => expected[at]), rtol, atol, 'values');
    },
  );
});
