import { expect } from 'vitest';
import { caps } from './backends.js';

/**
 * Elementwise |a − e| ≤ atol + rtol·|e|, NaN matching NaN and infinities matching exactly. The message names the
 * first offending index with both values.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number, what = ''): void {
  expect(actual.length, `${what}: element count`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (!Number.isFinite(e) && a === e) continue;
    const ok = Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!ok) {
      expect.fail(`${what}: element ${i} is ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`);
    }
  }
}

/**
 * What a check allows at the running backend's precision: `f64` where it has float64 (the CPU: the strict bound the
 * test was written with), `f32` where float64 checks run in float32 (WebGPU).
 */
export function byPrecision<T>(f64: T, f32: T): T {
  return caps().float64 ? f64 : f32;
}
