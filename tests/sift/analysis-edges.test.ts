/**
 * The edges of the gradient measures (analyzeGradients, SelectionStability) and of the dense baselines, against
 * plain float64 arithmetic on gradients the test sets itself (the loss Σ p ⊙ C has gradient C exactly): what is
 * refused, which tensors are measured by default (matrices), that gradients left over from before the analysis and
 * frozen parameters change nothing, and that every parameter is left as it was found.
 */
import { analyzeGradients, bitFit, createFineTuner, DenseFineTuner, fullFineTune, lora, loraParamsPerRank, SelectionStability } from '@siftjs/sift-optimizer';
import { Linear, Module, parameter } from '@siftjs/nn';
import { noGrad, scope, type Tensor, tensor, zeros } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';

/** A matrix m [2, 3] and a vector v [3]. */
class Two extends Module {
  m = parameter(zeros([2, 3]));
  v = parameter(zeros([3]));
}

const CM = [3, -4, 0, 0, 1, 0];
const CV = [10, 0, 0];

function loss(model: Module, scaleM = 1): Tensor {
  const t = model as Two;
  return scope(() => t.m.mul(tensor(CM.map((c) => c * scaleM), { shape: [2, 3] })).sum().add(t.v.mul(tensor(CV)).sum()));
}

/** Σ of the k largest squares over Σ squares, in float64. */
function share(c: number[], k: number): number {
  const sq = c.map((x) => x * x).sort((a, b) => b - a);
  const total = sq.reduce((a, b) => a + b, 0);
  return sq.slice(0, k).reduce((a, b) => a + b, 0) / total;
}

