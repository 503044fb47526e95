import { applyLoRA, Linear, LoRALinear, Module } from '@siftjs/nn';
import { GPT2LMHeadModel, LlamaForCausalLM } from '@siftjs/models';
import { manualSeed, noGrad, randn, scope, tensor } from '@siftjs/tensor';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ref from '../reference/index.js';
import { backendsUnderTest, floatDtype } from '../support/backends.js';
import { byPrecision, expectClose } from '../support/close.js';
import { toTensor } from '../support/gradcheck.js';
import { read } from '../support/read.js';

class Net extends Module {
  q = new Linear(6, 4, { dtype: floatDtype() });
  k = new Linear(6, 4, { dtype: floatDtype() });
  head = new Linear(4, 2, { dtype: floatDtype() });
}

describe.each(backendsUnderTest())('LoRA on $name', (backend) => {
  beforeAll(() => backend.start());

  it('starts as the base layer, then adds (alpha/r)·x·Aᵀ·Bᵀ', async () => {
    const dtype = floatDtype();
    // Each step's values are cloned when they are current, and read at the end.
    const got = await read(() => {
      manualSeed(7);
      const base = new Linear(6, 4, { dtype });
      const x = randn([3, 6], { dtype });
      const before = base.forward(x);
      const lora = new LoRALinear(base, { rank: 2, alpha: 6 });
      const initial = lora.forward(x);
      noGrad(() => lora.lora_B.weight.copy_(randn([4, 2], { dtype })));
      const A = lora.lora_A.weight.detach().clone();
      const B = lora.lora_B.weight.detach().clone();
      const w0 = base.weight.detach().clone();
      const unmerged = lora.forward(x);
      lora.merge();
      const merged = lora.forward(x);
      lora.unmerge();
      const w1 = base.weight.detach().clone();
      lora.dispose();
      return { x, before, initial, A, B, w0, unmerged, merged, w1 };
    });
    expect(got.initial).toEqual(got.before);
    const [A, B, xr] = [ref.ref([2, 6], got.A), ref.ref([4, 2], got.B), ref.ref([3, 6], got.x)];
    const update = ref.mul(ref.matmul(ref.matmul(xr, ref.transpose(A, 0, 1)), ref.transpose(B, 0, 1)), ref.ref([], [3]));
    const [rtol, atol] = byPrecision([1e-12, 1e-12], [1e-5, 1e-5]);
    expectClose(got.unmerged, ref.add(ref.ref([3, 4], got.before), update).data, rtol, atol, 'LoRA forward');
    // merge folds the update into W (same outputs); unmerge restores W exactly enough.
    expectClose(got.merged, got.unmerged, rtol, atol, 'merged forward');
    const [wr, wa] = byPrecision([1e-12, 1e-15], [1e-6, 1e-6]);
    expectClose(got.w1, got.w0, wr, wa, 'unmerged weight');
  });

  it('applyLoRA wraps targets by name, freezes the rest (but alsoTrain), and gradients reach only trainable tensors', () =>
    scope(() => {
      const net = new Net();
      const wrapped = applyLoRA(net, { targets: ['q', 'k'], rank: 2, alsoTrain: ['head'] });
      expect([...wrapped.keys()]).toEqual(['q', 'k']);
      const trainable = [...net.namedParameters()].filter(([, p]) => p.requiresGrad).map(([n]) => n);
      expect(trainable).toEqual(['q.lora_A.weight', 'q.lora_B.weight', 'k.lora_A.weight', 'k.lora_B.weight', 'head.weight', 'head.bias']);
      expect(net.numParameters(true)).toBe(2 * 2 * (6 + 4) + 10);
      const x = toTensor(ref.ref([2, 6], [1, 2, 3, 4, 5, 6, 6, 5, 4, 3, 2, 1]), floatDtype());
      net.head.forward((net.q as unknown as LoRALinear).forward(x).add((net.k as unknown as LoRALinear).forward(x))).sum().backward();
      for (const [name, p] of net.namedParameters()) expect(p.grad !== null, name).toBe(p.requiresGrad);
      net.dispose();
    }));

  it('on GPT-2, targets the Conv1D c_attn layers (weights stored [in, out]) without changing the output', async () => {
    const got = await read(() => {
      const model = GPT2LMHeadModel.fromPretrained(join(__dirname, '..', 'golden', 'gpt2-tiny')).eval();
      const ids = tensor([[1, 2, 3, 4, 5]], { dtype: 'int32' });
      const before = model.forward(ids).logits;
      const wrapped = applyLoRA(model, { targets: ['c_attn'], rank: 4, alpha: 8 });
      expect([...wrapped.keys()]).toEqual(['transformer.h.0.attn.c_attn', 'transformer.h.1.attn.c_attn']);
      expect(Object.keys(model.stateDict())).toContain('transformer.h.0.attn.c_attn.lora_A.weight');
      const wrappedOut = model.forward(ids).logits;
      const lora = wrapped.get('transformer.h.0.attn.c_attn')!;
      noGrad(() => lora.lora_B.weight.fill_(0.01));
      const adapted = model.forward(ids).logits;
      lora.merge();
      const merged = model.forward(ids).logits;
      model.dispose();
      return { before, wrappedOut, adapted, merged };
    });
    expect(got.wrappedOut).toEqual(got.before);
    expectClose(got.merged, got.adapted, 1e-5, 1e-5, 'merged GPT-2 logits');
  });

  it('on LLaMA, targets q_proj and v_proj by name; the adapters are all that train', async () => {
    const got = await read(() => {
      const model = LlamaForCausalLM.fromPretrained(join(__dirname, '..', 'golden', 'llama-tiny'));
      const ids = tensor([[1, 2, 3, 4, 5, 6]], { dtype: 'int32' });
      const before = model.forward(ids).logits;
      const wrapped = applyLoRA(model, { targets: ['q_proj', 'v_proj'], rank: 2 });
      expect(wrapped.size).toBe(4);
      const after = model.forward(ids).logits;
      model.forward(ids, { labels: ids }).loss!.backward();
      for (const [name, p] of model.namedParameters()) expect(p.grad !== null, name).toBe(name.includes('lora_'));
      model.dispose();
      return { before, after };
    });
    expect(got.after).toEqual(got.before);
  });
});
