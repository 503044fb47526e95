import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import * as ref from './index.js';

/** The oracle is checked too: against values computed by hand or taken from tables. */
describe('the float64 reference', () => {
  it.each([
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [2, 0.9953222650189527],
    [2.5, 0.9995930479825550],
    [3, 0.9999779095030014],
    [-1.5, -0.9661051464753108],
  ])('erf(%d) = %d to 1e-14', (x, e) => expect(Math.abs(ref.erfScalar(x) - e)).toBeLessThan(1e-14));

  it('matmul of a 2×3 by a 3×2 matrix', () => {
    const a = ref.ref([2, 3], [1, 2, 3, 4, 5, 6]);
    const b = ref.ref([3, 2], [7, 8, 9, 10, 11, 12]);
    expect(Array.from(ref.matmul(a, b).data)).toEqual([58, 64, 139, 154]);
    expect(ref.matmul(ref.ref([3], [1, 2, 3]), b).shape).toEqual([2]);
  });

  it('broadcast shapes align on the right', () => {
    expect(ref.broadcastShapes([2, 1, 3], [4, 1])).toEqual([2, 4, 3]);
    expect(() => ref.broadcastShapes([2], [3])).toThrow();
  });

  test.prop([fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 1, maxLength: 8 })])('softmax sums to one', (v) => {
    const s = ref.softmax(ref.ref([v.length], v), 0);
    expect(Math.abs(s.data.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12);
  });

  it('cross-entropy of a tiny example, by hand', () => {
    const logits = ref.ref([2, 2], [0, 0, Math.log(3), 0]);
    // Row 0: p = 1/2 → ln 2. Row 1 (target 0): p = 3/4 → −ln(3/4).
    const loss = ref.crossEntropy(logits, [1, 0]).data[0];
    expect(loss).toBeCloseTo((Math.log(2) - Math.log(0.75)) / 2, 14);
    expect(ref.crossEntropy(logits, [1, -100]).data[0]).toBeCloseTo(Math.log(2), 14);
  });

  it('numericGrad of Σx² is 2x', () => {
    const x = ref.ref([3], [1, -2, 0.5]);
    const [g] = ref.numericGrad(([t]) => t.data.reduce((a, b) => a + b * b, 0), [x]);
    g.data.forEach((v, i) => expect(v).toBeCloseTo(2 * x.data[i], 8));
  });

  it('variance uses N − correction', () => {
    const x = ref.ref([4], [1, 2, 3, 4]);
    expect(ref.variance(x).data[0]).toBeCloseTo(5 / 3, 14);
    expect(ref.variance(x, undefined, false, 0).data[0]).toBeCloseTo(1.25, 14);
  });
});
