import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { arrayToHalfBits, float32BitsToBFloat16Bits, float32BitsToFloat16Bits, halfBitsToFloat32Array } from '../src/half.js';

/**
 * The host conversions against PyTorch's own: tests/golden/half_casts.py converted these float32 bit patterns with
 * `torch.tensor(x, dtype=torch.float32).to(torch.float16 / torch.bfloat16)` (torch 1.13). NaN results are compared
 * as NaN: PyTorch writes a canonical NaN (bfloat16 0xFFFF here, float16 0x7E00 with the sign), we keep the payload.
 */
const golden = JSON.parse(readFileSync(new URL('../../../tests/golden/half-casts/casts.json', import.meta.url), 'utf8')) as {
  inputs: number[];
  float16: number[];
  bfloat16: number[];
  float16_widened: number[];
  bfloat16_widened: number[];
};

const isNaNBits = (b: number, expMask: number, mant: number) => (b & expMask) === expMask && (b & mant) !== 0;

describe.each([
  { dtype: 'float16' as const, one: float32BitsToFloat16Bits, expMask: 0x7c00, mant: 0x3ff },
  { dtype: 'bfloat16' as const, one: float32BitsToBFloat16Bits, expMask: 0x7f80, mant: 0x7f },
])('$dtype against PyTorch', ({ dtype, one, expMask, mant }) => {
  it(`rounds ${golden.inputs.length} float32 patterns (edge cases and random) to PyTorch's ${dtype} bits`, () => {
    const inputs = new Float32Array(Uint32Array.from(golden.inputs).buffer);
    const bulk = arrayToHalfBits(inputs, dtype);
    let compared = 0;
    golden.inputs.forEach((u, i) => {
      const want = golden[dtype][i];
      for (const got of [one(u), bulk[i]]) {
        if (isNaNBits(want, expMask, mant)) expect(isNaNBits(got, expMask, mant), `0x${u.toString(16)} → NaN`).toBe(true);
        else if (got !== want) expect(`0x${got.toString(16)}`, `0x${u.toString(16)}`).toBe(`0x${want.toString(16)}`);
      }
      compared++;
    });
    expect(compared).toBeGreaterThan(3000);
  });

  it(`widens PyTorch's ${dtype} results to the float32 values PyTorch's .to(torch.float32) gives`, () => {
    const bits = Uint16Array.from(golden[dtype]);
    const widened = new Uint32Array(halfBitsToFloat32Array(bits, dtype).buffer);
    const want = golden[`${dtype}_widened`];
    bits.forEach((b, i) => {
      if (isNaNBits(b, expMask, mant)) expect(Number.isNaN(new Float32Array(Uint32Array.of(want[i]).buffer)[0])).toBe(true);
      else if (widened[i] !== want[i]) expect(`0x${widened[i].toString(16)}`, `0x${b.toString(16)}`).toBe(`0x${want[i].toString(16)}`);
    });
  });
});
