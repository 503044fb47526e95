import { fc, test } from '@fast-check/vitest';
import { causalMask, paddingMask, repeatKV, RotaryEmbedding, scaledDotProductAttention } from '@siftjs/nn';
import { tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ref from '../reference/index.js';
import { refArb } from '../support/arbitraries.js';
import { backendsUnderTest, floatDtype } from '../support/backends.js';
import { byPrecision, expectClose } from '../support/close.js';
import { roundTo, toTensor } from '../support/gradcheck.js';
import { read } from '../support/read.js';

describe.each(backendsUnderTest())('attention helpers on $name', (backend) => {
  beforeAll(() => backend.start());

  it('causal and padding masks block exactly the future and the padding', async () => {
    const [causal, padding] = await read(() => [causalMask(2, 1), paddingMask(tensor([[1, 1, 0]], { dtype: 'int32' }))]);
    expect(causal.map((v) => (v < 0 ? 1 : 0))).toEqual([0, 0, 1, 0, 0, 0]); // query 0 (position 1) sees keys 0–1, query 1 sees 0–2
    expect(padding.map((v) => (v < 0 ? 1 : 0))).toEqual([0, 0, 1]);
  });

  test.prop([fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 6 }), fc.option(fc.integer({ min: 1, max: 8 }), { nil: null })], { numRuns: 30 })(
    'a causal mask with a sliding window w lets query i (position past + i) see exactly the keys j with past + i − w < j ≤ past + i',
    async (t, past, window) => {
      const [mask] = await read(() => [causalMask(t, past, window)]);
      const n = past + t;
      const expected = Array.from({ length: t * n }, (_, at) => {
        const q = past + Math.floor(at / n);
        const k = at % n;
        return k <= q && (window === null || k > q - window) ? 0 : 1;
      });
      expect(mask.map((v) => (v < 0 ? 1 : 0))).toEqual(expected);
    },
  );

  test.prop([fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 })).chain(([t, s, d]) => fc.tuple(refArb([1, 2, t, d]), refArb([1, 2, s, d]), refArb([1, 2, s, d])))], { numRuns: 20 })(
    'scaledDotProductAttention is softmax(QKᵀ/√d)·V',
    async (qkv) => {
      const dtype = floatDtype();
      const [q, k, v] = qkv.map((r) => roundTo(r, dtype));
      const d = q.shape[3];
      const scores = ref.div(ref.matmul(q, ref.transpose(k, 2, 3)), ref.ref([], [Math.sqrt(d)]));
      const expected = ref.matmul(ref.softmax(scores, 3), v);
      const got = await read(() => scaledDotProductAttention(toTensor(q, dtype), toTensor(k, dtype), toTensor(v, dtype)));
      const [rtol, atol] = byPrecision([1e-10, 1e-12], [1e-4, 1e-5]);
      expectClose(got, expected.data, rtol, atol, 'attention');
    },
  );

  it('repeatKV gives each key/value head to `groups` consecutive query heads', async () => {
    const got = await read(() => {
      const x = tensor([1, 2, 3, 4], { shape: [1, 2, 1, 2] });
      expect(repeatKV(x, 2).shape).toEqual([1, 4, 1, 2]);
      return repeatKV(x, 2);
    });
    expect(got).toEqual([1, 2, 1, 2, 3, 4, 3, 4]);
  });

  test.prop([refArb([3, 6]), fc.integer({ min: 0, max: 20 })], { numRuns: 20 })(
    'rotary embeddings rotate pairs (i, i + d/2): norms are kept and position 0 is the identity',
    async (x0, offset) => {
      const dtype = floatDtype();
      const x = roundTo(x0, dtype);
      const y = await read(() => {
        const rope = new RotaryEmbedding(6);
        const { cos, sin } = rope.tables(3, offset);
        return RotaryEmbedding.rotate(toTensor(x, dtype), cos.cast(dtype), sin.cast(dtype));
      });
      for (let p = 0; p < 3; p++) {
        for (let i = 0; i < 3; i++) {
          const [a, b] = [x.data[p * 6 + i], x.data[p * 6 + i + 3]];
          const [c, e] = [y[p * 6 + i], y[p * 6 + i + 3]];
          expect(Math.hypot(c, e)).toBeCloseTo(Math.hypot(a, b), 5);
        }
      }
      if (offset === 0) expectClose(y.slice(0, 6), x.data.slice(0, 6), 1e-7, 1e-7, 'position 0');
    },
  );
});
