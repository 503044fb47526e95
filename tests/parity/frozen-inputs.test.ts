import { fc, test } from '@fast-check/vitest';
import * as T from '@siftjs/tensor';
import { AutogradError, getBackend, type NormGradients, type Tensor, tensor } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { unneededGradientCount } from '../../packages/tensor/src/autograd/engine.js';
import { record } from '../../packages/tensor/src/autograd/record.js';
import { backendsUnderTest, floatDtype } from '../support/backends.js';
import { expectNoLeaks } from '../support/memory.js';
import { values } from '../support/read.js';

/**
 * Frozen inputs (requiresGrad off: the weights SIFT, LoRA and BitFit do not train) get no gradient, and no op's
 * backward computes one for them only to throw it away: every op with several differentiable inputs, under every
 * choice of which inputs require a gradient. Issue 16: layerNorm returned weight and bias gradients for frozen
 * parameters and the engine dropped them without freeing them (16 tensors a training step).
 *
 * The laws: an input gets a gradient exactly when it requires one; that gradient does not depend on which other
 * inputs require one (each op's gradients are checked against finite differences in the other parity files);
 * the engine is handed no gradient for an input that needs none (unneededGradientCount); nothing is left behind;
 * and the fused norm kernels are asked only for the gradients of inputs that require one.
 */

interface OpCase {
  name: string;
  /** Float inputs, each of which may be frozen. */
  shapes: number[][];
  run(xs: Tensor[]): Tensor;
  /** Inputs in [0.5, 1.5]: pow's base and div's divisor away from 0. */
  positive?: boolean;
  /** A fused norm: whether it has a weight and a bias (its inputs are [x, weight?, bias?]). */
  norm?: { weight: boolean; bias: boolean };
}

const ids = () => tensor([2, 0, 3], { dtype: 'int32' });
const cond = () => tensor([[true, false, true], [false, false, true]]);

const OPS: OpCase[] = [
  { name: 'add (broadcast)', shapes: [[2, 3], [3]], run: ([a, b]) => a.add(b) },
  { name: 'sub (broadcast)', shapes: [[2, 1], [2, 3]], run: ([a, b]) => a.sub(b) },
  { name: 'mul', shapes: [[2, 3], [2, 3]], run: ([a, b]) => a.mul(b) },
  { name: 'div', shapes: [[2, 3], [1, 3]], run: ([a, b]) => a.div(b), positive: true },
  { name: 'pow', shapes: [[2, 3], [2, 3]], run: ([a, b]) => a.pow(b), positive: true },
  { name: 'maximum', shapes: [[2, 3], [3]], run: ([a, b]) => a.maximum(b) },
  { name: 'minimum', shapes: [[2, 3], [2, 3]], run: ([a, b]) => a.minimum(b) },
  { name: 'where', shapes: [[2, 3], [3]], run: ([a, b]) => T.scope(() => T.where(cond(), a, b)) },
  { name: 'matmul (batched, broadcast)', shapes: [[2, 2, 3], [3, 4]], run: ([a, b]) => a.matmul(b) },
  { name: 'matmul (vector)', shapes: [[3], [3, 2]], run: ([a, b]) => a.matmul(b) },
  { name: 'concat', shapes: [[2, 3], [1, 3], [2, 3]], run: (xs) => T.concat(xs, 0) },
  { name: 'stack', shapes: [[3], [3]], run: (xs) => T.stack(xs, 1) },
  { name: 'scatterFlat add', shapes: [[2, 3], [3]], run: ([x, v]) => T.scope(() => T.scatterFlat(x, ids(), v, 'add')) },
  { name: 'scatterFlat set', shapes: [[2, 3], [3]], run: ([x, v]) => T.scope(() => T.scatterFlat(x, ids(), v, 'set')) },
  { name: 'layerNorm (weight, bias)', shapes: [[3, 5], [5], [5]], run: ([x, w, b]) => T.layerNorm(x, 5, w, b), norm: { weight: true, bias: true } },
  { name: 'layerNorm (weight only)', shapes: [[2, 2, 4], [2, 4]], run: ([x, w]) => T.layerNorm(x, [2, 4], w, null), norm: { weight: true, bias: false } },
  { name: 'layerNorm (bias only)', shapes: [[3, 5], [5]], run: ([x, b]) => T.layerNorm(x, 5, null, b), norm: { weight: false, bias: true } },
  { name: 'rmsNorm', shapes: [[3, 6], [6]], run: ([x, w]) => T.rmsNorm(x, w), norm: { weight: true, bias: false } },
];

/** Every non-empty choice of inputs that require a gradient, as bit masks. */
function masks(n: number): boolean[][] {
  return Array.from({ length: 2 ** n - 1 }, (_, m) => Array.from({ length: n }, (_, i) => (((m + 1) >> i) & 1) === 1));
}

/** Deterministic values in [-1, 1] (or [0.5, 1.5]), different per input. */
function data(shape: readonly number[], seed: number, positive: boolean): number[] {
  const n = shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, (_, i) => {
    const u = Math.sin(seed * 12.9898 + i * 78.233) * 0.5 + 0.5;
    return positive ? 0.5 + u : 2 * u - 1;
  });
}