describe.each(backendsUnderTest())('gradient measures and dense baselines at their edges on $name', (backend) => {
  beforeAll(() => backend.start());

  it('analyzeGradients refuses fractions outside (0, 1] and an empty batch list, naming them', async () => {
    const model = new Two();
    const opts = (fractions: number[]) => ({ fractions, loss: (m: Module) => loss(m) });
    for (const x of [0, -0.5, 1.5, Number.NaN]) await expect(analyzeGradients(model, [1], opts([0.5, x]))).rejects.toThrow(new RangeError(`analyzeGradients: fractions must be in (0, 1], got ${x}`));
    await expect(analyzeGradients(model, [], opts([0.5]))).rejects.toThrow(new Error('analyzeGradients: no batches'));
    const all = await analyzeGradients(model, [1], opts([1, 1e-9]));
    expect(all[0].shares).toEqual({ '1': 1, '1e-9': share(CM, 1) });
    model.dispose();
  });

  it('analyzeGradients measures matrices by default, frozen ones too, ignores gradients from before, and restores every parameter', async () => {
    const model = new Two();
    model.v.requiresGrad = false;
    // A gradient left from an earlier backward must not be added in.
    loss(model, 100).backward();
    const report = await analyzeGradients(model, [1, 2], { fractions: [1 / 6], loss: (m) => loss(m) });
    expect(report.map((r) => r.name)).toEqual(['m']);
    // Two batches: the summed gradient is 2·C.
    expect(report[0].norm).toBeCloseTo(2 * Math.hypot(...CM), 10);
    expect(report[0].shares['0.16666666666666666']).toBeCloseTo(share(CM, 1), 12);
    expect(model.m.grad).toBeNull();
    expect(model.v.grad).toBeNull();
    expect(model.m.requiresGrad).toBe(true);
    expect(model.v.requiresGrad).toBe(false);
    const withV = await analyzeGradients(model, [1], { fractions: [1 / 3], loss: (m) => loss(m), include: () => true });
    expect(withV.map((r) => [r.name, r.norm])).toEqual([['m', Math.hypot(...CM)], ['v', 10]]);
    expect(model.v.requiresGrad).toBe(false);
    model.dispose();
  });

  it('SelectionStability tracks matrices by default, starts at step 0, and disposes with a tensor that never had a gradient', async () => {
    const model = new Two();
    const tracker = new SelectionStability(model, 1 / 6);
    loss(model).backward();
    const p = await tracker.observe();
    // Only m: its top-1 of [3, -4, 0, 0, 1, 0] is the 4, a share 16/26 of the squared norm, for the first and own sets.
    expect(p).toEqual({ step: 0, firstBatchShare: 16 / 26, ownShare: 16 / 26, firstBatchNormRatio: Math.sqrt(16 / 26), ownNormRatio: Math.sqrt(16 / 26) });
    tracker.dispose();
    // A tracker over both, where v never gets a gradient: its indices are never fixed, and dispose must not fail.
    const both = new SelectionStability(model, 0.5, () => true);
    model.m.grad?.dispose();
    model.m.grad = null;
    model.v.requiresGrad = false;
    loss(model).backward();
    expect((await both.observe()).step).toBe(0);
    expect(() => both.dispose()).not.toThrow();
    model.dispose();
  });

  it('dense baselines: nothing trainable is an error; BitFit trains exactly the parameters named bias (and the head)', () => {
    class Net extends Module {
      a = new Linear(3, 2);
      head = new Linear(2, 2, { bias: false });
      nobias = parameter(zeros([2]));
      bias = parameter(zeros([2]));
    }
    const net = new Net();
    expect(() => new DenseFineTuner('none', net, () => false)).toThrow(new Error('none: no parameter of the model is trainable'));
    const bf = bitFit(net, {});
    expect(bf.trainable.map((t) => t.name).sort()).toEqual(['a.bias', 'bias']);
    expect(bf.describe()).toEqual({ method: 'bitfit', trainable: JSON.stringify(bf.trainable.map((t) => t.name)) });
    expect(JSON.parse(bf.describe().trainable).sort()).toEqual(['a.bias', 'bias']);
    expect(bf.optimizer.paramGroups[0]).toMatchObject({ lr: 1e-4, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 });
    bf.dispose();
    const withHead = bitFit(net, { dense: ['head'], lr: 0.5 });
    expect(withHead.trainable.map((t) => t.name).sort()).toEqual(['a.bias', 'bias', 'head.weight']);
    expect(withHead.paramGroups[0].lr).toBe(0.5);
    withHead.dispose();
    // Frozen ones are frozen: no gradient is computed for them.
    expect(net.a.weight.requiresGrad).toBe(false);
    expect(net.nobias.requiresGrad).toBe(false);
    net.dispose();
  });

  it("a dense baseline's optimizer state loads into another: the next step is the same", async () => {
    class Net extends Module {
      a = new Linear(3, 2);
    }
    const step = (net: Net) => {
      const l = net.a.forward(tensor([[1, -2, 0.5]])).square().sum();
      l.backward();
      l.dispose();
    };
    const [one, two] = [new Net(), new Net()];
    const [t1, t2] = [fullFineTune(one, { lr: 0.1 }), fullFineTune(two, { lr: 0.1 })];
    const copyWeights = () => noGrad(() => one.parameters().forEach((p, i) => two.parameters()[i].copy_(p)));
    copyWeights();
    step(one);
    t1.step();
    t1.zeroGrad();
    copyWeights();
    t2.loadStateDict(t1.stateDict());
    for (const [net, t] of [[one, t1], [two, t2]] as const) {
      step(net);
      t.step();
    }
    expect(Array.from(await two.a.weight.toArray())).toEqual(Array.from(await one.a.weight.toArray()));
    for (const t of [t1, t2]) t.dispose();
    for (const m of [one, two]) m.dispose();
  });

  it('LoRA: alpha defaults to the rank; the adapters are returned; a dense head trains beside them', () => {
    class Net extends Module {
      q = new Linear(4, 4);
      head = new Linear(4, 2);
    }
    const net = new Net();
    const tuner = lora(net, { rank: 2, targets: ['q'], dense: ['head'] });
    expect(tuner.method).toBe('lora');
    expect([...tuner.adapters.keys()]).toEqual(['q']);
    expect(tuner.adapters.get('q')!.scaling).toBe(1);
    expect(tuner.trainable.map((t) => t.name).sort()).toEqual(['head.bias', 'head.weight', 'q.lora_A.weight', 'q.lora_B.weight']);
    expect(tuner.stateDict().paramGroups[0]).toMatchObject({ lr: 1e-4 });
    tuner.dispose();
    net.dispose();
    const net2 = new Net();
    expect(() => createFineTuner(net2, { method: 'lora', loraRank: 4 })).toThrow(new Error("method 'lora' needs targets"));
    expect(() => loraParamsPerRank(net2, ['k', 'v'])).toThrow(new Error('LoRA: no 2-D layer matches the targets k, v'));
    const t2 = createFineTuner(net2, { method: 'lora', loraRank: 4, loraAlpha: 2, targets: ['q'] }) as ReturnType<typeof lora>;
    expect(t2.adapters.get('q')!.scaling).toBe(0.5);
    t2.dispose();
    net2.dispose();
  });
});
