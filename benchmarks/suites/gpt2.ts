import { GPT2LMHeadModel } from '@siftjs/models';
import { AdamW } from '@siftjs/nn';
import * as sift from '@siftjs/tensor';
import { medianMs } from '../lib/timing.js';

/**
 * One GPT-2 training step — forward, next-token cross-entropy, backward, AdamW — on random token ids, reported as
 * tokens per second (batch · seq / step time). The same model is defined by hand in benchmarks/peers/torch_gpt2.py:
 * pre-norm blocks, fused qkv projection, causal softmax attention, gelu_new MLP (4·n_embd), final layer norm,
 * lm_head tied to the token embedding, dropout 0.
 */
export interface Gpt2Config {
  vocab: number;
  n_layer: number;
  n_embd: number;
  n_head: number;
  seq: number;
  batch: number;
}

export const describeGpt2 = (c: Gpt2Config) =>
  `${c.n_layer} layers, n_embd ${c.n_embd}, ${c.n_head} heads, vocab ${c.vocab}, batch ${c.batch}×${c.seq}`;

/** Token ids of batch `step`, the same LCG as the PyTorch script (values only matter for the gather pattern). */
export function tokenIds(c: Gpt2Config, step: number): Int32Array {
  const ids = new Int32Array(c.batch * c.seq);
  let s = (step * 7919 + 1) >>> 0;
  for (let i = 0; i < ids.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    ids[i] = (s >>> 8) % c.vocab;
  }
  return ids;
}

export async function siftGpt2(c: Gpt2Config): Promise<{ tokensPerSecond: number; ms: number; loss: number }> {
  sift.manualSeed(0);
  const model = new GPT2LMHeadModel({
    vocab_size: c.vocab,
    n_positions: c.seq,
    n_embd: c.n_embd,
    n_layer: c.n_layer,
    n_head: c.n_head,
    n_inner: null,
    layer_norm_epsilon: 1e-5,
    activation_function: 'gelu_new',
    resid_pdrop: 0,
    embd_pdrop: 0,
    attn_pdrop: 0,
    num_labels: 2,
    pad_token_id: null,
  });
  const opt = new AdamW(model.parameters(), { lr: 1e-4, weightDecay: 0.01 });
  let step = 0;
  let loss = Number.NaN;
  const ms = await medianMs(
    async () => {
      const ids = sift.tensor(tokenIds(c, step++), { shape: [c.batch, c.seq], dtype: 'int32' });
      const out = model.forward(ids, { labels: ids });
      out.loss!.backward();
      opt.step();
      opt.zeroGrad();
      loss = await out.loss!.item(); // waits for the step on asynchronous backends
      for (const t of [ids, out.logits, out.loss!]) t.dispose();
    },
    { minRuns: Number(process.env.SIFT_BENCH_GPT2_RUNS ?? 5), minMs: 3000, maxRuns: 20 },
  );
  model.dispose();
  return { tokensPerSecond: (c.batch * c.seq) / (ms / 1000), ms, loss };
}
