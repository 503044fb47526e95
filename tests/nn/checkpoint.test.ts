import { fc, test } from '@fast-check/vitest';
import { Dropout, LayerNorm, Linear, Module } from '@siftjs/nn';
import { checkpoint, getRngState, keep, manualSeed, memoryStats, noGrad, rand, resetPeakBytes, scope, type Tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, floatDtype } from '../support/backends.js';
import { expectNoLeaks } from '../support/memory.js';
import { read } from '../support/read.js';

/**
 * checkpoint(fn, ...inputs) (torch.utils.checkpoint): the same gradients as calling fn, bit for bit — the recomputation
 * runs the same kernels on the same numbers, sums in the same order and replays the same dropout mask — while the
 * activations inside fn are not kept between forward and backward.
 */

/** A pre-norm residual block with dropout: the shape of a transformer block, its parameters read from the closure. */
class Block extends Module {
  ln: LayerNorm;
  up: Linear;
  down: Linear;
  drop: Dropout;

  constructor(dim: number, hidden: number, p: number, dtype: 'float32' | 'float64') {
    super();
    this.ln = new LayerNorm(dim, { dtype });
    this.up = new Linear(dim, hidden, { dtype });
    this.down = new Linear(hidden, dim, { dtype });
    this.drop = new Dropout(p);
  }

  forward(x: Tensor, gate: Tensor): Tensor {
    return scope(() => x.add(this.drop.forward(this.down.forward(this.up.forward(this.ln.forward(x)).gelu('tanh').mul(gate)))));
  }
}

/** The parameters' and the input's gradients after one backward of sum(out²) through `depth` blocks, each checkpointed or not. */
function gradients(blocks: Block[], x0: Tensor, gate: Tensor, seed: number, ckpt: boolean): Tensor[] {
  for (const b of blocks) b.zeroGrad();
  manualSeed(seed);
  return scope(() => {
    const x = x0.detach().requiresGrad_();
    let h: Tensor = x;
    for (const b of blocks) h = ckpt ? checkpoint((a, g) => b.forward(a, g), h, gate) : b.forward(h, gate);
    h.square().sum().backward();
    return [x.grad as Tensor, ...blocks.flatMap((b) => b.parameters().map((p) => p.grad as Tensor))].map((g) => keep(g.detach()));
  });
}

/** Each number's bits as text, so +0 and −0 (and every last bit) count. */
const bits = (xs: number[]) => xs.map((v) => (Object.is(v, -0) ? '-0' : v.toString()));

