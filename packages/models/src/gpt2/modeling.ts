import {
  type AttentionCache,
  appendToCache,
  causalMask,
  Dropout,
  KVCache,
  Embedding,
  GradientCheckpointingLayer,
  LayerNorm,
  Linear,
  mergeHeads,
  Module,
  ModuleList,
  paddingMask,
  parameter,
  scaledDotProductAttention,
  splitHeads,
} from '@siftjs/nn';
import { arange, crossEntropy, embedding, empty, full, onesLike, scope, type Tensor } from '@siftjs/tensor';
import { init } from '@siftjs/nn';
import { checkModelType, type RawConfig } from '../config.js';
import { causalLMLoss } from '../loss.js';
import type { CheckpointLayout } from '../pretrained/layout.js';
import { PretrainedModel } from '../pretrained/model.js';
import { type GPT2Config, gpt2Config } from './config.js';

/**
 * GPT-2 (Radford et al. 2019), laid out exactly as Hugging Face's GPT2Model so checkpoints load unchanged —
 * including the Conv1D layers, whose weight is [in, out] (the transpose of Linear's).
 */

/** y = x·W + b with W of shape [in, out] (Hugging Face's Conv1D). */
export class Conv1D extends Module {
  /** The weight is [in, out]: LoRA and other wrappers read this to transpose their updates. */
  readonly fanInFanOut = true;
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(inFeatures: number, outFeatures: number) {
    super();
    this.weight = parameter(init.normal_(empty([inFeatures, outFeatures]), 0, 0.02));
    this.bias = parameter(full([outFeatures], 0));
  }

  forward(x: Tensor): Tensor {
    return scope(() => x.matmul(this.weight).add(this.bias));
  }
}

function activation(name: GPT2Config['activation_function'], x: Tensor): Tensor {
  if (name === 'relu') return x.relu();
  return x.gelu(name === 'gelu' ? 'none' : 'tanh');
}

/** Causal multi-head self-attention: softmax(QKᵀ/√d + mask)·V, heads concatenated, then c_proj. */
export class GPT2Attention extends Module {
  c_attn: Conv1D;
  c_proj: Conv1D;
  attn_dropout: Dropout;
  resid_dropout: Dropout;

  constructor(private readonly cfg: GPT2Config) {
    super();
    this.c_attn = new Conv1D(cfg.n_embd, 3 * cfg.n_embd);
    this.c_proj = new Conv1D(cfg.n_embd, cfg.n_embd);
    this.attn_dropout = new Dropout(cfg.attn_pdrop);
    this.resid_dropout = new Dropout(cfg.resid_pdrop);
  }

  /**
   * x: [B, T, C]; mask: additive [B or 1, 1, T, T_total] (0 where attending, a large negative where not). With a
   * cache, keys and values of earlier positions are reused and this step's are appended (generation).
   */
  forward(x: Tensor, mask: Tensor, cache?: AttentionCache): Tensor {
    return scope(() => {
      const c = x.shape[2];
      let [q, k, v] = this.c_attn
        .forward(x)
        .split(c, 2)
        .map((z) => splitHeads(z, this.cfg.n_head)); // [B, H, T, D]
      if (cache) ({ k, v } = appendToCache(cache, k, v));
      const y = scaledDotProductAttention(q, k, v, { mask, dropout: (att) => this.attn_dropout.forward(att) });
      return this.resid_dropout.forward(this.c_proj.forward(mergeHeads(y)));
    });
  }
}

export class GPT2MLP extends Module {
  c_fc: Conv1D;
  c_proj: Conv1D;
  dropout: Dropout;

  constructor(private readonly cfg: GPT2Config) {
    super();
    const inner = cfg.n_inner ?? 4 * cfg.n_embd;
    this.c_fc = new Conv1D(cfg.n_embd, inner);
    this.c_proj = new Conv1D(inner, cfg.n_embd);
    this.dropout = new Dropout(cfg.resid_pdrop);
  }

  forward(x: Tensor): Tensor {
    return scope(() => this.dropout.forward(this.c_proj.forward(activation(this.cfg.activation_function, this.c_fc.forward(x)))));
  }
}

