import { describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { supportsDtype, widestFloat } from '../src/backend/capabilities.js';
import { DTypeError } from '../src/errors.js';

/** Just enough of a backend to be asked: alloc refuses the dtypes it lacks, as WebGPU refuses float64. */
function fake(lacks: string[], counter = { allocs: 0 }, fail?: Error): Backend {
  return {
    name: 'fake',
    alloc(dtype: string) {
      counter.allocs++;
      if (fail) throw fail;
      if (lacks.includes(dtype)) throw new DTypeError(`fake alloc: ${dtype} is not supported`);
      return {};
    },
    free() {},
  } as unknown as Backend;
}

describe('supportsDtype and widestFloat', () => {
  it('a backend with float64 gets float64; one without gets float32', () => {
    expect(widestFloat(fake([]))).toBe('float64');
    expect(widestFloat(fake(['float64']))).toBe('float32');
    expect(supportsDtype('int32', fake(['float64']))).toBe(true);
  });

  it('asks each backend once per dtype', () => {
    const counter = { allocs: 0 };
    const b = fake(['float64'], counter);
    for (let i = 0; i < 3; i++) widestFloat(b);
    expect(counter.allocs).toBe(1);
  });

  it('an error other than a refused dtype is not taken for an answer', () => {
    expect(() => widestFloat(fake([], { allocs: 0 }, new Error('device lost')))).toThrow('device lost');
  });
});
