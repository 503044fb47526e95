import { test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { caseArb, checkCase, freeAfterEach, simd, ts } from './norms.js';

/** layerNorm and layerNormBackward: both tiers (WebAssembly SIMD, TypeScript) against float64 math, within their derived bounds (norms.ts). */
describe('layer norm: the WebAssembly SIMD and TypeScript tiers', () => {
  freeAfterEach();

  it('is in use here', () => {
    expect(simd.info().description).toContain('layer/RMS norm');
    expect(ts.info().description).not.toContain('layer/RMS norm');
  });

  it('rows with mean 1e4 and spread 1e-2 keep float32 accuracy: no cancellation in the mean, the variance or the backward', () => {
    checkCase({ rows: 9, cols: 771, centred: true, weight: true, bias: true, seed: 7, shift: 1e4, spread: 1e-2, wanted: { input: true, weight: true, bias: true } });
  });

  test.prop([caseArb(true)], { numRuns: 150 })('forward and backward are within their derived error bounds of float64 math on both tiers, any width; only the gradients asked for are computed', checkCase);
});
