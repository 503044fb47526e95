import { Embedding, LayerNorm, Linear, Module, parameter, RMSNorm } from '@siftjs/nn';
import { DTypeNotImplementedError, full, manualSeed, noGrad, tensor, type Tensor, withDefaultDtype } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { roundHalf } from '../support/half.js';
import { read } from '../support/read.js';

/** Module.to(dtype) (torch's module.to(torch.bfloat16)) and the layers' float32 arithmetic on half weights. */

class Toy extends Module {
  emb = new Embedding(6, 4);
  ln = new LayerNorm(4);
  rms = new RMSNorm(4);
  proj = new Linear(4, 3);
  head: Linear;
  frozen: Tensor;
  constructor() {
    super();
    this.head = new Linear(4, 6, { bias: false });
    this.head.weight.dispose();
    (this.head as unknown as { weight: Tensor }).weight = this.emb.weight; // tied, as GPT-2's lm_head
    this.frozen = parameter(full([2], 0.1), false);
    this.registerBuffer('steps', tensor([3, 4], { dtype: 'int32' }));
    this.registerBuffer('mask', tensor([true, false]));
    this.registerBuffer('scale', full([2], 1 / 3), false);
  }
}


describe.each(backendsUnderTest().filter((b) => b.half))('Module.to on $name', (backend) => {
  beforeAll(() => backend.start());

  it.each(['bfloat16', 'float16'] as const)('to(%s) casts floating parameters and buffers (persistent or not), keeps int and bool ones, ties and requiresGrad', async (dtype) => {
    manualSeed(1);
    const m = new Toy();
    const before = await read(() => ({ emb: m.emb.weight, scale: (m as unknown as { scale: Tensor }).scale }));
    m.to(dtype);
    const self = m as unknown as Record<string, Tensor>;
    expect(m.head.weight).toBe(m.emb.weight);
    expect([m.emb.weight.dtype, m.ln.weight!.dtype, m.rms.weight.dtype, m.proj.bias!.dtype, m.frozen.dtype, self.scale.dtype]).toEqual(Array(6).fill(dtype));
    expect([self.steps.dtype, self.mask.dtype]).toEqual(['int32', 'bool']);
    expect([m.emb.weight.requiresGrad, m.frozen.requiresGrad]).toEqual([true, false]);
    expect(m.parameters()).toContain(m.emb.weight);
    const after = await read(() => ({ emb: m.emb.weight, scale: self.scale }));
    expect(after.emb).toEqual(before.emb.map((v) => roundHalf(v, dtype)));
    expect(after.scale).toEqual(before.scale.map((v) => roundHalf(v, dtype)));
    m.dispose();
  });

  it('layers with half weights take float32 input to float32 output, equal to the float32 layer on the widened weights; gradients reach the half weights in their dtype', async () => {
    manualSeed(2);
    const half = withDefaultDtype('bfloat16', () => new Toy());
    const wide = new Toy().to('float32');
    noGrad(() => {
      for (const [name, t] of Object.entries(wide.stateDict())) t.copy_(half.stateDict()[name]);
    });
    const run = (m: Toy) => {
      const x = m.emb.forward(tensor([[1, 5, 2]], { dtype: 'int32' }));
      return m.proj.forward(m.rms.forward(m.ln.forward(x)));
    };
    const [h, w] = await read(() => {
      const a = run(half);
      const b = run(wide);
      expect([a.dtype, b.dtype]).toEqual(['float32', 'float32']);
      a.sum().backward();
      b.sum().backward();
      return [a, b];
    });
    expect(h).toEqual(w);
    expect(half.ln.weight!.grad!.dtype).toBe('bfloat16');
    expect(half.proj.weight.grad!.dtype).toBe('bfloat16');
    const [gh, gw] = await read(() => [half.proj.weight.grad!, wide.proj.weight.grad!]);
    expect(gh).toEqual(gw.map((v) => roundHalf(v, 'bfloat16')));
    half.dispose();
    wide.dispose();
  });
});

describe.each(backendsUnderTest().filter((b) => !b.half))('Module.to on $name (no half storage there yet)', (backend) => {
  beforeAll(() => backend.start());

  it('to(bfloat16) is refused with a DTypeNotImplementedError; to(float32) of a float32 module changes nothing', () => {
    const m = new Linear(2, 2);
    const w = m.weight;
    expect(m.to('float32').weight).toBe(w);
    expect(() => m.to('bfloat16')).toThrow(DTypeNotImplementedError);
    m.dispose();
  });
});
