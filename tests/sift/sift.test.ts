import { Linear, Module } from '@siftjs/nn';
import { SIFT } from '@siftjs/sift-optimizer';
import { manualSeed, memoryStats, noGrad, scope, type Tensor, tensor } from '@siftjs/tensor';
import { fc, test } from '@fast-check/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { expectClose } from '../support/close.js';

class Two extends Module {
  a = new Linear(5, 4, { bias: false });
  b = new Linear(4, 3, { bias: false });
  forward(x: Tensor): Tensor {
    return scope(() => this.b.forward(this.a.forward(x).tanh()));
  }
}

const x = () => tensor([[1, -2, 0.5, 3, -1], [0.2, 0.1, -0.4, 1, 2]]);
const lossOf = (m: Two) => scope(() => m.forward(x()).square().sum());

/** Dense gradients of the same loss at given weights, computed on a separate copy of the model. */
function denseGrads(weights: Record<string, Float32Array>): Record<string, Float64Array> {
  const m = new Two();
  noGrad(() => {
    m.a.weight.copy_(tensor(weights.a, { shape: [4, 5] }));
    m.b.weight.copy_(tensor(weights.b, { shape: [3, 4] }));
  });
  lossOf(m).backward();
  const g = { a: Float64Array.from(m.a.weight.grad!.toArraySync()), b: Float64Array.from(m.b.weight.grad!.toArraySync()) };
  m.dispose();
  return g;
}

/** The reference: choose top-k |G| of the first gradient (ties: lower index), then AdamW on those entries only. */
function referenceSift(w0: Record<string, Float32Array>, density: number, steps: number, h: { lr: number; wd: number }) {
  const w = { a: Float32Array.from(w0.a), b: Float32Array.from(w0.b) };
  const state: Record<string, { idx: number[]; m: number[]; v: number[] }> = {};
  for (let t = 1; t <= steps; t++) {
    const g = denseGrads(w);
    for (const key of ['a', 'b'] as const) {
      if (!state[key]) {
        const k = Math.ceil(density * g[key].length);
        const idx = Array.from(g[key], (_, i) => i).sort((i, j) => Math.abs(g[key][j]) - Math.abs(g[key][i]) || i - j).slice(0, k);
        state[key] = { idx, m: idx.map(() => 0), v: idx.map(() => 0) };
      }
      const s = state[key];
      s.idx.forEach((at, j) => {
        const gi = g[key][at];
        s.m[j] = 0.9 * s.m[j] + 0.1 * gi;
        s.v[j] = 0.999 * s.v[j] + 0.001 * gi * gi;
        const p = w[key][at] * (1 - h.lr * h.wd);
        w[key][at] = p - ((h.lr / (1 - 0.9 ** t)) * s.m[j]) / (Math.sqrt(s.v[j]) / Math.sqrt(1 - 0.999 ** t) + 1e-8);
      });
    }
  }
  return { w, idx: { a: state.a.idx, b: state.b.idx } };
}

describe.each(backendsUnderTest())('SIFT on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop([fc.integer({ min: 0, max: 1000 }), fc.constantFrom(0.1, 0.25, 0.5), fc.constantFrom(0, 0.1)], { numRuns: 8 })(
    'steps equal AdamW restricted to the top-x% components of the first gradient, which itself trains (float64 reference)',
    (seed, density, wd) => {
      manualSeed(seed);
      const model = new Two();
      const w0 = { a: Float32Array.from(model.a.weight.toArraySync()), b: Float32Array.from(model.b.weight.toArraySync()) };
      const sift = new SIFT(model, { density, targets: ['a', 'b'], lr: 0.05, weightDecay: wd });
      for (let t = 0; t < 4; t++) {
        lossOf(model).backward();
        sift.step();
        sift.zeroGrad();
      }
      const expected = referenceSift(w0, density, 4, { lr: 0.05, wd });
      expect(Array.from(sift.sparse[0].indices!.toArraySync()).sort((p, q) => p - q)).toEqual([...expected.idx.a].sort((p, q) => p - q));
      expectClose(model.a.weight.toArraySync(), expected.w.a, 1e-4, 1e-5, 'layer a');
      expectClose(model.b.weight.toArraySync(), expected.w.b, 1e-4, 1e-5, 'layer b');
      sift.dispose();
      model.dispose();
    },
  );

  it('every targeted tensor moves on step 1, and the next forward already sees the update', () => {
    manualSeed(3);
    const model = new Two();
    const before = [model.a.weight, model.b.weight].map((w) => Array.from(w.toArraySync()));
    const sift = new SIFT(model, { density: 0.2, targets: ['a', 'b'], lr: 0.1 });
    const l0 = lossOf(model);
    l0.backward();
    sift.step();
    const after = [model.a.weight, model.b.weight].map((w) => Array.from(w.toArraySync()));
    after.forEach((w, i) => expect(w).not.toEqual(before[i]));
    const l1 = lossOf(model);
    expect(l1.itemSync()).not.toBe(l0.itemSync());
    for (const t of [l0, l1]) t.dispose();
    sift.dispose();
    model.dispose();
  });

  it('drops the dense gradient: no .grad on targeted weights, and its memory is freed during backward', () => {
    manualSeed(4);
    const model = new Two();
    const sift = new SIFT(model, { density: 0.1, targets: ['a', 'b'] });
    const base = memoryStats();
    const loss = lossOf(model);
    loss.backward();
    loss.dispose();
    expect(model.a.weight.grad).toBeNull();
    expect(model.b.weight.grad).toBeNull();
    // Only the selection state created on the first backward remains (indices + values per tensor).
    expect(memoryStats().liveTensors - base.liveTensors).toBe(4);
    expect(sift.memoryReport().peakTransientGradient).toBe(4 * 20);
    expect(sift.trainableCount()).toBe(2 + 2);
    sift.dispose();
    model.dispose();
  });

  it('an all-zero gradient selects and steps without error', () => {
    manualSeed(5);
    const model = new Two();
    const sift = new SIFT(model, { density: 0.25, targets: ['a'] });
    scope(() => model.forward(x()).mul(0).sum().backward());
    sift.step();
    expect(sift.sparse[0].indices!.size).toBe(5);
    expect(Array.from(sift.sparse[0].indices!.toArraySync())).toEqual([0, 1, 2, 3, 4]);
    sift.dispose();
    model.dispose();
  });
});
