import type { Module } from '@siftjs/nn';
import { applyDelta, DeltaError, loadDelta } from '@siftjs/sift-optimizer';

/**
 * Applies the delta in `file` to `model` (loaded from `modelDir`). A delta for another architecture or another
 * base (shapes, fingerprint) is refused before the model changes, in one line naming both; a malformed delta
 * file (a NaN increment included) names itself through loadDelta's SafetensorsError.
 */
export async function applyDeltaFile(model: Module, file: string, modelDir: string): Promise<void> {
  const delta = loadDelta(file);
  try {
    await applyDelta(model, delta);
  } catch (e) {
    if (e instanceof DeltaError) throw new DeltaError(`${file} does not apply to ${modelDir}: ${e.message.replace(/^sparse delta: /, '')}`);
    throw e;
  }
}
