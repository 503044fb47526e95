import { fc, test } from '@fast-check/vitest';
import { AdamW, clipGradNorm_, Linear, LRScheduler, linearWarmupCosineDecay, linearWarmupLinearDecay, SGD, weightDecayGroups } from '@siftjs/nn';
import { manualSeed, scope, tensor, type Tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, floatDtype } from '../support/backends.js';
import { byPrecision, expectClose } from '../support/close.js';
import { expectNoLeaks } from '../support/memory.js';
import { read, values } from '../support/read.js';

/** Reference optimizers written out element by element in float64, from the PyTorch documentation. */
function adamwReference(p: number[], grads: number[][], h: { lr: number; b1: number; b2: number; eps: number; wd: number; amsgrad: boolean }) {
  const x = [...p];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const vmax = p.map(() => 0);
  grads.forEach((g, t) => {
    const step = t + 1;
    for (let i = 0; i < x.length; i++) {
      x[i] *= 1 - h.lr * h.wd;
      m[i] = h.b1 * m[i] + (1 - h.b1) * g[i];
      v[i] = h.b2 * v[i] + (1 - h.b2) * g[i] * g[i];
      vmax[i] = Math.max(vmax[i], v[i]);
      const vh = (h.amsgrad ? vmax[i] : v[i]) / (1 - h.b2 ** step);
      x[i] -= (h.lr * (m[i] / (1 - h.b1 ** step))) / (Math.sqrt(vh) + h.eps);
    }
  });
  return x;
}

function sgdReference(p: number[], grads: number[][], h: { lr: number; mu: number; damp: number; wd: number; nesterov: boolean }) {
  const x = [...p];
  let buf: number[] | null = null;
  for (const g of grads) {
    const d = g.map((gi, i) => gi + h.wd * x[i]);
    let step = d;
    if (h.mu !== 0) {
      buf = buf ? buf.map((b, i) => h.mu * b + (1 - h.damp) * d[i]) : [...d];
      step = h.nesterov ? d.map((di, i) => di + h.mu * (buf as number[])[i]) : buf;
    }
    for (let i = 0; i < x.length; i++) x[i] -= h.lr * step[i];
  }
  return x;
}

/** Inputs as the backend holds them: unchanged in float64, rounded where the test runs in float32. */
const round = (a: number[]) => (floatDtype() === 'float64' ? a : a.map(Math.fround));

const vec = (n: number) => fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: n, maxLength: n });
const run = (n: number, steps: number) => fc.tuple(vec(n), fc.array(vec(n), { minLength: steps, maxLength: steps }));

/** Sets p.grad to g (as backward would) — through a loss Σ p·g, so the real accumulation path is used. */
function backwardWithGrad(p: Tensor, g: number[]): void {
  scope(() => p.mul(tensor(g, { dtype: p.dtype })).sum().backward());
}

