import { SIFT } from '@siftjs/sift-optimizer';
import { manualSeed, type Tensor } from '@siftjs/tensor';
import { fc, test } from '@fast-check/vitest';
import { beforeAll, describe, expect } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { values } from '../support/read.js';
import { lossOf, Net, weightsOf } from './net.js';
import { lcg, netGrads, randomRows, topkBySort } from './reference.js';

const read = async (t: Tensor | undefined): Promise<number[]> => (t ? values(t) : []);

describe.each(backendsUnderTest())('SIFT re-selection on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop([fc.integer({ min: 0, max: 10_000 }), fc.constantFrom(0.25, 0.5)], { numRuns: 10 })(
    'drops the smallest |δ|, grows the largest |G| among the rest, carries the kept state, and returns dropped weights to base',
    async (seed, fraction) => {
      manualSeed(seed);
      const net = new Net();
      const w0 = await weightsOf(net);
      const sift = new SIFT(net, { density: 0.3, targets: ['a'], lr: 0.05, reselect: { every: 2, fraction } });
      const next = lcg(seed);
      for (let t = 0; t < 2; t++) {
        lossOf(net, randomRows(next, 3)).backward();
        sift.step();
        sift.zeroGrad();
      }
      const sp = sift.sparse[0];
      const before = sp.stateDict().tensors;
      const idx = await read(before.indices);
      const delta = await read(before.delta);
      const m = await read(before.exp_avg);
      const v = await read(before.exp_avg_sq);
      const k = idx.length;
      const r = Math.round(fraction * k);
      const rows = randomRows(next, 3);
      const g = netGrads(await weightsOf(net), rows).a;

      const keepPos = topkBySort(delta, k - r);
      const kept = keepPos.map((p) => idx[p]);
      const unselected = Array.from(g, (x, i) => (idx.includes(i) ? 0 : Math.abs(x) + 1e-300));
      const grown = topkBySort(unselected, r);
      const expected = [...kept, ...grown].sort((p, q) => p - q);

      lossOf(net, rows).backward(); // the re-selection happens in this backward's hook
      const after = sp.stateDict().tensors;
      const newIdx = await read(after.indices);
      expect(newIdx).toEqual(expected);
      const newDelta = await read(after.delta);
      const newM = await read(after.exp_avg);
      const newV = await read(after.exp_avg_sq);
      const steps = await read(after.steps);
      newIdx.forEach((i, j) => {
        const old = idx.indexOf(i);
        if (kept.includes(i)) {
          expect([newDelta[j], newM[j], newV[j], steps[j]]).toEqual([delta[old], m[old], v[old], 2]);
        } else {
          expect([newDelta[j], newM[j], newV[j], steps[j]]).toEqual([0, 0, 0, 0]);
        }
      });
      sift.step();
      const w = await weightsOf(net);
      const dropped = idx.filter((i) => !kept.includes(i));
      for (const i of dropped) expect(w.a[i], `dropped a[${i}] returns to its base value`).toBe(w0.a[i]);
      for (let i = 0; i < 20; i++) if (!newIdx.includes(i)) expect(w.a[i]).toBe(w0.a[i]);
      expect(sift.trainableCount()).toBe(k);
      sift.dispose();
      net.dispose();
    },
  );
});
