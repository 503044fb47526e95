import { fc, test } from '@fast-check/vitest';
import { dropout, manualSeed, ones, rand, tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { read } from '../support/read.js';

/** packages/tensor/src/ops/dropout.ts: the mask is the Philox uniforms u ≥ p, read back through rand with the same seed. */
describe.each(backendsUnderTest())('dropout on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop([fc.nat({ max: 1000 }), fc.double({ min: 0.05, max: 0.95, noNaN: true })])(
    'dropout keeps u ≥ p, scales by 1/(1 − p), and its gradient is the same mask',
    async (seed, p) => {
      const [u, y, grad] = await read(() => {
        manualSeed(seed);
        const noise = rand([64]);
        manualSeed(seed);
        const x = ones([64], { requiresGrad: true });
        const out = dropout(x, p);
        out.sum().backward();
        return [noise, out, x.grad!];
      });
      const expected = u.map((v) => (v >= p ? Math.fround(1 / (1 - p)) : 0));
      expect(y).toEqual(expected);
      expect(grad).toEqual(expected);
    },
  );

  it('dropout is the identity outside training', async () => {
    expect(await read(() => dropout(tensor([1, 2, 3]), 0.5, false))).toEqual([1, 2, 3]);
  });
});
