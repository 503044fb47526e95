/**
 * The names files and errors carry, as the docs publish them (docs/packages/sift-optimizer.md, the format
 * comments): a user's tooling and the CLI's one-line messages rely on them, so each is checked against the text.
 */
import { DELTA_FORMAT, DeltaError, NonFiniteError, PEFT_PREFIX, PEFT_TUNERS, PeftError, SIFTError, STATE_FORMAT } from '@siftjs/sift-optimizer';
import { describe, expect, it } from 'vitest';

describe('published names', () => {
  it('error classes name themselves', () => {
    expect([new DeltaError('x'), new NonFiniteError('x'), new PeftError('x'), new SIFTError('x')].map((e) => [e.name, e instanceof Error, String(e)])).toEqual([
      ['DeltaError', true, 'DeltaError: x'],
      ['NonFiniteError', true, 'NonFiniteError: x'],
      ['PeftError', true, 'PeftError: x'],
      ['SIFTError', true, 'SIFTError: x'],
    ]);
  });

  it("file formats: 'siftjs-sparse-delta', 'siftjs-sift-state'; PEFT's key prefix and the sparse tuners exported", () => {
    expect(DELTA_FORMAT).toBe('siftjs-sparse-delta');
    expect(STATE_FORMAT).toBe('siftjs-sift-state');
    expect(PEFT_PREFIX).toBe('base_model.model.');
    expect(PEFT_TUNERS).toEqual(['supertuning', 'shira']);
  });
});
