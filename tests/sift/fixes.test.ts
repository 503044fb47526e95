import { Linear, Module } from '@siftjs/nn';
import { SIFT, SIFTError, type SIFTOptions } from '@siftjs/sift-optimizer';
import { manualSeed, noGrad, scope, type Tensor, tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { expectClose } from '../support/close.js';
import { read, values } from '../support/read.js';
import { lossOf, Net, setWeights as setNetWeights } from './net.js';
import { siftOracle, type Weights } from './oracle.js';
import { ascending, lcg, NET_SHAPES, netGradient, randomRows, topkBySort } from './reference.js';
import { bits, setWeights, weightsOf } from './weights.js';

const hyper = { betas: [0.9, 0.999] as [number, number], eps: 1e-8 };

/** Steps of one batch each through the usual loop: backward, step, zeroGrad. */
function train(net: Net, sift: SIFT, batches: number[][][]): void {
  for (const rows of batches) {
    lossOf(net, rows).backward();
    sift.step();
    sift.zeroGrad();
  }
}

/** Two independent layers: loss Σ(A·x)² + Σ(B·x + c)², the second term only when `both`. */
class TwoBranch extends Module {
  a = new Linear(5, 4, { bias: false });
  b = new Linear(5, 3);
  loss(rows: number[][], both: boolean): Tensor {
    return scope(() => {
      const x = tensor(rows);
      const first = this.a.forward(x).square().sum();
      return both ? first.add(this.b.forward(x).square().sum()) : first;
    });
  }
}

/** TwoBranch's gradient by hand; the b branch absent (no gradient reaches it) unless `both`. */
function twoBranchGradient(w: Weights, rows: number[][], both: boolean): Weights {
  const g: Weights = { 'a.weight': new Float64Array(20) };
  if (both) Object.assign(g, { 'b.weight': new Float64Array(15), 'b.bias': new Float64Array(3) });
  for (const x of rows) {
    for (let i = 0; i < 4; i++) {
      const y = x.reduce((s, xj, j) => s + w['a.weight'][i * 5 + j] * xj, 0);
      for (let j = 0; j < 5; j++) g['a.weight'][i * 5 + j] += 2 * y * x[j];
    }
    if (!both) continue;
    for (let i = 0; i < 3; i++) {
      const y = w['b.bias'][i] + x.reduce((s, xj, j) => s + w['b.weight'][i * 5 + j] * xj, 0);
      g['b.bias'][i] += 2 * y;
      for (let j = 0; j < 5; j++) g['b.weight'][i * 5 + j] += 2 * y * x[j];
    }
  }
  return g;
}

/** Issue 15's defects, each as a test that fails on the old behaviour (see the closing note for how each was checked). */
describe.each(backendsUnderTest())('SIFT defects of issue 15, fixed, on $name', (backend) => {
  beforeAll(() => backend.start());

  it.each([{ accumulate: 3 }, { fisher: 3 }] as const)(
    '(1) %o through backward/step/zeroGrad trains on every pass: nothing moves while choosing, the choosing step applies ΣG',
    async (selection) => {
      manualSeed(1);
      const net = new Net();
      const w0 = await weightsOf(net);
      const next = lcg(1);
      const batches = Array.from({ length: 5 }, () => randomRows(next, 3));
      const opts = { density: 0.25, targets: ['a', 'b'], lr: 0.05, ...hyper, weightDecay: 0 };
      const sift = new SIFT(net, { ...opts, selection });
      train(net, sift, batches.slice(0, 2));
      expect(bits(Object.values(await weightsOf(net)).flatMap((v) => [...v])), 'nothing trains before the choice').toEqual(bits(Object.values(w0).flatMap((v) => [...v])));
      lossOf(net, batches[2]).backward();
      // Every pass so far ran at w0: the choosing step's sparse gradient is Σ of the three passes' G at the choice.
      const G = batches.slice(0, 3).map((rows) => netGradient(w0, rows));
      for (const s of sift.sparse) {
        const sum = w0[s.name].map((_, i) => G.reduce((acc, g) => acc + g[s.name][i], 0));
        const score = 'fisher' in selection ? w0[s.name].map((_, i) => G.reduce((acc, g) => acc + g[s.name][i] ** 2, 0)) : sum;
        const idx = await values(s.indices!);
        expect(ascending(idx), `${s.name}: top-k of the summed score`).toEqual(ascending(topkBySort(score, s.k)));
        expectClose(await values(s.grad), idx.map((i) => sum[i]), 1e-5, 1e-6, `${s.name}: the gradient of the choosing step is ΣG over every pass`);
      }
      sift.step();
      sift.zeroGrad();
      train(net, sift, batches.slice(3));
      const oracle = siftOracle(w0, batches.map((b) => [b]), netGradient, { ...opts, dense: [], shapes: NET_SHAPES, selection });
      const w = await weightsOf(net);
      for (const name of Object.keys(NET_SHAPES)) expectClose(w[name], oracle.weights[name], 2e-5, 1e-6, name);
      sift.dispose();
      net.dispose();
    },
  );

  it('(2) decay never touches the pre-trained base: by default no decay on δ, dense 2-D decays and 1-D does not; a group with decay shrinks δ', async () => {
    manualSeed(2);
    const net = new Net();
    const w0 = await weightsOf(net);
    const next = lcg(2);
    const batches = Array.from({ length: 4 }, () => [randomRows(next, 3)]);
    for (const groups of [undefined, [{ params: ['a'], weightDecay: 0.5 }]]) {
      setNetWeights(net, { a: w0['a.weight'], b: w0['b.weight'], c: w0['b.bias'] });
      // 'b' dense here: its weight (2-D) takes weightDecay, its bias (1-D) none.
      const opts = { density: 0.3, targets: ['a'], dense: ['b'], lr: 0.05, ...hyper, weightDecay: 0.1, groups };
      const sift = new SIFT(net, opts);
      train(net, sift, batches.map((b) => b[0]));
      const s = sift.sparse[0];
      const idx = await values(s.indices!);
      expect(bits(await values(s.base!)), 'the base is the pre-trained values, bitwise').toEqual(bits(idx.map((i) => w0['a.weight'][i])));
      const oracle = siftOracle(w0, batches, netGradient, { ...opts, shapes: NET_SHAPES, selection: 'first-batch' });
      const w = await weightsOf(net);
      for (const name of Object.keys(NET_SHAPES)) expectClose(w[name], oracle.weights[name], 2e-5, 1e-6, `${groups ? 'decay group' : 'defaults'}: ${name}`);
      sift.dispose();
    }
    net.dispose();
  });

  it('(3) a tensor that gets no gradient in a step does not move, and its increment, moments and step count are untouched, as dense AdamW', async () => {
    manualSeed(3);
    const model = new TwoBranch();
    const w0 = await weightsOf(model);
    const next = lcg(3);
    const batches = Array.from({ length: 3 }, () => randomRows(next, 2));
    const both = [true, false, true];
    const opts = { density: 0.4, targets: ['a', 'b.weight'], dense: ['b.bias'], lr: 0.05, ...hyper, weightDecay: 0 };
    const sift = new SIFT(model, opts);
    const snapshot = async () => {
      const s = sift.sparse[1];
      return { weights: bits((await weightsOf(model))['b.weight']), bias: bits((await weightsOf(model))['b.bias']), delta: bits(await values(s.delta!)), m: bits(await values(s.m)), v: bits(await values(s.v)), step: s.step };
    };
    let afterFirst: Awaited<ReturnType<typeof snapshot>> | null = null;
    for (const [t, rows] of batches.entries()) {
      model.loss(rows, both[t]).backward();
      sift.step();
      sift.zeroGrad();
      if (t === 0) afterFirst = await snapshot();
      if (t === 1) expect(await snapshot(), 'b (sparse b.weight, dense b.bias) after a step without its gradient').toEqual(afterFirst);
    }
    expect(sift.sparse[1].step, 'b.weight was stepped twice').toBe(2);
    expect(sift.sparse[0].step, 'a.weight was stepped three times').toBe(3);
    const oracle = siftOracle(w0, batches.map((b) => [b]), (w, b) => twoBranchGradient(w, b, both[batches.indexOf(b)]), { ...opts, shapes: { 'a.weight': [4, 5], 'b.weight': [3, 5], 'b.bias': [3] }, selection: 'first-batch' });
    const w = await weightsOf(model);
    for (const name of ['a.weight', 'b.weight', 'b.bias']) expectClose(w[name], oracle.weights[name], 2e-5, 1e-6, name);
    sift.dispose();
    model.dispose();
  });

  it('(5) 1-D targets (a bias) train sparsely with k = ⌈x·n⌉: the top-k |G| components move, the others stay bitwise', async () => {
    manualSeed(5);
    const net = new Net();
    const w0 = await weightsOf(net);
    const rows = randomRows(lcg(5), 3);
    const sift = new SIFT(net, { density: 0.4, targets: ['b'], lr: 0.05 });
    expect(sift.sparse.map((s) => [s.name, s.k])).toEqual([['b.weight', 5], ['b.bias', 2]]);
    expect(sift.trainableCount()).toBe(7);
    lossOf(net, rows).backward();
    sift.step();
    const g = netGradient(w0, rows)['b.bias'];
    const w = (await weightsOf(net))['b.bias'];
    const moved = [0, 1, 2].filter((i) => !Object.is(w[i], w0['b.bias'][i]));
    expect(moved, 'exactly the two bias components of largest |G| move').toEqual(ascending(topkBySort(g, 2)));
    const oracle = siftOracle(w0, [[rows]], netGradient, { density: 0.4, targets: ['b'], dense: [], lr: 0.05, ...hyper, weightDecay: 0, shapes: NET_SHAPES, selection: 'first-batch' });
    expectClose(w, oracle.weights['b.bias'], 2e-5, 1e-6, 'b.bias');
    sift.dispose();
    net.dispose();
  });

  it('(5) a target, dense or group pattern that matches no parameter is a SIFTError naming the pattern; nothing is silently frozen', () => {
    const net = new Net();
    const make = (o: Partial<SIFTOptions>) => () => new SIFT(net, { density: 0.25, targets: ['a'], ...o });
    const cases: [Partial<SIFTOptions>, string][] = [
      [{ targets: ['a', 'attn'] }, 'attn'],
      [{ dense: ['b.bias', 'classifier'] }, 'classifier'],
      [{ groups: [{ params: ['a.bias'], lr: 1 }] }, 'a.bias'],
      // 'b' exists but is frozen here (neither target nor dense): a group naming it trains nothing.
      [{ groups: [{ params: ['b'], weightDecay: 0.1 }] }, 'b'],
    ];
    for (const [o, pattern] of cases) {
      expect(make(o)).toThrow(SIFTError);
      expect(make(o)).toThrow(`'${pattern}'`);
    }
    net.dispose();
  });
});

/** The authors' implementation falls short in seven ways (issue 5); each fix, as a test. */
describe.each(backendsUnderTest())("SIFT where the authors' code falls short, on $name", (backend) => {
  beforeAll(() => backend.start());

  it("1. the forward right after step t sees step t's update (the write-back is part of the step), and the last step lands", async () => {
    manualSeed(11);
    const net = new Net();
    const w0 = await weightsOf(net);
    const next = lcg(11);
    const batches = [randomRows(next, 3), randomRows(next, 3), randomRows(next, 3)];
    const opts = { density: 0.25, targets: ['a', 'b.weight'], dense: ['b.bias'], lr: 0.05, ...hyper, weightDecay: 0 };
    const sift = new SIFT(net, opts);
    for (let t = 0; t < batches.length; t++) {
      train(net, sift, [batches[t]]);
      const oracle = siftOracle(w0, batches.slice(0, t + 1).map((b) => [b]), netGradient, { ...opts, shapes: NET_SHAPES, selection: 'first-batch' });
      const copy = new Net();
      setWeights(copy, oracle.weights);
      const probe = randomRows(lcg(100 + t), 2);
      const [ours, theirs] = await read(() => [lossOf(net, probe), lossOf(copy, probe)]);
      expectClose(ours, theirs, 1e-4, 1e-6, `forward after step ${t + 1}`);
      copy.dispose();
    }
    sift.dispose();
    net.dispose();
  });

  it('2. the first batch chooses and trains: one step moves exactly the chosen components', async () => {
    manualSeed(12);
    const net = new Net();
    const w0 = await weightsOf(net);
    const rows = randomRows(lcg(12), 3);
    const sift = new SIFT(net, { density: 0.25, targets: ['a', 'b.weight'], dense: ['b.bias'], lr: 0.05 });
    lossOf(net, rows).backward();
    sift.step();
    const w1 = await weightsOf(net);
    const g = netGradient(w0, rows);
    for (const s of sift.sparse) {
      const idx = new Set(await values(s.indices!));
      expect(ascending([...idx])).toEqual(ascending(topkBySort(g[s.name], s.k)));
      w1[s.name].forEach((v, i) => expect(v !== w0[s.name][i], `${s.name}[${i}] moved`).toBe(idx.has(i) && g[s.name][i] !== 0));
    }
    sift.dispose();
    net.dispose();
  });

  it('3. every targeted tensor moves on step 1, also with zeroGrad (set_to_none) before and after every step', async () => {
    manualSeed(3);
    const net = new Net();
    const w0 = await weightsOf(net);
    const sift = new SIFT(net, { density: 0.25, targets: ['a', 'b.weight'], dense: ['b.bias'], lr: 0.05 });
    sift.zeroGrad();
    train(net, sift, [randomRows(lcg(3), 2)]);
    const w1 = await weightsOf(net);
    for (const name of Object.keys(NET_SHAPES)) expect(bits(w1[name]), `${name} moved on step 1`).not.toEqual(bits(w0[name]));
    sift.dispose();
    net.dispose();
  });

  it('4. an all-zero gradient chooses the first k (ties: lowest index) and steps without error or NaN', async () => {
    manualSeed(4);
    const net = new Net();
    const sift = new SIFT(net, { density: 0.25, targets: ['a'] });
    scope(() => net.forward(tensor([[1, 2, 3, 4, 5]])).mul(0).sum().backward());
    sift.step();
    expect(await values(sift.sparse[0].indices!)).toEqual([0, 1, 2, 3, 4]);
    expect((await weightsOf(net))['a.weight'].every(Number.isFinite)).toBe(true);
    noGrad(() => sift.dispose());
    net.dispose();
  });

  it('6. clipping sees exactly the gradients being applied: no dense gradient of a target exists to go stale', async () => {
    manualSeed(6);
    const net = new Net();
    const w0 = await weightsOf(net);
    const next = lcg(6);
    const batches = [randomRows(next, 3), randomRows(next, 3), randomRows(next, 3)];
    const opts = { density: 0.25, targets: ['a', 'b.weight'], dense: ['b.bias'], lr: 0.05, ...hyper, weightDecay: 0, maxGradNorm: 0.1 };
    const sift = new SIFT(net, opts);
    for (const rows of batches) {
      lossOf(net, rows).backward();
      expect(net.a.weight.grad, 'the hook dropped the dense gradient').toBeNull();
      expect(net.b.weight.grad).toBeNull();
      sift.step();
      sift.zeroGrad();
    }
    const oracle = siftOracle(w0, batches.map((b) => [b]), netGradient, { ...opts, shapes: NET_SHAPES, selection: 'first-batch' });
    const w = await weightsOf(net);
    for (const name of Object.keys(NET_SHAPES)) expectClose(w[name], oracle.weights[name], 2e-5, 1e-6, name);
    sift.dispose();
    net.dispose();
  });

  it('7. a weight update far below ulp(w) accumulates in δ (in float32, as the oracle sums it) and w = fl(base + δ); stepping w itself would lose every one', async () => {
    manualSeed(7);
    const net = new Net();
    const w0 = await weightsOf(net);
    // B ∈ [600, 1000): ulp 2⁻¹⁴ ≈ 6.1e-5. Adam's step is at most ~3.2·lr = 6.4e-6, under half an ulp, so
    // fl(w − u) = w for every single update u: a float32 weight stepped directly never moves.
    const lr = 2e-6;
    w0['b.weight'] = w0['b.weight'].map((_, i) => Math.fround(600 + 37 * ((i * 7) % 11)));
    setNetWeights(net, { a: w0['a.weight'], b: w0['b.weight'], c: w0['b.bias'] });
    for (const v of w0['b.weight']) expect(Math.fround(v - 3.2 * lr), 'one update rounds away').toBe(v);
    // One batch over and over: the gradient keeps its sign, so the updates add up (≈ 40·lr ≈ 1.3 ulp).
    const rows = randomRows(lcg(7), 2);
    const batches = Array.from({ length: 40 }, () => rows);
    const opts = { density: 0.5, targets: ['b.weight'], lr, ...hyper, weightDecay: 0 };
    const sift = new SIFT(net, opts);
    train(net, sift, batches);
    const s = sift.sparse[0];
    const idx = await values(s.indices!);
    const delta = await values(s.delta!);
    const oracle = siftOracle(w0, batches.map((b) => [b]), netGradient, { ...opts, dense: [], shapes: NET_SHAPES, selection: 'first-batch' });
    const want = oracle.sparse['b.weight'];
    expect(ascending(idx)).toEqual(ascending(want.indices!));
    const deltaAt = new Map(idx.map((i, j) => [i, delta[j]]));
    expectClose(want.indices!.map((i) => deltaAt.get(i) as number), want.delta, 1e-4, 1e-9, 'δ, the sum of the updates');
    const w = (await weightsOf(net))['b.weight'];
    idx.forEach((i, j) => expect(w[i], `b.weight[${i}] = fl(base + δ)`).toBe(Math.fround(w0['b.weight'][i] + delta[j])));
    const moved = idx.filter((i) => w[i] !== w0['b.weight'][i]);
    expect(moved.length, 'updates each below half an ulp added up to whole ulps').toBeGreaterThan(idx.length / 2);
    sift.dispose();
    net.dispose();
  });
});
