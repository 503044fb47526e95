import { type AttentionCache, Embedding, GradientCheckpointingLayer, init, KVCache, Linear, ModuleList, MultiHeadAttention, RMSNorm, SwiGLU } from '@siftjs/nn';
import { scope, type Tensor } from '@siftjs/tensor';
import { checkModelType, type RawConfig } from '../config.js';
import { causalLMLoss } from '../loss.js';
import type { CheckpointLayout } from '../pretrained/layout.js';
import { PretrainedModel } from '../pretrained/model.js';
import { attentionBiases, type LlamaConfig, llamaConfig, type LlamaFamily, layerWindows } from './config.js';
import { rotaryFrequencies } from './rope.js';

/**
 * LLaMA (Touvron et al. 2023) in Hugging Face's layout: pre-RMSNorm blocks of causal grouped-query attention
 * with rotary position embeddings (q/k/v/o_proj) and a SwiGLU MLP (gate/up/down_proj) — both @siftjs/nn layers.
 * The family built on it differs only in what config.json says: Llama 3's head_dim and scaled rotary
 * frequencies, Qwen2's q/k/v biases, Mistral's sliding window, tied or untied output embeddings.
 */

export class LlamaDecoderLayer extends GradientCheckpointingLayer {
  self_attn: MultiHeadAttention;
  mlp: SwiGLU;
  input_layernorm: RMSNorm;
  post_attention_layernorm: RMSNorm;

  /** `slidingWindow`: this layer attends only to the last that many positions (Mistral; Qwen2's upper layers). */
  constructor(cfg: LlamaConfig, { slidingWindow = null as number | null, frequencies = rotaryFrequencies(cfg) } = {}) {
    super();
    const bias = attentionBiases(cfg);
    this.self_attn = new MultiHeadAttention(cfg.hidden_size, {
      heads: cfg.num_attention_heads,
      kvHeads: cfg.num_key_value_heads,
      headDim: cfg.head_dim,
      causal: true,
      rotaryFrequencies: frequencies,
      bias: bias.qkv,
      outBias: bias.o,
      slidingWindow,
    });
    this.mlp = new SwiGLU(cfg.hidden_size, cfg.intermediate_size);
    this.input_layernorm = new RMSNorm(cfg.hidden_size, cfg.rms_norm_eps);
    this.post_attention_layernorm = new RMSNorm(cfg.hidden_size, cfg.rms_norm_eps);
  }

  /** With gradient checkpointing on, recomputed in backward; never with a cache (generation appends to it). */
  forward(x: Tensor, opts: { attentionMask?: Tensor; cache?: AttentionCache }): Tensor {
    if (opts.cache) return this.run(x, opts);
    const mask = opts.attentionMask;
    return mask ? this.checkpointed((h, m) => this.run(h, { attentionMask: m }), x, mask) : this.checkpointed((h) => this.run(h, {}), x);
  }

  private run(x: Tensor, opts: { attentionMask?: Tensor; cache?: AttentionCache }): Tensor {
    return scope(() => {
      const a = x.add(this.self_attn.forward(this.input_layernorm.forward(x), opts));
      return a.add(this.mlp.forward(this.post_attention_layernorm.forward(a)));
    });
  }
}

/** Checkpoints saved before transformers 4.31 carry each layer's rotary inverse frequencies, a buffer. */
const ROTARY_BUFFERS = [/(^|\.)self_attn\.rotary_emb\.inv_freq$/];

/** The family's checkpoints: the decoder under `model.` beside lm_head, or bare in a base-model save. */
function llamaLayout(isBase: boolean): CheckpointLayout {
  return { basePrefix: 'model', isBase, taskHeads: ['lm_head', 'score', 'qa_outputs'], ignoredKeys: ROTARY_BUFFERS };
}

const CAUSAL_LM: Record<LlamaFamily, string> = { llama: 'LlamaForCausalLM', qwen2: 'Qwen2ForCausalLM', mistral: 'MistralForCausalLM' };
const BASE: Record<LlamaFamily, string> = { llama: 'LlamaModel', qwen2: 'Qwen2Model', mistral: 'MistralModel' };

