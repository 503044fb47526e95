import { type BackendStorage, type View } from '@siftjs/tensor';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { BINARY16, decodeHalf, roundToHalf } from '../../../tests/reference/half-format.js';
import { acquireDevice, describeAdapter, WebGpuBackend } from '../src/index.js';
import { randomData, strides, view } from './helpers.js';

/**
 * float16 through `shader-f16` (storage declared `array<f16>`, wgsl/common.ts) on an adapter that offers it: the
 * device really is made with the feature, and every kind of store — fresh contiguous outputs, one half at a time
 * into strided views and slices that start mid-word, scatters, the optimizer's in-place writes — gives the bits of
 * the packed path on the same adapter, which tests/parity/half-*.test.ts and half.test.ts check against the IEEE
 * reference. Where no adapter has the feature this file says so; SIFT_EXPECT_SHADER_F16=1 (the webgpu-lavapipe
 * project) makes that a failure instead.
 */

const expected = process.env.SIFT_EXPECT_SHADER_F16 === '1';

/** float16 patterns of deterministic data in [-2, 2), rounded by the IEEE reference. */
function halfPatterns(n: number, seed: number): Uint16Array {
  return Uint16Array.from(randomData(n, seed), (x) => {
    const q = roundToHalf(x, BINARY16);
    if (q.nan) throw new Error('NaN data');
    return q.bits;
  });
}

async function open(shaderF16: boolean): Promise<WebGpuBackend | string> {
  try {
    return new WebGpuBackend(await acquireDevice({ shaderF16 }));
  } catch (e) {
    return (e as Error).message;
  }
}

const native = await open(true);
const packed = await open(false);
const usable = native instanceof WebGpuBackend && packed instanceof WebGpuBackend && native.context.shaderF16;
const why =
  typeof native === 'string'
    ? native
    : `${describeAdapter(native.context.adapter)} has no shader-f16 (the webgpu-lavapipe project runs this file on one that does)`;
afterAll(() => {
  for (const b of [native, packed]) if (b instanceof WebGpuBackend) b.destroy();
});

it.runIf(expected)('the adapter offers shader-f16 and the device was made with it (SIFT_EXPECT_SHADER_F16=1)', () => {
  expect(usable, why).toBe(true);
  expect((native as WebGpuBackend).info().float16Storage).toBe('shader-f16');
  expect((packed as WebGpuBackend).info().float16Storage).toBe('packed');
});

