import { fc, test } from '@fast-check/vitest';
import { GeluMLP, MultiHeadAttention, SwiGLU } from '@siftjs/nn';
import { manualSeed, type Tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ref from '../reference/index.js';
import { refArb } from '../support/arbitraries.js';
import { backendsUnderTest } from '../support/backends.js';
import { expectClose } from '../support/close.js';
import { roundF32, toRef, toTensor } from '../support/gradcheck.js';
import { read } from '../support/read.js';

interface LinearWeights {
  weight: ref.Ref;
  bias: ref.Ref | null;
}

/** A layer's own weights, read for the reference. */
const weightsOf = async (layer: { weight: Tensor; bias: Tensor | null }): Promise<LinearWeights> => ({
  weight: await toRef(layer.weight),
  bias: layer.bias ? await toRef(layer.bias) : null,
});

/** x·Wᵀ (+ b) in the reference. */
const linear = (x: ref.Ref, layer: LinearWeights) => {
  const y = ref.matmul(x, ref.transpose(layer.weight, 0, 1));
  return layer.bias ? ref.add(y, layer.bias) : y;
};

/** Multi-head attention written out per head in the reference (no helpers shared with the layer). */
async function referenceAttention(x: ref.Ref, m: MultiHeadAttention, causal: boolean): Promise<ref.Ref> {
  const [, t, c] = x.shape;
  const h = m.heads;
  const d = c / h;
  const group = h / m.kvHeads;
  const q = linear(x, await weightsOf(m.q_proj));
  const k = linear(x, await weightsOf(m.k_proj));
  const v = linear(x, await weightsOf(m.v_proj));
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
  return linear(ref.concat(outs, 2), await weightsOf(m.o_proj));
}

describe.each(backendsUnderTest())('attention and MLP layers on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop([fc.integer({ min: 1, max: 5 }), fc.constantFrom([4, 4], [4, 2], [4, 1], [2, 2]), fc.boolean(), fc.integer({ min: 0, max: 1000 })], { numRuns: 15 })(
    'MultiHeadAttention (grouped heads, causal or not) equals per-head attention in the reference',
    async (t, [heads, kvHeads], causal, seed) => {
      manualSeed(seed);
      const m = new MultiHeadAttention(8, { heads, kvHeads, causal, bias: true });
      const x = ref.ref([1, t, 8], Array.from({ length: t * 8 }, (_, i) => Math.sin(i + seed)));
      const y = await read(() => m.forward(toTensor(x, 'float32')));
      expectClose(y, (await referenceAttention(roundF32(x), m, causal)).data, 1e-4, 1e-5, 'attention');
      m.dispose();
    },
  );

  it('a KV cache gives the same outputs as attending over the whole sequence (with rotary embeddings)', async () => {
    const got = await read(() => {
      manualSeed(1);
      const m = new MultiHeadAttention(8, { heads: 4, kvHeads: 2, causal: true, rotaryTheta: 10000 });
      const x = toTensor(ref.ref([1, 5, 8], Array.from({ length: 40 }, (_, i) => Math.cos(i))), 'float32');
      const full = m.forward(x);
      const cache = m.newCache();
      const first = m.forward(x.narrow(1, 0, 3), { cache });
      const rest = [3, 4].map((i) => m.forward(x.narrow(1, i, 1), { cache }));
      expect(cache.length).toBe(5);
      cache.k?.dispose();
      cache.v?.dispose();
      m.dispose();
      return { first, prefix: full.narrow(1, 0, 3), rest, restFull: [3, 4].map((i) => full.narrow(1, i, 1)) };
    });
    expectClose(got.first, got.prefix, 1e-5, 1e-6, 'prefix');
    got.rest.forEach((r, j) => expectClose(r, got.restFull[j], 1e-5, 1e-6, `step ${j}`));
  });

  test.prop([refArb([2, 3, 4])])('GeluMLP and SwiGLU compute fc2(gelu(fc1 x)) and down(silu(gate x)·up x)', async (x) => {
    const mlp = new GeluMLP(4, 6, 'none');
    const swi = new SwiGLU(4, 5);
    const xr = roundF32(x);
    const [mlpOut, swiOut] = await read(() => {
      const xt = toTensor(x, 'float32');
      return [mlp.forward(xt), swi.forward(xt)];
    });
    expectClose(mlpOut, linear(ref.geluErf(linear(xr, await weightsOf(mlp.fc1))), await weightsOf(mlp.fc2)).data, 1e-4, 1e-5, 'GeluMLP');
    const gate = ref.silu(linear(xr, await weightsOf(swi.gate_proj)));
    expectClose(swiOut, linear(ref.mul(gate, linear(xr, await weightsOf(swi.up_proj))), await weightsOf(swi.down_proj)).data, 1e-4, 1e-5, 'SwiGLU');
    mlp.dispose();
    swi.dispose();
  });
});
