import { fc, test } from '@fast-check/vitest';
import { GPT2ForSequenceClassification, gpt2Config } from '@siftjs/models';
import { type Module } from '@siftjs/nn';
import {
  analyzeGradients,
  bitFit,
  createFineTuner,
  type FineTuner,
  fullFineTune,
  headOnly,
  lora,
  loraParamsPerRank,
  loraRankForBudget,
  meanShares,
  randomSparse,
  SIFT,
} from '@siftjs/sift-optimizer';
import { manualSeed, memoryStats, type Tensor, tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { byPrecision, expectClose } from '../support/close.js';
import { values } from '../support/read.js';
import { bitsOf, lossOf, Net, weightsOf } from './net.js';
import { lcg, netGrads, randomRows, referenceDense, referenceShare } from './reference.js';

const hyper = { lr: 0.05, betas: [0.9, 0.999] as [number, number], eps: 1e-8 };

function train(net: Net, tuner: FineTuner, steps: number[][][]): void {
  for (const rows of steps) {
    lossOf(net, rows).backward();
    tuner.step();
    tuner.zeroGrad();
  }
}

function tinyGpt2(): Module {
  const cfg = gpt2Config({ vocab_size: 30, n_positions: 16, n_embd: 16, n_layer: 2, n_head: 2, num_labels: 2, pad_token_id: 0, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 }, 'test');
  return new GPT2ForSequenceClassification(cfg);
}

describe.each(backendsUnderTest())('fine-tuning baselines on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop({ seed: fc.integer({ min: 0, max: 10_000 }), weightDecay: fc.constantFrom(0, 0.1), maxGradNorm: fc.constantFrom(undefined, 0.5) }, { numRuns: 6 })(
    'full fine-tuning and head-only equal dense AdamW on their tensors (float64 reference); frozen weights are bitwise unchanged',
    async (p) => {
      for (const [make, trained] of [
        [(n: Net) => fullFineTune(n, { ...hyper, weightDecay: p.weightDecay, maxGradNorm: p.maxGradNorm }), ['a', 'b', 'c']],
        [(n: Net) => headOnly(n, { ...hyper, weightDecay: p.weightDecay, maxGradNorm: p.maxGradNorm, dense: ['b.bias'] }), ['c']],
        [(n: Net) => bitFit(n, { ...hyper, weightDecay: p.weightDecay, maxGradNorm: p.maxGradNorm }), ['c']],
      ] as const) {
        manualSeed(p.seed);
        const net = new Net();
        const w0 = await weightsOf(net);
        const bits0 = await bitsOf(net);
        const next = lcg(p.seed);
        const steps = Array.from({ length: 4 }, () => randomRows(next, 3));
        const tuner = make(net);
        train(net, tuner, steps);
        const ref = referenceDense(w0, steps, trained, { ...hyper, lr: () => hyper.lr, weightDecay: p.weightDecay, maxGradNorm: p.maxGradNorm });
        const got = await weightsOf(net);
        const bits = await bitsOf(net);
        for (const [key, name] of [['a', 'a.weight'], ['b', 'b.weight'], ['c', 'b.bias']] as const) {
          if ((trained as readonly string[]).includes(key)) expectClose(got[key], ref[key], 2e-4, 1e-5, `${tuner.method}: ${key}`);
          else expect(bits[name], `${tuner.method}: ${name} is frozen`).toEqual(bits0[name]);
        }
        tuner.dispose();
        net.dispose();
      }
    },
  );

  it('memory reports: dense methods keep a gradient and two moments per trained element; SIFT counts its head too', () => {
    manualSeed(3);
    const net = new Net();
    const full = fullFineTune(net);
    expect(full.trainableCount()).toBe(20 + 12 + 3);
    expect(full.memoryReport()).toEqual({ values: 0, indices: 0, gradients: 35 * 4, optimizerState: 2 * 35 * 4, selectionBuffers: 0, peakTransientGradient: 0, peakTransient: 0, total: 3 * 35 * 4, byDtype: { float32: 3 * 35 * 4 } });
    full.dispose();
    const sift = new SIFT(net, { density: 0.25, targets: ['a', 'b.weight'], dense: ['b.bias'] });
    const k = 5 + 3; // ⌈0.25·20⌉ + ⌈0.25·12⌉
    expect(sift.trainableCount()).toBe(k + 3);
    // Before the choice: the sparse gradients and moments exist, the indices, base values and δ not yet.
    const before = sift.memoryReport();
    expect([before.values, before.indices, before.gradients, before.optimizerState]).toEqual([0, 0, 4 * (k + 3), 2 * 4 * (k + 3)]);
    lossOf(net, randomRows(lcg(3), 2)).backward();
    sift.step();
    const r = sift.memoryReport();
    expect([r.values, r.indices, r.gradients, r.optimizerState]).toEqual([2 * 4 * k, 4 * k, 4 * (k + 3), 2 * 4 * (k + 3)]);
    expect(r.total).toBe(r.values + r.indices + r.gradients + r.optimizerState + r.selectionBuffers);
    expect(r.byDtype).toEqual({ int32: 4 * k, float32: r.total - 4 * k });
    sift.dispose();
    net.dispose();
  });

  it('random-index sparse trains k random components of each target at the same density, the rest bitwise unchanged', async () => {
    manualSeed(4);
    const net = new Net();
    const bits0 = await bitsOf(net);
    const tuner = randomSparse(net, { density: 0.25, targets: ['a', 'b.weight'], lr: 0.05 });
    expect(tuner.options.selection).toBe('random');
    train(net, tuner, [randomRows(lcg(4), 3), randomRows(lcg(5), 3)]);
    const bits = await bitsOf(net);
    for (const [sp, name, k] of [[0, 'a.weight', 5], [1, 'b.weight', 3]] as const) {
      const idx = await values(tuner.sparse[sp].indices!);
      expect(idx.length).toBe(k);
      expect(new Set(idx).size, 'distinct').toBe(k);
      expect(idx.every((i) => Number.isInteger(i) && i >= 0 && i < bits[name].length)).toBe(true);
      bits[name].forEach((b, i) => {
        if (!idx.includes(i)) expect(b, `${name}[${i}]`).toBe(bits0[name][i]);
      });
      expect(idx.some((i) => bits[name][i] !== bits0[name][i]), `${name} moved`).toBe(true);
    }
    expect(bits['b.bias']).toEqual(bits0['b.bias']);
    tuner.dispose();
    net.dispose();
  });

  it('LoRA adapts the targets with rank·(in+out) parameters each, starts from the base model and leaves base weights unchanged', async () => {
    manualSeed(5);
    const model = tinyGpt2();
    const ids = tensor([[3, 4, 5, 6, 7, 8], [9, 10, 11, 12, 13, 14]], { dtype: 'int32' });
    const labels = tensor([0, 1], { dtype: 'int32' });
    const loss = () => (model as unknown as { forward(i: Tensor, o: { labels: Tensor }): { loss: Tensor; logits: Tensor } }).forward(ids, { labels });
    const before = loss();
    const loss0 = await before.loss.item();
    before.loss.dispose();
    before.logits.dispose();
    const perRank = loraParamsPerRank(model, ['c_attn']);
    expect(perRank).toBe(2 * (16 + 48));
    expect(loraRankForBudget(model, ['c_attn'], 3 * perRank + 10)).toBe(3);
    const baseBits = Array.from(new Uint32Array(Float32Array.from(await model.stateDict()['transformer.h.0.attn.c_attn.weight'].toArray()).buffer));
    const tuner = lora(model, { rank: 3, targets: ['c_attn'], dense: ['score'], lr: 0.01 });
    expect(tuner.trainableCount()).toBe(3 * perRank + 2 * 16);
    const first = loss();
    expect(await first.loss.item()).toBeCloseTo(loss0, 5); // B = 0: the adapted model is the base model
    first.loss.backward();
    first.logits.dispose();
    first.loss.dispose();
    tuner.step();
    tuner.zeroGrad();
    const w = model.stateDict()['transformer.h.0.attn.c_attn.base_layer.weight'];
    expect(Array.from(new Uint32Array(Float32Array.from(await w.toArray()).buffer))).toEqual(baseBits);
    tuner.dispose();
    model.dispose();
    ids.dispose();
    labels.dispose();
  });

  it('createFineTuner builds each method by name and says what is missing', () => {
    manualSeed(6);
    const net = new Net();
    for (const method of ['sift', 'random', 'full', 'head', 'bitfit'] as const) {
      const t = createFineTuner(net, { method, density: 0.25, targets: ['a', 'b'], dense: ['b.bias'] });
      expect(t.method).toBe(method);
      t.dispose();
    }
    expect(() => createFineTuner(net, { method: 'sift', targets: ['a'] })).toThrow("method 'sift' needs a density");
    expect(() => createFineTuner(net, { method: 'lora', targets: ['a'] })).toThrow("method 'lora' needs a LoRA rank");
    expect(() => createFineTuner(net, { method: 'nope' as 'sift' })).toThrow("unknown method 'nope' (one of sift, full, lora, random, bitfit, head)");
    net.dispose();
  });

  test.prop({ seed: fc.integer({ min: 0, max: 10_000 }), batches: fc.integer({ min: 1, max: 3 }) }, { numRuns: 8 })(
    'analyzeGradients: per-tensor shares of the summed gradient equal a sort-based float64 reference; no tensor is left behind',
    async (p) => {
      manualSeed(p.seed);
      const net = new Net();
      const w0 = await weightsOf(net);
      const next = lcg(p.seed);
      const batches = Array.from({ length: p.batches }, () => randomRows(next, 3));
      const live = memoryStats().liveTensors;
      const fractions = [0.05, 0.25, 0.5, 1];
      const report = await analyzeGradients(net, batches, { fractions, loss: (m, rows) => lossOf(m as Net, rows) });
      expect(memoryStats().liveTensors).toBe(live);
      expect(report.map((r) => r.name)).toEqual(['a.weight', 'b.weight']);
      const g = { a: new Float64Array(20), b: new Float64Array(12) };
      for (const rows of batches) {
        const gi = netGrads(w0, rows);
        for (const key of ['a', 'b'] as const) gi[key].forEach((v, i) => (g[key][i] += v));
      }
      for (const [r, key] of [[report[0], 'a'], [report[1], 'b']] as const) {
        expectClose(fractions.map((x) => r.shares[String(x)]), fractions.map((x) => referenceShare(g[key], x)), 1e-4, 1e-6, `${key} shares`);
        expectClose([r.norm], [Math.hypot(...g[key])], 1e-4, 1e-6, `${key} norm`);
      }
      // Σ top-100% / Σ all: the same sum in another order, in the backend's widest float (float32 on WebGPU).
      expect(meanShares(report)['1']).toBeCloseTo(1, byPrecision(10, 6));
      // Requires-grad flags come back as they were, and no gradient is kept.
      expect([...net.parameters()].every((q) => q.grad === null)).toBe(true);
      net.dispose();
    },
  );
});
