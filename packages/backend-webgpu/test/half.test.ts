import { type AdamWHyper, type BackendStorage, type HalfDType, adamwConstants, arrayToHalfBits, halfBitsToFloat32Array } from '@siftjs/tensor';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { BFLOAT16, BINARY16, decodeHalf, roundToHalf } from '../../../tests/reference/half-format.js';
import { matmulPlan } from '../src/kernels/matmul-plan.js';
import { WebGpuBackend } from '../src/index.js';
import { acquire, acquireNarrow, randomData, strides, view } from './helpers.js';

/**
 * What packing float16 / bfloat16 two to a 32-bit word asks of the WebGPU backend, beyond the values the shared
 * half suites (tests/parity/half-*.test.ts) check: writes of one half keep the other half of its word (in place
 * into slices that start or end mid-word, and through strided views where neighbouring invocations write the two
 * halves of a word), uploads and reads of odd counts and offsets, the bytes counted, the narrow device's packed
 * paths, and the optimizer kernels with a half parameter.
 */

const { backend: be, reason } = await acquire();
const narrow = be ? await acquireNarrow() : null;
afterAll(() => narrow?.destroy());

const FORMATS = { float16: BINARY16, bfloat16: BFLOAT16 } as const;
const HALVES: HalfDType[] = ['float16', 'bfloat16'];

/** The pattern IEEE rounding gives x (tests/reference/half-format.ts). */
const bitsOf = (x: number, dtype: HalfDType) => {
  const r = roundToHalf(x, FORMATS[dtype]);
  if (r.nan) throw new Error('NaN');
  return r.bits;
};
const valueOf = (x: number, dtype: HalfDType) => decodeHalf(bitsOf(x, dtype), FORMATS[dtype]);

