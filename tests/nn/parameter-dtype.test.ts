import '@siftjs/backend-cpu';
import { LayerNorm, Linear, Module, withParameterDtype } from '@siftjs/nn';
import { GPT2LMHeadModel, gpt2Config } from '@siftjs/models';
import { manualSeed, memoryStats, resetPeakBytes } from '@siftjs/tensor';
import { describe, expect, it } from 'vitest';
import { BFLOAT16, BINARY16, decodeHalf, roundToHalf } from '../reference/half-format.js';

/*
 * withParameterDtype (transformers' from_pretrained(dtype=…)): modules built inside it hold their floating
 * parameters in that dtype — each value the float32 initialisation rounded to nearest even (checked against the IEEE
 * reference in tests/reference), with no more than one parameter's float32 values alive at a time.
 */

const FORMATS = { float16: BINARY16, bfloat16: BFLOAT16 } as const;

class Small extends Module {
  fc = new Linear(6, 5);
  ln = new LayerNorm([5]);
}

describe('withParameterDtype', () => {
  for (const dtype of ['bfloat16', 'float16'] as const) {
    it(`builds a module's floating parameters in ${dtype}, each the float32 initialisation rounded to nearest even`, async () => {
      manualSeed(1);
      const wide = new Small();
      manualSeed(1);
      const half = withParameterDtype(dtype, () => new Small());
      const named = [...half.namedParameters()];
      expect(named.map(([n, p]) => [n, p.dtype])).toEqual([...wide.namedParameters()].map(([n]) => [n, dtype]));
      const wideByName = new Map(wide.namedParameters());
      for (const [name, p] of named) {
        const source = await wideByName.get(name)!.toArray();
        const bits = Array.from(await p.toBits());
        const expected = Array.from(source, (x) => {
          const r = roundToHalf(x, FORMATS[dtype]);
          return r.nan ? NaN : r.bits;
        });
        expect(bits, name).toEqual(expected);
        expect(Array.from(await p.toArray()), name).toEqual(expected.map((b) => decodeHalf(b, FORMATS[dtype])));
        expect(p.requiresGrad).toBe(true);
      }
      wide.dispose();
      half.dispose();
    });
  }

  it('keeps buffers and integer tensors as they are, restores the outer dtype after, and refuses a non-float dtype', () => {
    const m = withParameterDtype('bfloat16', () => new GPT2LMHeadModel(gpt2Config({ n_layer: 1, n_embd: 8, n_head: 2, vocab_size: 11, n_positions: 16 }, 'test')));
    for (const [name, p] of m.namedParameters()) expect(p.dtype, name).toBe('bfloat16');
    const after = new Linear(2, 2);
    expect(after.weight.dtype).toBe('float32');
    expect(() => withParameterDtype('int32', () => 0)).toThrow(/not a floating dtype/);
    after.dispose();
    m.dispose();
  });

  it('never holds the whole float32 initialisation: the peak is the half-precision model plus one float32 parameter', () => {
    const cfg = gpt2Config({ n_layer: 4, n_embd: 64, n_head: 4, vocab_size: 512, n_positions: 64 }, 'test');
    const before = memoryStats().bytesInUse;
    resetPeakBytes();
    const m = withParameterDtype('bfloat16', () => new GPT2LMHeadModel(cfg));
    const peak = memoryStats().peakBytes - before;
    const params = [...m.namedParameters()].map(([, p]) => p.size);
    const halfBytes = 2 * params.reduce((a, b) => a + b, 0);
    const largest = 4 * Math.max(...params);
    // The CPU heap rounds each block up to its size class (at most 2×): allow for that, not for a float32 model.
    expect(peak).toBeLessThanOrEqual(2 * (halfBytes + largest));
    expect(peak).toBeLessThan(4 * params.reduce((a, b) => a + b, 0) + largest);
    m.dispose();
  });
});
