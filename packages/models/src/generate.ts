import { manualSeed, noGrad, rand, type Tensor, tensor } from '@siftjs/tensor';

/** A causal LM that can run with a KV cache of its own kind. */
export interface CausalLM<C extends { dispose(): void } = { dispose(): void }> {
  newCache(): C;
  forward(ids: Tensor, opts: { cache?: C }): { logits: Tensor };
}

export interface SamplingOptions {
  /** 0 (default) is greedy; otherwise logits are divided by it before sampling. */
  temperature?: number;
  /** Sample only among the k most likely tokens. */
  topK?: number;
  /** Sample only among the smallest set of tokens whose probability reaches p (nucleus sampling). */
  topP?: number;
}

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  /** Stop after this token. */
  eosId?: number;
  /** Seeds the sampler (Philox), for reproducible samples. */
  seed?: number;
  /** false: recompute the whole sequence each step instead of using the KV cache (for checking the cache). */
  useCache?: boolean;
}

/** The next token from one row of logits: greedy, or sampled with temperature, top-k and top-p. */
export function pickToken(logits: ArrayLike<number>, u: number, { temperature = 0, topK, topP }: SamplingOptions): number {
  const n = logits.length;
  if (temperature <= 0) {
    let best = 0;
    for (let i = 1; i < n; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  let order = Array.from({ length: n }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  if (topK !== undefined && topK > 0) order = order.slice(0, topK);
  const max = logits[order[0]];
  let probs = order.map((i) => Math.exp((logits[i] - max) / temperature));
  let total = probs.reduce((a, b) => a + b, 0);
  probs = probs.map((p) => p / total);
  if (topP !== undefined && topP < 1) {
    let acc = 0;
    let keep = 0;
    while (keep < probs.length && acc < topP) acc += probs[keep++];
    order = order.slice(0, Math.max(1, keep));
    probs = probs.slice(0, order.length);
    total = probs.reduce((a, b) => a + b, 0);
    probs = probs.map((p) => p / total);
  }
  let acc = 0;
  for (let i = 0; i < order.length; i++) {
    acc += probs[i];
    if (u < acc) return order[i];
  }
  return order[order.length - 1];
}

/** Extends `prompt` (token ids) by up to maxNewTokens tokens, feeding one token per step through the KV cache. */
export async function generate<C extends { dispose(): void }>(model: CausalLM<C>, prompt: readonly number[], opts: GenerateOptions): Promise<number[]> {
  if (prompt.length === 0) throw new RangeError('generate: the prompt needs at least one token');
  if (opts.seed !== undefined) manualSeed(opts.seed);
  const useCache = opts.useCache ?? true;
  const out = [...prompt];
  const cache = useCache ? model.newCache() : undefined;
  try {
    let feed = [...prompt];
    for (let step = 0; step < opts.maxNewTokens; step++) {
      const ids = tensor(useCache ? feed : out, { dtype: 'int32', shape: [1, useCache ? feed.length : out.length] });
      const { logits } = noGrad(() => model.forward(ids, { cache }));
      const [, t, v] = logits.shape;
      const last = logits.select(1, t - 1);
      const row = await last.toArray();
      for (const x of [ids, logits, last]) x.dispose();
      // A float32 uniform: every backend draws it bit for bit alike, so a seed gives the same text on each.
      const u = rand([1], { dtype: 'float32' });
      const next = pickToken(row.subarray(0, v), (await u.toArray())[0], opts);
      u.dispose();
      out.push(next);
      feed = [next];
      if (next === opts.eosId) break;
    }
  } finally {
    cache?.dispose();
  }
  return out;
}
