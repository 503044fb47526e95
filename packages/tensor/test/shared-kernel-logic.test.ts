import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { selectTopkAbs } from '../src/host/select-topk-abs.js';
import { adamwBiasCorrection, adamwConstants } from '../src/ops/optim.js';
import { contiguousStrides, splitAxes } from '../src/shape.js';

/**
 * The logic every backend shares and @siftjs/tensor holds once (issue 18): the host top-k, the reduction's axis split,
 * the AdamW constants. Each against a naive reference written from the definition, not from the implementation.
 */

/** The definition: sort every index by |x| descending (NaN largest), ties by lower index; take k. */
function naiveTopk(x: number[], k: number): number[] {
  const mag = (v: number) => (Number.isNaN(v) ? Infinity : Math.abs(v));
  return x
    .map((v, i) => i)
    .sort((a, b) => mag(x[b]) - mag(x[a]) || a - b)
    .slice(0, k);
}

describe('selectTopkAbs (the host top-k of the CPU, CUDA and the fallback)', () => {
  it('largest magnitudes first, ties by lower index, NaN largest', () => {
    const x = [1, -5, 3, 5, Number.NaN, 0, -3];
    expect(Array.from(selectTopkAbs(x, 4))).toEqual([4, 1, 3, 2]);
    expect(Array.from(selectTopkAbs(x, 0))).toEqual([]);
    expect(Array.from(selectTopkAbs(x, 7))).toEqual([4, 1, 3, 2, 6, 0, 5]);
    expect(() => selectTopkAbs(x, 8)).toThrow(RangeError);
  });

  // Few distinct values, so ties are common and the quickselect's partition meets them.
  test.prop([fc.array(fc.constantFrom(0, 1, -1, 2, -2, 2.5, Number.NaN, Infinity, -Infinity), { minLength: 1, maxLength: 200 }), fc.double({ min: 0, max: 1, noNaN: true })])(
    'equals a full sort by (|x| descending, index ascending)',
    (x, frac) => {
      const k = Math.floor(frac * x.length);
      expect(Array.from(selectTopkAbs(x, k))).toEqual(naiveTopk(x, k));
    },
  );
});

describe('splitAxes (the kept / reduced split of every reduce and argReduce)', () => {
  test.prop([fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 5 }), fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), fc.boolean()])(
    'each output and each of its elements lands on the offset the view gives it (row- or column-major views)',
    (shape, pick, columnMajor) => {
      const strides = columnMajor ? contiguousStrides([...shape].reverse()).reverse() : contiguousStrides(shape);
      const axes = shape.map((_, i) => i).filter((i) => pick[i]);
      const { kept, reduced, keptSize, reducedSize } = splitAxes(shape, strides, axes);
      // Naively: every multi-index, its offset, grouped by the kept coordinates in row-major order.
      const groups = new Map<string, number[]>();
      const walk = (dim: number, idx: number[]) => {
        if (dim === shape.length) {
          const key = idx.filter((_, i) => !axes.includes(i)).join(',');
          groups.set(key, [...(groups.get(key) ?? []), idx.reduce((o, c, i) => o + c * strides[i], 0)]);
          return;
        }
        for (let c = 0; c < shape[dim]; c++) walk(dim + 1, [...idx, c]);
      };
      walk(0, []);
      const offsets = (c: { shape: number[]; strides: number[][] }) => {
        const out: number[] = [];
        const go = (d: number, o: number) => {
          if (d === c.shape.length) return void out.push(o);
          for (let i = 0; i < c.shape[d]; i++) go(d + 1, o + i * c.strides[0][d]);
        };
        go(0, 0);
        return out;
      };
      const got = offsets(kept).map((base) => offsets(reduced).map((r) => base + r));
      expect(keptSize).toBe(groups.size);
      expect(reducedSize).toBe(got[0].length);
      expect(got).toEqual([...groups.values()]);
    },
  );
});

describe('adamwConstants (every backend takes its step constants from here)', () => {
  it('follows PyTorch: decay 1 − lr·λ, step size lr/(1 − β₁ᵗ), √(1 − β₂ᵗ), the moments’ weights and ln β', () => {
    const c = adamwConstants({ lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step: 3 });
    expect(c.decay).toBe(1 - 0.01 * 0.1);
    expect(c.stepSize).toBeCloseTo(0.01 / (1 - 0.729), 15);
    expect(c.bc2).toBeCloseTo(Math.sqrt(1 - 0.997002999), 15);
    expect([c.oneMinusBeta1, c.oneMinusBeta2]).toEqual([1 - 0.9, 1 - 0.999]);
    expect(Math.exp(3 * c.logBeta1)).toBeCloseTo(0.729, 15);
    expect(adamwBiasCorrection(c, 3)).toEqual({ stepSize: c.stepSize, bc2: c.bc2 });
  });
});