describe.each(backendsUnderTest())('checkpoint on $name', (backend) => {
  beforeAll(() => backend.start());

  const dim = fc.integer({ min: 1, max: 6 });
  test.prop([fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), dim, dim, fc.integer({ min: 1, max: 3 }), fc.constantFrom(0, 0.3), fc.nat()], { numRuns: 15 })(
    'gives the plain call’s gradients bit for bit, for the inputs and every parameter, dropout included',
    async (batch, seq, d, hidden, depth, p, seed) => {
      const dtype = floatDtype();
      manualSeed(seed + 1);
      const blocks = Array.from({ length: depth }, () => new Block(d, hidden, p, dtype));
      const x0 = keep(rand([batch, seq, d], { dtype, low: -2, high: 2 }));
      const gate = keep(rand([hidden], { dtype, low: 0.5, high: 1.5 }));
      const plain = await read(() => gradients(blocks, x0, gate, seed, false));
      const ckpt = await read(() => gradients(blocks, x0, gate, seed, true));
      expect(ckpt.length).toBe(plain.length);
      plain.forEach((g, i) => expect(bits(ckpt[i]), `gradient ${i}`).toEqual(bits(g)));
      for (const t of [x0, gate, ...blocks]) t.dispose();
    },
  );

  it('leaves the random stream where the plain call leaves it (recomputing draws nothing new)', async () => {
    // Two blocks: recomputing the first (the last recomputed) would leave the stream after the first block's draws.
    const blocks = [new Block(4, 8, 0.5, floatDtype()), new Block(4, 8, 0.5, floatDtype())];
    const x0 = keep(rand([2, 3, 4], { dtype: floatDtype() }));
    const gate = keep(rand([8], { dtype: floatDtype() }));
    gradients(blocks, x0, gate, 7, false).forEach((t) => t.dispose());
    const plain = getRngState();
    gradients(blocks, x0, gate, 7, true).forEach((t) => t.dispose());
    expect(getRngState()).toEqual(plain);
    for (const t of [x0, gate, ...blocks]) t.dispose();
  });

  it('runs each parameter’s gradient hook once per backward, with the whole gradient, also for a weight used inside and outside', async () => {
    const dtype = floatDtype();
    manualSeed(3);
    const lin = new Linear(3, 3, { dtype });
    const seen: number[][] = [];
    const pending: Tensor[] = [];
    lin.weight.registerHook((g) => void pending.push(keep(g.detach().clone())));
    const loss = (ckpt: boolean) =>
      scope(() => {
        const x = rand([2, 3], { dtype });
        const inner = ckpt ? checkpoint((a) => lin.forward(lin.forward(a)), x) : lin.forward(lin.forward(x));
        // The weight is read again outside the checkpoint: its hook still sees one, summed gradient.
        lin.forward(inner).square().sum().backward();
      });
    for (const ckpt of [false, true]) {
      manualSeed(11);
      loss(ckpt);
      seen.push(...(await read(() => pending.splice(0))));
    }
    expect(seen).toHaveLength(2);
    for (let i = 0; i < seen[0].length; i++) expect(seen[1][i]).toBeCloseTo(seen[0][i], 5);
    lin.dispose();
  });

  it('frees the recomputed activations: nothing is left after many steps, and live tensors stay flat', async () => {
    const blocks = [new Block(4, 8, 0.2, floatDtype()), new Block(4, 8, 0.2, floatDtype())];
    const x0 = keep(rand([2, 5, 4], { dtype: floatDtype() }));
    const gate = keep(rand([8], { dtype: floatDtype() }));
    gradients(blocks, x0, gate, 1, true).forEach((t) => t.dispose());
    for (const b of blocks) b.zeroGrad();
    const live: number[] = [];
    await expectNoLeaks(() => {
      for (let step = 0; step < 20; step++) {
        gradients(blocks, x0, gate, step, true).forEach((t) => t.dispose());
        for (const b of blocks) b.zeroGrad();
        live.push(memoryStats().liveTensors);
      }
    });
    expect(new Set(live).size).toBe(1);
    for (const t of [x0, gate, ...blocks]) t.dispose();
  });

  it('keeps fewer bytes at the peak of a step through a deep stack than the plain call', () => {
    const dtype = floatDtype();
    const blocks = Array.from({ length: 8 }, () => new Block(16, 64, 0.1, dtype));
    const x0 = keep(rand([4, 32, 16], { dtype }));
    const gate = keep(rand([64], { dtype }));
    const peak = (ckpt: boolean) => {
      gradients(blocks, x0, gate, 5, ckpt).forEach((t) => t.dispose());
      for (const b of blocks) b.zeroGrad();
      if (!resetPeakBytes()) return null;
      const before = memoryStats().bytesInUse;
      gradients(blocks, x0, gate, 5, ckpt).forEach((t) => t.dispose());
      for (const b of blocks) b.zeroGrad();
      return memoryStats().peakBytes - before;
    };
    const plain = peak(false);
    const ckpt = peak(true);
    if (plain === null || ckpt === null) return expect.fail(`${backend.name} does not reset its peak bytes`);
    // 8 blocks × (LayerNorm, two products, GELU, dropout…) of [4, 32, 64]: the plain step keeps all of them.
    expect(ckpt).toBeLessThan(plain * 0.6);
    for (const t of [x0, gate, ...blocks]) t.dispose();
  });

  it('is a plain call without grad mode, and when nothing it reads requires grad', async () => {
    const x = keep(rand([3]));
    const calls: boolean[] = [];
    const fn = (a: Tensor) => {
      calls.push(true);
      return a.mul(2);
    };
    const y1 = noGrad(() => checkpoint(fn, x));
    const y2 = checkpoint(fn, x);
    expect([y1.requiresGrad, y2.requiresGrad, calls.length]).toEqual([false, false, 2]);
    for (const t of [x, y1, y2]) t.dispose();
  });

  it('passes the gradient of an input it returns unchanged, and of a tensor requiring grad read from the closure', async () => {
    const dtype = floatDtype();
    const a = keep(rand([3], { dtype }).requiresGrad_());
    const b = keep(rand([3], { dtype }).requiresGrad_());
    const got = await read(() => {
      const c = b.mul(3); // a non-leaf from outside, read through the closure
      const y = checkpoint((u) => u, a);
      const z = checkpoint((u) => u.mul(c), a);
      y.add(z).sum().backward();
      return [a.grad as Tensor, b.grad as Tensor, c.mul(1), b.mul(1)];
    });
    const [ga, gb, c, bv] = got;
    const av = await read(() => a.mul(1));
    ga.forEach((g, i) => expect(g).toBeCloseTo(1 + c[i], 5));
    gb.forEach((g, i) => expect(g).toBeCloseTo(3 * av[i], 5));
    expect(bv).toHaveLength(3);
    for (const t of [a, b]) t.dispose();
  });

  it('stops at an input that fn also holds by its original handle (a non-leaf made outside)', async () => {
    const dtype = floatDtype();
    const a = keep(rand([4], { dtype, low: 1, high: 2 }).requiresGrad_());
    const [ga, av] = await read(() => {
      const a2 = a.mul(2);
      // fn squares its input through the argument and through the closure's own handle on it.
      checkpoint((u) => u.mul(a2), a2).sum().backward();
      return [a.grad as Tensor, a.mul(1)];
    });
    // d/da Σ (2a)² = 8a
    ga.forEach((g, i) => expect(g).toBeCloseTo(8 * av[i], 5));
    a.dispose();
  });
});
