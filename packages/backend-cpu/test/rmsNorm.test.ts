import { test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { caseArb, checkCase, freeAfterEach, simd, ts } from './norms.js';

/** rmsNorm and rmsNormBackward: both tiers (WebAssembly SIMD, TypeScript) against float64 math, within their derived bounds (norms.ts). */
describe('RMS norm: the WebAssembly SIMD and TypeScript tiers', () => {
  freeAfterEach();

  it('is in use here', () => {
    expect(simd.info().description).toContain('layer/RMS norm');
    expect(ts.info().description).not.toContain('layer/RMS norm');
  });

  test.prop([caseArb(false)], { numRuns: 150 })('forward and backward are within their derived error bounds of float64 math on both tiers, any width; only the gradients asked for are computed', checkCase);
});
