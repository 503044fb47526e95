import {
  BertForSequenceClassification,
  Gpt2Tokenizer,
  HfTokenizer,
  bertConfig,
  buildIn,
  ConfigError,
  GPT2ForSequenceClassification,
  GPT2LMHeadModel,
  gpt2Config,
  LLAMA_FAMILY,
  LlamaForCausalLM,
  llamaConfig,
  type PretrainedModel,
  type RawConfig,
  RobertaForSequenceClassification,
  type TextTokenizer,
} from '@siftjs/models';
import type { Module } from '@siftjs/nn';
import type { DType, Tensor } from '@siftjs/tensor';
import { BpeTokenizer } from './data/bpe-tokenizer.js';
import { UsageError } from './errors.js';

// A model for a task from its parts (config.json's contents, a tokenizer, a way to load its weights): no file
// system here, so a browser builds the same model `sift finetune` does (model-dir.ts reads the parts from a directory).

export type Task = 'classification' | 'causal-lm';

/** A model ready for one task: its forward as the trainer calls it, and the names SIFT and LoRA target. */
export interface TaskModel {
  model: Module;
  tokenizer: TextTokenizer;
  modelType: string;
  task: Task;
  /**
   * Loss (and logits) of a batch: classification reads `labels` [B]; causal-LM predicts the next token, at every
   * real token, or where `labels` [B, T] (instruction data) holds an id rather than −100.
   */
  forward(ids: Tensor, attentionMask: Tensor, labels: Tensor | null): { loss: Tensor | null; logits: Tensor };
  /** The paper's targets on this architecture: attention projections (encoders), every projection (decoders). */
  siftTargets: string[];
  /** Module paths LoRA adapts (the same layers). */
  loraTargets: string[];
  /** The freshly initialised head trained densely by every method (none for causal-LM). */
  head: string[];
  savePretrained(dir: string): void;
  /** `savePretrained` from any backend (WebGPU included); saveFineTune falls back to `savePretrained` without it. */
  savePretrainedAsync?(dir: string): Promise<void>;
}

export interface TaskModelParts {
  /** config.json's contents, and its name for errors. */
  raw: RawConfig;
  configFile: string;
  tokenizer: TextTokenizer;
  task: Task;
  numLabels: number;
  /** Loads the pre-trained weights into the model just built (or leaves its initialisation). */
  load: (model: PretrainedModel) => void;
  /** The model's directory (or what stands for it) in errors. */
  where: string;
  /** float16 / bfloat16: the model's weights are stored in it (built in it, never in float32 first); the fresh head
   *  and everything trained stay float32. Default float32. */
  dtype?: DType;
}

/**
 * Whether tokenizer.json is byte-level BPE (what `sift pretrain` writes, and GPT-2-style ones): those go to the fast
 * BpeTokenizer, which gives the same ids as @huggingface/tokenizers; anything else to the latter.
 */
export function isByteLevelBpe(json: unknown): boolean {
  const j = json as { model?: { type?: string }; pre_tokenizer?: { type?: string } | null; normalizer?: unknown } | null;
  return j?.model?.type === 'BPE' && j.pre_tokenizer?.type === 'ByteLevel' && !j.normalizer;
}

/**
 * The tokenizer of a model's files already read (a browser's): tokenizer.json's contents (null when the model has
 * none: GPT-2 then uses its own BPE) and tokenizer_config.json's; the choice model-dir.ts makes from a directory.
 */
export function tokenizerFromJson(json: unknown, config: Record<string, unknown>, configFile: string, modelType: string, where: string): TextTokenizer {
  if (json === null) {
    if (modelType === 'gpt2') return new Gpt2Tokenizer();
    throw new ConfigError(`${where}/tokenizer.json`, 'not found (the model directory needs its tokenizer)');
  }
  if (isByteLevelBpe(json)) return new BpeTokenizer(json as ConstructorParameters<typeof BpeTokenizer>[0], config, configFile);
  return new HfTokenizer(json as object, config, true, configFile);
}

