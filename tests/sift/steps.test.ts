import { LRScheduler, linearWarmupLinearDecay } from '@siftjs/nn';
import { SIFT } from '@siftjs/sift-optimizer';
import { manualSeed } from '@siftjs/tensor';
import { fc, test } from '@fast-check/vitest';
import { beforeAll, describe, expect } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { expectClose } from '../support/close.js';
import { values } from '../support/read.js';
import { bitsOf, lossOf, Net, weightsOf } from './net.js';
import { lcg, randomRows, type RefSelection, referenceSift } from './reference.js';

const selections: RefSelection[] = ['first-batch', { accumulate: 2 }, { fisher: 3 }];

describe.each(backendsUnderTest())('SIFT steps on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop(
    {
      seed: fc.integer({ min: 0, max: 10_000 }),
      density: fc.constantFrom(0.1, 0.25, 0.5),
      weightDecay: fc.constantFrom(0, 0.1),
      maxGradNorm: fc.constantFrom(undefined, 0.5),
      micro: fc.integer({ min: 1, max: 2 }),
      selection: fc.constantFrom(...selections),
      schedule: fc.boolean(),
    },
    { numRuns: 14 },
  )('n steps equal AdamW on the chosen coordinates (float64 reference); every other weight is bitwise unchanged', async (p) => {
    manualSeed(p.seed);
    const net = new Net();
    const w0 = await weightsOf(net);
    const bits0 = await bitsOf(net);
    const next = lcg(p.seed);
    const steps = Array.from({ length: 5 }, () => Array.from({ length: p.micro }, () => randomRows(next, 3)));
    const baseLr = 0.05;
    const lambda = p.schedule ? linearWarmupLinearDecay(2, 6) : () => 1;
    const sift = new SIFT(net, {
      density: p.density,
      targets: ['a', 'b'],
      dense: ['b.bias'],
      selection: p.selection,
      lr: baseLr,
      weightDecay: p.weightDecay,
      maxGradNorm: p.maxGradNorm,
    });
    const sched = new LRScheduler(sift, lambda);
    for (const micro of steps) {
      for (const rows of micro) lossOf(net, rows).backward();
      sift.step();
      sched.step();
      sift.zeroGrad();
    }
    const ref = referenceSift(w0, steps, {
      density: p.density,
      selection: p.selection,
      lr: (t) => baseLr * lambda(t - 1),
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: p.weightDecay,
      maxGradNorm: p.maxGradNorm,
    });
    const got = await weightsOf(net);
    const bits = await bitsOf(net);
    for (const [key, name, sp] of [['a', 'a.weight', 0], ['b', 'b.weight', 1]] as const) {
      const idx = ref.idx[key];
      const indices = sift.sparse[sp].indices;
      expect(indices ? await values(indices) : [], `${key} indices`).toEqual(idx ?? []);
      const chosen = new Set(idx ?? []);
      expectClose(got[key], ref.w[key], 2e-4, 1e-5, `${key} weights`);
      bits[name].forEach((b, i) => {
        if (!chosen.has(i)) expect(b, `${name}[${i}] is not selected and must not change`).toBe(bits0[name][i]);
      });
    }
    expectClose(got.c, ref.w.c, 2e-4, 1e-5, 'dense head');
    sift.dispose();
    net.dispose();
  });
});
