import { fc, test } from '@fast-check/vitest';
import type { BinaryOp, UnaryOp, View } from '@siftjs/tensor';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backend.js';
import { UNARY, UNARY_ROWS } from '../src/kernels/support/unary-ops.js';
import { mapUnary } from '../src/kernels/unary.js';

/** The WebAssembly SIMD elementwise kernels against the TypeScript ones: the same bits, whatever the layout. */
const simd = new CpuBackend({ threads: 1, blas: false });
const ts = new CpuBackend({ threads: 1, simd: false, blas: false });

function values(seed: number, length: number, specials: boolean): Float32Array {
  let s = seed | 0;
  const out = new Float32Array(length);
  const odd = [0, -0, Infinity, -Infinity, NaN, 1e-40, -3e38];
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) | 0;
    out[i] = specials && (s >>> 4) % 13 === 0 ? odd[(s >>> 8) % odd.length] : ((s >>> 8) / 2 ** 23 - 1) * 8;
  }
  return out;
}

/** A view of `shape` over `data`, broadcast along the dims in `bcast` (stride 0), optionally transposed (last two dims). */
function view(b: CpuBackend, data: Float32Array, shape: number[], bcast: boolean[], transpose: boolean): View {
  const dims = shape.map((d, i) => (bcast[i] ? 1 : d));
  const order = dims.map((_, i) => i);
  if (transpose && dims.length >= 2) [order[dims.length - 2], order[dims.length - 1]] = [order[dims.length - 1], order[dims.length - 2]];
  // storage laid out in `order`, strides mapped back to the logical dims
  const strides = new Array<number>(dims.length).fill(0);
  let s = 1;
  for (let k = order.length - 1; k >= 0; k--) {
    const d = order[k];
    strides[d] = bcast[d] ? 0 : s;
    s *= dims[d];
  }
  const size = dims.reduce((x, y) => x * y, 1);
  return { storage: b.upload('float32', data.subarray(0, size)), dtype: 'float32', shape, strides, offset: 0 };
}

const shapeArb = fc
  .array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 4 })
  .filter((s) => s.reduce((x, y) => x * y, 1) <= 100_000);