/** Pre-norm residual block: x + attn(ln_1(x)), then + mlp(ln_2(x)). */
export class GPT2Block extends GradientCheckpointingLayer {
  ln_1: LayerNorm;
  attn: GPT2Attention;
  ln_2: LayerNorm;
  mlp: GPT2MLP;

  constructor(cfg: GPT2Config) {
    super();
    this.ln_1 = new LayerNorm(cfg.n_embd, { eps: cfg.layer_norm_epsilon });
    this.attn = new GPT2Attention(cfg);
    this.ln_2 = new LayerNorm(cfg.n_embd, { eps: cfg.layer_norm_epsilon });
    this.mlp = new GPT2MLP(cfg);
  }

  /** With gradient checkpointing on, recomputed in backward; never with a cache (generation appends to it). */
  forward(x: Tensor, mask: Tensor, cache?: AttentionCache): Tensor {
    if (cache) return this.run(x, mask, cache);
    return this.checkpointed((h, m) => this.run(h, m), x, mask);
  }

  private run(x: Tensor, mask: Tensor, cache?: AttentionCache): Tensor {
    return scope(() => {
      const a = x.add(this.attn.forward(this.ln_1.forward(x), mask, cache));
      return a.add(this.mlp.forward(this.ln_2.forward(a)));
    });
  }
}

/** The causal-mask buffers the original GPT-2 checkpoints carry in every block (attn.bias, attn.masked_bias). */
const GPT2_BUFFERS = [/(^|\.)h\.\d+\.attn\.(masked_)?bias$/];

/** The heads of transformers' GPT-2 task models (LM, double heads, sequence and token classification, QA). */
const GPT2_HEADS = ['lm_head', 'multiple_choice_head', 'score', 'classifier', 'qa_outputs'];

/** GPT-2's checkpoints: the body under `transformer.` in task checkpoints, bare in the original release. */
function gpt2Layout(isBase: boolean, newHeads: string[] = []): CheckpointLayout {
  return { basePrefix: 'transformer', isBase, newHeads, taskHeads: GPT2_HEADS, ignoredKeys: GPT2_BUFFERS };
}

/** What every GPT-2 class shares: config.json of model_type "gpt2". */
export abstract class GPT2PreTrainedModel extends PretrainedModel<GPT2Config> {
  static configFromJson(this: { name: string }, raw: RawConfig, file: string): GPT2Config {
    checkModelType(raw, file, ['gpt2'], this.name);
    return gpt2Config(raw, file);
  }

  get modelType(): string {
    return 'gpt2';
  }
}

export class GPT2Model extends GPT2PreTrainedModel {
  wte: Embedding;
  wpe: Embedding;
  drop: Dropout;
  h: ModuleList<GPT2Block>;
  ln_f: LayerNorm;

  constructor(config: GPT2Config) {
    super(config);
    this.wte = new Embedding(config.vocab_size, config.n_embd);
    this.wpe = new Embedding(config.n_positions, config.n_embd);
    init.normal_(this.wte.weight, 0, 0.02);
    init.normal_(this.wpe.weight, 0, 0.01);
    this.drop = new Dropout(config.embd_pdrop);
    this.h = new ModuleList(Array.from({ length: config.n_layer }, () => new GPT2Block(config)));
    this.ln_f = new LayerNorm(config.n_embd, { eps: config.layer_norm_epsilon });
  }

  get architecture(): string {
    return 'GPT2Model';
  }

  get checkpointLayout(): CheckpointLayout {
    return gpt2Layout(true);
  }

  /** ids: int32 [B, T] → hidden states [B, T, n_embd]. With a cache, ids are the tokens after the cached ones. */
  forward(ids: Tensor, opts: { attentionMask?: Tensor; cache?: KVCache } = {}): Tensor {
    return scope(() => {
      const t = ids.shape[1];
      const past = opts.cache?.length ?? 0;
      if (past + t > this.config.n_positions) {
        throw new RangeError(`GPT-2: sequence length ${past + t} exceeds n_positions ${this.config.n_positions}`);
      }
      const mask = opts.attentionMask ? causalMask(t, past).add(paddingMask(opts.attentionMask)) : causalMask(t, past);
      let x = this.drop.forward(this.wte.forward(ids).add(this.wpe.forward(arange(past, past + t))));
      for (let i = 0; i < this.h.length; i++) x = this.h.at(i).forward(x, mask, opts.cache?.layers[i]);
      return this.ln_f.forward(x);
    });
  }
}

