import { SIFT } from '@siftjs/sift-optimizer';
import { manualSeed } from '@siftjs/tensor';
import { fc, test } from '@fast-check/vitest';
import { beforeAll, describe, expect } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { expectClose } from '../support/close.js';
import { values } from '../support/read.js';
import { lossOf, Net } from './net.js';
import { ascending, lcg, netGradient, randomRows, topkBySort } from './reference.js';
import { weightsOf } from './weights.js';

/**
 * Re-selection's two halves, state by state (the float64 oracle checks whole runs in steps.test.ts and
 * architectures.test.ts): the first pass after it falls due nominates, later passes add to the nominees' gradient,
 * and step() swaps — the smallest |δ| return to their base values, the nominees start with AdamW's first step.
 */
describe.each(backendsUnderTest())('SIFT re-selection on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop([fc.integer({ min: 0, max: 10_000 }), fc.constantFrom(0.25, 0.5)], { numRuns: backend.name === 'webgpu' ? 3 : 10 })(
    'nominates the largest |G| outside the chosen on the first pass, sums their gradient over the passes, and swaps at step()',
    async (seed, fraction) => {
      const [lr, b1, b2, eps] = [0.05, 0.9, 0.999, 1e-8];
      manualSeed(seed);
      const net = new Net();
      const w0 = await weightsOf(net);
      const sift = new SIFT(net, { density: 0.3, targets: ['a'], lr, reselect: { every: 2, fraction } });
      const next = lcg(seed);
      for (let t = 0; t < 2; t++) {
        lossOf(net, randomRows(next, 3)).backward();
        sift.step();
        sift.zeroGrad();
      }
      const sp = sift.sparse[0];
      const idx = await values(sp.indices!);
      const delta = await values(sp.delta!);
      const k = idx.length;
      const r = Math.round(fraction * k);
      expect(sp.reselection.pending, 'due after step 2').toBe(r);

      const w = await weightsOf(net);
      const passes = [randomRows(next, 3), randomRows(next, 2)];
      const G = passes.map((rows) => netGradient(w, rows)['a.weight']);
      lossOf(net, passes[0]).backward();
      const unchosen = [...G[0].keys()].filter((i) => !idx.includes(i));
      const nominees = unchosen.sort((i, j) => Math.abs(G[0][j]) - Math.abs(G[0][i]) || i - j).slice(0, r);
      expect(await values(sp.reselection.nominees!), 'nominees: top r |G| of the first pass outside the chosen').toEqual(nominees);
      expect(await values(sp.indices!), 'the chosen stay until step()').toEqual(idx);
      lossOf(net, passes[1]).backward();
      expect(await values(sp.reselection.nominees!), 'later passes do not nominate again').toEqual(nominees);
      const g = nominees.map((i) => G[0][i] + G[1][i]);
      expectClose(await values(sp.reselection.nomineeGrad!), g, 1e-5, 1e-6, 'the nominees’ gradient, summed over the passes');

      sift.step();
      // Kept: the k − r largest |δ| (equal |δ|: the earlier in the chosen order stays), then the nominees.
      const kept = topkBySort(delta, k - r).map((p) => idx[p]);
      const after = await values(sp.indices!);
      expect(ascending(after.slice(0, k - r)), 'kept').toEqual(ascending(kept));
      expect(after.slice(k - r), 'the nominees take the last places').toEqual(nominees);
      expect(await values(sp.steps!), 'step counts: the kept have 3, the nominees their first').toEqual([...kept.map(() => 3), ...nominees.map(() => 1)]);
      const m = (await values(sp.m)).slice(k - r);
      const v = (await values(sp.v)).slice(k - r);
      const d = (await values(sp.delta!)).slice(k - r);
      expectClose(m, g.map((x) => (1 - b1) * x), 1e-5, 1e-9, 'nominees: first moment from zero');
      expectClose(v, g.map((x) => (1 - b2) * x * x), 1e-5, 1e-12, 'nominees: second moment from zero');
      expectClose(d, g.map((x) => -lr * x / (Math.abs(x) + eps)), 1e-5, 1e-9, 'nominees: δ after AdamW’s first step');
      const wNow = await weightsOf(net);
      for (const i of idx.filter((i) => !kept.includes(i))) expect(wNow['a.weight'][i], `dropped a[${i}] returns to its base value`).toBe(w0['a.weight'][i]);
      for (let i = 0; i < 20; i++) if (!after.includes(i)) expect(wNow['a.weight'][i], `a[${i}] is not chosen`).toBe(w0['a.weight'][i]);
      expect(sift.trainableCount()).toBe(k);
      sift.dispose();
      net.dispose();
    },
  );
});
