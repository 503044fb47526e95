/**
 * SIFT's dense side and its state dict at the edges: the dense parameters follow PyTorch's AdamW with the betas and
 * eps given (tests/sift/reference.ts, float64), frozen parameters get no gradient at all, clipping copes with a dense
 * parameter the loss does not reach, a tensor chosen before training is not stepped without a gradient, and a state
 * dict without dense parts, without pending gradients or with other group hyper-parameters restores what it holds.
 */
import { SIFT } from '@siftjs/sift-optimizer';
import { manualSeed } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { expectClose } from '../support/close.js';
import { lossOf, Net, weightsOf } from './net.js';
import { lcg, randomRows, referenceDense } from './reference.js';

describe.each(backendsUnderTest())('SIFT dense parameters and state dicts on $name', (backend) => {
  beforeAll(() => backend.start());

  it('dense parameters take AdamW steps with the betas and eps given (float64 reference)', async () => {
    manualSeed(4);
    const net = new Net();
    const w0 = await weightsOf(net);
    const opts = { betas: [0.5, 0.75] as [number, number], eps: 0.05, lr: 0.1 };
    const sift = new SIFT(net, { density: 0.5, targets: [], dense: ['a', 'b'], weightDecay: 0, ...opts });
    const next = lcg(9);
    const steps = [randomRows(next, 2), randomRows(next, 2), randomRows(next, 2)];
    for (const rows of steps) {
      lossOf(net, rows).backward();
      sift.step();
      sift.zeroGrad();
    }
    const want = referenceDense(w0, steps, ['a', 'b', 'c'], { lr: () => 0.1, betas: opts.betas, eps: opts.eps, weightDecay: 0 });
    const got = await weightsOf(net);
    for (const key of ['a', 'b', 'c'] as const) expectClose(got[key], want[key], 1e-5, 1e-6, key);
    sift.dispose();
    net.dispose();
  });

  it('a frozen parameter neither requires nor receives a gradient', () => {
    manualSeed(5);
    const net = new Net();
    const sift = new SIFT(net, { density: 0.5, targets: ['a'] });
    expect(net.b.weight.requiresGrad).toBe(false);
    expect(net.b.bias!.requiresGrad).toBe(false);
    lossOf(net, randomRows(lcg(1), 2)).backward();
    expect(net.b.weight.grad).toBeNull();
    expect(net.b.bias!.grad).toBeNull();
    sift.dispose();
    net.dispose();
  });

  it('clipping with a dense parameter that received no gradient steps without error', async () => {
    manualSeed(6);
    const net = new Net();
    const sift = new SIFT(net, { density: 0.5, targets: ['a'], dense: ['b.bias'], maxGradNorm: 0.1, lr: 0.01 });
    // A loss that does not reach b: only a's weight gets a gradient.
    const loss = net.a.forward(net.a.weight.detach().reshape([4, 5]).narrow(0, 0, 1)).square().sum();
    loss.backward();
    loss.dispose();
    expect(net.b.bias!.grad).toBeNull();
    expect(() => sift.step()).not.toThrow();
    sift.dispose();
    net.dispose();
  });

  it("a tensor chosen before training ('weight-magnitude') takes no step until it receives a gradient", () => {
    manualSeed(7);
    const net = new Net();
    const sift = new SIFT(net, { density: 0.5, targets: ['a'], selection: 'weight-magnitude', weightDecay: 0.5 });
    sift.step();
    sift.step();
    expect(sift.stateDict().sparse['a.weight'].step).toBe(0);
    expect(sift.stateDict().sparse['a.weight'].received).toBe(false);
    lossOf(net, randomRows(lcg(2), 2)).backward();
    sift.step();
    expect(sift.stateDict().sparse['a.weight'].step).toBe(1);
    sift.dispose();
    net.dispose();
  });

  it('a re-selection swaps min(round(f·k), k − 1, n − k) components: n − k bounds it when k is most of the tensor', () => {
    manualSeed(10);
    const net = new Net();
    // a: n = 20, density 0.8 → k = 16; f = 0.5 → round(8) = 8, k − 1 = 15, n − k = 4: four components swap.
    const sift = new SIFT(net, { density: 0.8, targets: ['a'], reselect: { every: 1, fraction: 0.5 } });
    const next = lcg(4);
    lossOf(net, randomRows(next, 2)).backward();
    sift.step();
    sift.zeroGrad();
    expect(sift.stateDict().sparse['a.weight'].reselect).toBe(4);
    lossOf(net, randomRows(next, 2)).backward();
    expect(sift.stateDict().sparse['a.weight'].tensors.nominees.size).toBe(4);
    sift.dispose();
    net.dispose();
  });

  it('state dicts: no dense optimizer without dense parameters; none loaded over a fresh one; no pending gradients; group hyper-parameters restored', async () => {
    manualSeed(8);
    const sparseOnly = new Net();
    const s1 = new SIFT(sparseOnly, { density: 0.5, targets: ['a', 'b'] });
    const sd1 = s1.stateDict();
    expect(sd1.denseOptimizer).toBeNull();
    expect(sd1.groups).toEqual([{ lr: 1e-4, weightDecay: 0 }]);
    expect(() => s1.loadStateDict({ ...sd1, denseOptimizer: { paramGroups: [], state: {} } })).not.toThrow();
    s1.dispose();
    sparseOnly.dispose();

    manualSeed(9);
    const net = new Net();
    const sift = new SIFT(net, { density: 0.5, targets: ['a'], dense: ['b'], lr: 0.01, weightDecay: 0.1 });
    const next = lcg(3);
    lossOf(net, randomRows(next, 2)).backward();
    sift.step();
    sift.zeroGrad();
    const sd = sift.stateDict();
    expect(sd.groups).toEqual([
      { lr: 0.01, weightDecay: 0 },
      { lr: 0.01, weightDecay: 0.1 },
      { lr: 0.01, weightDecay: 0 },
    ]);
    manualSeed(9);
    const net2 = new Net();
    const fresh = new SIFT(net2, { density: 0.5, targets: ['a'], dense: ['b'], lr: 0.01, weightDecay: 0.1 });
    // An older state dict without denseGrads, with no dense optimizer state, and other group settings.
    const { denseGrads: _, ...older } = sd;
    fresh.loadStateDict({ ...older, denseOptimizer: null, groups: [{ lr: 0.5, weightDecay: 0.25 }, { lr: 0.25, weightDecay: 0.5 }, { lr: 0.125, weightDecay: 0 }] } as typeof sd);
    expect(fresh.paramGroups.map((g) => [g.lr, g.weightDecay])).toEqual([[0.5, 0.25], [0.25, 0.5], [0.125, 0]]);
    expect(fresh.lr).toBe(0.5);
    expect(fresh.steps).toBe(1);
    expect(net2.b.weight.grad).toBeNull();
    expect(Array.from(await net2.b.weight.toArray())).toEqual(Array.from(await net.b.weight.toArray()));
    for (const s of [sift, fresh]) s.dispose();
    for (const m of [net, net2]) m.dispose();
  });
});
