import { type AttentionCache, Embedding, init, KVCache, Linear, Module, ModuleList, MultiHeadAttention, RMSNorm, SwiGLU } from '@siftjs/nn';
import { scope, type Tensor } from '@siftjs/tensor';
import { loadWeights, saveWeights, saveWeightsAsync } from '../checkpoint.js';
import { readConfig } from '../config.js';
import { causalLMLoss } from '../loss.js';
import { type LlamaConfig, llamaConfig } from './config.js';

/**
 * LLaMA (Touvron et al. 2023) in Hugging Face's layout: pre-RMSNorm blocks of causal grouped-query attention
 * with rotary position embeddings (q/k/v/o_proj) and a SwiGLU MLP (gate/up/down_proj) — both @siftjs/nn layers.
 */

export class LlamaDecoderLayer extends Module {
  self_attn: MultiHeadAttention;
  mlp: SwiGLU;
  input_layernorm: RMSNorm;
  post_attention_layernorm: RMSNorm;

  constructor(cfg: LlamaConfig) {
    super();
    this.self_attn = new MultiHeadAttention(cfg.hidden_size, {
      heads: cfg.num_attention_heads,
      kvHeads: cfg.num_key_value_heads,
      causal: true,
      rotaryTheta: cfg.rope_theta,
      bias: cfg.attention_bias,
    });
    this.mlp = new SwiGLU(cfg.hidden_size, cfg.intermediate_size);
    this.input_layernorm = new RMSNorm(cfg.hidden_size, cfg.rms_norm_eps);
    this.post_attention_layernorm = new RMSNorm(cfg.hidden_size, cfg.rms_norm_eps);
  }

  forward(x: Tensor, opts: { attentionMask?: Tensor; cache?: AttentionCache }): Tensor {
    return scope(() => {
      const a = x.add(this.self_attn.forward(this.input_layernorm.forward(x), opts));
      return a.add(this.mlp.forward(this.post_attention_layernorm.forward(a)));
    });
  }
}

export class LlamaModel extends Module {
  embed_tokens: Embedding;
  layers: ModuleList<LlamaDecoderLayer>;
  norm: RMSNorm;

  constructor(readonly config: LlamaConfig) {
    super();
    this.embed_tokens = new Embedding(config.vocab_size, config.hidden_size);
    init.normal_(this.embed_tokens.weight, 0, 0.02);
    this.layers = new ModuleList(Array.from({ length: config.num_hidden_layers }, () => new LlamaDecoderLayer(config)));
    this.norm = new RMSNorm(config.hidden_size, config.rms_norm_eps);
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

export class LlamaForCausalLM extends Module {
  model: LlamaModel;
  lm_head: Linear;

  constructor(readonly config: LlamaConfig) {
    super();
    this.model = new LlamaModel(config);
    this.lm_head = new Linear(config.hidden_size, config.vocab_size, { bias: false });
    if (config.tie_word_embeddings) {
      this.lm_head.weight.dispose();
      (this.lm_head as unknown as { weight: Tensor }).weight = this.model.embed_tokens.weight;
    }
  }

  static fromPretrained(dir: string): LlamaForCausalLM {
    const { file, raw } = readConfig(dir);
    const model = new LlamaForCausalLM(llamaConfig(raw, file));
    loadWeights(model, dir);
    return model;
  }

  /** config.json as savePretrained writes it. */
  configJson(): Record<string, unknown> {
    return { model_type: 'llama', architectures: ['LlamaForCausalLM'], ...this.config };
  }

  /** config.json and model.safetensors, atomically; CPU tensors (synchronous reads). */
  savePretrained(dir: string): void {
    saveWeights(this, dir, this.configJson());
  }

  /** `savePretrained` from any backend (WebGPU included): the same files, read with `await toArray()`. */
  savePretrainedAsync(dir: string): Promise<void> {
    return saveWeightsAsync(this, dir, this.configJson());
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
