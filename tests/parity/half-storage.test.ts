import { fc, test } from '@fast-check/vitest';
import {
  DTypeNotImplementedError,
  type HalfDType,
  getBackend,
  memoryStats,
  resetPeakBytes,
  supportsDtype,
  tensor,
  tensorFromBits,
  zeros,
  full,
} from '@siftjs/tensor';
import { beforeAll, describe, expect, it } from 'vitest';
import { BFLOAT16, BINARY16, decodeHalf, roundToHalf } from '../reference/half-format.js';
import { cpuHalf, skipOnOtherHalfBackends } from '../support/half.js';
import { backendsUnderTest } from '../support/backends.js';
import { expectNoLeaks } from '../support/memory.js';

/** float16 / bfloat16 storage: creation rounds to nearest even, reading widens exactly, bits go in and out unchanged. */

const FORMATS = { float16: BINARY16, bfloat16: BFLOAT16 } as const;
const HALVES: HalfDType[] = ['float16', 'bfloat16'];

/** The value IEEE's round-to-nearest-even gives x in the format (NaN stays NaN). */
function rounded(x: number, dtype: HalfDType): number {
  const r = roundToHalf(x, FORMATS[dtype]);
  return r.nan ? NaN : decodeHalf(r.bits, FORMATS[dtype]);
}

const backends = backendsUnderTest();

skipOnOtherHalfBackends();

describe.each(backends.filter(cpuHalf))('half storage on $name', (backend) => {
  beforeAll(() => backend.start());

  describe.each(HALVES)('%s', (dtype) => {
    test.prop([fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 40 })], { numRuns: 30 })(
      'tensor(numbers) rounds each to the nearest value and toArray reads those values back as float32',
      async (xs) =>
        expectNoLeaks(async () => {
          const t = tensor(xs, { dtype });
          expect(t.dtype).toBe(dtype);
          const got = await t.toArray();
          expect(got).toBeInstanceOf(Float32Array);
          expect(Array.from(got)).toEqual(xs.map((x) => rounded(x, dtype)));
          t.dispose();
        }),
    );

    it('tensorFromBits takes bit patterns unchanged (NaN payloads, -0, subnormals) and toBits gives them back', async () => {
      const bits = Uint16Array.from({ length: 65536 }, (_, i) => i);
      const t = tensorFromBits(bits, dtype, { shape: [256, 256] });
      expect(Array.from(await t.toBits())).toEqual(Array.from(bits));
      const widened = await t.toArray();
      for (let i = 0; i < 65536; i += 97) {
        const want = decodeHalf(i, FORMATS[dtype]);
        expect(Number.isNaN(want) ? Number.isNaN(widened[i]) : Object.is(widened[i], want), `0x${i.toString(16)}`).toBe(true);
      }
      // a strided view reads in row-major order of the view
      const col = t.narrow(1, 3, 1);
      expect(Array.from(await col.toBits()).slice(0, 3)).toEqual([3, 259, 515]);
      col.dispose();
      t.dispose();
    });

    it('full / zeros round the fill value; memoryStats counts 2 bytes per element', async () => {
      const before = memoryStats().bytesInUse;
      const z = zeros([1000], { dtype });
      expect(memoryStats().bytesInUse - before).toBeLessThanOrEqual(2000 + 64);
      expect(memoryStats().bytesInUse - before).toBeGreaterThanOrEqual(2000);
      const f = full([3], 1 / 3, { dtype });
      expect(Array.from(await f.toArray())).toEqual([1, 1, 1].map(() => rounded(1 / 3, dtype)));
      z.dispose();
      f.dispose();
    });

    it('a half weight in a float32 matmul is widened into a transient buffer: counted in the peak, freed after', async () => {
      const w = zeros([64, 64], { dtype });
      const x = zeros([8, 64]);
      const before = memoryStats().bytesInUse;
      resetPeakBytes();
      const y = x.matmul(w.T);
      expect(y.dtype).toBe('float32');
      expect(memoryStats().bytesInUse - before).toBe(8 * 64 * 4); // only the result stays
      expect(memoryStats().peakBytes - before).toBeGreaterThanOrEqual(64 * 64 * 4 + 8 * 64 * 4);
      for (const t of [w, x, y]) t.dispose();
    });

    it('toBits refuses a tensor that is not half, naming its dtype', () => {
      const t = tensor([1, 2]);
      expect(() => t.toBitsSync()).toThrow(/float32/);
      t.dispose();
    });

    it('supportsDtype says yes', () => {
      expect(supportsDtype(dtype, getBackend())).toBe(true);
    });
  });
});

describe.each(backends.filter((b) => !b.half))('half storage on $name (not implemented there yet)', (backend) => {
  beforeAll(() => backend.start());

  it.each(HALVES)('refuses %s storage with a DTypeNotImplementedError naming the backend', (dtype) => {
    expect(() => zeros([2], { dtype })).toThrow(DTypeNotImplementedError);
    expect(() => zeros([2], { dtype })).toThrow(new RegExp(`${dtype} storage is not implemented on the \\w+ backend yet`));
    expect(supportsDtype(dtype, getBackend())).toBe(false);
  });
});
