import { fc, test } from '@fast-check/vitest';
import { dropout, getRngState, manualSeed, ones, philox, rand, randn, scope, setRngState, tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';

describe.each(backendsUnderTest())('random numbers on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop([fc.nat({ max: 2 ** 31 }), fc.integer({ min: 0, max: 300 }), fc.constantFrom('float32', 'float64') as fc.Arbitrary<'float32' | 'float64'>])(
    'rand and randn reproduce the Philox stream (seed, offset = call number) bit for bit',
    (seed, n, dtype) =>
      scope(() => {
        manualSeed(seed);
        const u = rand([n], { dtype }).toArraySync();
        const z = randn([n], { dtype }).toArraySync();
        const eu = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
        const ez = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
        if (dtype === 'float32') {
          philox.fillUniformF32(eu as Float32Array, seed, 0, 0);
          philox.fillNormalF32(ez as Float32Array, seed, 0, 1);
        } else {
          philox.fillUniformF64(eu as Float64Array, seed, 0, 0);
          philox.fillNormalF64(ez as Float64Array, seed, 0, 1);
        }
        expect(Array.from(u)).toEqual(Array.from(eu));
        expect(Array.from(z)).toEqual(Array.from(ez));
      }),
  );

  it('the same seed gives the same numbers; saving and restoring the state resumes the stream', () =>
    scope(() => {
      manualSeed(42);
      const a = Array.from(rand([5]).toArraySync());
      const state = getRngState();
      const b = Array.from(rand([5]).toArraySync());
      manualSeed(42);
      expect(Array.from(rand([5]).toArraySync())).toEqual(a);
      setRngState(state);
      expect(Array.from(rand([5]).toArraySync())).toEqual(b);
      expect(b).not.toEqual(a);
    }));

  it('rand has the moments of U(0,1) and randn of N(0,1); low/high and mean/std rescale', () =>
    scope(() => {
      manualSeed(7);
      const u = rand([20000]);
      expect(u.mean().itemSync()).toBeCloseTo(0.5, 1);
      expect(u.var().itemSync()).toBeCloseTo(1 / 12, 2);
      const z = randn([20000], { mean: 3, std: 2 });
      expect(z.mean().itemSync()).toBeCloseTo(3, 1);
      expect(Math.sqrt(z.var().itemSync())).toBeCloseTo(2, 1);
      const r = rand([1000], { low: -2, high: -1 });
      expect(r.min().itemSync()).toBeGreaterThanOrEqual(-2);
      expect(r.max().itemSync()).toBeLessThan(-1);
    }));

  test.prop([fc.nat({ max: 1000 }), fc.double({ min: 0.05, max: 0.95, noNaN: true })])(
    'dropout keeps u ≥ p, scales by 1/(1 − p), and its gradient is the same mask',
    (seed, p) =>
      scope(() => {
        manualSeed(seed);
        const u = rand([64]).toArraySync();
        manualSeed(seed);
        const x = ones([64], { requiresGrad: true });
        const y = dropout(x, p);
        y.sum().backward();
        const expected = Array.from(u, (v) => (v >= p ? Math.fround(1 / (1 - p)) : 0));
        expect(Array.from(y.toArraySync())).toEqual(expected);
        expect(Array.from(x.grad!.toArraySync())).toEqual(expected);
      }),
  );

  it('dropout is the identity outside training', () =>
    scope(() => {
      const x = tensor([1, 2, 3]);
      expect(Array.from(dropout(x, 0.5, false).toArraySync())).toEqual([1, 2, 3]);
    }));
});
