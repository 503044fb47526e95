// @siftjs/models — Hugging Face checkpoints: configs, the model zoo, generation and tokenizers (the safetensors
// format itself is @siftjs/safetensors).
export { ConfigError, readConfig, type RawConfig } from './config.js';
export { loadWeights, saveWeights, saveWeightsAsync } from './checkpoint.js';
export { buildIn, type FromPretrainedOptions, type PretrainedClass, PretrainedModel } from './pretrained/model.js';
export { type LoadOptions, type LoadReport } from './pretrained/load.js';
export { type CheckpointLayout } from './pretrained/layout.js';
export { CheckpointError } from './pretrained/errors.js';
export {
  type AutoClass,
  AutoModel,
  AutoModelForCausalLM,
  AutoModelForMaskedLM,
  AutoModelForSequenceClassification,
  modelClass,
  type ModelTask,
  supportedModelTypes,
} from './auto.js';
export { type GPT2Config, gpt2Config } from './gpt2/config.js';
export {
  Conv1D,
  GPT2Attention,
  GPT2Block,
  GPT2ForSequenceClassification,
  GPT2LMHeadModel,
  GPT2MLP,
  GPT2Model,
  GPT2PreTrainedModel,
  type CausalLMOutput,
  type SequenceClassifierOutput,
} from './gpt2/modeling.js';
export { type Batch, type BatchOptions, encodeBatch, type EncodeOptions, Gpt2Tokenizer, HfTokenizer, type TextTokenizer } from './tokenizer.js';
export { type ChatMessage, ChatTemplate, ChatTemplateError, type ChatTemplateOptions, type SpecialTokenStrings } from './chat-template.js';
export { LLAMA_FAMILY, type LlamaConfig, llamaConfig, type LlamaFamily, type RopeScaling } from './llama/config.js';
export {
  LlamaDecoderLayer,
  LlamaForCausalLM,
  LlamaModel,
  LlamaPreTrainedModel,
  MistralForCausalLM,
  MistralModel,
  Qwen2ForCausalLM,
  Qwen2Model,
} from './llama/modeling.js';
export { type BertConfig, bertConfig } from './bert/config.js';
export {
  BertForMaskedLM,
  BertForSequenceClassification,
  BertModel,
  BertPreTrainedModel,
  RobertaPreTrainedModel,
  RobertaForMaskedLM,
  RobertaForSequenceClassification,
  RobertaModel,
} from './bert/modeling.js';
export { type CausalLM, generate, type GenerateOptions, pickToken, type SamplingOptions } from './generate.js';
export { KVCache } from '@siftjs/nn';
