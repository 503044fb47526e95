import type { Module } from '@siftjs/nn';
import { applyDelta, loadDelta } from '@siftjs/sift-optimizer';

/** --delta: a sparse-delta file written by `sift finetune`. */
export async function applyAdapter(model: Module, path: string): Promise<void> {
  await applyDelta(model, loadDelta(path));
}