describe('WebAssembly SIMD elementwise kernels', () => {
  it('are in use here', () => {
    expect(simd.info().description).toContain('add/sub/mul/div');
    expect(simd.info().description).toContain('AdamW');
    expect(ts.info().description).not.toContain('add/sub/mul/div');
  });

  test.prop(
    [
      shapeArb,
      fc.constantFrom<BinaryOp>('add', 'sub', 'mul', 'div', 'pow', 'maximum'),
      fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      fc.boolean(),
      fc.boolean(),
      fc.integer(),
    ],
    { numRuns: 200 },
  )('binary ops give the TypeScript kernel\'s bits over broadcast and transposed operands', (shape, op, ba, bb, ta, specials, seed) => {
    const size = shape.reduce((x, y) => x * y, 1);
    const [da, db] = [values(seed, size, specials), values(seed ^ 0x5bd1e995, size, specials)];
    const [ra, rb] = [simd, ts].map((be) => {
      const a = view(be, da, shape, ba, ta);
      const b = view(be, db, shape, bb, false);
      const out = be.binary(op, a, b);
      const got = Array.from(be.readSync(out, 'float32', size));
      for (const st of [a.storage, b.storage, out]) be.free(st);
      return got;
    });
    expect(ra).toEqual(rb);
  });

  test.prop([shapeArb, fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), fc.boolean(), fc.boolean(), fc.integer()], { numRuns: 200 })(
    'sums over any axes give the TypeScript kernel\'s bits',
    (shape, which, transpose, specials, seed) => {
      const axes = shape.map((_, i) => i).filter((i) => which[i]);
      const size = shape.reduce((x, y) => x * y, 1);
      const data = values(seed, size, specials);
      const [ra, rb] = [simd, ts].map((be) => {
        const x = view(be, data, shape, [], transpose);
        const out = be.reduce('sum', x, axes);
        const n = size / axes.reduce((p, a) => p * shape[a], 1);
        const got = Array.from(be.readSync(out, 'float32', n));
        for (const st of [x.storage, out]) be.free(st);
        return got;
      });
      expect(ra).toEqual(rb);
    },
  );

  test.prop([shapeArb, fc.constantFrom(...(Object.keys(UNARY_ROWS) as UnaryOp[])), fc.boolean(), fc.integer()], { numRuns: 100 })(
    'unary ops written out per op give the generic loop\'s bits',
    (shape, op, transpose, seed) => {
      const size = shape.reduce((x, y) => x * y, 1);
      const data = values(seed, size, true);
      const g = view(ts, data, shape, [], transpose);
      ts.free(g.storage);
      const [fast, generic] = [new Float32Array(size), new Float32Array(size)];
      mapUnary(UNARY[op], data, g, fast, UNARY_ROWS[op]);
      mapUnary(UNARY[op], data, g, generic);
      expect(Array.from(fast)).toEqual(Array.from(generic));
    },
  );

  /** Within one float32 ulp (bit patterns of the same sign), and the same NaN / ±inf / ±0. */
  function closeBits(a: number[], b: number[]): void {
    const f = new Float32Array(2);
    const u = new Int32Array(f.buffer);
    for (let i = 0; i < a.length; i++) {
      if (Object.is(a[i], b[i])) continue;
      f[0] = a[i];
      f[1] = b[i];
      if (!(Number.isFinite(a[i]) && Number.isFinite(b[i]) && Math.abs(u[0] - u[1]) <= 1 && a[i] !== 0 && b[i] !== 0)) {
        throw new Error(`element ${i}: ${a[i]} vs ${b[i]}`);
      }
    }
  }

  test.prop([shapeArb, fc.constantFrom<UnaryOp>('exp', 'tanh', 'geluTanh', 'geluTanhGrad', 'sigmoid'), fc.boolean(), fc.boolean(), fc.integer()], { numRuns: 100 })(
    'exp, tanh, gelu, its derivative and sigmoid round to the TypeScript kernel\'s float32 (within an ulp; specials exactly)',
    (shape, op, transpose, specials, seed) => {
      const size = shape.reduce((x, y) => x * y, 1);
      const data = values(seed, size, specials);
      const [ra, rb] = [simd, ts].map((be) => {
        const x = view(be, data, shape, [], transpose);
        const out = be.unary(op, x);
        const got = Array.from(be.readSync(out, 'float32', size));
        be.free(x.storage);
        be.free(out);
        return got;
      });
      closeBits(ra, rb);
    },
  );

  test.prop([fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 300 }), fc.boolean(), fc.boolean(), fc.integer()], { numRuns: 100 })(
    'softmax and log-softmax rows, forward and backward, match the TypeScript kernels',
    (rows, cols, log, specials, seed) => {
      const size = rows * cols;
      const x = values(seed, size, specials);
      const dy = values(seed + 1, size, false);
      const [ra, rb] = [simd, ts].map((be) => {
        const xv = view(be, x, [rows, cols], [], false);
        const y = be.softmax(xv, cols, log);
        const dyv = view(be, dy, [rows, cols], [], false);
        const dx = be.softmaxBackward({ ...xv, storage: y }, dyv, cols, log);
        const got = [Array.from(be.readSync(y, 'float32', size)), Array.from(be.readSync(dx, 'float32', size))];
        for (const st of [xv.storage, y, dyv.storage, dx]) be.free(st);
        return got;
      });
      // Row sums run in another order: equal to float64 rounding, so the outputs agree to ~1e-6 of the row's scale.
      for (const k of [0, 1]) {
        for (let i = 0; i < size; i++) {
          const [a, b] = [ra[k][i], rb[k][i]];
          if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) continue;
          const scale = Math.max(1, ...rb[k].slice(i - (i % cols), i - (i % cols) + cols).map((v) => (Number.isFinite(v) ? Math.abs(v) : 0)));
          expect(Math.abs(a - b)).toBeLessThanOrEqual(2e-6 * scale);
        }
      }
    },
  );

  test.prop([fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 50 }), fc.boolean(), fc.integer()], { numRuns: 40 })(
    'AdamW gives the TypeScript kernel\'s bits (several steps)',
    (n, step, decay, seed) => {
      const h = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: decay ? 0.01 : 0, step };
      const init = [values(seed, n, false), values(seed + 1, n, false), values(seed + 2, n, false).map(Math.abs), values(seed + 3, n, false)];
      const [ra, rb] = [simd, ts].map((be) => {
        const [p, m, v, g] = init.map((d) => be.upload('float32', d));
        for (let s = 0; s < 3; s++) be.adamw(p, g, m, v, 'float32', n, { ...h, step: step + s });
        const got = [p, m, v].map((st) => Array.from(be.readSync(st, 'float32', n)));
        for (const st of [p, m, v, g]) be.free(st);
        return got;
      });
      expect(ra).toEqual(rb);
    },
  );

  it('a softmax row of -inf gives NaN, as the TypeScript kernel and PyTorch do', () => {
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
