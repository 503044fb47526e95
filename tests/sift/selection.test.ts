import { SIFT, topkIndices } from '@siftjs/sift-optimizer';
import { manualSeed, noGrad, tensor } from '@siftjs/tensor';
import { fc, test } from '@fast-check/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { expectClose } from '../support/close.js';
import { read, values } from '../support/read.js';
import { lossOf, Net, weightsOf } from './net.js';
import { ascending, lcg, netGrads, randomRows, topkBySort } from './reference.js';

describe.each(backendsUnderTest())('SIFT selection and hooks on $name', (backend) => {
  beforeAll(() => backend.start());

  // Few distinct magnitudes, so ties are common: the documented rule (lowest index first) must hold.
  const scores = fc.array(fc.constantFrom(0, 1, -1, 2, -2, 0.5, -0.5, 3.25), { minLength: 1, maxLength: 60 });
  test.prop([scores, fc.nat()], { numRuns: 60 })('top-k selection equals the sort-based reference: by |score| descending, ties to the lowest index', async (xs, kSeed) => {
    const k = kSeed % (xs.length + 1);
    const got = await read(() => topkIndices(tensor(xs), k));
    expect(got).toEqual(topkBySort(xs, k));
  });

  test.prop([fc.integer({ min: 0, max: 10_000 }), fc.constantFrom(0.1, 0.3)], { numRuns: 10 })(
    'hook-gathered sparse gradients equal the dense gradient gathered at the indices, summed over micro-batches',
    async (seed, density) => {
      manualSeed(seed);
      const net = new Net();
      const w = await weightsOf(net);
      const next = lcg(seed);
      const batches = [randomRows(next, 2), randomRows(next, 3)];
      const sift = new SIFT(net, { density, targets: ['a', 'b'] });
      for (const rows of batches) lossOf(net, rows).backward();
      const first = netGrads(w, batches[0]);
      const second = netGrads(w, batches[1]);
      for (const [key, sp] of [['a', 0], ['b', 1]] as const) {
        const idx = await values(sift.sparse[sp].indices!);
        expect(ascending(idx)).toEqual(ascending(topkBySort(first[key], sift.sparse[sp].k)));
        expectClose(await values(sift.sparse[sp].grad), idx.map((i) => first[key][i] + second[key][i]), 1e-4, 1e-6, `${key} sparse gradient`);
      }
      expect(net.a.weight.grad).toBeNull();
      expect(net.b.weight.grad).toBeNull();
      sift.dispose();
      net.dispose();
    },
  );

  it("'weight-magnitude' chooses the largest |W| before any gradient; 'random' is seeded and distinct", async () => {
    manualSeed(11);
    const net = new Net();
    const w = await weightsOf(net);
    const byWeight = new SIFT(net, { density: 0.3, targets: ['a'], selection: 'weight-magnitude' });
    expect(await values(byWeight.sparse[0].indices!), 'in the order chosen').toEqual(topkBySort(w.a, 6));
    byWeight.dispose();
    const pick = async (seed: number) => {
      manualSeed(seed);
      const s = new SIFT(net, { density: 0.5, targets: ['a'], selection: 'random' });
      const idx = await values(s.sparse[0].indices!);
      s.dispose();
      return idx;
    };
    const r1 = await pick(5);
    expect(r1).toEqual(await pick(5));
    expect(r1).not.toEqual(await pick(6));
    expect(r1.length).toBe(10);
    expect(new Set(r1).size).toBe(10);
    expect(r1.every((i) => Number.isInteger(i) && i >= 0 && i < 20)).toBe(true);
    net.dispose();
  });

  it('random selections are uniform: each component is chosen about equally often', async () => {
    const net = new Net();
    const counts = new Array(20).fill(0);
    for (let seed = 0; seed < 200; seed++) {
      manualSeed(seed);
      const s = new SIFT(net, { density: 0.25, targets: ['a'], selection: 'random' });
      for (const i of await values(s.sparse[0].indices!)) counts[i]++;
      s.dispose();
    }
    // 200 draws of 5 of 20: each component expects 50 (sd ≈ 6.1); allow ±4 sd.
    for (const c of counts) expect(Math.abs(c - 50)).toBeLessThan(25);
    net.dispose();
  });

  it.each([
    [{ accumulate: 2 }, 1],
    [{ fisher: 2 }, 2],
  ] as const)('the selection buffers of %o (ΣG; Σg² too for Fisher) survive zeroGrad and live only until the choice', (selection, buffers) => {
    manualSeed(3);
    const net = new Net();
    const sift = new SIFT(net, { density: 0.25, targets: ['a', 'b.weight'], selection });
    const next = lcg(3);
    lossOf(net, randomRows(next, 2)).backward();
    sift.step();
    sift.zeroGrad();
    expect(sift.sparse[0].indices).toBeNull();
    expect(sift.memoryReport().selectionBuffers).toBe(buffers * 4 * (20 + 12));
    lossOf(net, randomRows(next, 2)).backward();
    expect(sift.sparse[0].indices).not.toBeNull();
    expect(sift.memoryReport().selectionBuffers).toBe(0);
    noGrad(() => sift.step());
    sift.dispose();
    net.dispose();
  });
});
