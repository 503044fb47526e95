import { CpuBackend } from '@siftjs/backend-cpu';
import { philox } from '@siftjs/tensor';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { WebGpuBackend } from '../src/index.js';
import { acquire } from './helpers.js';
import { BFLOAT16, BINARY16, roundToHalf } from '../../../tests/reference/half-format.js';

const { backend: be, reason } = await acquire();
// The CPU backend's Philox is the specification (random/philox.ts): the GPU must reproduce it.
const cpu = new CpuBackend({ simd: false, blas: false });
afterAll(() => cpu.dispose());

const word = fc.integer({ min: 0, max: 2 ** 32 - 1 });
/** Offsets near the 32-bit boundary too: the offset's high word is counter word 3. */
const offsetArb = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 2 ** 32 - 3, max: 2 ** 32 + 3 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
/** Sizes that are not multiples of 4, and that span several workgroups of blocks. */
const sizeArb = fc.oneof(fc.integer({ min: 1, max: 13 }), fc.integer({ min: 1000, max: 5000 }));

describe.skipIf(!be)(`webgpu Philox random (${reason})`, () => {
  const b = be as WebGpuBackend;

  async function gpu(kind: 'uniform' | 'normal' | 'bits', size: number, seed: [number, number], offset: number): Promise<ArrayLike<number>> {
    const s = kind === 'bits' ? b.randomBits(size, seed, offset) : b.random(kind, 'float32', size, seed, offset);
    const got = await b.read(s, kind === 'bits' ? 'int32' : 'float32', size);
    b.free(s);
    return kind === 'bits' ? new Uint32Array((got as Int32Array).buffer) : got;
  }

  async function onCpu(kind: 'uniform' | 'normal', size: number, seed: [number, number], offset: number): Promise<Float32Array> {
    const s = cpu.random(kind, 'float32', size, seed, offset);
    const got = (await cpu.read(s, 'float32', size)) as Float32Array;
    cpu.free(s);
    return got;
  }

  it('the uint32 words equal philox.fillUint32 bit for bit', async () => {
    await fc.assert(
      fc.asyncProperty(sizeArb, word, word, offsetArb, async (size, lo, hi, offset) => {
        const want = new Uint32Array(size);
        philox.fillUint32(want, lo, hi, offset);
        expect(Array.from(await gpu('bits', size, [lo, hi], offset))).toEqual(Array.from(want));
      }),
      { numRuns: 25 },
    );
  });

  it('the known-answer vectors of Philox4x32-10 (Salmon et al.) come out of the counter-0 block', async () => {
    // Key (0, 0), counter (0, 0, 0, 0): 6627e8d5 e169c58d bc57ac4c 9b00dbd8 (Random123's kat_vectors).
    expect(Array.from(await gpu('bits', 4, [0, 0], 0), (w) => w.toString(16))).toEqual(['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
  });

  it('float32 uniforms are bit-identical to the CPU backend and lie in [0, 1)', async () => {
    await fc.assert(
      fc.asyncProperty(sizeArb, word, word, offsetArb, async (size, lo, hi, offset) => {
        const got = Float32Array.from(await gpu('uniform', size, [lo, hi], offset));
        const want = await onCpu('uniform', size, [lo, hi], offset);
        expect(new Uint32Array(got.buffer)).toEqual(new Uint32Array(want.buffer));
        for (const u of got) expect(u >= 0 && u < 1).toBe(true);
      }),
      { numRuns: 25 },
    );
  });

  it('float32 normals are within 1e-6·(1 + |z|) of the CPU backend (ln and sincos in f32, not correctly rounded)', async () => {
    let worst = 0;
    await fc.assert(
      fc.asyncProperty(sizeArb, word, word, offsetArb, async (size, lo, hi, offset) => {
        const got = await gpu('normal', size, [lo, hi], offset);
        const want = await onCpu('normal', size, [lo, hi], offset);
        for (let i = 0; i < size; i++) {
          const err = Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i]));
          worst = Math.max(worst, err);
          if (!(err <= 1e-6)) throw new Error(`normal [${i}] of ${size} (seed ${lo}, ${hi}, offset ${offset}): ${got[i]}, CPU ${want[i]}`);
        }
      }),
      { numRuns: 25 },
    );
    console.log(`[webgpu tests] worst normal |gpu − cpu| / (1 + |z|): ${worst.toExponential(2)}`);
  });

  it('normals from the extreme uniforms (u1 = 2^-24 and 1, every angle quadrant) stay close', async () => {
    // A large sample reaches u1 near its ends and u2 near the quadrant boundaries of the sincos reduction.
    const size = 200_000;
    const got = await gpu('normal', size, [12345, 678], 9);
    const want = await onCpu('normal', size, [12345, 678], 9);
    let worst = 0;
    for (let i = 0; i < size; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
    console.log(`[webgpu tests] worst normal |gpu − cpu| / (1 + |z|) over ${size}: ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-6);
    // A standard normal sample: mean ≈ 0, variance ≈ 1.
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < size; i++) {
      s += got[i];
      s2 += got[i] * got[i];
    }
    expect(Math.abs(s / size)).toBeLessThan(0.01);
    expect(Math.abs(s2 / size - 1)).toBeLessThan(0.02);
  });

  it('a shorter request is a prefix of a longer one (the layout does not depend on the size)', async () => {
    const long = await gpu('normal', 37, [5, 6], 7);
    const short = await gpu('normal', 10, [5, 6], 7);
    expect(Array.from(short)).toEqual(Array.from(long).slice(0, 10));
  });

  it('float16 and bfloat16 draws are the float32 stream rounded to nearest even (the IEEE reference), as on the CPU', async () => {
    for (const [dtype, format] of [['float16', BINARY16], ['bfloat16', BFLOAT16]] as const) {
      for (const kind of ['uniform', 'normal'] as const) {
        const size = 1001;
        const s = b.random(kind, dtype, size, [11, 12], 13);
        const bits = (await b.read(s, dtype, size)) as Uint16Array;
        b.free(s);
        const drawn = await onCpu(kind, size, [11, 12], 13);
        // The GPU's normals are within a few f32 ulps of the CPU's (above), so a rounding may land one step apart.
        let apart = 0;
        for (let i = 0; i < size; i++) {
          const r = roundToHalf(drawn[i], format);
          if (r.nan) throw new Error('a draw is NaN');
          if (kind === 'uniform') expect(bits[i], `${dtype} ${kind} element ${i}`).toBe(r.bits);
          else if (bits[i] !== r.bits) {
            expect(Math.abs(bits[i] - r.bits), `${dtype} ${kind} element ${i}`).toBe(1);
            apart++;
          }
        }
        expect(apart, `${dtype} normals one step from the rounded CPU draw`).toBeLessThan(size / 100);
      }
    }
  });

  it('non-float32 dtypes, bad seeds and bad offsets are rejected', () => {
    expect(() => b.random('uniform', 'float64', 4, [1, 2], 0)).toThrow(/float64 is not supported on WebGPU/);
    expect(() => b.random('normal', 'int32', 4, [1, 2], 0)).toThrow(/random normal int32 ×4: random numbers are floats/);
    expect(() => b.random('uniform', 'float32', 4, [2 ** 32, 0], 0)).toThrow(RangeError);
    expect(() => b.random('uniform', 'float32', 4, [1, 2], -1)).toThrow(/offset must be a non-negative integer/);
    expect(() => b.random('uniform', 'float32', 4, [1, 2], 2 ** 53)).toThrow(RangeError);
  });
});