/**
 * What every class of the family shares: config.json read by llamaConfig, and model_type written back as it was
 * read. Each class loads its own model_type only (`family`), so a Mistral checkpoint is never read as LLaMA.
 */
export abstract class LlamaPreTrainedModel extends PretrainedModel<LlamaConfig> {
  static readonly family: LlamaFamily = 'llama';

  static configFromJson(this: { name: string; family: LlamaFamily }, raw: RawConfig, file: string): LlamaConfig {
    checkModelType(raw, file, [this.family], this.name);
    return llamaConfig({ model_type: this.family, ...raw }, file);
  }

  get modelType(): string {
    return this.config.model_type;
  }
}

export class LlamaModel extends LlamaPreTrainedModel {
  embed_tokens: Embedding;
  layers: ModuleList<LlamaDecoderLayer>;
  norm: RMSNorm;

  constructor(config: LlamaConfig) {
    super(config);
    this.embed_tokens = new Embedding(config.vocab_size, config.hidden_size);
    init.normal_(this.embed_tokens.weight, 0, 0.02);
    const frequencies = rotaryFrequencies(config);
    this.layers = new ModuleList(layerWindows(config).map((slidingWindow) => new LlamaDecoderLayer(config, { slidingWindow, frequencies })));
    this.norm = new RMSNorm(config.hidden_size, config.rms_norm_eps);
  }

  get architecture(): string {
    return BASE[this.config.model_type];
  }

  get checkpointLayout(): CheckpointLayout {
    return llamaLayout(true);
  }

  /** ids: int32 [B, T] (the tokens after the cached ones, with a cache) → hidden states [B, T, hidden]. */
  forward(ids: Tensor, opts: { attentionMask?: Tensor; cache?: KVCache } = {}): Tensor {
    return scope(() => {
      let x = this.embed_tokens.forward(ids);
      for (let i = 0; i < this.layers.length; i++) {
        x = this.layers.at(i).forward(x, { attentionMask: opts.attentionMask, cache: opts.cache?.layers[i] });
      }
      return this.norm.forward(x);
    });
  }
}

/** The decoder with its language-model head: lm_head, or the token embedding itself where tie_word_embeddings. */
export class LlamaForCausalLM extends LlamaPreTrainedModel {
  model: LlamaModel;
  lm_head: Linear;

  constructor(config: LlamaConfig) {
    super(config);
    this.model = new LlamaModel(config);
    this.lm_head = new Linear(config.hidden_size, config.vocab_size, { bias: false });
    if (config.tie_word_embeddings) {
      this.lm_head.weight.dispose();
      (this.lm_head as unknown as { weight: Tensor }).weight = this.model.embed_tokens.weight;
    }
  }

  get architecture(): string {
    return CAUSAL_LM[this.config.model_type];
  }

  get checkpointLayout(): CheckpointLayout {
    return llamaLayout(false);
  }

  newCache(): KVCache {
    return new KVCache(this.config.num_hidden_layers);
  }

  forward(ids: Tensor, opts: { attentionMask?: Tensor; labels?: Tensor; cache?: KVCache } = {}): { logits: Tensor; loss: Tensor | null } {
    const logits = scope(() => this.lm_head.forward(this.model.forward(ids, opts)));
    if (!opts.labels) return { logits, loss: null };
    return { logits, loss: causalLMLoss(logits, opts.labels) };
  }
}

/** Qwen2 and Qwen2.5 (model_type "qwen2"): LLaMA with biases on q/k/v_proj, optional sliding-window layers. */
export class Qwen2Model extends LlamaModel {
  static override readonly family: LlamaFamily = 'qwen2';
}

export class Qwen2ForCausalLM extends LlamaForCausalLM {
  static override readonly family: LlamaFamily = 'qwen2';
}

/** Mistral (model_type "mistral"): LLaMA whose every layer attends within a sliding window. */
export class MistralModel extends LlamaModel {
  static override readonly family: LlamaFamily = 'mistral';
}

export class MistralForCausalLM extends LlamaForCausalLM {
  static override readonly family: LlamaFamily = 'mistral';
}
