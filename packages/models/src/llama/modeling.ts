import {
  causalMask,
  Embedding,
  init,
  Linear,
  mergeHeads,
  Module,
  ModuleList,
  paddingMask,
  repeatKV,
  RMSNorm,
  RotaryEmbedding,
  scaledDotProductAttention,
  splitHeads,
} from '@siftjs/nn';
import { scope, type Tensor } from '@siftjs/tensor';
import { loadWeights, saveWeights } from '../checkpoint.js';
import { readConfig } from '../config.js';
import { causalLMLoss } from '../loss.js';
import { type LlamaConfig, llamaConfig } from './config.js';

/**
 * LLaMA (Touvron et al. 2023) in Hugging Face's layout: pre-RMSNorm blocks, rotary position embeddings on queries
 * and keys, grouped-query attention, and a SwiGLU MLP.
 */

export class LlamaAttention extends Module {
  q_proj: Linear;
  k_proj: Linear;
  v_proj: Linear;
  o_proj: Linear;

  constructor(private readonly cfg: LlamaConfig) {
    super();
    const d = cfg.hidden_size / cfg.num_attention_heads;
    const bias = cfg.attention_bias;
    this.q_proj = new Linear(cfg.hidden_size, cfg.num_attention_heads * d, { bias });
    this.k_proj = new Linear(cfg.hidden_size, cfg.num_key_value_heads * d, { bias });
    this.v_proj = new Linear(cfg.hidden_size, cfg.num_key_value_heads * d, { bias });
    this.o_proj = new Linear(cfg.num_attention_heads * d, cfg.hidden_size, { bias });
  }

  forward(x: Tensor, rope: { cos: Tensor; sin: Tensor }, mask: Tensor): Tensor {
    return scope(() => {
      const h = this.cfg.num_attention_heads;
      const kvh = this.cfg.num_key_value_heads;
      const q = RotaryEmbedding.rotate(splitHeads(this.q_proj.forward(x), h), rope.cos, rope.sin);
      const k = RotaryEmbedding.rotate(splitHeads(this.k_proj.forward(x), kvh), rope.cos, rope.sin);
      const v = splitHeads(this.v_proj.forward(x), kvh);
      // Grouped-query attention: each key/value head serves h / kvh query heads.
      const y = scaledDotProductAttention(q, repeatKV(k, h / kvh), repeatKV(v, h / kvh), { mask });
      return this.o_proj.forward(mergeHeads(y));
    });
  }
}

/** SwiGLU: down(silu(gate(x)) ⊙ up(x)). */
export class LlamaMLP extends Module {
  gate_proj: Linear;
  up_proj: Linear;
  down_proj: Linear;

  constructor(cfg: LlamaConfig) {
    super();
    this.gate_proj = new Linear(cfg.hidden_size, cfg.intermediate_size, { bias: false });
    this.up_proj = new Linear(cfg.hidden_size, cfg.intermediate_size, { bias: false });
    this.down_proj = new Linear(cfg.intermediate_size, cfg.hidden_size, { bias: false });
  }

  forward(x: Tensor): Tensor {
    return scope(() => this.down_proj.forward(this.gate_proj.forward(x).silu().mul(this.up_proj.forward(x))));
  }
}

export class LlamaDecoderLayer extends Module {
  self_attn: LlamaAttention;
  mlp: LlamaMLP;
  input_layernorm: RMSNorm;
  post_attention_layernorm: RMSNorm;

  constructor(cfg: LlamaConfig) {
    super();
    this.self_attn = new LlamaAttention(cfg);
    this.mlp = new LlamaMLP(cfg);
    this.input_layernorm = new RMSNorm(cfg.hidden_size, cfg.rms_norm_eps);
    this.post_attention_layernorm = new RMSNorm(cfg.hidden_size, cfg.rms_norm_eps);
  }

  forward(x: Tensor, rope: { cos: Tensor; sin: Tensor }, mask: Tensor): Tensor {
    return scope(() => {
      const a = x.add(this.self_attn.forward(this.input_layernorm.forward(x), rope, mask));
      return a.add(this.mlp.forward(this.post_attention_layernorm.forward(a)));
    });
  }
}

export class LlamaModel extends Module {
  embed_tokens: Embedding;
  layers: ModuleList<LlamaDecoderLayer>;
  norm: RMSNorm;
  rotary_emb: RotaryEmbedding;

  constructor(readonly config: LlamaConfig) {
    super();
    this.embed_tokens = new Embedding(config.vocab_size, config.hidden_size);
    init.normal_(this.embed_tokens.weight, 0, 0.02);
    this.layers = new ModuleList(Array.from({ length: config.num_hidden_layers }, () => new LlamaDecoderLayer(config)));
    this.norm = new RMSNorm(config.hidden_size, config.rms_norm_eps);
    this.rotary_emb = new RotaryEmbedding(config.hidden_size / config.num_attention_heads, config.rope_theta);
  }

  forward(ids: Tensor, opts: { attentionMask?: Tensor } = {}): Tensor {
    return scope(() => {
      const t = ids.shape[1];
      const rope = this.rotary_emb.tables(t);
      const mask = opts.attentionMask ? causalMask(t).add(paddingMask(opts.attentionMask)) : causalMask(t);
      let x = this.embed_tokens.forward(ids);
      for (const layer of this.layers) x = layer.forward(x, rope, mask);
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

  savePretrained(dir: string): void {
    saveWeights(this, dir, { model_type: 'llama', architectures: ['LlamaForCausalLM'], ...this.config });
  }

  forward(ids: Tensor, opts: { attentionMask?: Tensor; labels?: Tensor } = {}): { logits: Tensor; loss: Tensor | null } {
    const logits = scope(() => this.lm_head.forward(this.model.forward(ids, opts)));
    if (!opts.labels) return { logits, loss: null };
    const loss = causalLMLoss(logits, opts.labels);
    return { logits, loss };
  }
}
