import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { saveSafetensorsAsync } from '@siftjs/safetensors';
import { DenseFineTuner, extractDelta, findNonFinite, type FineTuner, NonFiniteError, SIFT, saveDelta } from '@siftjs/sift-optimizer';
import type { TaskModel } from '../model-dir.js';

/**
 * Saves what a fine-tune produced, in the form each method calls for: SIFT (and random-index) a sparse delta,
 * LoRA its adapters (and head), head-only and BitFit their tensors, full fine-tuning a whole checkpoint.
 * Every file is written beside its final name and renamed, so a crash leaves the previous file or the new one,
 * never half of one; saving again writes the same bytes, so a resume that finds the result saved or half saved
 * saves it again. Nothing non-finite is written (NonFiniteError names the tensor). Tensors are read with
 * `await toArray()`, so this saves from any backend (WebGPU included).
 */
export async function saveFineTune(task: TaskModel, tuner: FineTuner, dir: string): Promise<{ file: string; bytes: number }> {
  mkdirSync(dir, { recursive: true });
  let file: string;
  if (tuner instanceof SIFT) {
    file = join(dir, 'delta.safetensors');
    saveDelta(file, await extractDelta(tuner)); // refuses a non-finite increment or head
  } else if (tuner instanceof DenseFineTuner) {
    const bad = await findNonFinite(tuner.trainable.map((t) => [t.name, t.param] as const));
    if (bad) throw new NonFiniteError(`${dir}: the trained '${bad.name}' holds ${bad.where}; not saved`);
    if (tuner.method === 'full') {
      // config.json and model.safetensors, each written beside its name and renamed.
      await (task.savePretrainedAsync ? task.savePretrainedAsync(dir) : task.savePretrained(dir));
      file = join(dir, 'model.safetensors');
    } else {
      file = join(dir, tuner.method === 'lora' ? 'adapter_model.safetensors' : `${tuner.method}.safetensors`);
      await saveSafetensorsAsync(file, Object.fromEntries(tuner.trainable.map((t) => [t.name, t.param])), { metadata: { method: tuner.method, ...tuner.describe() } });
    }
  } else throw new Error(`saveFineTune: no file format for method '${tuner.method}'`);
  return { file, bytes: statSync(file).size };
}
