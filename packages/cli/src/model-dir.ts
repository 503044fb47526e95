import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, Gpt2Tokenizer, HfTokenizer, type PretrainedModel, readConfig, type TextTokenizer } from '@siftjs/models';
import type { DType } from '@siftjs/tensor';
import { BpeTokenizer } from './data/bpe-tokenizer.js';
import { UsageError } from './errors.js';
import { buildTaskModel, isByteLevelBpe, type Task, type TaskModel } from './task-model.js';

export type { Task, TaskModel } from './task-model.js';

/**
 * Loads a Hugging Face model directory for `task` (a language-model checkpoint gains a fresh classification head).
 * With `randomInit` the weights are not read: the same architecture at its initialisation, for comparisons. With
 * `dtype` (float16 / bfloat16) the weights are stored in it.
 */
export function loadTaskModel(dir: string, task: Task, numLabels = 2, { randomInit = false, dtype }: { randomInit?: boolean; dtype?: DType } = {}): TaskModel {
  if (!existsSync(dir)) throw new UsageError(`${dir}: model directory not found`);
  const { file, raw } = readConfig(dir);
  const tokenizer = loadTokenizer(dir, String(raw.model_type ?? ''));
  // The family's loading rules: only a classification head may be missing (initialised, and said so on stderr).
  const load = (model: PretrainedModel) => {
    if (!randomInit) model.loadPretrainedWeights(dir, { onNotice: (m) => process.stderr.write(`note: ${m}\n`) });
  };
  return buildTaskModel({ raw, configFile: file, tokenizer, task, numLabels, load, where: dir, dtype });
}

/** The tokenizer of a model directory (see isByteLevelBpe for which class reads tokenizer.json). */
function loadTokenizer(dir: string, type: string): TextTokenizer {
  const file = join(dir, 'tokenizer.json');
  if (existsSync(file)) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ConfigError(file, `invalid JSON (${(e as Error).message})`);
    }
    return isByteLevelBpe(json) ? BpeTokenizer.fromDir(dir) : HfTokenizer.fromDir(dir);
  }
  if (type === 'gpt2') return new Gpt2Tokenizer();
  throw new ConfigError(join(dir, 'tokenizer.json'), 'not found (the model directory needs its tokenizer)');
}
