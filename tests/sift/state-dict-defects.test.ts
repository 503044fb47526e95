/**
 * SIFT.loadStateDict on a state that does not fit the SIFT it is loaded into (another model, other targets, a
 * tensor of another size or dtype, pieces missing): each is an Error naming the tensor and both sides, never a
 * silently wrong resume.
 */
import { SIFT, type SIFTOptions, type SIFTStateDict } from '@siftjs/sift-optimizer';
import { manualSeed, type Tensor, tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { lossOf, Net } from './net.js';
import { lcg, randomRows } from './reference.js';

describe.each(backendsUnderTest())('SIFT.loadStateDict refuses a state that does not fit, on $name', (backend) => {
  beforeAll(() => backend.start());

  /** A SIFT after `passes` backward passes and `steps` steps, and a fresh one with the same options. */
  function pair(opts: SIFTOptions, steps: number, passes = 0) {
    manualSeed(7);
    const net = new Net();
    const sift = new SIFT(net, opts);
    const next = lcg(3);
    for (let t = 0; t < steps; t++) {
      lossOf(net, randomRows(next, 2)).backward();
      sift.step();
      sift.zeroGrad();
    }
    for (let p = 0; p < passes; p++) lossOf(net, randomRows(next, 2)).backward();
    manualSeed(7);
    const net2 = new Net();
    const fresh = new SIFT(net2, opts);
    const dispose = () => {
      for (const s of [sift, fresh]) s.dispose();
      for (const m of [net, net2]) m.dispose();
    };
    return { sd: sift.stateDict(), fresh, dispose };
  }

  const withSparse = (sd: SIFTStateDict, name: string, tensors: Record<string, Tensor | undefined>): SIFTStateDict => {
    const t = { ...sd.sparse[name].tensors, ...tensors };
    for (const [k, v] of Object.entries(t)) if (v === undefined) delete t[k];
    return { ...sd, sparse: { ...sd.sparse, [name]: { ...sd.sparse[name], tensors: t as Record<string, Tensor> } } };
  };

  it('sparse tensors, groups and dense parameters that differ', () => {
    const { sd, fresh, dispose } = pair({ density: 0.25, targets: ['a'], dense: ['b'], lr: 0.01 }, 2);
    const { 'a.weight': _, ...noA } = sd.sparse;
    expect(() => fresh.loadStateDict({ ...sd, sparse: noA })).toThrow('SIFT loadStateDict: sparse tensors differ (missing: a.weight; unexpected: none)');
    expect(() => fresh.loadStateDict({ ...sd, sparse: { ...noA, 'c.weight': sd.sparse['a.weight'] } })).toThrow(
      'SIFT loadStateDict: sparse tensors differ (missing: a.weight; unexpected: c.weight)',
    );
    expect(() => fresh.loadStateDict({ ...sd, sparse: { ...sd.sparse, 'c.weight': sd.sparse['a.weight'] } })).toThrow('SIFT loadStateDict: sparse tensors differ (missing: none; unexpected: c.weight)');
    expect(() => fresh.loadStateDict({ ...sd, groups: [...sd.groups, { lr: 1, weightDecay: 0 }] })).toThrow(`SIFT loadStateDict: ${sd.groups.length + 1} parameter groups saved, ${sd.groups.length} here`);
    const { 'b.bias': __, ...noBias } = sd.dense;
    expect(() => fresh.loadStateDict({ ...sd, dense: noBias })).toThrow('SIFT loadStateDict: dense parameter b.bias is missing');
    const short = tensor([1, 2]);
    expect(() => fresh.loadStateDict({ ...sd, dense: { ...sd.dense, 'b.bias': short } })).toThrow('SIFT loadStateDict: dense parameter b.bias has 2 elements saved, 3 here');
    short.dispose();
    dispose();
  });

  it("a sparse tensor's indices, base, delta or moments of another size or dtype, or not all three of indices, base and delta", () => {
    const { sd, fresh, dispose } = pair({ density: 0.25, targets: ['a'], lr: 0.01 }, 2);
    const st = sd.sparse['a.weight'];
    const k = st.tensors.indices.size;
    const dtype = st.tensors.delta.dtype;
    const wrongSize = tensor(new Array(k + 1).fill(0), { dtype });
    const asFloat = tensor(new Array(k).fill(0), { dtype });
    const asInt = tensor(new Array(k).fill(0), { dtype: 'int32' });
    expect(() => fresh.loadStateDict(withSparse(sd, 'a.weight', { delta: wrongSize }))).toThrow(`SIFT loadStateDict: a.weight.delta is ${dtype}[${k + 1}], expected ${dtype}[${k}]`);
    expect(() => fresh.loadStateDict(withSparse(sd, 'a.weight', { indices: asFloat }))).toThrow(`SIFT loadStateDict: a.weight.indices is ${dtype}[${k}], expected int32[${k}]`);
    expect(() => fresh.loadStateDict(withSparse(sd, 'a.weight', { exp_avg: asInt }))).toThrow(`SIFT loadStateDict: a.weight.exp_avg is int32[${k}], expected ${dtype}[${k}]`);
    expect(() => fresh.loadStateDict(withSparse(sd, 'a.weight', { base: undefined }))).toThrow('SIFT loadStateDict: a.weight needs indices, base and delta together');
    expect(() => fresh.loadStateDict(withSparse(sd, 'a.weight', { delta: undefined }))).toThrow('SIFT loadStateDict: a.weight needs indices, base and delta together');
    expect(() => fresh.loadStateDict(withSparse(sd, 'a.weight', { indices: undefined }))).toThrow('SIFT loadStateDict: a.weight needs indices, base and delta together');
    for (const t of [wrongSize, asFloat, asInt]) t.dispose();
    dispose();
  });

  it('a selection in progress without its saved sums', () => {
    for (const selection of [{ accumulate: 3 }, { fisher: 3 }] as const) {
      const { sd, fresh, dispose } = pair({ density: 0.25, targets: ['a'], selection }, 0, 2);
      const st = sd.sparse['a.weight'];
      expect(st.passes).toBe(2);
      expect(() => fresh.loadStateDict(withSparse(sd, 'a.weight', { selection_sum: undefined }))).toThrow('SIFT: a selection after 2 passes needs its saved sums');
      if ('fisher' in selection) expect(() => fresh.loadStateDict(withSparse(sd, 'a.weight', { selection_squares: undefined }))).toThrow('SIFT: a selection after 2 passes needs its saved sums');
      dispose();
    }
  });
});
