import { fc, test } from '@fast-check/vitest';
import { causalMask, paddingMask, repeatKV, RotaryEmbedding, scaledDotProductAttention } from '@siftjs/nn';
import { scope, tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ref from '../reference/index.js';
import { refArb } from '../support/arbitraries.js';
import { backendsUnderTest } from '../support/backends.js';
import { expectClose } from '../support/close.js';
import { toRefSync, toTensor } from '../support/gradcheck.js';

describe.each(backendsUnderTest())('attention helpers on $name', (backend) => {
  beforeAll(() => backend.start());

  it('causal and padding masks block exactly the future and the padding', () =>
    scope(() => {
      const m = Array.from(causalMask(2, 1).toArraySync()).map((v) => (v < 0 ? 1 : 0));
      expect(m).toEqual([0, 0, 1, 0, 0, 0]); // query 0 (position 1) sees keys 0–1, query 1 sees 0–2
      const p = Array.from(paddingMask(tensor([[1, 1, 0]], { dtype: 'int32' })).toArraySync()).map((v) => (v < 0 ? 1 : 0));
      expect(p).toEqual([0, 0, 1]);
    }));

  test.prop([fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 })).chain(([t, s, d]) => fc.tuple(refArb([1, 2, t, d]), refArb([1, 2, s, d]), refArb([1, 2, s, d])))], { numRuns: 20 })(
    'scaledDotProductAttention is softmax(QKᵀ/√d)·V',
    ([q, k, v]) =>
      scope(() => {
        const d = q.shape[3];
        const scores = ref.div(ref.matmul(q, ref.transpose(k, 2, 3)), ref.ref([], [Math.sqrt(d)]));
        const expected = ref.matmul(ref.softmax(scores, 3), v);
        expectClose(scaledDotProductAttention(toTensor(q), toTensor(k), toTensor(v)).toArraySync(), expected.data, 1e-10, 1e-12, 'attention');
      }),
  );

  it('repeatKV gives each key/value head to `groups` consecutive query heads', () =>
    scope(() => {
      const x = tensor([1, 2, 3, 4], { shape: [1, 2, 1, 2] });
      expect(Array.from(repeatKV(x, 2).toArraySync())).toEqual([1, 2, 1, 2, 3, 4, 3, 4]);
      expect(repeatKV(x, 2).shape).toEqual([1, 4, 1, 2]);
    }));

  test.prop([refArb([3, 6]), fc.integer({ min: 0, max: 20 })], { numRuns: 20 })(
    'rotary embeddings rotate pairs (i, i + d/2): norms are kept and position 0 is the identity',
    (x, offset) =>
      scope(() => {
        const rope = new RotaryEmbedding(6);
        const { cos, sin } = rope.tables(3, offset);
        const y = toRefSync(RotaryEmbedding.rotate(toTensor(x), cos.cast('float64'), sin.cast('float64')));
        for (let p = 0; p < 3; p++) {
          for (let i = 0; i < 3; i++) {
            const [a, b] = [x.data[p * 6 + i], x.data[p * 6 + i + 3]];
            const [c, e] = [y.data[p * 6 + i], y.data[p * 6 + i + 3]];
            expect(Math.hypot(c, e)).toBeCloseTo(Math.hypot(a, b), 5);
          }
        }
        if (offset === 0) expectClose(y.data.slice(0, 6), x.data.slice(0, 6), 1e-7, 1e-7, 'position 0');
      }),
  );
});
