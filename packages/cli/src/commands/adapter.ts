import type { Module } from '@siftjs/nn';
import { applyDelta, applyPeftAdapter, isPeftAdapterDir, loadDelta, PeftError } from '@siftjs/sift-optimizer';
import { UsageError } from '../errors.js';

/**
 * --delta: a sparse-delta file written by `sift finetune`, or a Hugging Face PEFT adapter directory
 * (Super-Tuning, SHiRA or LoRA; adapter_config.json + adapter_model.safetensors).
 */
export async function applyAdapter(model: Module, path: string): Promise<void> {
  if (!isPeftAdapterDir(path)) {
    await applyDelta(model, loadDelta(path));
    return;
  }
  try {
    await applyPeftAdapter(model, path);
  } catch (e) {
    if (e instanceof PeftError) throw new UsageError(e.message);
    throw e;
  }
}
