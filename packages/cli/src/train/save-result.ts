import { mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { saveSafetensorsAsync } from '@siftjs/models';
import { DenseFineTuner, extractDelta, type FineTuner, SIFT, saveDelta } from '@siftjs/sift-optimizer';
import type { TaskModel } from '../model-dir.js';

/**
 * Saves what a fine-tune produced, in the form each method calls for: SIFT (and random-index) a sparse delta,
 * LoRA its adapters (and head), head-only and BitFit their tensors, full fine-tuning a whole checkpoint.
 * Every file is written beside its final name and renamed, so a crash leaves no half-written file. Tensors are read
 * with `await toArray()`, so this saves from any backend (WebGPU included).
 */
export async function saveFineTune(task: TaskModel, tuner: FineTuner, dir: string): Promise<{ file: string; bytes: number }> {
  mkdirSync(dir, { recursive: true });
  let file: string;
  if (tuner instanceof SIFT) {
    file = join(dir, 'delta.safetensors');
    saveDelta(`${file}.tmp`, await extractDelta(tuner));
    renameSync(`${file}.tmp`, file);
  } else if (tuner.method === 'full') {
    // savePretrained writes config.json and model.safetensors; write into a fresh folder, then move it in.
    const tmp = join(dir, '.full.tmp');
    await (task.savePretrainedAsync ? task.savePretrainedAsync(tmp) : task.savePretrained(tmp));
    for (const name of ['config.json', 'model.safetensors']) renameSync(join(tmp, name), join(dir, name));
    file = join(dir, 'model.safetensors');
  } else if (tuner instanceof DenseFineTuner) {
    file = join(dir, tuner.method === 'lora' ? 'adapter_model.safetensors' : `${tuner.method}.safetensors`);
    await saveSafetensorsAsync(`${file}.tmp`, Object.fromEntries(tuner.trainable.map((t) => [t.name, t.param])), { metadata: { method: tuner.method, ...tuner.describe() } });
    renameSync(`${file}.tmp`, file);
  } else throw new Error(`saveFineTune: no file format for method '${tuner.method}'`);
  return { file, bytes: statSync(file).size };
}
