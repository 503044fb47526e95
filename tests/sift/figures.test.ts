/**
 * The measures behind the paper's Figures 3(d) and 4, against float64 references written from their definitions:
 *
 * - share of the squared norm held by the top ⌈x·n⌉ components by magnitude: Σ_top g² / Σ g²;
 * - the authors' measure, the L2 norm ratio of the same components: ‖g[top]‖ / ‖g‖;
 * - Figure 4: per step, the share held by the components the FIRST gradient ranked top-x beside the step's own top-x,
 *   each averaged over the tracked matrices.
 *
 * The gradients are chosen by the test: the loss Σ_p Σ p ⊙ C_p has gradient C_p exactly, so the reference sorts the
 * very numbers the library sees (float32-rounded by the generator), summed over batches where there are several.
 */
import { fc, test } from '@fast-check/vitest';
import { Module, parameter } from '@siftjs/nn';
import { analyzeGradients, type GradientShare, meanShares, SelectionStability } from '@siftjs/sift-optimizer';
import { memoryStats, scope, type Tensor, tensor, zeros } from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from '../support/backends.js';
import { byPrecision, expectClose } from '../support/close.js';

// ---------------------------------------------------------------------------------------------------------------
// The references: plain float64 sorts, nothing shared with the library.

/** Σ of the squares of the k largest |v|, in float64 (ties cannot change a sum of magnitudes). */
function topSquares(v: ArrayLike<number>, k: number): number {
  const mags = Array.from(v, Math.abs).sort((a, b) => b - a);
  let s = 0;
  for (let i = 0; i < k; i++) s += mags[i] * mags[i];
  return s;
}

const squares = (v: ArrayLike<number>) => Array.from(v).reduce((s, x) => s + x * x, 0);

/** The k flat indices of largest |v| (ties to the lowest index, the rule topkAbs documents). */
function topIndices(v: ArrayLike<number>, k: number): number[] {
  return Array.from(v, (x, i) => [Math.abs(x), i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i);
}

const kOf = (x: number, n: number) => Math.ceil(x * n);

// ---------------------------------------------------------------------------------------------------------------
// The model: a few free parameters whose gradients the test sets through a linear loss.

class Free extends Module {
  constructor(shapes: number[][]) {
    super();
    shapes.forEach((shape, i) => {
      (this as unknown as Record<string, Tensor>)[`p${i}`] = parameter(zeros(shape));
    });
  }
}

/** Σ_p Σ p ⊙ C_p for the tensors given (null: that parameter takes no part, so its grad stays null). */
function linearLoss(model: Module, coefficients: (number[] | null)[]): Tensor {
  return scope(() => {
    const terms = model
      .parameters()
      .map((p, i) => (coefficients[i] ? p.mul(tensor(Float32Array.from(coefficients[i]!), { shape: p.shape })).sum() : null))
      .filter((t): t is Tensor => t !== null);
    return terms.reduce((a, b) => a.add(b));
  });
}

/** One backward pass of linearLoss; the loss itself is freed. */
function backwardOf(model: Module, coefficients: (number[] | null)[]): void {
  const loss = linearLoss(model, coefficients);
  loss.backward();
  loss.dispose();
}

// Values of gradient components: float32 numbers (what a gradient holds) whose squares are not subnormal either
// (|v| ≥ 2^-63: the measures sum squares, and SwiftShader flushes subnormals — a lone 1.2e-20 once squared to zero on
// WebGPU, so a share of 1 read 0), with many exact zeros and repeated magnitudes so the top-k boundary often falls
// inside a tie.
const component = fc.oneof(
  fc.float({ min: -64, max: 64, noNaN: true }).map((v) => (Math.abs(v) < 2 ** -63 ? 0 : v)),
  fc.constantFrom(0, 1, -1, 0.5, -2),
);
const shapeArb = fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 13 }));
const fractionArb = fc.oneof(fc.double({ min: 1e-3, max: 1, noNaN: true }), fc.constantFrom(0.001, 0.01, 0.1, 1));

