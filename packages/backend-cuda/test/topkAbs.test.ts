import { describe, expect, it } from 'vitest';
import { selectTopk } from '../src/kernels/topkAbs.js';

describe('top-k selection (host part of topkAbs)', () => {
  it('largest magnitudes first, ties by lower index, NaN (as +inf) largest', () => {
    const mag = Float64Array.from([1, 5, 3, 5, Infinity, 0, 3]);
    expect(Array.from(selectTopk(mag, 4))).toEqual([4, 1, 3, 2]);
    expect(Array.from(selectTopk(mag, 0))).toEqual([]);
    expect(Array.from(selectTopk(mag, 7))).toEqual([4, 1, 3, 2, 6, 0, 5]);
    expect(() => selectTopk(mag, 8)).toThrow(RangeError);
  });
});
