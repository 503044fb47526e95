import { applyLoRA, Linear, LoRALinear, Module } from '@siftjs/nn';
import { GPT2LMHeadModel, LlamaForCausalLM } from '@siftjs/models';
import { manualSeed, noGrad, randn, scope } from '@siftjs/tensor';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ref from '../reference/index.js';
import { backendsUnderTest } from '../support/backends.js';
import { expectClose } from '../support/close.js';
import { toRefSync, toTensor } from '../support/gradcheck.js';

class Net extends Module {
  q = new Linear(6, 4, { dtype: 'float64' });
  k = new Linear(6, 4, { dtype: 'float64' });
  head = new Linear(4, 2, { dtype: 'float64' });
}

describe.each(backendsUnderTest())('LoRA on $name', (backend) => {
  beforeAll(() => backend.start());

  it('starts as the base layer, then adds (alpha/r)·x·Aᵀ·Bᵀ', () =>
    scope(() => {
      manualSeed(7);
      const base = new Linear(6, 4, { dtype: 'float64' });
      const x = randn([3, 6], { dtype: 'float64' });
      const before = Array.from(base.forward(x).toArraySync());
      const lora = new LoRALinear(base, { rank: 2, alpha: 6 });
      expect(Array.from(lora.forward(x).toArraySync())).toEqual(before);
      noGrad(() => lora.lora_B.weight.copy_(randn([4, 2], { dtype: 'float64' })));
      const [A, B, xr] = [toRefSync(lora.lora_A.weight), toRefSync(lora.lora_B.weight), toRefSync(x)];
      const update = ref.mul(ref.matmul(ref.matmul(xr, ref.transpose(A, 0, 1)), ref.transpose(B, 0, 1)), ref.ref([], [3]));
      expectClose(lora.forward(x).toArraySync(), ref.add(ref.ref([3, 4], before), update).data, 1e-12, 1e-12, 'LoRA forward');
      // merge folds the update into W (same outputs); unmerge restores W exactly enough.
      const w0 = Array.from(base.weight.toArraySync());
      const unmerged = Array.from(lora.forward(x).toArraySync());
      lora.merge();
      expectClose(lora.forward(x).toArraySync(), unmerged, 1e-12, 1e-12, 'merged forward');
      lora.unmerge();
      expectClose(base.weight.toArraySync(), w0, 1e-12, 1e-15, 'unmerged weight');
      lora.dispose();
    }));

  it('applyLoRA wraps targets by name, freezes the rest (but alsoTrain), and gradients reach only trainable tensors', () =>
    scope(() => {
      const net = new Net();
      const wrapped = applyLoRA(net, { targets: ['q', 'k'], rank: 2, alsoTrain: ['head'] });
      expect([...wrapped.keys()]).toEqual(['q', 'k']);
      const trainable = [...net.namedParameters()].filter(([, p]) => p.requiresGrad).map(([n]) => n);
      expect(trainable).toEqual(['q.lora_A.weight', 'q.lora_B.weight', 'k.lora_A.weight', 'k.lora_B.weight', 'head.weight', 'head.bias']);
      expect(net.numParameters(true)).toBe(2 * 2 * (6 + 4) + 10);
      const x = toTensor(ref.ref([2, 6], [1, 2, 3, 4, 5, 6, 6, 5, 4, 3, 2, 1]));
      net.head.forward((net.q as unknown as LoRALinear).forward(x).add((net.k as unknown as LoRALinear).forward(x))).sum().backward();
      for (const [name, p] of net.namedParameters()) expect(p.grad !== null, name).toBe(p.requiresGrad);
      net.dispose();
    }));

  it('on GPT-2, targets the Conv1D c_attn layers (weights stored [in, out]) without changing the output', () =>
    scope(() => {
      const model = GPT2LMHeadModel.fromPretrained(join(__dirname, '..', 'golden', 'gpt2-tiny')).eval();
      const ids = toTensor(ref.ref([1, 5], [1, 2, 3, 4, 5]), 'float64').cast('int32');
      const before = Array.from(model.forward(ids).logits.toArraySync());
      const wrapped = applyLoRA(model, { targets: ['c_attn'], rank: 4, alpha: 8 });
      expect([...wrapped.keys()]).toEqual(['transformer.h.0.attn.c_attn', 'transformer.h.1.attn.c_attn']);
      expect(Object.keys(model.stateDict())).toContain('transformer.h.0.attn.c_attn.lora_A.weight');
      expect(Array.from(model.forward(ids).logits.toArraySync())).toEqual(before);
      const lora = wrapped.get('transformer.h.0.attn.c_attn')!;
      noGrad(() => lora.lora_B.weight.fill_(0.01));
      const adapted = Array.from(model.forward(ids).logits.toArraySync());
      lora.merge();
      expectClose(model.forward(ids).logits.toArraySync(), adapted, 1e-5, 1e-5, 'merged GPT-2 logits');
      model.dispose();
    }));

  it('on LLaMA, targets q_proj and v_proj by name; the adapters are all that train', () =>
    scope(() => {
      const model = LlamaForCausalLM.fromPretrained(join(__dirname, '..', 'golden', 'llama-tiny'));
      const ids = toTensor(ref.ref([1, 6], [1, 2, 3, 4, 5, 6]), 'float64').cast('int32');
      const before = Array.from(model.forward(ids).logits.toArraySync());
      const wrapped = applyLoRA(model, { targets: ['q_proj', 'v_proj'], rank: 2 });
      expect(wrapped.size).toBe(4);
      expect(Array.from(model.forward(ids).logits.toArraySync())).toEqual(before);
      model.forward(ids, { labels: ids }).loss!.backward();
      for (const [name, p] of model.namedParameters()) expect(p.grad !== null, name).toBe(name.includes('lora_'));
      model.dispose();
    }));
});
