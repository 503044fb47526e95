import { test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { caseArb, checkCase, freeAfterEach, simd, ts } from './norms.js';

/** layerNorm and layerNormBackward: the WebAssembly SIMD kernels against float64 math and the TypeScript kernels. */
describe('WebAssembly SIMD layer norm', () => {
  freeAfterEach();

  it('is in use here', () => {
    expect(simd.info().description).toContain('layer/RMS norm');
    expect(ts.info().description).not.toContain('layer/RMS norm');
  });

  test.prop([caseArb(true)], { numRuns: 150 })('forward and backward match float64 math and the TypeScript kernels, any width; only the gradients asked for are computed', checkCase);
});