describe.each(backendsUnderTest())('optimizers on $name', (backend) => {
  beforeAll(() => backend.start());

  test.prop(
    [
      fc.integer({ min: 1, max: 8 }).chain((n) => run(n, 12)),
      fc.record({
        lr: fc.double({ min: 1e-4, max: 0.1, noNaN: true }),
        b1: fc.constantFrom(0.9, 0.8, 0),
        b2: fc.constantFrom(0.999, 0.95),
        eps: fc.constantFrom(1e-8, 1e-6),
        wd: fc.constantFrom(0, 0.01, 0.3),
        amsgrad: fc.boolean(),
        asView: fc.boolean(),
      }),
    ],
    { numRuns: 25 },
  )('AdamW follows the reference update over many steps (fused kernel and op paths, amsgrad or not)', async ([p00, grads0], h) => {
    const dtype = floatDtype();
    const [p0, grads] = [round(p00), grads0.map(round)];
    const n = p0.length;
    // A view of a larger storage takes the op path; a whole tensor the fused kernel.
    const holder = tensor([...p0, 0], { dtype, requiresGrad: true });
    const p = h.asView ? holder.narrow(0, 0, n).detach().requiresGrad_() : tensor(p0, { dtype, requiresGrad: true });
    const opt = new AdamW([p], { lr: h.lr, betas: [h.b1, h.b2], eps: h.eps, weightDecay: h.wd, amsgrad: h.amsgrad });
    for (const g of grads) {
      backwardWithGrad(p, g);
      opt.step();
      opt.zeroGrad();
    }
    const [rtol, atol] = byPrecision([1e-10, 1e-12], [1e-5, 1e-5]);
    expectClose(await values(p), adamwReference(p0, grads, h), rtol, atol, 'AdamW parameters');
    p.dispose();
    holder.dispose();
  });

  test.prop(
    [
      fc.integer({ min: 1, max: 8 }).chain((n) => run(n, 8)),
      fc.record({
        lr: fc.double({ min: 1e-3, max: 0.5, noNaN: true }),
        mu: fc.constantFrom(0, 0.9),
        damp: fc.constantFrom(0, 0.1),
        wd: fc.constantFrom(0, 0.05),
        nesterov: fc.boolean(),
      }),
    ],
    { numRuns: 25 },
  )('SGD (momentum, dampening, Nesterov, weight decay) follows the reference', async ([p00, grads0], h) => {
    if (h.nesterov && (h.mu === 0 || h.damp !== 0)) return;
    const [p0, grads] = [round(p00), grads0.map(round)];
    const p = tensor(p0, { dtype: floatDtype(), requiresGrad: true });
    const opt = new SGD([p], { lr: h.lr, momentum: h.mu, dampening: h.damp, weightDecay: h.wd, nesterov: h.nesterov });
    for (const g of grads) {
      backwardWithGrad(p, g);
      opt.step();
      opt.zeroGrad();
    }
    const [rtol, atol] = byPrecision([1e-10, 1e-12], [1e-5, 1e-5]);
    expectClose(await values(p), sgdReference(p0, grads, h), rtol, atol, 'SGD parameters');
    p.dispose();
  });

  test.prop([fc.array(fc.integer({ min: 1, max: 5 }).chain(vec), { minLength: 1, maxLength: 4 }), fc.double({ min: 0.01, max: 5, noNaN: true })])(
    'clipGradNorm_ scales all gradients by min(1, max / (‖g‖ + 1e-6)) and returns ‖g‖',
    async (gs0, maxNorm) => {
      const gs = gs0.map(round);
      const ps = gs.map((g) => tensor(g.map(() => 0), { dtype: floatDtype(), requiresGrad: true }));
      ps.forEach((p, i) => backwardWithGrad(p, gs[i]));
      const norm = Math.sqrt(gs.flat().reduce((s, v) => s + v * v, 0));
      const total = clipGradNorm_(ps, maxNorm);
      expect(await total.item()).toBeCloseTo(norm, 4);
      const coef = Math.min(1, maxNorm / (norm + 1e-6));
      const [rtol, atol] = byPrecision([1e-12, 1e-12], [1e-6, 1e-6]);
      for (const [i, p] of ps.entries()) expectClose(await values(p.grad!), gs[i].map((v) => v * coef), rtol, atol, 'clipped gradient');
      total.dispose();
      for (const p of ps) p.dispose();
    },
  );

  it('resuming from a state dict continues bit for bit', async () => {
    const grads = Array.from({ length: 6 }, (_, t) => [Math.sin(t), Math.cos(t), t / 7]);
    const train = (p: Tensor, opt: AdamW, from: number, to: number) => {
      for (let t = from; t < to; t++) {
        backwardWithGrad(p, grads[t]);
        opt.step();
        opt.zeroGrad();
      }
    };
    const a = tensor([1, 2, 3], { requiresGrad: true });
    const optA = new AdamW([a], { lr: 0.05 });
    train(a, optA, 0, 3);
    const saved = optA.stateDict();
    const b = tensor(await a.toArray(), { requiresGrad: true });
    const optB = new AdamW([b], { lr: 0.05 });
    optB.loadStateDict(saved);
    train(a, optA, 3, 6);
    train(b, optB, 3, 6);
    expect(await values(b)).toEqual(await values(a));
    a.dispose();
    b.dispose();
  });

  it('dispose() frees every state tensor (AdamW moments, amsgrad maximum, SGD momentum) and gradient; the parameters stay', async () => {
    const p = tensor([1, 2, 3], { requiresGrad: true });
    const q = tensor([[4, 5], [6, 7]], { requiresGrad: true });
    const before = await values(p);
    await expectNoLeaks(() => {
      for (const opt of [new AdamW([p, q], { lr: 0.1 }), new AdamW([p, q], { amsgrad: true }), new SGD([p, q], { lr: 0.1, momentum: 0.9 })]) {
        for (let t = 0; t < 2; t++) {
          const loss = scope(() => p.mul(q.sum()).sum());
          loss.backward();
          loss.dispose();
          opt.step();
        }
        opt.dispose();
        expect([p.grad, q.grad]).toEqual([null, null]);
      }
    });
    expect(p.isDisposed || q.isDisposed).toBe(false);
    expect(await values(p)).not.toEqual(before);
    p.dispose();
    q.dispose();
  });

  it('gradients accumulate over micro-batches: two half-batch backwards equal one full-batch backward', async () => {
    const [full, accumulated] = await read(() => {
      manualSeed(5);
      const dtype = floatDtype();
      const lin = new Linear(3, 2, { dtype });
      const x = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9], [1, 0, 1]], { dtype });
      lin.forward(x).square().sum().backward();
      const once = lin.weight.grad!.detach().clone();
      lin.zeroGrad();
      for (const half of x.split(2)) lin.forward(half).square().sum().backward();
      const accumulated = lin.weight.grad!.detach();
      lin.dispose();
      return [once, accumulated];
    });
    const [rtol, atol] = byPrecision([1e-12, 1e-12], [1e-5, 1e-4]);
    expectClose(accumulated, full, rtol, atol, 'accumulated gradient');
  });

  it('LR schedules: linear warm-up, then linear or cosine decay; groups without decay for biases and norms', () =>
    scope(() => {
      const lin = linearWarmupLinearDecay(10, 110);
      expect([0, 5, 10, 60, 110, 200].map(lin)).toEqual([0, 0.5, 1, 0.5, 0, 0]);
      const cos = linearWarmupCosineDecay(10, 110, 0.1);
      expect(cos(10)).toBeCloseTo(1, 12);
      expect(cos(60)).toBeCloseTo(0.55, 12);
      expect(cos(110)).toBeCloseTo(0.1, 12);
      const layer = new Linear(2, 2);
      const opt = new AdamW(weightDecayGroups(layer, 0.1), { lr: 1 });
      expect(opt.paramGroups.map((g) => [g.params.length, g.weightDecay])).toEqual([
        [1, 0.1],
        [1, 0],
      ]);
      const sched = new LRScheduler(opt, lin);
      expect(sched.lastLr).toEqual([0, 0]);
      for (let i = 0; i < 5; i++) sched.step();
      expect(sched.lastLr).toEqual([0.5, 0.5]);
      layer.dispose();
    }));
});
