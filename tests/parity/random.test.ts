import { fc, test } from '@fast-check/vitest';
import { getRngState, manualSeed, philox, rand, randLike, randn, setRngState, tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { shapeArb } from '../support/arbitraries.js';
import { backendsUnderTest, caps, floatDtypes } from '../support/backends.js';
import { expectClose } from '../support/close.js';
import { read } from '../support/read.js';

/** packages/tensor/src/ops/random.ts: rand, randn and randLike draw the Philox stream of packages/tensor/src/random. */
describe.each(backendsUnderTest())('random numbers on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop([fc.nat({ max: 2 ** 31 }), fc.integer({ min: 0, max: 300 }), fc.constantFrom(...floatDtypes(backend))])(
    'rand and randn reproduce the Philox stream (seed, offset = call number) bit for bit',
    async (seed, n, dtype) => {
      const [u, z] = await read(() => {
        manualSeed(seed);
        return [rand([n], { dtype }), randn([n], { dtype })];
      });
      const eu = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
      const ez = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
      if (dtype === 'float32') {
        philox.fillUniformF32(eu as Float32Array, seed, 0, 0);
        philox.fillNormalF32(ez as Float32Array, seed, 0, 1);
      } else {
        philox.fillUniformF64(eu as Float64Array, seed, 0, 0);
        philox.fillNormalF64(ez as Float64Array, seed, 0, 1);
      }
      expect(u).toEqual(Array.from(eu));
      if (caps().exactNormals) expect(z).toEqual(Array.from(ez));
      // float32 Box–Muller on the device: within its documented few ulps of the CPU's (|Δ| ≤ 2e-6·(1 + |z|)).
      else expectClose(z, ez, 2e-6, 2e-6, 'randn');
    },
  );

  it('the same seed gives the same numbers; saving and restoring the state resumes the stream', async () => {
    const [a, b, again, resumed] = await read(() => {
      manualSeed(42);
      const first = rand([5]);
      const state = getRngState();
      const second = rand([5]);
      manualSeed(42);
      const third = rand([5]);
      setRngState(state);
      return [first, second, third, rand([5])];
    });
    expect(again).toEqual(a);
    expect(resumed).toEqual(b);
    expect(b).not.toEqual(a);
  });

  it('rand has the moments of U(0,1) and randn of N(0,1); low/high and mean/std rescale', async () => {
    const m = await read(() => {
      manualSeed(7);
      const u = rand([20000]);
      const z = randn([20000], { mean: 3, std: 2 });
      const r = rand([1000], { low: -2, high: -1 });
      return { uMean: u.mean(), uVar: u.var(), zMean: z.mean(), zVar: z.var(), rMin: r.min(), rMax: r.max() };
    });
    expect(m.uMean[0]).toBeCloseTo(0.5, 1);
    expect(m.uVar[0]).toBeCloseTo(1 / 12, 2);
    expect(m.zMean[0]).toBeCloseTo(3, 1);
    expect(Math.sqrt(m.zVar[0])).toBeCloseTo(2, 1);
    expect(m.rMin[0]).toBeGreaterThanOrEqual(-2);
    expect(m.rMax[0]).toBeLessThan(-1);
  });

  test.prop([shapeArb({ maxRank: 4, maxDim: 6 }), fc.boolean(), fc.nat(), fc.option(fc.nat()), fc.nat({ max: 2 ** 31 })], { numRuns: 30 })(
    "randLike: x's shape (views too), x's dtype or the one asked, every number in [0, 1), the same numbers again under the same seed",
    async (shape, transposed, from, to, seed) => {
      const dtypes = floatDtypes();
      const dtype = dtypes[from % dtypes.length];
      const asked = to === null ? undefined : dtypes[to % dtypes.length];
      const n = shape.reduce((a, b) => a * b, 1);
      const forms: { shape: number[]; dtype: string }[] = [];
      const [first, second, again] = await read(() => {
        const base = tensor(new Array(n).fill(5), { shape, dtype });
        const x = transposed && shape.length >= 2 ? base.transpose(0, 1) : base;
        manualSeed(seed);
        const draws = [randLike(x, asked), randLike(x, asked)];
        manualSeed(seed);
        draws.push(randLike(x, asked));
        for (const t of draws) forms.push({ shape: [...t.shape], dtype: t.dtype });
        return draws;
      });
      const xShape = transposed && shape.length >= 2 ? [shape[1], shape[0], ...shape.slice(2)] : shape;
      expect(forms).toEqual(new Array(3).fill({ shape: xShape, dtype: asked ?? dtype }));
      for (const u of [first, second]) {
        expect(u.length).toBe(n);
        expect(u.every((v) => v >= 0 && v < 1), `a number outside [0, 1): ${u.find((v) => !(v >= 0 && v < 1))}`).toBe(true);
      }
      expect(again).toEqual(first);
      // Two draws are two streams: two numbers alike in every place would be a coincidence of about 2^-48 at float32.
      if (n >= 2) expect(second).not.toEqual(first);
    },
  );

  it('randLike is uniform on [0, 1): mean, variance and ten equal bins each within 5σ of U(0,1)', async () => {
    const n = 40000;
    const [u] = await read(() => {
      manualSeed(2024);
      return [randLike(tensor(new Array(n).fill(0), { shape: [200, 200] }))];
    });
    const mean = u.reduce((a, b) => a + b, 0) / n;
    const variance = u.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    // σ of the mean of n U(0,1) is √(1/12n); of the sample variance, √((1/80 − 1/144)/n) (the fourth central moment 1/80).
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(5 * Math.sqrt((1 / 80 - 1 / 144) / n));
    const bins = new Array(10).fill(0);
    for (const v of u) bins[Math.floor(v * 10)]++;
    // Each bin's count is Binomial(n, 1/10): σ = √(n · 0.1 · 0.9).
    for (const c of bins) expect(Math.abs(c - n / 10)).toBeLessThan(5 * Math.sqrt(n * 0.1 * 0.9));
  });
});