describe.skipIf(!usable)(`float16 storage through shader-f16 (${usable ? describeAdapter((native as WebGpuBackend).context.adapter) : why})`, () => {
  const [n16, p16] = [native as WebGpuBackend, packed as WebGpuBackend];
  const bits = async (b: WebGpuBackend, s: BackendStorage, count: number) => Array.from((await b.read(s, 'float16', count)) as Uint16Array);

  /** The same kernel calls on both backends, from the same float16 patterns / float32 data: the result patterns. */
  async function both(run: (b: WebGpuBackend) => { out: BackendStorage; count: number; temps: BackendStorage[] }): Promise<[number[], number[]]> {
    const r: number[][] = [];
    for (const b of [n16, p16]) {
      const { out, count, temps } = run(b);
      r.push(await bits(b, out, count));
      for (const t of [out, ...temps]) b.free(t);
    }
    return [r[0], r[1]];
  }

  it('widening every float16 pattern to float32 is exact, subnormals included, and a NaN keeps its sign (IEEE reference)', async () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const s = n16.upload('float16', all);
    const w = n16.cast({ storage: s, dtype: 'float16', shape: [65536], strides: [1], offset: 0 }, 'float32');
    const got = new Uint32Array(((await n16.read(w, 'float32', 65536)) as Float32Array).buffer);
    for (let h = 0; h < 65536; h++) {
      const v = decodeHalf(h, BINARY16);
      if (Number.isNaN(v)) {
        // A NaN stays a NaN of its sign (its payload may be quieted when the value moves through a float register).
        expect((got[h] & 0x7fffffff) > 0x7f800000 && got[h] >>> 31 === h >>> 15, `pattern ${h.toString(16)}`).toBe(true);
      } else expect(new Float32Array(Uint32Array.of(got[h]).buffer)[0], `pattern ${h.toString(16)}`).toBe(v);
    }
    n16.free(s);
    n16.free(w);
  });

  it('float32 → float16 rounds to nearest even (the IEEE reference) on both paths, fresh and into a slice that starts mid-word', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 200 }), fc.integer({ min: 0, max: 3 }), async (words, start) => {
        const data = new Float32Array(Uint32Array.from(words).buffer);
        const want = Array.from(data, (x) => {
          const r = roundToHalf(x, BINARY16);
          return r.nan ? -1 : r.bits;
        });
        const [fresh] = await both((b) => {
          const src = b.upload('float32', data);
          return { out: b.cast(view(src, 'float32', [data.length]), 'float16'), count: data.length, temps: [src] };
        });
        const [slice, slicePacked] = await both((b) => {
          const src = b.upload('float32', data);
          const dst = b.upload('float16', new Uint16Array(data.length + start + 1).fill(0x7bff));
          b.copyInto(view(dst, 'float16', [data.length], [1], start), view(src, 'float32', [data.length]));
          return { out: dst, count: data.length + start + 1, temps: [src] };
        });
        expect(slice).toEqual(slicePacked);
        // Outside the slice the neighbouring halves are kept.
        expect(slice.slice(0, start)).toEqual(new Array(start).fill(0x7bff));
        expect(slice[start + data.length]).toBe(0x7bff);
        for (const [k, got] of [fresh, slice.slice(start, start + data.length)].entries()) {
          got.forEach((g, i) => {
            if (want[i] === -1) expect((g & 0x7c00) === 0x7c00 && (g & 0x3ff) !== 0, `${k} NaN at ${i}`).toBe(true);
            else expect(g, `${k ? 'slice' : 'fresh'} element ${i} (${data[i]})`).toBe(want[i]);
          });
        }
      }),
      { numRuns: 20 },
    );
  });

  it('strided stores where neighbouring invocations write the two halves of one word (a transpose), and scatters, give the packed path’s bits', async () => {
    const [r, c] = [37, 29];
    const patterns = halfPatterns(r * c, 5);
    const [t, tp] = await both((b) => {
      const src = b.upload('float16', patterns);
      const dst = b.upload('float16', new Uint16Array(r * c));
      // dst viewed [c, r] transposed: the source's row-major walk writes dst's elements a column apart.
      b.copyInto(view(dst, 'float16', [r, c], [1, r]), view(src, 'float16', [r, c]));
      return { out: dst, count: r * c, temps: [src] };
    });
    expect(t).toEqual(tp);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) expect(t[j * r + i]).toBe(patterns[i * c + j]);

    const idx = Int32Array.from({ length: 101 }, (_, i) => (i * 7919) % (r * c));
    const [s, sp] = await both((b) => {
      const dst = b.upload('float16', patterns);
      const ids = b.upload('int32', idx);
      const vals = b.upload('float16', halfPatterns(idx.length, 9));
      b.scatterFlat(dst, 'float16', view(ids, 'int32', [idx.length]), view(vals, 'float16', [idx.length]), 'set');
      return { out: dst, count: r * c, temps: [ids, vals] };
    });
    expect(s).toEqual(sp);
  });

  it('elementwise, reductions, matmul and the norms over float16 give the packed path’s bits', async () => {
    const shape = [19, 33];
    const n = shape[0] * shape[1];
    const [a, bb] = [halfPatterns(n, 1), halfPatterns(n, 2)];
    const v = (s: BackendStorage, sh = shape): View => view(s, 'float16', sh, strides(sh));
    const cases: [string, (b: WebGpuBackend, x: BackendStorage, y: BackendStorage) => BackendStorage, number][] = [
      ['mul', (b, x, y) => b.binary('mul', v(x), v(y)), n],
      ['tanh', (b, x) => b.unary('tanh', v(x)), n],
      ['sum over rows', (b, x) => b.reduce('sum', v(x), [1]), shape[0]],
      ['softmax', (b, x) => b.softmax!(v(x), shape[1], false), n],
      ['matmul x·yᵀ', (b, x, y) => b.matmul(v(x), view(y, 'float16', [shape[1], shape[0]], [1, shape[1]])), shape[0] * shape[0]],
    ];
    for (const [name, op, count] of cases) {
      const [got, want] = await both((b) => {
        const [x, y] = [b.upload('float16', a), b.upload('float16', bb)];
        return { out: op(b, x, y), count, temps: [x, y] };
      });
      expect(got, name).toEqual(want);
    }
  });
});