describe.each(backendsUnderTest())('the measures of Figures 3(d) and 4 on $name', (backend) => {
  beforeAll(() => backend.start());

  // Summed in float64 on the CPU; WebGPU's widest float is float32.
  const rtol = () => byPrecision(1e-12, 2e-5);

  test.prop(
    {
      // Two matrices and a vector; each batch gives every one of them a gradient.
      shapes: fc.tuple(shapeArb, shapeArb, fc.integer({ min: 1, max: 7 })),
      batches: fc.integer({ min: 1, max: 3 }),
      fractions: fc.uniqueArray(fractionArb, { minLength: 1, maxLength: 4 }),
      seed: fc.integer(),
    },
    { numRuns: 25 },
  )('analyzeGradients: the squared-norm share and the norm ratio ‖G[top ⌈x·n⌉]‖/‖G‖ equal a float64 sort of the summed gradient', async (p) => {
    const shapes = [p.shapes[0], p.shapes[1], [p.shapes[2]]];
    const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
    const values = fc.sample(fc.tuple(...sizes.map((n) => fc.array(component, { minLength: n, maxLength: n }))), { numRuns: p.batches, seed: p.seed });
    const model = new Free(shapes);
    const live = memoryStats().liveTensors;
    const report = await analyzeGradients(model, values, { fractions: p.fractions, loss: (m, batch) => linearLoss(m, batch) });
    expect(memoryStats().liveTensors, 'tensors left behind').toBe(live);
    // Matrices only by default: the vector p2 is not reported.
    expect(report.map((r) => r.name)).toEqual(['p0', 'p1']);
    for (const [t, r] of report.entries()) {
      // The gradient each backward accumulates, in float32 as the library holds it.
      const g = new Float32Array(sizes[t]);
      for (const batch of values) batch[t].forEach((v, i) => (g[i] += v));
      const total = squares(g);
      const shares = p.fractions.map((x) => (total > 0 ? topSquares(g, kOf(x, g.length)) / total : 0));
      const ratios = p.fractions.map((x) => (total > 0 ? Math.sqrt(topSquares(g, kOf(x, g.length))) / Math.sqrt(total) : 0));
      // Batches summed in float32 may round differently from one order to another: only the CPU's one batch is exact.
      const tol = p.batches === 1 ? rtol() : byPrecision(1e-6, 2e-5);
      expectClose(p.fractions.map((x) => r.shares[String(x)]), shares, tol, 1e-300, `${r.name} squared-norm shares`);
      expectClose(p.fractions.map((x) => r.normRatios[String(x)]), ratios, tol, 1e-300, `${r.name} norm ratios`);
      expectClose([r.norm], [Math.sqrt(total)], tol, 1e-300, `${r.name} norm`);
      expect(r.shape).toEqual(shapes[t]);
    }
    // Every parameter's grad is freed and its requires-grad flag restored.
    expect(model.parameters().every((q) => q.grad === null && q.requiresGrad)).toBe(true);
    model.dispose();
  });

  it("analyzeGradients: today's 37% squared-norm share is a 61% norm ratio (one component of 0.6, the rest of 0.8 spread thin)", async () => {
    // ‖g‖² = 0.36 + 0.64 = 1; the top 1 of 65 components holds 0.36 of the squared norm, √0.36 = 0.6 of the norm.
    const rest = 0.8 / 8; // 64 components of 0.1: Σ = 64 · 0.01 = 0.64
    const g = [0.6, ...Array.from({ length: 64 }, () => rest)];
    const model = new Free([[5, 13]]);
    const [r] = await analyzeGradients(model, [[g]], { fractions: [0.01], loss: (m, batch) => linearLoss(m, batch) }); // k = ⌈0.65⌉ = 1
    expect(r.shares['0.01']).toBeCloseTo(0.36, byPrecision(7, 5));
    expect(r.normRatios['0.01']).toBeCloseTo(0.6, byPrecision(7, 5));
    model.dispose();
  });

  it('analyzeGradients: a parameter that takes no part in the loss holds a zero share of a zero norm, not NaN', async () => {
    const model = new Free([[3, 4], [2, 2]]);
    const [a, b] = await analyzeGradients(model, [[[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], null]], { fractions: [0.5], loss: (m, batch) => linearLoss(m, batch) });
    expect(a.normRatios['0.5']).toBeGreaterThan(0);
    expect([b.norm, b.shares['0.5'], b.normRatios['0.5']]).toEqual([0, 0, 0]);
    model.dispose();
  });

  test.prop(
    {
      shapes: fc.array(shapeArb, { minLength: 1, maxLength: 3 }),
      steps: fc.integer({ min: 1, max: 5 }),
      fraction: fractionArb,
      seed: fc.integer(),
    },
    { numRuns: 25 },
  )("SelectionStability: each step's first-batch and own top-x shares and norm ratios equal a float64 reference, averaged over the matrices", async (p) => {
    const sizes = p.shapes.map(([r, c]) => r * c);
    // Per step, per tensor: a gradient, or (from step 1 on, sometimes) none — that tensor then leaves the step's mean.
    const grads = fc.sample(
      fc.tuple(...sizes.map((n) => fc.option(fc.array(component, { minLength: n, maxLength: n }), { freq: 4 }))),
      { numRuns: p.steps, seed: p.seed },
    );
    grads[0] = grads[0].map((g, t) => g ?? Array.from({ length: sizes[t] }, (_, i) => i - 3)); // the first step has them all
    const model = new Free(p.shapes);
    const live = memoryStats().liveTensors;
    const tracker = new SelectionStability(model, p.fraction);
    const firstTop = grads[0].map((g) => topIndices(Float32Array.from(g!), kOf(p.fraction, g!.length)));
    for (const [step, gs] of grads.entries()) {
      const present = gs.map((g, t) => [g, t] as const).filter(([g]) => g !== null);
      if (present.length === 0) {
        await expect(tracker.observe()).rejects.toThrow(/no tracked parameter has a gradient/);
        continue;
      }
      backwardOf(model, gs);
      const point = await tracker.observe();
      const each = present.map(([g, t]) => {
        const v = Float32Array.from(g!);
        const total = squares(v);
        const first = firstTop[t].reduce((s, i) => s + v[i] * v[i], 0);
        const own = topSquares(v, kOf(p.fraction, v.length));
        return total > 0 ? [first / total, own / total, Math.sqrt(first) / Math.sqrt(total), Math.sqrt(own) / Math.sqrt(total)] : [0, 0, 0, 0];
      });
      const mean = (j: number) => each.reduce((s, e) => s + e[j], 0) / each.length;
      expect(point.step).toBe(tracker.points.length - 1);
      expectClose(
        [point.firstBatchShare, point.ownShare, point.firstBatchNormRatio, point.ownNormRatio],
        [mean(0), mean(1), mean(2), mean(3)],
        rtol(),
        byPrecision(1e-15, 1e-7),
        `step ${step}`,
      );
      // Laws: no fixed set of k components holds more than the step's own top k; at the first step they are one set.
      expect(point.firstBatchShare).toBeLessThanOrEqual(point.ownShare * (1 + rtol()));
      if (step === 0) expect(point.firstBatchShare).toBeCloseTo(point.ownShare, byPrecision(12, 6));
      for (const q of model.parameters()) {
        q.grad?.dispose();
        q.grad = null;
      }
    }
    tracker.dispose();
    expect(memoryStats().liveTensors, 'the tracker frees the indices it kept').toBe(live);
    model.dispose();
  });

  it("SelectionStability: a matrix without a gradient at the first step takes its indices from its own first gradient", async () => {
    const model = new Free([[2, 2], [2, 2]]);
    const tracker = new SelectionStability(model, 0.25);
    backwardOf(model, [[4, 3, 2, 1], null]);
    const p0 = await tracker.observe();
    expect([p0.firstBatchShare, p0.ownShare]).toEqual([16 / 30, 16 / 30].map((x) => expect.closeTo(x, byPrecision(12, 6))));
    for (const q of model.parameters()) {
      q.grad?.dispose();
      q.grad = null;
    }
    // p1 first seen now: its top-1 is index 3 (|8|); p0's stays index 0, which now holds 1 of 1 + 4 + 9 + 16 = 30.
    backwardOf(model, [[1, 2, 3, 4], [1, 0, 0, 8]]);
    const p1 = await tracker.observe();
    expect(p1.firstBatchShare).toBeCloseTo((1 / 30 + 64 / 65) / 2, byPrecision(12, 6));
    expect(p1.ownShare).toBeCloseTo((16 / 30 + 64 / 65) / 2, byPrecision(12, 6));
    expect(p1.firstBatchNormRatio).toBeCloseTo((Math.sqrt(1 / 30) + Math.sqrt(64 / 65)) / 2, byPrecision(12, 6));
    tracker.dispose();
    model.dispose();
  });

  it('SelectionStability: a fraction outside (0, 1] or nothing to track is a RangeError naming it', () => {
    const model = new Free([[2, 3]]);
    expect(() => new SelectionStability(model, 0)).toThrow(/fraction must be in \(0, 1\], got 0/);
    expect(() => new SelectionStability(model, 1.5)).toThrow(RangeError);
    expect(() => new SelectionStability(model, 0.1, () => false)).toThrow(/no parameter to track/);
    model.dispose();
  });
});

describe('meanShares', () => {
  const row = (name: string, share: number): GradientShare => ({ name, shape: [2, 2], norm: 1, shares: { '0.01': share }, normRatios: { '0.01': Math.sqrt(share) } });

  it('averages the squared-norm shares by default and the norm ratios when asked (the mean of the roots, not the root of the mean)', () => {
    const report = [row('a', 0.25), row('b', 0.81)];
    expect(meanShares(report)['0.01']).toBeCloseTo(0.53, 12);
    expect(meanShares(report, 'shares')['0.01']).toBeCloseTo(0.53, 12);
    expect(meanShares(report, 'normRatios')['0.01']).toBeCloseTo(0.7, 12);
    expect(meanShares([], 'normRatios')).toEqual({});
  });
});
