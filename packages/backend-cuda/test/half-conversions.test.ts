import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BFLOAT16, BINARY16, type HalfFormat, decodeHalf, roundToHalf } from '../../../tests/reference/half-format.js';
import { HALF_CONVERSIONS } from '../src/kernels/half.cu.js';
import { NVCC, NVCC_SKIP, requireNvccUnderCi, runHostProgram } from './nvcc.js';

/**
 * The CUDA kernels' half conversions (src/kernels/half.cu.ts: every kernel's loads and stores of float16 and
 * bfloat16) are `__host__ __device__`, so the very same C is compiled by the local nvcc into a host program and
 * run here, where no GPU is, against IEEE 754's definitions (tests/reference/half-format.ts): every pattern of
 * both formats widened; float32 and float64 values at the formats' edges (ties both ways, overflow, subnormals,
 * ±0, ±∞, NaN) and PyTorch's golden float32 inputs (tests/golden/half-casts) narrowed.
 * What this does not show: that the device compiler keeps the semantics (no fast-math flags are passed; the
 * sources are compiled to PTX in kernels.test.ts), nor the atomic half add, which needs a GPU.
 */

const FORMATS = { f16: BINARY16, bf16: BFLOAT16 } as const;
type Fmt = keyof typeof FORMATS;

const golden = JSON.parse(readFileSync(new URL('../../../tests/golden/half-casts/casts.json', import.meta.url), 'utf8')) as { inputs: number[] };

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const bits32 = (x: number) => ((f32[0] = x), u32[0]);
const fromBits32 = (u: number) => ((u32[0] = u), f32[0]);
const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
const fromBits64 = (u: bigint) => ((u64[0] = u), f64[0]);
const bits64 = (x: number) => ((f64[0] = x), u64[0]);

/** float32 patterns at every edge of both formats: the midpoints of neighbouring values, their f32 neighbours. */
function edgeFloat32(): number[] {
  const out = [0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0xff812345, 0x7fffffff, 1, 0x80000001, 0x007fffff, 0x00800000, 0x7f7fffff];
  for (const f of [BINARY16, BFLOAT16]) {
    const largest = (((1 << f.expBits) - 1) << f.mantBits) - 1;
    const one = f.bias << f.mantBits;
    for (const h of [0, 1, 2, 3, (1 << f.mantBits) - 1, 1 << f.mantBits, one - 1, one, one + 1, one + 2, largest - 2, largest - 1]) {
      const mid = bits32((decodeHalf(h, f) + decodeHalf(h + 1, f)) / 2);
      for (const u of [mid - 1, mid, mid + 1]) out.push(u >>> 0, (u | 0x80000000) >>> 0);
    }
    const max = decodeHalf(largest, f);
    const threshold = bits32(max + (max - decodeHalf(largest - 1, f)) / 2);
    for (const u of [threshold - 1, threshold, threshold + 1]) out.push(u >>> 0, (u | 0x80000000) >>> 0);
  }
  return out;
}

/** float64 values where one rounding and two (through float32) differ, and the double-only ranges. */
function edgeFloat64(): bigint[] {
  const xs: number[] = [0, -0, Infinity, -Infinity, 1e300, -1e-300, 5e-324, 2 ** -1022, 2 ** -25, 2 ** -25 * (1 + 2 ** -52), 2 ** -133, 2 ** -134, 2 ** -134 * (1 + 2 ** -40)];
  for (const f of [BINARY16, BFLOAT16]) {
    for (const h of [1, 0x3c00, 0x3c01, 0x3f80, 0x4000, 0x1234, 0x7bfe]) {
      const mid = (decodeHalf(h, f) + decodeHalf(h + 1, f)) / 2;
      xs.push(mid, mid * (1 + 2 ** -40), mid * (1 - 2 ** -40), -mid * (1 + 2 ** -45));
    }
  }
  for (let i = -(2 ** 31); i < 2 ** 31; i += 2 ** 31 / 97 + 12345) xs.push(Math.trunc(i)); // int32s, as the cast from int32 gives them
  const out = xs.map(bits64);
  out.push(0x7ff8000000000001n, 0xfff4000000000000n); // NaNs
  return out;
}

