import { type DType, type HalfDType, float32BitsToBFloat16Bits, float32BitsToFloat16Bits, halfBitsToFloat32Array } from '@siftjs/tensor';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/backend.js';

/**
 * wasm/half-f32.wat against @siftjs/tensor's src/half.ts (itself checked exhaustively against the IEEE definitions in
 * packages/tensor/test/half.test.ts): bit for bit, NaN payloads included, through the backend's cast kernel, whose
 * contiguous float32 ↔ half runs are the WebAssembly kernels.
 */
const simd = new CpuBackend({ threads: 1, blas: false });
const view = (storage: object, dtype: DType, n: number) => ({ storage, dtype, shape: [n], strides: [1], offset: 0 });

function castBits(from: Uint32Array, to: HalfDType): Uint16Array {
  const s = simd.upload('float32', new Float32Array(from.buffer));
  const out = simd.cast(view(s, 'float32', from.length), to);
  const bits = simd.readSync(out, to, from.length) as Uint16Array;
  simd.free(s);
  simd.free(out);
  return bits;
}

function widenBits(bits: Uint16Array, from: HalfDType): Uint32Array {
  const s = simd.upload(from, bits);
  const out = simd.cast(view(s, from, bits.length), 'float32');
  const f = simd.readSync(out, 'float32', bits.length) as Float32Array;
  simd.free(s);
  simd.free(out);
  return new Uint32Array(f.buffer, f.byteOffset, f.length);
}

function firstDifference(got: ArrayLike<number>, want: ArrayLike<number>, input: ArrayLike<number>): string | null {
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) return `input 0x${input[i].toString(16)}: got 0x${got[i].toString(16)}, expected 0x${want[i].toString(16)}`;
  }
  return null;
}

describe('WebAssembly half conversions', () => {
  it('the backend loaded them here', () => {
    expect(simd.info().description).toMatch(/WebAssembly/);
  });

  it.each(['float16', 'bfloat16'] as const)('widen every %s pattern to the float32 bits src/half.ts gives', (dtype) => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const want = new Uint32Array(halfBitsToFloat32Array(all, dtype).buffer);
    expect(firstDifference(widenBits(all, dtype), want, all)).toBeNull();
  });

  it.each([
    ['float16', float32BitsToFloat16Bits, 13],
    ['bfloat16', float32BitsToBFloat16Bits, 16],
  ] as const)('narrow to %s: every pattern of the kept bits with the dropped bits at 0, just below, at and past the tie, and all ones; and random ones', (dtype, one, dropped) => {
    const tie = 1 << (dropped - 1);
    const lows = [0, 1, tie - 1, tie, tie + 1, (1 << dropped) - 1];
    const highs = 2 ** (32 - dropped);
    const input = new Uint32Array(highs * lows.length + 200_000);
    let at = 0;
    for (let h = 0; h < highs; h++) for (const low of lows) input[at++] = ((h << dropped) | low) >>> 0;
    let seed = 12345;
    while (at < input.length) input[at++] = seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const want = input.map(one);
    expect(firstDifference(castBits(input, dtype), want, input)).toBeNull();
  });
});
