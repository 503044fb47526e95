import { fc, test } from '@fast-check/vitest';
import { GeluMLP, MultiHeadAttention, SwiGLU } from '@siftjs/nn';
import { manualSeed, scope, type Tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ref from '../reference/index.js';
import { refArb } from '../support/arbitraries.js';
import { backendsUnderTest } from '../support/backends.js';
import { expectClose } from '../support/close.js';
import { toRefSync, toTensor } from '../support/gradcheck.js';

/** x·Wᵀ (+ b) in the reference, from a layer's own weights. */
const linear = (x: ref.Ref, layer: { weight: Tensor; bias: Tensor | null }) => {
  const y = ref.matmul(x, ref.transpose(toRefSync(layer.weight), 0, 1));
  return layer.bias ? ref.add(y, toRefSync(layer.bias)) : y;
};

/** Multi-head attention written out per head in the reference (no helpers shared with the layer). */
function referenceAttention(x: ref.Ref, m: MultiHeadAttention, causal: boolean): ref.Ref {
  const [, t, c] = x.shape;
  const h = m.heads;
  const d = c / h;
  const group = h / m.kvHeads;
  const q = linear(x, m.q_proj);
  const k = linear(x, m.k_proj);
  const v = linear(x, m.v_proj);
  const outs: ref.Ref[] = [];
  for (let head = 0; head < h; head++) {
    const kv = Math.floor(head / group);
    const qh = ref.slice(q, 2, head * d, (head + 1) * d);
    const kh = ref.slice(k, 2, kv * d, (kv + 1) * d);
    const vh = ref.slice(v, 2, kv * d, (kv + 1) * d);
    let scores = ref.div(ref.matmul(qh, ref.transpose(kh, 1, 2)), ref.ref([], [Math.sqrt(d)]));
    if (causal) scores = ref.add(scores, ref.ref([t, t], Array.from({ length: t * t }, (_, i) => (i % t > Math.floor(i / t) ? -1e9 : 0))));
    outs.push(ref.matmul(ref.softmax(scores, 2), vh));
  }
  return linear(ref.concat(outs, 2), m.o_proj);
}

describe.each(backendsUnderTest())('attention and MLP layers on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop([fc.integer({ min: 1, max: 5 }), fc.constantFrom([4, 4], [4, 2], [4, 1], [2, 2]), fc.boolean(), fc.integer({ min: 0, max: 1000 })], { numRuns: 15 })(
    'MultiHeadAttention (grouped heads, causal or not) equals per-head attention in the reference',
    (t, [heads, kvHeads], causal, seed) =>
      scope(() => {
        manualSeed(seed);
        const m = new MultiHeadAttention(8, { heads, kvHeads, causal, bias: true });
        const x = ref.ref([1, t, 8], Array.from({ length: t * 8 }, (_, i) => Math.sin(i + seed)));
        expectClose(m.forward(toTensor(x, 'float32')).toArraySync(), referenceAttention(x, m, causal).data, 1e-4, 1e-5, 'attention');
        m.dispose();
      }),
  );

  it('a KV cache gives the same outputs as attending over the whole sequence (with rotary embeddings)', () =>
    scope(() => {
      manualSeed(1);
      const m = new MultiHeadAttention(8, { heads: 4, kvHeads: 2, causal: true, rotaryTheta: 10000 });
      const x = toTensor(ref.ref([1, 5, 8], Array.from({ length: 40 }, (_, i) => Math.cos(i))), 'float32');
      const full = m.forward(x);
      const cache = m.newCache();
      const first = m.forward(x.narrow(1, 0, 3), { cache });
      const rest = [3, 4].map((i) => m.forward(x.narrow(1, i, 1), { cache }));
      expectClose(first.toArraySync(), full.narrow(1, 0, 3).toArraySync(), 1e-5, 1e-6, 'prefix');
      rest.forEach((r, j) => expectClose(r.toArraySync(), full.narrow(1, 3 + j, 1).toArraySync(), 1e-5, 1e-6, `step ${j}`));
      expect(cache.length).toBe(5);
      cache.k?.dispose();
      cache.v?.dispose();
      m.dispose();
    }));

  test.prop([refArb([2, 3, 4])])('GeluMLP and SwiGLU compute fc2(gelu(fc1 x)) and down(silu(gate x)·up x)', (x) =>
    scope(() => {
      const mlp = new GeluMLP(4, 6, 'none');
      const swi = new SwiGLU(4, 5);
      const xt = toTensor(x, 'float32');
      const xr = toRefSync(xt);
      expectClose(mlp.forward(xt).toArraySync(), linear(ref.geluErf(linear(xr, mlp.fc1)), mlp.fc2).data, 1e-4, 1e-5, 'GeluMLP');
      const gate = ref.silu(linear(xr, swi.gate_proj));
      expectClose(swi.forward(xt).toArraySync(), linear(ref.mul(gate, linear(xr, swi.up_proj)), swi.down_proj).data, 1e-4, 1e-5, 'SwiGLU');
      mlp.dispose();
      swi.dispose();
    }),
  );
});