/** Whether `got` is IEEE's rounding of x into f (a NaN: any NaN of `nanSign`). */
function isRoundingOf(got: number, x: number, f: HalfFormat, nanSign: number): boolean {
  const want = roundToHalf(x, f);
  if (!want.nan) return got === want.bits;
  return (got & 0x7fff) > (((1 << f.expBits) - 1) << f.mantBits) && got >> 15 === nanSign;
}

describe.skipIf(!NVCC)(`half conversions of the CUDA kernels, run on the host${NVCC_SKIP ? ` — skipped: ${NVCC_SKIP}` : ''}`, () => {
  const floats = [...edgeFloat32(), ...golden.inputs];
  const doubles = edgeFloat64();
  let lines: Map<string, number[]>;

  beforeAll(async () => {
    const program = `#include <cstdio>
typedef unsigned int u32;
typedef unsigned long long u64;
${HALF_CONVERSIONS}
static const u32 F[] = { ${floats.map((u) => `${u}u`).join(', ')} };
static const u64 D[] = { ${doubles.map((u) => `${u}ull`).join(', ')} };
int main() {
  printf("widen_f16");
  for (int h = 0; h < 65536; h++) printf(" %u", sift_bits_of_float(sift_f16_to_float((unsigned short)h)));
  printf("\\nwiden_bf16");
  for (int h = 0; h < 65536; h++) printf(" %u", sift_bits_of_float(sift_bf16_to_float((unsigned short)h)));
  printf("\\nfloat_f16");
  for (u32 u : F) { union { u32 u; float f; } c; c.u = u; printf(" %u", (u32)sift_to_f16(c.f)); }
  printf("\\nfloat_bf16");
  for (u32 u : F) { union { u32 u; float f; } c; c.u = u; printf(" %u", (u32)sift_to_bf16(c.f)); }
  printf("\\ndouble_f16");
  for (u64 u : D) { union { u64 u; double d; } c; c.u = u; printf(" %u", (u32)sift_to_f16(c.d)); }
  printf("\\ndouble_bf16");
  for (u64 u : D) { union { u64 u; double d; } c; c.u = u; printf(" %u", (u32)sift_to_bf16(c.d)); }
  printf("\\n");
  return 0;
}
`;
    const out = await runHostProgram(program);
    lines = new Map(out.trim().split('\n').map((l) => { const [k, ...v] = l.trim().split(' '); return [k, v.map(Number)]; }));
  }, 120_000);

  it.each(['f16', 'bf16'] as Fmt[])('%s: all 65536 patterns widen to their exact float value (NaN keeps its sign)', (fmt) => {
    const got = lines.get(`widen_${fmt}`)!;
    expect(got.length).toBe(65536);
    for (let h = 0; h < 65536; h++) {
      const want = decodeHalf(h, FORMATS[fmt]);
      const v = fromBits32(got[h]);
      const ok = Number.isNaN(want) ? Number.isNaN(v) && got[h] >>> 31 === h >> 15 : Object.is(v, want);
      if (!ok) throw new Error(`${fmt} 0x${h.toString(16)} widened to ${v}, expected ${want}`);
    }
  });

  it.each(['f16', 'bf16'] as Fmt[])('%s: float32 inputs round to nearest even (edges, and PyTorch golden inputs)', (fmt) => {
    const got = lines.get(`float_${fmt}`)!;
    expect(got.length).toBe(floats.length);
    floats.forEach((u, i) => {
      if (!isRoundingOf(got[i], fromBits32(u), FORMATS[fmt], u >>> 31)) throw new Error(`float32 0x${u.toString(16)} → ${fmt} 0x${got[i].toString(16)}, expected ${JSON.stringify(roundToHalf(fromBits32(u), FORMATS[fmt]))}`);
    });
  });

  it.each(['f16', 'bf16'] as Fmt[])('%s: float64 inputs (and int32s) round once from their exact value', (fmt) => {
    const got = lines.get(`double_${fmt}`)!;
    expect(got.length).toBe(doubles.length);
    doubles.forEach((u, i) => {
      const x = fromBits64(u);
      if (!isRoundingOf(got[i], x, FORMATS[fmt], Number(u >> 63n))) throw new Error(`float64 ${x} → ${fmt} 0x${got[i].toString(16)}, expected ${JSON.stringify(roundToHalf(x, FORMATS[fmt]))}`);
    });
  });
});

it('nvcc is present under CI', () => {
  requireNvccUnderCi();
});
