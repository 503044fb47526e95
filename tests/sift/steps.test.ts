import { LRScheduler } from '@siftjs/nn';
import { type GroupOptions, SIFT, type SIFTOptions } from '@siftjs/sift-optimizer';
import { manualSeed } from '@siftjs/tensor';
import { fc, test } from '@fast-check/vitest';
import { beforeAll, describe, expect } from 'vitest';
import { backendsUnderTest, floatDtypes } from '../support/backends.js';
import { expectClose } from '../support/close.js';
import { values } from '../support/read.js';
import { lossOf, Net } from './net.js';
import { type OracleSelection, siftOracle } from './oracle.js';
import { ascending, lcg, NET_SHAPES, netGradient, randomRows } from './reference.js';
import { castParameters, weightsOf } from './weights.js';

/** The lr multiplier after `s` steps: a warm-up then a decay (written here, not the library's). */
const schedule = (s: number) => (s < 2 ? (s + 1) / 2 : 2 / (s + 1));

/**
 * SIFT on a small network whose gradient is written out by hand (reference.ts): nothing of the library's autograd in
 * the reference, and fast enough to explore many runs. The real architectures are in architectures.test.ts.
 */
describe.each(backendsUnderTest())('SIFT steps on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop(
    {
      seed: fc.integer({ min: 0, max: 1_000_000 }),
      dtype: fc.constantFrom(...floatDtypes(backend)),
      density: fc.constantFrom(0.1, 0.25, 0.5),
      // 'b' makes the bias a sparse target too (1-D, k = ⌈x·3⌉); otherwise it is the dense head.
      targets: fc.constantFrom<string[]>(['a', 'b'], ['a', 'b.weight']),
      selection: fc.constantFrom<SIFTOptions['selection']>('first-batch', { accumulate: 2 }, { accumulate: 3 }, { fisher: 2 }, 'weight-magnitude', 'random'),
      micro: fc.integer({ min: 1, max: 3 }),
      reselect: fc.constantFrom(undefined, { every: 1, fraction: 0.5 }, { every: 2, fraction: 0.34 }),
      maxGradNorm: fc.constantFrom(undefined, 0.5),
      schedule: fc.boolean(),
      weightDecay: fc.constantFrom(0, 0.1),
      group: fc.constantFrom<GroupOptions | undefined>(undefined, { params: ['b'], lr: 0.1, weightDecay: 0.5 }, { params: ['a.weight'], weightDecay: 0.2 }),
    },
    { numRuns: backend.name === 'webgpu' ? 6 : 30 },
  )('n steps equal the float64 oracle; every weight not chosen is bitwise unchanged', async (p) => {
    manualSeed(p.seed);
    const net = new Net();
    if (p.dtype === 'float64') castParameters(net, 'float64');
    const w0 = await weightsOf(net);
    const next = lcg(p.seed);
    const steps = Array.from({ length: 6 }, () => Array.from({ length: p.micro }, () => randomRows(next, 3)));
    const dense = p.targets.includes('b') ? [] : ['b.bias'];
    const opts = { density: p.density, targets: p.targets, dense, lr: 0.05, weightDecay: p.weightDecay, maxGradNorm: p.maxGradNorm, reselect: p.reselect, groups: p.group ? [p.group] : undefined };
    const sift = new SIFT(net, { ...opts, selection: p.selection });
    const given: Record<string, number[]> = {};
    if (p.selection === 'random') for (const s of sift.sparse) given[s.name] = await values(s.indices!);
    const scheduler = p.schedule ? new LRScheduler(sift, schedule) : null;
    const chosenAfter: Record<string, number[] | null>[] = [];
    for (const micro of steps) {
      for (const rows of micro) lossOf(net, rows).backward();
      sift.step();
      scheduler?.step();
      sift.zeroGrad();
      chosenAfter.push(Object.fromEntries(await Promise.all(sift.sparse.map(async (s) => [s.name, s.indices ? await values(s.indices) : null] as const))));
    }
    const oracle = siftOracle(w0, steps, netGradient, {
      ...opts,
      shapes: NET_SHAPES,
      selection: p.selection === 'random' ? { given } : (p.selection as OracleSelection),
      betas: [0.9, 0.999],
      eps: 1e-8,
      schedule: p.schedule ? schedule : undefined,
      follow: { resolution: p.dtype === 'float64' ? 1e-12 : 1e-5, chosenAfter: (t, name) => chosenAfter[t][name] },
    });
    const got = await weightsOf(net);
    const [rtol, atol] = p.dtype === 'float64' ? [1e-10, 1e-13] : [2e-5, 2e-6];
    for (const s of sift.sparse) {
      const want = oracle.sparse[s.name];
      const idx = s.indices ? await values(s.indices) : [];
      expect(ascending(idx), `${s.name}: chosen components`).toEqual(ascending(want.indices ?? []));
      const deltaAt = new Map<number, number>();
      if (s.delta) (await values(s.delta)).forEach((d, j) => deltaAt.set(idx[j], d));
      expectClose((want.indices ?? []).map((i) => deltaAt.get(i) as number), want.delta, rtol, atol, `${s.name}: increments δ`);
      const chosen = new Set(idx);
      const moved = [...got[s.name].keys()].filter((i) => !chosen.has(i) && !Object.is(got[s.name][i], w0[s.name][i]));
      expect(moved, `${s.name}: components not chosen (dropped ones included) are bitwise unchanged`).toEqual([]);
    }
    for (const name of Object.keys(NET_SHAPES)) expectClose(got[name], oracle.weights[name], rtol, atol, `${name}: weights`);
    sift.dispose();
    net.dispose();
  });
});
