import { ConfigError, readConfig } from './config.js';
import {
  BertForMaskedLM,
  BertForSequenceClassification,
  BertModel,
  RobertaForMaskedLM,
  RobertaForSequenceClassification,
  RobertaModel,
} from './bert/modeling.js';
import { GPT2ForSequenceClassification, GPT2LMHeadModel, GPT2Model } from './gpt2/modeling.js';
import { LlamaForCausalLM, LlamaModel, MistralForCausalLM, MistralModel, Qwen2ForCausalLM, Qwen2Model } from './llama/modeling.js';
import type { FromPretrainedOptions, PretrainedModel } from './pretrained/model.js';

/** The tasks a model class is built for, as transformers' AutoModel… classes name them. */
export type ModelTask = 'base' | 'causal-lm' | 'masked-lm' | 'sequence-classification';

/** What the registry needs of a class: its fromPretrained. */
type AnyClass = { fromPretrained(dir: string, opts?: FromPretrainedOptions): PretrainedModel };

/** model_type → the class for each task (transformers.js's registry): one table, read by every Auto class. */
const REGISTRY: Record<string, Partial<Record<ModelTask, AnyClass>>> = {
  gpt2: { base: GPT2Model, 'causal-lm': GPT2LMHeadModel, 'sequence-classification': GPT2ForSequenceClassification },
  bert: { base: BertModel, 'masked-lm': BertForMaskedLM, 'sequence-classification': BertForSequenceClassification },
  roberta: { base: RobertaModel, 'masked-lm': RobertaForMaskedLM, 'sequence-classification': RobertaForSequenceClassification },
  llama: { base: LlamaModel, 'causal-lm': LlamaForCausalLM },
  qwen2: { base: Qwen2Model, 'causal-lm': Qwen2ForCausalLM },
  mistral: { base: MistralModel, 'causal-lm': MistralForCausalLM },
};

/** The model types with a class for `task`. */
export function supportedModelTypes(task: ModelTask): string[] {
  return Object.keys(REGISTRY).filter((t) => REGISTRY[t][task]);
}

/** The class for `modelType` and `task`; a ConfigError naming `file` where there is none. */
export function modelClass(modelType: unknown, task: ModelTask, file: string): AnyClass {
  const supported = supportedModelTypes(task);
  if (typeof modelType !== 'string') throw new ConfigError(file, `missing field 'model_type' (one of ${supported.join(', ')})`);
  const cls = Object.hasOwn(REGISTRY, modelType) ? REGISTRY[modelType][task] : undefined;
  if (!cls) throw new ConfigError(file, `model_type '${modelType}' has no ${task} model here (${task}: ${supported.join(', ')})`);
  return cls;
}

/** An entry point that picks the class from config.json's model_type, as transformers' AutoModel… do. */
export interface AutoClass {
  fromPretrained(dir: string, opts?: FromPretrainedOptions): PretrainedModel;
}

function auto(task: ModelTask): AutoClass {
  return {
    fromPretrained(dir, opts) {
      const { file, raw } = readConfig(dir);
      return modelClass(raw.model_type, task, file).fromPretrained(dir, opts);
    },
  };
}

export const AutoModel = auto('base');
export const AutoModelForCausalLM = auto('causal-lm');
export const AutoModelForMaskedLM = auto('masked-lm');
export const AutoModelForSequenceClassification = auto('sequence-classification');