describe.skipIf(!be)(`webgpu half storage packed in words (${reason})`, () => {
  const b = be as WebGpuBackend;
  const readBits = async (bk: WebGpuBackend, s: BackendStorage, dtype: HalfDType, n: number) => Array.from((await bk.read(s, dtype, n)) as Uint16Array);

  it.each(HALVES)('%s: uploads and reads of odd counts and odd byte offsets; memoryStats counts 2 bytes an element in whole words', async (dtype) => {
    for (const n of [1, 2, 3, 7, 1001]) {
      const all = Uint16Array.from({ length: n + 1 }, (_, i) => (i * 40503) & 0xffff);
      const src = all.subarray(1); // byte offset 2: not word-aligned
      const before = b.memoryStats().bytesInUse;
      const s = b.upload(dtype, src);
      expect(b.memoryStats().bytesInUse - before, `${n} elements`).toBe(4 * Math.ceil(n / 2));
      expect(await readBits(b, s, dtype, n)).toEqual(Array.from(src));
      b.free(s);
    }
  });

  it.each(HALVES)('%s: fill rounds the value once and fills odd counts', async (dtype) => {
    const s = b.fill(dtype, 5, 1 / 3);
    expect(await readBits(b, s, dtype, 5)).toEqual(new Array(5).fill(bitsOf(1 / 3, dtype)));
    b.free(s);
  });

  it.each(HALVES)('%s: copyInto a slice that starts and ends mid-word keeps the neighbouring halves (cast from float32 on the way)', async (dtype) => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 40 }), async (start, len, tail) => {
        const n = start + len + tail;
        const dst = Uint16Array.from({ length: n }, (_, i) => 0x3c00 + i);
        const src = randomData(len, n + start);
        const sd = b.upload(dtype, dst);
        const ss = b.upload('float32', src);
        b.copyInto(view(sd, dtype, [len], [1], start), view(ss, 'float32', [len]));
        const got = await readBits(b, sd, dtype, n);
        const want = Array.from(dst);
        src.forEach((v, i) => (want[start + i] = bitsOf(v, dtype)));
        expect(got).toEqual(want);
        b.free(sd);
        b.free(ss);
      }),
      { numRuns: 15 },
    );
  });

  it.each(HALVES)('%s: copyInto a transposed view, invocation by invocation, loses no half of any word (bits moved exactly)', async (dtype) => {
    // [R, C] destination written through its transpose: consecutive invocations write elements C apart, and the
    // two halves of each word are written by invocations far apart, at the same time.
    for (const [R, C] of [[317, 301], [3, 5], [64, 2]]) {
      const n = R * C;
      const dst = new Uint16Array(n).fill(0xffff);
      const src = Uint16Array.from({ length: n }, (_, i) => (i * 7 + 1) & 0x7bff);
      const sd = b.upload(dtype, dst);
      const ss = b.upload(dtype, src);
      // dst viewed [C, R] with strides [1, C] ← src [C, R] contiguous
      b.copyInto(view(sd, dtype, [C, R], [1, C]), view(ss, dtype, [C, R]));
      const got = await readBits(b, sd, dtype, n);
      for (let c = 0; c < C; c++) for (let r = 0; r < R; r++) if (got[r * C + c] !== src[c * R + r]) throw new Error(`[${R}, ${C}] element (${r}, ${c}): ${got[r * C + c]}, expected ${src[c * R + r]}`);
      b.free(sd);
      b.free(ss);
    }
  });

  it('matmul never takes the vec4 kernel for a half operand (it binds float32 as vec4<f32>)', () => {
    const a = { shape: [64, 64], strides: strides([64, 64]), offset: 0 };
    expect(matmulPlan(a, a, b.limits).kernel).toBe('vec4');
    expect(matmulPlan({ ...a, dtype: 'bfloat16' }, a, b.limits).kernel).toBe('scalar');
    expect(matmulPlan(a, { ...a, dtype: 'float16' }, b.limits).kernel).toBe('scalar');
  });

  describe.skipIf(!narrow)('on a device sized for four storage buffers', () => {
    it.each(HALVES)('%s: layer norm with half weight and bias, forward and backward, matches the full device bit for bit', async (dtype) => {
      const [rows, cols] = [3, 7];
      const x = arrayToHalfBits(randomData(rows * cols, 5), dtype);
      const dy = arrayToHalfBits(randomData(rows * cols, 6), dtype);
      const w = arrayToHalfBits(randomData(cols, 7, 0.5, 2), dtype);
      const bias = arrayToHalfBits(randomData(cols, 8), dtype);
      const run = async (bk: WebGpuBackend) => {
        const [sx, sdy, sw, sb] = [x, dy, w, bias].map((d) => bk.upload(dtype, d));
        const f = bk.layerNorm(view(sx, dtype, [rows, cols]), view(sw, dtype, [cols]), view(sb, dtype, [cols]), cols, 1e-5);
        const g = bk.layerNormBackward(view(sdy, dtype, [rows, cols]), view(sx, dtype, [rows, cols]), view(sw, dtype, [cols]), f, cols, { input: true, weight: true, bias: true });
        const out = [
          await readBits(bk, f.y, dtype, rows * cols),
          // the statistics are float32 beside a half x (the contract's opmathDtype)
          Array.from(await bk.read(f.mean!, 'float32', rows)),
          Array.from(await bk.read(f.rstd, 'float32', rows)),
          await readBits(bk, g.dx!, dtype, rows * cols),
          await readBits(bk, g.dweight!, dtype, cols),
          await readBits(bk, g.dbias!, dtype, cols),
        ];
        for (const s of [sx, sdy, sw, sb, f.y, f.mean!, f.rstd, g.dx!, g.dweight!, g.dbias!]) bk.free(s);
        return out;
      };
      expect(await run(narrow!)).toEqual(await run(b));
    });
  });

  describe.each(HALVES)('%s parameters in the optimizer kernels', (dtype) => {
    const h: AdamWHyper = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 1 };

    it('dense AdamW in a half dtype: the f32 step of the widened state, each new value rounded once', async () => {
      const n = 9;
      const [p, g, m, v] = [randomData(n, 1), randomData(n, 2), randomData(n, 3, -0.1, 0.1), randomData(n, 4, 0, 0.01)].map((d) => arrayToHalfBits(d, dtype));
      const ss = [p, g, m, v].map((d) => b.upload(dtype, d));
      b.adamw(ss[0], ss[1], ss[2], ss[3], dtype, n, h);
      const [gp, gm, gv] = [await b.read(ss[0], dtype, n), await b.read(ss[2], dtype, n), await b.read(ss[3], dtype, n)].map((r) => halfBitsToFloat32Array(r as Uint16Array, dtype));
      const [P, G, M, V] = [p, g, m, v].map((d) => halfBitsToFloat32Array(d, dtype));
      const c = adamwConstants(h);
      for (let i = 0; i < n; i++) {
        // float64 of the same step from the same (half) state; the kernel's f32 arithmetic is ~2^-20 off, its
        // stores half an ulp each
        const mi = c.beta1 * M[i] + c.oneMinusBeta1 * G[i];
        const vi = c.beta2 * V[i] + c.oneMinusBeta2 * G[i] * G[i];
        const pi = P[i] * c.decay - (c.stepSize * mi) / (Math.sqrt(vi) / c.bc2 + c.eps);
        for (const [got, want, what] of [[gm[i], mi, 'm'], [gv[i], vi, 'v'], [gp[i], pi, 'p']] as const) {
          const u = dtype === 'float16' ? 2 ** -11 : 2 ** -8;
          expect(Math.abs(got - want), `${what}[${i}]: ${got} vs ${want}`).toBeLessThanOrEqual(u * Math.abs(want) + 2 ** -18 * (Math.abs(P[i]) + 1) + 2 ** -24);
        }
      }
      ss.forEach((s) => b.free(s));
    });

    it.each([
      ['one fused kernel', () => b],
      ['seven storage buffers (the step, then the write-back)', () => new WebGpuBackend({ ...b.context, limits: { ...b.limits, maxStorageBuffersPerShaderStage: 7 } })],
      ['four storage buffers (the sum, then scatterFlat into the half parameter)', () => narrow],
    ])("SIFT's step writes round(base + δ) into a half parameter at k positions, neighbours untouched (%s)", async (_what, get) => {
      const bk = get();
      if (!bk) return;
      const N = 11;
      const idx = [0, 3, 4, 9];
      const k = idx.length;
      const param = arrayToHalfBits(randomData(N, 9), dtype);
      const base = Float32Array.from(idx, (i) => decodeHalf(param[i], FORMATS[dtype]));
      const sp = bk.upload(dtype, param);
      const si = bk.upload('int32', Int32Array.from(idx));
      const [sb, sd, sm, sv] = [bk.upload('float32', base), bk.alloc('float32', k), bk.alloc('float32', k), bk.alloc('float32', k)];
      const sg = bk.upload('float32', randomData(k, 10));
      bk.adamwIncrement({ param: sp, paramDtype: dtype, paramSize: N, indices: si, base: sb, delta: sd, grad: sg, m: sm, v: sv, steps: null, dtype: 'float32', k, c: adamwConstants(h) });
      const delta = (await bk.read(sd, 'float32', k)) as Float32Array;
      const got = Array.from((await bk.read(sp, dtype, N)) as Uint16Array);
      const want = Array.from(param);
      idx.forEach((at, i) => (want[at] = bitsOf(Math.fround(base[i] + delta[i]), dtype)));
      expect(got).toEqual(want);
      expect(delta.every((d) => d !== 0)).toBe(true);
      for (const s of [sp, si, sb, sd, sm, sv, sg]) bk.free(s);
    });

    it('an increment below the spacing of the half weight accumulates in δ and moves the weight once it is large enough', async () => {
      // weight 1: float16's next value up is 1 + 2^-10, bfloat16's 1 + 2^-7. Constant gradient −1 with lr 1e-4:
      // δ grows by ~1e-4 a step, so the weight stays 1 for a few steps, then rounds up.
      const one = valueOf(1, dtype);
      const next = decodeHalf(bitsOf(1, dtype) + 1, FORMATS[dtype]);
      const sp = b.upload(dtype, arrayToHalfBits([one], dtype));
      const [si, sb] = [b.upload('int32', Int32Array.of(0)), b.upload('float32', Float32Array.of(one))];
      const [sd, sm, sv] = [b.alloc('float32', 1), b.alloc('float32', 1), b.alloc('float32', 1)];
      const sg = b.upload('float32', Float32Array.of(-1));
      let moved = 0;
      for (let t = 1; t <= 120 && !moved; t++) {
        b.adamwIncrement({ param: sp, paramDtype: dtype, paramSize: 1, indices: si, base: sb, delta: sd, grad: sg, m: sm, v: sv, steps: null, dtype: 'float32', k: 1, c: adamwConstants({ lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: t }) });
        const [w] = halfBitsToFloat32Array((await b.read(sp, dtype, 1)) as Uint16Array, dtype);
        const [d] = (await b.read(sd, 'float32', 1)) as Float32Array;
        expect(d).toBeGreaterThan(0);
        // the weight is δ added to the base and rounded, never δ's own rounding lost
        expect(w).toBe(valueOf(Math.fround(one + d), dtype));
        if (w !== one) moved = t;
      }
      expect(moved, 'the weight moved to the next value up').toBeGreaterThan(1);
      const [w] = halfBitsToFloat32Array((await b.read(sp, dtype, 1)) as Uint16Array, dtype);
      expect(w).toBe(next);
      for (const s of [sp, si, sb, sd, sm, sv, sg]) b.free(s);
    });
  });
});
