import { describe, expect, it } from 'vitest';
import { type DType, bytesPerElement, isFloat, isHalf, makeArray, promoteTypes } from '../src/dtype.js';

describe('dtypes', () => {
  // torch.promote_types(a, b) for every pair, printed by torch 1.13 (/usr/bin/python3).
  const TORCH: Record<DType, Record<DType, DType>> = {
    float32: { float32: 'float32', float64: 'float64', int32: 'float32', bool: 'float32', float16: 'float32', bfloat16: 'float32' },
    float64: { float32: 'float64', float64: 'float64', int32: 'float64', bool: 'float64', float16: 'float64', bfloat16: 'float64' },
    int32: { float32: 'float32', float64: 'float64', int32: 'int32', bool: 'int32', float16: 'float16', bfloat16: 'bfloat16' },
    bool: { float32: 'float32', float64: 'float64', int32: 'int32', bool: 'bool', float16: 'float16', bfloat16: 'bfloat16' },
    float16: { float32: 'float32', float64: 'float64', int32: 'float16', bool: 'float16', float16: 'float16', bfloat16: 'float32' },
    bfloat16: { float32: 'float32', float64: 'float64', int32: 'bfloat16', bool: 'bfloat16', float16: 'float32', bfloat16: 'bfloat16' },
  };

  it('promote as torch.promote_types does, every pair', () => {
    for (const a of Object.keys(TORCH) as DType[]) {
      for (const b of Object.keys(TORCH) as DType[]) expect(promoteTypes(a, b), `${a} with ${b}`).toBe(TORCH[a][b]);
    }
  });

  it('store float16 and bfloat16 as 2-byte bit patterns, and count them as floats', () => {
    for (const d of ['float16', 'bfloat16'] as const) {
      expect(bytesPerElement(d)).toBe(2);
      expect(makeArray(d, 3)).toBeInstanceOf(Uint16Array);
      expect(isFloat(d)).toBe(true);
      expect(isHalf(d)).toBe(true);
    }
    expect(isHalf('float32')).toBe(false);
  });
});
