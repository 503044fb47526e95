import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { simd, values, view } from './tiers.js';

/**
 * softmax and softmaxBackward: the WebAssembly SIMD rows (rows-f32.wat, float32 lanes) against float64 math from the
 * definitions, each output within an error bound derived from the kernel's arithmetic. U = 2⁻²⁴; d = x − max.
 *
 * Forward: d rounds once (U·|d|, and x − max is exact near the max); e^d within 2U more (scripts/fit-f32.py: 0.92
 * ulp), so each kept e^d within (|d| + 2)U. Σ e^d in float32 blocks of at most 12 terms per lane (11U), the blocks in
 * float64: with D̄ = Σ e^d·|d| / Σ e^d, Σ is within (13 + D̄)U. Then
 *   softmax = e^d · float32(1/Σ):         |Δy| ≤ U·y·(|d| + D̄ + 17) + 2⁻¹⁴⁹
 *   log-softmax = d − float32(log Σ):     |Δy| ≤ U·(|d| + |log Σ| + |y| + D̄ + 14)
 * (d ≤ 0 and log Σ ≥ 0: the subtraction never cancels, so a row offset by 1e4 keeps float32 accuracy.)
 * Backward, s = Σ dy·y (softmax) or Σ dy (log-softmax) in the same float32 blocks (products U, blocks 11U):
 *   softmax dx = y·(dy − s):              |Δdx| ≤ U·|y|·(12·Σ|dy·y| + 3|s| + 3|dy|) + 2⁻¹⁴⁹
 *   log-softmax dx = dy − e^y·s:          |Δdx| ≤ U·(|dy| + e^y·(5|s| + 12·Σ|dy|)) + 2⁻¹⁴⁹·(1 + |s|)
 */
const U = 2 ** -24;
const TINY = 2 ** -149;

/** softmax or log-softmax of each row in float64, and each element's bound. */
function forwardReference(x: Float32Array, rows: number, cols: number, log: boolean) {
  const want = new Float64Array(x.length);
  const bound = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    const row = Array.from(x.subarray(r * cols, (r + 1) * cols));
    let max = row.some(Number.isNaN) ? NaN : Math.max(...row);
    if (max === -Infinity) max = 0; // a row of −inf: e^d = 0 everywhere, 0/0 = NaN, as PyTorch
    const d = row.map((v) => v - max);
    const e = d.map(Math.exp);
    const sum = e.reduce((s, v) => s + v, 0);
    const dBar = e.reduce((s, v, j) => (v > 0 ? s + v * Math.abs(d[j]) : s), 0) / sum;
    const lse = Math.log(sum);
    for (let j = 0; j < cols; j++) {
      const i = r * cols + j;
      want[i] = log ? d[j] - lse : e[j] / sum;
      if (log) bound[i] = U * (Math.abs(d[j]) + Math.abs(lse) + Math.abs(want[i]) + dBar + 14);
      else bound[i] = (e[j] > 0 ? U * want[i] * (Math.abs(d[j]) + dBar + 17) : 0) + TINY; // e^(−inf) = 0: exactly 0
    }
  }
  return { want, bound };
}

/** The backward in float64 from the same float32 y and dy the kernel reads, and each element's bound. */
function backwardReference(y: Float32Array, dy: Float32Array, rows: number, cols: number, log: boolean) {
  const want = new Float64Array(y.length);
  const bound = new Float64Array(y.length);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let s = 0;
    let mag = 0;
    for (let j = 0; j < cols; j++) {
      s += log ? dy[o + j] : dy[o + j] * y[o + j];
      mag += Math.abs(log ? dy[o + j] : dy[o + j] * y[o + j]);
    }
    for (let j = 0; j < cols; j++) {
      const [yj, g] = [y[o + j], dy[o + j]];
      if (log) {
        const e = Math.exp(yj);
        want[o + j] = g - e * s;
        bound[o + j] = U * (Math.abs(g) + e * (5 * Math.abs(s) + 12 * mag)) + TINY * (1 + Math.abs(s));
      } else {
        want[o + j] = yj * (g - s);
        bound[o + j] = U * Math.abs(yj) * (12 * mag + 3 * Math.abs(s) + 3 * Math.abs(g)) + TINY;
      }
    }
  }
  return { want, bound };
}

/** Each got[i] within bound[i] of want[i]; where the exact value is NaN or ±inf in float32, exactly that. */
function check(got: Float32Array, want: Float64Array, bound: Float64Array, what: string): void {
  for (let i = 0; i < want.length; i++) {
    const w = Math.fround(want[i]);
    const ok = Number.isNaN(w) ? Number.isNaN(got[i]) : !Number.isFinite(w) ? got[i] === w : Math.abs(got[i] - want[i]) <= bound[i];
    if (!ok) throw new Error(`${what}[${i}] = ${got[i]}, exact ${want[i]} ± ${bound[i]}`);
  }
}

/** Runs the kernel and frees what it made. */
function run(f: () => ReturnType<typeof simd.softmax>, size: number, inputs: ReturnType<typeof view>[]): Float32Array {
  const out = f();
  const got = simd.readSync(out, 'float32', size) as Float32Array;
  simd.free(out);
  for (const v of inputs) simd.free(v.storage);
  return got;
}

describe('softmax: WebAssembly SIMD rows against float64 math', () => {
  test.prop(
    [fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 300 }), fc.boolean(), fc.boolean(), fc.constantFrom(0, 1e4, -3000), fc.integer()],
    { numRuns: 120 },
  )('softmax and log-softmax rows, forward and backward, are within their derived error bounds (rows offset by 1e4 too)', (rows, cols, log, specials, offset, seed) => {
    const size = rows * cols;
    const x = values(seed, size, specials).map((v) => v + offset);
    const dy = values(seed + 1, size, false);
    const fwd = forwardReference(x, rows, cols, log);
    const xv = view(simd, x, [rows, cols], [], false);
    check(run(() => simd.softmax(xv, cols, log), size, [xv]), fwd.want, fwd.bound, log ? 'log-softmax' : 'softmax');
    // the backward reads a y of its own: the float32 rounding of the exact forward
    const y = Float32Array.from(fwd.want);
    const bwd = backwardReference(y, dy, rows, cols, log);
    const [yv, dyv] = [view(simd, y, [rows, cols], [], false), view(simd, dy, [rows, cols], [], false)];
    check(run(() => simd.softmaxBackward(yv, dyv, cols, log), size, [yv, dyv]), bwd.want, bwd.bound, log ? 'log-softmax backward' : 'softmax backward');
  });

  it('a softmax row of -inf gives NaN, as PyTorch does', () => {
    for (const log of [false, true]) {
      const x = view(simd, new Float32Array(6).fill(-Infinity), [1, 6], [], false);
      const y = simd.softmax(x, 6, log);
      expect(Array.from(simd.readSync(y, 'float32', 6)).every(Number.isNaN)).toBe(true);
      simd.free(x.storage);
      simd.free(y);
    }
  });

  it('frees its scratch', () => {
    expect(simd.memoryStats().bytesInUse).toBe(0);
  });
});