/** The task model of config `raw`: a language-model checkpoint gains a fresh classification head (seeded by the caller). */
export function buildTaskModel({ raw, configFile: file, tokenizer, task, numLabels, load: loadWeights, where: dir, dtype }: TaskModelParts): TaskModel {
  /** The model built in `dtype`, its new head (trained densely) back in float32 before anything is loaded. */
  const make = <M extends PretrainedModel>(build: () => M, head: string[] = []): M => {
    if (!dtype) return build();
    const model = buildIn(dtype, build);
    for (const [name, m] of model.namedModules()) if (head.includes(name)) m.to('float32');
    return model;
  };
  const load = (model: PretrainedModel) => {
    try {
      loadWeights(model);
    } catch (e) {
      model.dispose();
      throw e;
    }
  };
  const type = String(raw.model_type ?? '');
  const withLabels = { ...raw, num_labels: numLabels, id2label: undefined, label2id: undefined };
  if (type === 'gpt2') {
    const decoder = { siftTargets: ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'], loraTargets: ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'] };
    const attention = { siftTargets: ['attn.c_attn', 'attn.c_proj'], loraTargets: ['attn.c_attn', 'attn.c_proj'] };
    if (task === 'causal-lm') {
      const model = make(() => new GPT2LMHeadModel(gpt2Config(raw, file)));
      load(model);
      return { model, tokenizer, modelType: type, task, ...decoder, head: [], forward: (ids, mask, labels) => lmForward(model, ids, mask, labels), savePretrained: (d) => model.savePretrained(d), savePretrainedAsync: (d) => model.savePretrainedAsync(d) };
    }
    const model = make(() => new GPT2ForSequenceClassification(gpt2Config({ ...withLabels, pad_token_id: raw.pad_token_id ?? tokenizer.padId }, file)), ['score']);
    load(model);
    return {
      model,
      tokenizer,
      modelType: type,
      task,
      ...attention,
      head: ['score'],
      forward: (ids, mask, labels) => model.forward(ids, { attentionMask: mask, labels: labels ?? undefined }),
      savePretrained: (d) => model.savePretrained(d), savePretrainedAsync: (d) => model.savePretrainedAsync(d),
    };
  }
  if (type === 'bert' || type === 'roberta') {
    if (task !== 'classification') throw new UsageError(`${dir}: a ${type} model is an encoder; --task causal-lm needs a decoder (gpt2, llama)`);
    const cfg = bertConfig(type === 'roberta' ? { pad_token_id: 1, type_vocab_size: 1, ...withLabels } : withLabels, file);
    const model = make(() => (type === 'bert' ? new BertForSequenceClassification(cfg) : new RobertaForSequenceClassification(cfg)), ['classifier']);
    load(model);
    return {
      model,
      tokenizer,
      modelType: type,
      task,
      siftTargets: ['query', 'key', 'value', 'attention.output.dense'],
      loraTargets: ['query', 'key', 'value', 'attention.output.dense'],
      head: ['classifier'],
      forward: (ids, mask, labels) => model.forward(ids, { attentionMask: mask, labels: labels ?? undefined }),
      savePretrained: (d) => model.savePretrained(d), savePretrainedAsync: (d) => model.savePretrainedAsync(d),
    };
  }
  if ((LLAMA_FAMILY as readonly string[]).includes(type)) {
    if (task !== 'causal-lm') throw new UsageError(`${dir}: ${type} models train as --task causal-lm here (no classification head)`);
    const model = make(() => new LlamaForCausalLM(llamaConfig(raw, file)));
    load(model);
    const proj = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
    return { model, tokenizer, modelType: type, task, siftTargets: proj, loraTargets: proj, head: [], forward: (ids, mask, labels) => lmForward(model, ids, mask, labels), savePretrained: (d) => model.savePretrained(d), savePretrainedAsync: (d) => model.savePretrainedAsync(d) };
  }
  throw new ConfigError(file, `model_type '${type}' is not supported (gpt2, bert, roberta, ${LLAMA_FAMILY.join(', ')})`);
}

interface LM {
  forward(ids: Tensor, opts: { attentionMask?: Tensor; labels?: Tensor }): { logits: Tensor; loss: Tensor | null };
}

/** Next-token loss with padding ignored (label −100 where the mask is 0), or on the given token labels. */
function lmForward(model: LM, ids: Tensor, mask: Tensor, tokenLabels: Tensor | null): { loss: Tensor | null; logits: Tensor } {
  if (tokenLabels) return model.forward(ids, { attentionMask: mask, labels: tokenLabels });
  const keep = mask.cast('bool');
  const labels = ids.where(keep, -100);
  keep.dispose();
  try {
    return model.forward(ids, { attentionMask: mask, labels });
  } finally {
    labels.dispose();
  }
}

