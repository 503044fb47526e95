import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Module, Linear } from '@siftjs/nn';
import type { Tensor } from '@siftjs/tensor';

/**
 * What Hugging Face PEFT reads and writes, as its source (src/peft/tuners/{shira,supertuning,lora}, utils/
 * save_and_load.py) defines it: an adapter directory holds `adapter_config.json` (the tuner's config dataclass as
 * JSON, `peft_type` naming the tuner) and `adapter_model.safetensors`, whose keys are the model's module paths
 * under `base_model.model.` with the adapter name removed:
 *   SUPERTUNING  <module>.supertuning_values  F32 [k],  <module>.supertuning_indices  I32 [k] (flat, row-major);
 *                Supra (r set) adds <module>.supertuning_lora_A.weight [r, in] and supertuning_lora_B.weight [out, r]
 *   SHIRA        <module>.shira_weight  F32 [r·(in + out)],  <module>.shira_indices  I32 [2, r·(in + out)] (row; col)
 *   LORA         <module>.lora_A.weight [r, in],  <module>.lora_B.weight [out, r]
 * and modules_to_save entries as <module>.<param> (a classifier head, saved whole).
 */
export const PEFT_PREFIX = 'base_model.model.';
export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
/** The PEFT version whose source these layouts were read from. */
export const PEFT_VERSION = '0.20.1.dev0';

export type PeftTuner = 'supertuning' | 'shira';
export const PEFT_TUNERS: readonly PeftTuner[] = ['supertuning', 'shira'];

/** An adapter PEFT cannot load, or one we cannot read: names the file (or layer) and the defect. */
export class PeftError extends Error {
  override name = 'PeftError';
}

/** True when `path` is a directory holding a PEFT adapter_config.json. */
export function isPeftAdapterDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory() && existsSync(join(path, ADAPTER_CONFIG));
}

/** adapter_config.json, parsed, with the fields every tuner has checked. */
export function readAdapterConfig(dir: string): Record<string, unknown> & { peft_type: string } {
  const file = join(dir, ADAPTER_CONFIG);
  let cfg: unknown;
  try {
    cfg = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new PeftError(`${file}: ${existsSync(file) ? `invalid JSON (${(e as Error).message})` : 'not found'}`);
  }
  if (typeof cfg !== 'object' || cfg === null || typeof (cfg as { peft_type?: unknown }).peft_type !== 'string') {
    throw new PeftError(`${file}: has no 'peft_type' (PEFT requires it)`);
  }
  if (!existsSync(join(dir, ADAPTER_WEIGHTS))) {
    const bin = existsSync(join(dir, 'adapter_model.bin')) ? ' (adapter_model.bin is a pickle; only safetensors adapters are read)' : '';
    throw new PeftError(`${join(dir, ADAPTER_WEIGHTS)}: not found${bin}`);
  }
  return cfg as Record<string, unknown> & { peft_type: string };
}

/** A targeted layer: its module path, weight and kind. */
export interface TargetLayer {
  module: string;
  weight: Tensor;
  /** [out, in] as torch.nn.Linear has them. */
  outFeatures: number;
  inFeatures: number;
}

/**
 * The Linear layer whose weight is the parameter `param` ('….q_proj.weight'). Super-Tuning and SHiRA adapt
 * torch.nn.Linear only (PEFT raises a TypeError on anything else): GPT-2's Conv1D, an embedding or a norm is refused
 * with the reason.
 */
export function linearLayerOf(model: Module, param: string): TargetLayer {
  if (!param.endsWith('.weight')) throw new PeftError(`'${param}' is not a layer's weight: PEFT's sparse tuners adapt the weights of torch.nn.Linear layers only`);
  const module = param.slice(0, -'.weight'.length);
  const m = moduleAt(model, module);
  if (!m) throw new PeftError(`the model has no module '${module}'`);
  if ((m as { fanInFanOut?: boolean }).fanInFanOut) {
    throw new PeftError(
      `'${module}' is a Conv1D layer (GPT-2 stores these weights as [in, out] in transformers' Conv1D, not torch.nn.Linear); PEFT's Super-Tuning and SHiRA tuners adapt torch.nn.Linear only and refuse Conv1D when loading, so this delta cannot be a PEFT sparse adapter. BERT, RoBERTa and the LLaMA family use Linear layers.`,
    );
  }
  if (!(m instanceof Linear)) throw new PeftError(`'${module}' is a ${m.constructor.name}, not a Linear layer: PEFT's Super-Tuning and SHiRA tuners adapt torch.nn.Linear only`);
  const [outFeatures, inFeatures] = m.weight.shape;
  return { module, weight: m.weight, outFeatures, inFeatures };
}

/** The submodule at a dotted path, or null. */
export function moduleAt(model: Module, path: string): Module | null {
  for (const [name, m] of model.namedModules()) if (name === path) return m;
  return null;
}

/**
 * The model's name for a module path of an adapter: the same path, or the one model path that ends with it (an
 * adapter made on a base model, e.g. 'encoder.layer.0…', applied to a task model, 'bert.encoder.layer.0…').
 */
export function resolveModulePath(model: Module, path: string): string | null {
  const names = [...model.namedModules()].map(([n]) => n);
  if (names.includes(path)) return path;
  const ends = names.filter((n) => n.endsWith(`.${path}`));
  return ends.length === 1 ? ends[0] : null;
}
