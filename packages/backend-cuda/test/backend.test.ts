import { describe, expect, it } from 'vitest';
import { CudaBackend } from '../src/backend.js';
import { isAvailable } from '../src/libraries.js';

describe('CudaBackend without a GPU', () => {
  it('constructs, reports nothing in use, and refuses work until started', () => {
    const b = new CudaBackend();
    expect(b.name).toBe('cuda');
    expect(b.memoryStats()).toEqual({ bytesInUse: 0, peakBytes: 0, bytesReserved: 0, allocations: 0 });
    expect(b.info().description).toMatch(/not started/);
    expect(() => b.alloc('float32', 4)).toThrow(/not started/);
  });

  it.skipIf(isAvailable().available)('init() rejects with the unavailability reason', async () => {
    await expect(new CudaBackend().init()).rejects.toThrow(/CUDA backend is not available: .*driver/);
  });
});
