import { fc, test } from '@fast-check/vitest';
import { getRngState, manualSeed, philox, rand, randn, setRngState } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
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
});
