import { scope, type Tensor } from '@siftjs/tensor';
import {
  type AttentionCache,
  appendToCache,
  causalMask,
  mergeHeads,
  paddingMask,
  repeatKV,
  RotaryEmbedding,
  scaledDotProductAttention,
  splitHeads,
} from '../attention.js';
import { Module } from '../module.js';
import { Dropout } from './dropout.js';
import { Linear } from './linear.js';

export interface MultiHeadAttentionOptions {
  heads: number;
  /** Key/value heads for grouped-query attention (default: heads). */
  kvHeads?: number;
  /** Masks future positions (decoders). */
  causal?: boolean;
  /** Rotary position embeddings on queries and keys, with this base (LLaMA: 10000). */
  rotaryTheta?: number;
  /** The rotary frequencies themselves, where a scaled variant sets them (Llama 3.1's); default θ^(−2i/d). */
  rotaryFrequencies?: ArrayLike<number>;
  /** Width of each head (default dim / heads; Llama 3 and Mistral configs may set it apart). */
  headDim?: number;
  /** Biases on q/k/v_proj (and o_proj unless `outBias` says otherwise). */
  bias?: boolean;
  /** Bias on o_proj (default: `bias`; Qwen2 has q/k/v biases and none here). */
  outBias?: boolean;
  /** Causal attention within a window of this many positions, the query's own included (Mistral). */
  slidingWindow?: number | null;
  dropout?: number;
}

/**
 * Multi-head self-attention with separate q/k/v/o projections (LLaMA's names): causal (optionally windowed) and
 * padding masks, grouped-query heads, optional rotary embeddings, and a KV cache for generation.
 */
export class MultiHeadAttention extends Module {
  q_proj: Linear;
  k_proj: Linear;
  v_proj: Linear;
  o_proj: Linear;
  dropout: Dropout;
  readonly heads: number;
  readonly kvHeads: number;
  readonly causal: boolean;
  readonly slidingWindow: number | null;
  private readonly rotary: RotaryEmbedding | null;

  constructor(
    readonly dim: number,
    {
      heads,
      kvHeads = heads,
      causal = false,
      rotaryTheta,
      rotaryFrequencies,
      headDim,
      bias = false,
      outBias = bias,
      slidingWindow = null,
      dropout = 0,
    }: MultiHeadAttentionOptions,
  ) {
    super();
    if (headDim === undefined && dim % heads !== 0) throw new RangeError(`MultiHeadAttention: dim ${dim} is not divisible by ${heads} heads`);
    if (heads % kvHeads !== 0) throw new RangeError(`MultiHeadAttention: ${heads} heads are not a multiple of ${kvHeads} key/value heads`);
    if (slidingWindow !== null && !causal) throw new RangeError('MultiHeadAttention: a sliding window needs causal attention');
    const d = headDim ?? dim / heads;
    this.heads = heads;
    this.kvHeads = kvHeads;
    this.causal = causal;
    this.slidingWindow = slidingWindow;
    this.q_proj = new Linear(dim, heads * d, { bias });
    this.k_proj = new Linear(dim, kvHeads * d, { bias });
    this.v_proj = new Linear(dim, kvHeads * d, { bias });
    this.o_proj = new Linear(heads * d, dim, { bias: outBias });
    this.dropout = new Dropout(dropout);
    this.rotary = rotaryTheta === undefined && rotaryFrequencies === undefined ? null : new RotaryEmbedding(d, rotaryTheta, rotaryFrequencies);
  }

  newCache(): AttentionCache {
    return { k: null, v: null, length: 0 };
  }

  /** x: [B, T, dim]; attentionMask: 0/1 [B, past + T]; cache: extended in place with this step's keys and values. */
  forward(x: Tensor, opts: { attentionMask?: Tensor; cache?: AttentionCache } = {}): Tensor {
    return scope(() => {
      const t = x.shape[1];
      const past = opts.cache?.length ?? 0;
      let q = splitHeads(this.q_proj.forward(x), this.heads);
      let k = splitHeads(this.k_proj.forward(x), this.kvHeads);
      let v = splitHeads(this.v_proj.forward(x), this.kvHeads);
      if (this.rotary) {
        const { cos, sin } = this.rotary.tables(t, past);
        q = RotaryEmbedding.rotate(q, cos, sin);
        k = RotaryEmbedding.rotate(k, cos, sin);
      }
      if (opts.cache) ({ k, v } = appendToCache(opts.cache, k, v));
      let mask: Tensor | undefined = this.causal ? causalMask(t, past, this.slidingWindow) : undefined;
      if (opts.attentionMask) mask = mask ? mask.add(paddingMask(opts.attentionMask)) : paddingMask(opts.attentionMask);
      const groups = this.heads / this.kvHeads;
      const y = scaledDotProductAttention(q, repeatKV(k, groups), repeatKV(v, groups), { mask, dropout: (a) => this.dropout.forward(a) });
      return this.o_proj.forward(mergeHeads(y));
    });
  }
}
