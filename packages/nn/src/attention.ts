import { concat, keep, ones, scope, type Tensor, tensor, tril } from '@siftjs/tensor';
import { Module } from './module.js';

/**
 * The pieces of multi-head attention every transformer here shares: masks, scaled dot-product attention, grouped
 * key/value heads and rotary position embeddings. Models keep their own projections (their parameter names
 * differ) and call these.
 */

/** A finite "minus infinity": fully masked rows then give a uniform softmax instead of NaN. */
export const MASKED = -1e9;

/**
 * Additive mask [1, 1, t, past + t] for t new queries after `past` cached positions: query i sees keys up to
 * past + i. With a sliding window w (Mistral's), only the w keys ending at its own position: past + i − w < key.
 */
export function causalMask(t: number, past = 0, slidingWindow: number | null = null): Tensor {
  return scope(() => {
    let allowed = tril(ones([t, past + t]), past);
    if (slidingWindow !== null) allowed = allowed.sub(tril(ones([t, past + t]), past - slidingWindow));
    return allowed.eq(0).cast('float32').mul(MASKED).reshape([1, 1, t, past + t]);
  });
}

/** Additive mask [B, 1, 1, T] from a 0/1 attention mask [B, T]: padding keys are never attended to. */
export function paddingMask(attentionMask: Tensor): Tensor {
  const [b, t] = attentionMask.shape;
  return scope(() => attentionMask.cast('float32').sub(1).mul(-MASKED).reshape([b, 1, 1, t]));
}

/** softmax(Q·Kᵀ/√d + mask)·V over [B, H, T, D] heads, with optional dropout on the attention weights. */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: { mask?: Tensor; dropout?: (att: Tensor) => Tensor } = {},
): Tensor {
  return scope(() => {
    const d = q.shape[q.rank - 1];
    let scores = q.matmul(k.transpose(-2, -1)).div(Math.sqrt(d));
    if (opts.mask) scores = scores.add(opts.mask);
    let att = scores.softmax(-1);
    if (opts.dropout) att = opts.dropout(att);
    return att.matmul(v);
  });
}

/** Grouped-query attention: each of the kvHeads key/value heads [B, kvHeads, T, D] serves `groups` query heads. */
export function repeatKV(x: Tensor, groups: number): Tensor {
  const [b, kvh, t, d] = x.shape;
  if (groups === 1) return x.reshape([b, kvh, t, d]);
  return scope(() => x.unsqueeze(2).expand([b, kvh, groups, t, d]).reshape([b, kvh * groups, t, d]));
}

/** [B, T, H·D] → [B, H, T, D] */
export function splitHeads(x: Tensor, heads: number): Tensor {
  const [b, t, c] = x.shape;
  return scope(() => x.reshape([b, t, heads, c / heads]).transpose(1, 2));
}

/** [B, H, T, D] → [B, T, H·D] */
export function mergeHeads(x: Tensor): Tensor {
  const [b, h, t, d] = x.shape;
  return scope(() => x.transpose(1, 2).reshape([b, t, h * d]));
}

/**
 * Rotary position embeddings (Su et al. 2021) in Hugging Face's convention: frequencies θ^(−2i/d) repeated over
 * both halves of the head dim, x·cos + rotate_half(x)·sin with rotate_half(x) = [−x₂, x₁]. Scaled variants (Llama
 * 3.1's, linear) pass their own `frequencies` (dim / 2 of them).
 */
export class RotaryEmbedding extends Module {
  readonly frequencies: Float64Array;

  constructor(
    readonly dim: number,
    readonly theta = 10000,
    frequencies?: ArrayLike<number>,
  ) {
    super();
    this.frequencies = Float64Array.from(frequencies ?? Array.from({ length: dim / 2 }, (_, i) => theta ** ((-2 * i) / dim)));
    if (this.frequencies.length !== dim / 2) throw new RangeError(`RotaryEmbedding: ${this.frequencies.length} frequencies for a ${dim}-wide head (needs ${dim / 2})`);
  }

  /** cos and sin tables [t, dim] for positions offset … offset + t − 1. */
  tables(t: number, offset = 0): { cos: Tensor; sin: Tensor } {
    const d = this.dim;
    const cos = new Float32Array(t * d);
    const sin = new Float32Array(t * d);
    for (let p = 0; p < t; p++) {
      for (let i = 0; i < d / 2; i++) {
        const angle = (offset + p) * this.frequencies[i];
        for (const j of [i, i + d / 2]) {
          cos[p * d + j] = Math.cos(angle);
          sin[p * d + j] = Math.sin(angle);
        }
      }
    }
    return { cos: tensor(cos, { shape: [t, d] }), sin: tensor(sin, { shape: [t, d] }) };
  }

  /** Rotates x [..., T, dim] by the tables. */
  static rotate(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
    return scope(() => {
      const d = x.shape[x.rank - 1];
      const [x1, x2] = x.split(d / 2, -1);
      return x.mul(cos).add(concat([x2.neg(), x1], -1).mul(sin));
    });
  }
}

/** One layer's keys and values of the positions seen so far, for incremental decoding. */
export interface AttentionCache {
  k: Tensor | null;
  v: Tensor | null;
  /** Positions already cached. */
  length: number;
}

/** Appends this step's keys and values [B, H, t, D] to the cache and returns the full ones (cached + new). */
export function appendToCache(cache: AttentionCache, k: Tensor, v: Tensor): { k: Tensor; v: Tensor } {
  const fullK = cache.k ? concat([cache.k, k], 2) : k;
  const fullV = cache.v ? concat([cache.v, v], 2) : v;
  cache.k?.dispose();
  cache.v?.dispose();
  cache.k = keep(fullK.contiguous());
  cache.v = keep(fullV.contiguous());
  cache.length += k.shape[2];
  return { k: fullK, v: fullV };
}

/** A KV cache for every layer of a decoder. */
export class KVCache {
  readonly layers: AttentionCache[];

  constructor(nLayers: number) {
    this.layers = Array.from({ length: nLayers }, () => ({ k: null, v: null, length: 0 }));
  }

  /** Positions already cached. */
  get length(): number {
    return this.layers[0]?.length ?? 0;
  }

  dispose(): void {
    for (const l of this.layers) {
      l.k?.dispose();
      l.v?.dispose();
      l.k = l.v = null;
    }
  }
}
