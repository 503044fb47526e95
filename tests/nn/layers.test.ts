import { fc, test } from '@fast-check/vitest';
import { Embedding, init, LayerNorm, Linear, RMSNorm } from '@siftjs/nn';
import { manualSeed, scope, tensor, zeros } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ref from '../reference/index.js';
import { refArb } from '../support/arbitraries.js';
import { backendsUnderTest } from '../support/backends.js';
import { expectClose } from '../support/close.js';
import { toRefSync, toTensor } from '../support/gradcheck.js';

const dims = fc.integer({ min: 1, max: 6 });

describe.each(backendsUnderTest())('layers on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop([fc.tuple(dims, dims, dims, fc.boolean()).chain(([b, i, o, bias]) => fc.tuple(refArb([b, i]), fc.constant(i), fc.constant(o), fc.constant(bias)))], { numRuns: 20 })(
    'Linear computes x·Wᵀ + b with W as [out, in], initialised within ±1/√in',
    ([x, i, o, bias]) =>
      scope(() => {
        const lin = new Linear(i, o, { bias, dtype: 'float64' });
        const w = toRefSync(lin.weight);
        expect(w.shape).toEqual([o, i]);
        expect(w.data.every((v) => Math.abs(v) <= 1 / Math.sqrt(i))).toBe(true);
        let expected = ref.matmul(x, ref.transpose(w, 0, 1));
        if (lin.bias) expected = ref.add(expected, toRefSync(lin.bias));
        expectClose(lin.forward(toTensor(x)).toArraySync(), expected.data, 1e-12, 1e-12, 'Linear');
        lin.dispose();
      }),
  );

  it('Embedding, LayerNorm and RMSNorm match the reference', () =>
    scope(() => {
      manualSeed(3);
      const emb = new Embedding(5, 3, { dtype: 'float64' });
      const ids = [4, 0, 4];
      expectClose(emb.forward(tensor(ids, { dtype: 'int32' })).toArraySync(), ref.embedding(toRefSync(emb.weight), ids).data, 0, 0, 'Embedding');
      const x = ref.ref([2, 3], [1, 2, 4, -1, 0, 7]);
      const ln = new LayerNorm(3, { dtype: 'float64' });
      expectClose(ln.forward(toTensor(x)).toArraySync(), ref.layerNorm(x, 1, undefined, undefined, 1e-5).data, 1e-12, 1e-12, 'LayerNorm');
      const rms = new RMSNorm(3, 1e-6, { dtype: 'float64' });
      expectClose(rms.forward(toTensor(x)).toArraySync(), ref.rmsNorm(x, undefined, 1e-6).data, 1e-12, 1e-12, 'RMSNorm');
      for (const m of [emb, ln, rms]) m.dispose();
    }));

  it('initialisers have the bounds and spread torch.nn.init gives them', () =>
    scope(() => {
      manualSeed(4);
      const w = zeros([256, 128]);
      const bound = Math.sqrt(6 / (256 + 128));
      init.xavierUniform_(w);
      expect(w.abs().max().itemSync()).toBeLessThanOrEqual(bound);
      expect(Math.sqrt(w.var().itemSync())).toBeCloseTo(bound / Math.sqrt(3), 2);
      init.kaimingNormal_(w, { nonlinearity: 'relu' });
      expect(Math.sqrt(w.var().itemSync())).toBeCloseTo(Math.sqrt(2 / 128), 2);
      init.normal_(w, 1, 0.02);
      expect(w.mean().itemSync()).toBeCloseTo(1, 2);
    }));
});