/**
 * Which gradients each fused norm backward was asked for, while `fn` runs; null on a backend without the fused
 * kernels (its norms run the references from primitives, where the same request decides what is computed).
 */
async function normRequests(fn: () => Promise<void>): Promise<NormGradients[] | null> {
  const b = getBackend();
  const asked: NormGradients[] = [];
  const { layerNormBackward, rmsNormBackward } = b;
  if (!layerNormBackward || !rmsNormBackward) {
    await fn();
    return null;
  }
  b.layerNormBackward = (...args) => (asked.push({ ...args[5] }), layerNormBackward.apply(b, args));
  b.rmsNormBackward = (...args) => (asked.push({ ...args[5], bias: false }), rmsNormBackward.apply(b, args));
  try {
    await fn();
  } finally {
    b.layerNormBackward = layerNormBackward;
    b.rmsNormBackward = rmsNormBackward;
  }
  return asked;
}

/** Runs the op with `mask` choosing the inputs that require a gradient; each input's gradient, or null. */
async function gradients(op: OpCase, mask: boolean[], seed: number): Promise<(number[] | null)[]> {
  const dtype = floatDtype();
  const xs = op.shapes.map((s, i) => tensor(data(s, seed + i, op.positive ?? false), { shape: s, dtype, requiresGrad: mask[i] }));
  const y = op.run(xs);
  // A weighted sum, so each output element has its own gradient.
  const w = tensor(data(y.shape, seed + 99, false), { shape: y.shape, dtype });
  const loss = T.scope(() => y.mul(w).sum());
  loss.backward();
  const grads = await Promise.all(xs.map((x) => (x.grad ? values(x.grad) : Promise.resolve(null))));
  for (const t of [...xs, y, w, loss]) t.dispose();
  return grads;
}

describe.each(backendsUnderTest())('frozen inputs on $name', (backend) => {
  beforeAll(() => backend.start());

  for (const op of OPS) {
    test.prop([fc.integer({ min: 1, max: 1000 })], { numRuns: 3 })(
      `${op.name}: gradients only for the inputs that require one, equal to those of an all-trainable run; none computed and dropped, nothing left behind`,
      async (seed) => {
        const all = await gradients(op, op.shapes.map(() => true), seed);
        for (const mask of masks(op.shapes.length)) {
          const dropped = unneededGradientCount();
          const asked = await normRequests(() =>
            expectNoLeaks(async () => {
              const got = await gradients(op, mask, seed);
              expect(got, `requires grad: ${mask}`).toEqual(all.map((g, i) => (mask[i] ? g : null)));
            }),
          );
          expect(unneededGradientCount() - dropped, `gradients computed for frozen inputs (requires grad: ${mask})`).toBe(0);
          if (op.norm && asked) {
            // The kernel is asked for exactly the gradients of the inputs that require one.
            const wanted = { input: mask[0], weight: op.norm.weight && mask[1], bias: op.norm.bias && mask[mask.length - 1] };
            expect(asked, `norm backward asked for (requires grad: ${mask})`).toEqual([wanted]);
          } else if (asked) expect(asked).toEqual([]);
        }
      },
    );
  }
});

/**
 * The engine's side, with rules that ignore `needs` (a rule written without it, or a backend's fused kernel that
 * computes every gradient): whatever a rule returns that no input takes is freed at once.
 */
describe.each(backendsUnderTest())('the autograd engine on $name', (backend) => {
  beforeAll(() => backend.start());

  /** y = a·b (elementwise) whose rule returns `extra` more gradients than inputs, and every gradient regardless of `needs`. */
  function greedyMul(a: Tensor, b: Tensor, extra = 0): Tensor {
    return record('greedyMul', T.noGrad(() => a.mul(b)), [a, b], (g, [as, bs]) => [g.mul(bs), g.mul(as), ...Array.from({ length: extra }, () => g.mul(2))], [a, b]);
  }

  it('frees a gradient returned for an input that needs none, and gradients past the inputs', async () => {
    await expectNoLeaks(async () => {
      const a = tensor([1, 2, 3], { requiresGrad: true });
      const b = tensor([4, 5, 6]);
      const dropped = unneededGradientCount();
      const loss = T.scope(() => greedyMul(a, b, 2).sum());
      loss.backward();
      expect(await values(a.grad as Tensor)).toEqual([4, 5, 6]);
      expect(b.grad).toBeNull();
      expect(unneededGradientCount() - dropped).toBe(1);
      for (const t of [a, b, loss]) t.dispose();
    });
  });

  it('a rule whose gradient has the wrong shape throws AutogradError and leaves nothing behind', async () => {
    await expectNoLeaks(() => {
      const a = tensor([1, 2, 3], { requiresGrad: true });
      const b = tensor([4, 5, 6], { requiresGrad: true });
      const y = record('badShape', T.noGrad(() => a.mul(b)), [a, b], (g) => [g.sum(), g.mul(2), g.mul(3)]);
      const loss = T.scope(() => y.sum());
      expect(() => loss.backward()).toThrow(AutogradError);
      expect([a.grad, b.grad]).toEqual([null, null]);
      for (const t of [a, b, y, loss]) t.dispose();
    });
  });
});
