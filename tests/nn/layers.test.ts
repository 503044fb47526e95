import { fc, test } from '@fast-check/vitest';
import { Embedding, init, LayerNorm, Linear, RMSNorm } from '@siftjs/nn';
import { manualSeed, tensor, zeros } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ref from '../reference/index.js';
import { refArb } from '../support/arbitraries.js';
import { backendsUnderTest, floatDtype } from '../support/backends.js';
import { byPrecision, expectClose } from '../support/close.js';
import { roundTo, toTensor } from '../support/gradcheck.js';
import { read } from '../support/read.js';

const dims = fc.integer({ min: 1, max: 6 });

describe.each(backendsUnderTest())('layers on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop([fc.tuple(dims, dims, dims, fc.boolean()).chain(([b, i, o, bias]) => fc.tuple(refArb([b, i]), fc.constant(i), fc.constant(o), fc.constant(bias)))], { numRuns: 20 })(
    'Linear computes x·Wᵀ + b with W as [out, in], initialised within ±1/√in',
    async ([x0, i, o, bias]) => {
      const dtype = floatDtype();
      const x = roundTo(x0, dtype);
      const got = await read(() => {
        const lin = new Linear(i, o, { bias, dtype });
        // Parameters live outside scopes: detached handles outlive the layer's dispose.
        const out = { shape: [...lin.weight.shape], w: lin.weight.detach(), b: lin.bias?.detach() ?? null, y: lin.forward(toTensor(x, dtype)) };
        lin.dispose();
        return out;
      });
      expect(got.shape).toEqual([o, i]);
      const w = ref.ref([o, i], got.w);
      expect(got.w.every((v) => Math.abs(v) <= 1 / Math.sqrt(i))).toBe(true);
      let expected = ref.matmul(x, ref.transpose(w, 0, 1));
      if (got.b) expected = ref.add(expected, ref.ref([o], got.b));
      const [rtol, atol] = byPrecision([1e-12, 1e-12], [1e-5, 1e-5]);
      expectClose(got.y, expected.data, rtol, atol, 'Linear');
    },
  );

  it('Embedding, LayerNorm and RMSNorm match the reference', async () => {
    const dtype = floatDtype();
    const ids = [4, 0, 4];
    const x = ref.ref([2, 3], [1, 2, 4, -1, 0, 7]);
    const got = await read(() => {
      manualSeed(3);
      const emb = new Embedding(5, 3, { dtype });
      const ln = new LayerNorm(3, { dtype });
      const rms = new RMSNorm(3, 1e-6, { dtype });
      const out = {
        table: emb.weight.detach(),
        emb: emb.forward(tensor(ids, { dtype: 'int32' })),
        ln: ln.forward(toTensor(x, dtype)),
        rms: rms.forward(toTensor(x, dtype)),
      };
      for (const m of [emb, ln, rms]) m.dispose();
      return out;
    });
    expectClose(got.emb, ref.embedding(ref.ref([5, 3], got.table), ids).data, 0, 0, 'Embedding');
    const [rtol, atol] = byPrecision([1e-12, 1e-12], [1e-5, 1e-5]);
    expectClose(got.ln, ref.layerNorm(x, 1, undefined, undefined, 1e-5).data, rtol, atol, 'LayerNorm');
    expectClose(got.rms, ref.rmsNorm(x, undefined, 1e-6).data, rtol, atol, 'RMSNorm');
  });

  it('initialisers have the bounds and spread torch.nn.init gives them', async () => {
    const bound = Math.sqrt(6 / (256 + 128));
    const got = await read(() => {
      manualSeed(4);
      const w = zeros([256, 128]);
      init.xavierUniform_(w);
      const xavier = { max: w.abs().max(), var: w.var() };
      init.kaimingNormal_(w, { nonlinearity: 'relu' });
      const kaiming = w.var();
      init.normal_(w, 1, 0.02);
      return { xavier, kaiming, mean: w.mean() };
    });
    expect(got.xavier.max[0]).toBeLessThanOrEqual(bound);
    expect(Math.sqrt(got.xavier.var[0])).toBeCloseTo(bound / Math.sqrt(3), 2);
    expect(Math.sqrt(got.kaiming[0])).toBeCloseTo(Math.sqrt(2 / 128), 2);
    expect(got.mean[0]).toBeCloseTo(1, 2);
  });
});