export interface CausalLMOutput {
  logits: Tensor;
  loss: Tensor | null;
}

/** GPT-2 with the language-model head tied to the token embedding (lm_head.weight is transformer.wte.weight). */
export class GPT2LMHeadModel extends GPT2PreTrainedModel {
  transformer: GPT2Model;
  lm_head: Linear;

  constructor(config: GPT2Config) {
    super(config);
    this.transformer = new GPT2Model(config);
    this.lm_head = new Linear(config.n_embd, config.vocab_size, { bias: false });
    this.lm_head.weight.dispose();
    (this.lm_head as unknown as { weight: Tensor }).weight = this.transformer.wte.weight;
  }

  get architecture(): string {
    return 'GPT2LMHeadModel';
  }

  get checkpointLayout(): CheckpointLayout {
    return gpt2Layout(false);
  }

  newCache(): KVCache {
    return new KVCache(this.config.n_layer);
  }

  /** Logits [B, T, vocab]; with labels (int32 [B, T], −100 ignored) the next-token loss, shifted as Hugging Face does. */
  forward(ids: Tensor, opts: { attentionMask?: Tensor; labels?: Tensor; cache?: KVCache } = {}): CausalLMOutput {
    const logits = scope(() => this.lm_head.forward(this.transformer.forward(ids, opts)));
    if (!opts.labels) return { logits, loss: null };
    const loss = causalLMLoss(logits, opts.labels);
    return { logits, loss };
  }
}

export interface SequenceClassifierOutput {
  /** [B, numLabels], read at each sequence's last non-padding token. */
  logits: Tensor;
  loss: Tensor | null;
}

/**
 * GPT-2 with a linear `score` head (no bias) read at the last non-padding token of each sequence, as Hugging
 * Face's GPT2ForSequenceClassification. Without a pad_token_id every position counts, so the last one is used.
 */
export class GPT2ForSequenceClassification extends GPT2PreTrainedModel {
  transformer: GPT2Model;
  score: Linear;

  constructor(config: GPT2Config) {
    super(config);
    this.transformer = new GPT2Model(config);
    this.score = new Linear(config.n_embd, config.num_labels, { bias: false });
    init.normal_(this.score.weight, 0, 0.02);
  }

  get architecture(): string {
    return 'GPT2ForSequenceClassification';
  }

  /** A language-model checkpoint has no `score` head: it keeps its initialisation (named in the load's notice). */
  get checkpointLayout(): CheckpointLayout {
    return gpt2Layout(false, ['score']);
  }

  /** labels: int32 [B] class ids (cross-entropy), or float32 [B] targets when num_labels is 1 (MSE). */
  forward(ids: Tensor, opts: { attentionMask?: Tensor; labels?: Tensor } = {}): SequenceClassifierOutput {
    const [b, t] = ids.shape;
    const n = this.config.num_labels;
    const logits = scope(() => {
      const all = this.score.forward(this.transformer.forward(ids, opts)); // [B, T, L]
      const positions = arange(t).reshape([1, t]);
      const nonPad = this.config.pad_token_id === null ? onesLike(ids, 'bool') : ids.ne(this.config.pad_token_id);
      // The last position holding a real token: argmax of position·[not pad] (left or right padding alike).
      const last = positions.mul(nonPad.cast('int32')).argmax(-1);
      const rows = arange(b).mul(t).add(last);
      return embedding(all.reshape([b * t, n]), rows);
    });
    if (!opts.labels) return { logits, loss: null };
    const labels = opts.labels;
    const loss = scope(() => (n === 1 ? logits.reshape([b]).sub(labels).square().mean() : crossEntropy(logits, labels)));
    return { logits, loss };
  }
}
