import type { PretrainedModel } from '@siftjs/models';
import { safetensorsBytes } from '@siftjs/safetensors';
import { DenseFineTuner, deltaBytes, extractDelta, findNonFinite, type FineTuner, NonFiniteError, peftAdapterFiles, PeftError, SIFT } from '@siftjs/sift-optimizer';
import type { TaskModel } from '../task-model.js';

/** A file a fine-tune produced, in memory: what `sift finetune` writes (`result`), or SIFT's PEFT adapter (`peft`). */
export interface ResultFile {
  name: string;
  bytes: Uint8Array;
  kind: 'result' | 'peft';
}

const utf8 = new TextEncoder();

/**
 * The files train/save-result.ts writes for the method, as bytes (the same functions, no file system): SIFT its
 * sparse delta, LoRA its adapters and head, head-only its head, full fine-tuning config.json and model.safetensors.
 * SIFT's delta also as the PEFT Super-Tuning adapter `sift export --format peft` writes (`model` names the base in
 * its adapter_config.json) where PEFT can hold it — its sparse tuners adapt torch.nn.Linear weights only, so a
 * delta touching a bias or GPT-2's Conv1D has none, and `peftRefused` says why. Nothing non-finite is returned
 * (NonFiniteError names the tensor).
 */
export async function resultFiles(task: TaskModel, tuner: FineTuner, model: string): Promise<{ files: ResultFile[]; peftRefused?: string }> {
  if (tuner instanceof SIFT) {
    const delta = await extractDelta(tuner);
    const files: ResultFile[] = [{ name: 'delta.safetensors', bytes: await deltaBytes('delta.safetensors', delta), kind: 'result' }];
    try {
      const peft = await peftAdapterFiles(task.model, delta, { tuner: 'supertuning', baseModelNameOrPath: model, taskType: task.task === 'classification' ? 'SEQ_CLS' : 'CAUSAL_LM' });
      files.push({ name: 'adapter_config.json', bytes: utf8.encode(peft.config), kind: 'peft' }, { name: 'adapter_model.safetensors', bytes: peft.weights, kind: 'peft' });
    } catch (e) {
      if (!(e instanceof PeftError)) throw e;
      return { files, peftRefused: e.message };
    }
    return { files };
  }
  if (!(tuner instanceof DenseFineTuner)) throw new Error(`resultFiles: no file format for method '${tuner.method}'`);
  const bad = await findNonFinite(tuner.trainable.map((t) => [t.name, t.param] as const));
  if (bad) throw new NonFiniteError(`the trained '${bad.name}' holds ${bad.where}; not saved`);
  if (tuner.method === 'full') {
    const { config, weights } = await (task.model as PretrainedModel).savePretrainedFiles();
    return {
      files: [
        { name: 'model.safetensors', bytes: weights, kind: 'result' },
        { name: 'config.json', bytes: utf8.encode(config), kind: 'result' },
      ],
    };
  }
  const name = tuner.method === 'lora' ? 'adapter_model.safetensors' : `${tuner.method}.safetensors`;
  const tensors = Object.fromEntries(tuner.trainable.map((t) => [t.name, t.param]));
  return { files: [{ name, bytes: await safetensorsBytes(name, tensors, { metadata: { method: tuner.method, ...tuner.describe() } }), kind: 'result' }] };
}
