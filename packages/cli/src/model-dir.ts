import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BertForSequenceClassification,
  bertConfig,
  ConfigError,
  GPT2ForSequenceClassification,
  GPT2LMHeadModel,
  gpt2Config,
  Gpt2Tokenizer,
  HfTokenizer,
  LLAMA_FAMILY,
  LlamaForCausalLM,
  llamaConfig,
  type PretrainedModel,
  readConfig,
  RobertaForSequenceClassification,
  type TextTokenizer,
} from '@siftjs/models';
import type { Module } from '@siftjs/nn';
import type { Tensor } from '@siftjs/tensor';
import { BpeTokenizer } from './data/bpe-tokenizer.js';
import { UsageError } from './errors.js';

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

/** Loads a Hugging Face model directory for `task` (a language-model checkpoint gains a fresh classification head). */
/**
 * With `randomInit` the weights are not read: the same architecture at its initialisation, for comparisons.
 */
export function loadTaskModel(dir: string, task: Task, numLabels = 2, { randomInit = false } = {}): TaskModel {
  // The family's loading rules: only a classification head may be missing (initialised, and said so on stderr).
  const load = (model: PretrainedModel) => {
    if (randomInit) return;
    try {
      model.loadPretrainedWeights(dir, { onNotice: (m) => process.stderr.write(`note: ${m}\n`) });
    } catch (e) {
      model.dispose();
      throw e;
    }
  };
  if (!existsSync(dir)) throw new UsageError(`${dir}: model directory not found`);
  const { file, raw } = readConfig(dir);
  const type = String(raw.model_type ?? '');
  const tokenizer = loadTokenizer(dir, type);
  const withLabels = { ...raw, num_labels: numLabels, id2label: undefined, label2id: undefined };
  if (type === 'gpt2') {
    const decoder = { siftTargets: ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'], loraTargets: ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'] };
    const attention = { siftTargets: ['attn.c_attn', 'attn.c_proj'], loraTargets: ['attn.c_attn', 'attn.c_proj'] };
    if (task === 'causal-lm') {
      const model = new GPT2LMHeadModel(gpt2Config(raw, file));
      load(model);
      return { model, tokenizer, modelType: type, task, ...decoder, head: [], forward: (ids, mask, labels) => lmForward(model, ids, mask, labels), savePretrained: (d) => model.savePretrained(d), savePretrainedAsync: (d) => model.savePretrainedAsync(d) };
    }
    const model = new GPT2ForSequenceClassification(gpt2Config({ ...withLabels, pad_token_id: raw.pad_token_id ?? tokenizer.padId }, file));
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
    const model = type === 'bert' ? new BertForSequenceClassification(cfg) : new RobertaForSequenceClassification(cfg);
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
    const model = new LlamaForCausalLM(llamaConfig(raw, file));
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

/**
 * The tokenizer of a model directory. Byte-level BPE files (what `sift pretrain` writes, and GPT-2-style ones)
 * go to the fast BpeTokenizer, which gives the same ids; anything else to @huggingface/tokenizers.
 */
function loadTokenizer(dir: string, type: string): TextTokenizer {
  const file = join(dir, 'tokenizer.json');
  if (existsSync(file)) {
    let json: { model?: { type?: string }; pre_tokenizer?: { type?: string } | null; normalizer?: unknown };
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ConfigError(file, `invalid JSON (${(e as Error).message})`);
    }
    const byteLevelBpe = json.model?.type === 'BPE' && json.pre_tokenizer?.type === 'ByteLevel' && !json.normalizer;
    return byteLevelBpe ? BpeTokenizer.fromDir(dir) : HfTokenizer.fromDir(dir);
  }
  if (type === 'gpt2') return new Gpt2Tokenizer();
  throw new ConfigError(join(dir, 'tokenizer.json'), 'not found (the model directory needs its tokenizer)');
}
