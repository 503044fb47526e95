import {
  bertConfig,
  BertForSequenceClassification,
  gpt2Config,
  GPT2ForSequenceClassification,
  llamaConfig,
  LlamaForCausalLM,
  RobertaForSequenceClassification,
} from '@siftjs/models';
import type { Module } from '@siftjs/nn';
import { scope, type Tensor, tensor } from '@siftjs/tensor';
import { castParameters, setWeights, type Weights } from './weights.js';

/**
 * The four architectures SIFT is checked on — GPT-2, BERT, RoBERTa and LLaMA — as tiny random models in Hugging
 * Face's layout (the parameter names a real checkpoint has), each with a batch generator, a loss, and the SIFT
 * targets a user would name: attention and MLP matrices, their biases and norm weights (1-D), and a dense head.
 */
export interface Batch {
  ids: number[][];
  /** Class labels (sequence classification); the causal LM predicts its own ids. */
  labels: number[];
  /** 1 for real tokens, 0 for padding (the encoders). */
  mask?: number[][];
  /** Segment ids (BERT). */
  types?: number[][];
}

export interface Architecture {
  name: string;
  build(): Module;
  batch(next: () => number): Batch;
  /** The scalar training loss of `model` on `b`, in the model's dtype. */
  loss(model: Module, b: Batch): Tensor;
  /** Sparse targets (a 2-D pattern and a 1-D one at least), dense head, and a pattern for a user's parameter group. */
  targets: string[];
  dense: string[];
  group: string;
}

const SEQ = 5;
const pick = (next: () => number, n: number) => Math.min(n - 1, Math.floor((next() + 0.5) * n));

function classBatch(next: () => number, vocab: number, pad: number, labels: number, firstToken?: number): Batch {
  // Two sequences; the second is padded after 3 real tokens, so padding and attention masks are exercised.
  const real = [SEQ, 3];
  const ids = real.map((len) =>
    Array.from({ length: SEQ }, (_, t) => (t === 0 && firstToken !== undefined ? firstToken : t < len ? 2 + pick(next, vocab - 2) : pad)),
  );
  const mask = real.map((len) => Array.from({ length: SEQ }, (_, t) => (t < len ? 1 : 0)));
  return { ids, mask, labels: real.map(() => pick(next, labels)) };
}

const int = (rows: number[][]) => tensor(rows, { dtype: 'int32' });

export const GPT2: Architecture = {
  name: 'GPT-2',
  build: () =>
    new GPT2ForSequenceClassification(
      gpt2Config({ vocab_size: 30, n_positions: 8, n_embd: 16, n_layer: 2, n_head: 2, num_labels: 3, pad_token_id: 0, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 }, 'gpt2-tiny'),
    ),
  batch: (next) => classBatch(next, 30, 0, 3),
  loss: (model, b) =>
    scope(() => {
      const out = (model as GPT2ForSequenceClassification).forward(int(b.ids), { labels: tensor(b.labels, { dtype: 'int32' }) });
      return out.loss as Tensor;
    }),
  // wpe: an embedding whose rows past the sequence length get exactly zero gradient. c_attn's weight, not its bias:
  // the key third of that bias has a gradient that is zero but for rounding (softmax ignores a shift shared by every
  // key), which Adam's normalisation turns into float32 noise the size of lr.
  targets: ['attn.c_attn.weight', 'mlp.c_proj', 'ln_2', 'wpe'],
  dense: ['score'],
  group: 'c_attn',
};

const bertLike = { vocab_size: 30, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 12, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, num_labels: 3 };

export const BERT: Architecture = {
  name: 'BERT',
  build: () => new BertForSequenceClassification(bertConfig({ ...bertLike, type_vocab_size: 2, pad_token_id: 0 }, 'bert-tiny')),
  batch: (next) => {
    const b = classBatch(next, 30, 0, 3, 1);
    return { ...b, types: b.ids.map((row) => row.map((_, t) => (t >= 3 ? 1 : 0))) };
  },
  loss: (model, b) =>
    scope(() => {
      const opts = { attentionMask: int(b.mask as number[][]), tokenTypeIds: int(b.types as number[][]), labels: tensor(b.labels, { dtype: 'int32' }) };
      return (model as BertForSequenceClassification).forward(int(b.ids), opts).loss as Tensor;
    }),
  targets: ['query', 'attention.output.dense', 'attention.output.LayerNorm'],
  dense: ['classifier', 'pooler'],
  group: 'query',
};

export const RoBERTa: Architecture = {
  name: 'RoBERTa',
  build: () => new RobertaForSequenceClassification(bertConfig({ ...bertLike, type_vocab_size: 1, pad_token_id: 1, layer_norm_eps: 1e-5 }, 'roberta-tiny')),
  batch: (next) => classBatch(next, 30, 1, 3, 0),
  loss: (model, b) =>
    scope(() => {
      const opts = { attentionMask: int(b.mask as number[][]), labels: tensor(b.labels, { dtype: 'int32' }) };
      return (model as RobertaForSequenceClassification).forward(int(b.ids), opts).loss as Tensor;
    }),
  targets: ['value', 'intermediate.dense', 'output.LayerNorm'],
  dense: ['classifier'],
  group: 'intermediate',
};

export const LLaMA: Architecture = {
  name: 'LLaMA',
  build: () =>
    new LlamaForCausalLM(
      llamaConfig({ vocab_size: 30, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 16 }, 'llama-tiny'),
    ),
  batch: (next) => ({ ids: [0, 1].map(() => Array.from({ length: SEQ }, () => pick(next, 30))), labels: [] }),
  loss: (model, b) => scope(() => (model as LlamaForCausalLM).forward(int(b.ids), { labels: int(b.ids) }).loss as Tensor),
  targets: ['q_proj', 'down_proj', 'input_layernorm'],
  dense: ['lm_head', 'model.norm'],
  group: 'down_proj',
};

export const ARCHITECTURES = [GPT2, BERT, RoBERTa, LLaMA];

/**
 * The oracle's gradient function for `arch`: a float64 copy of the model, every parameter requiring grad and no
 * SIFT, returning each parameter's dense gradient at the given weights. Synchronous, so it runs where the current
 * backend has float64 and synchronous reads (the CPU; see `onFloat64Backend`). Building it draws from the seeded
 * generator (the model's init, overwritten at once): build it after the run it checks.
 */
export class DenseGradients {
  private readonly model: Module;

  constructor(private readonly arch: Architecture) {
    this.model = arch.build();
    castParameters(this.model, 'float64');
  }

  readonly at = (w: Weights, b: Batch): Weights => {
    setWeights(this.model, w);
    const loss = this.arch.loss(this.model, b);
    loss.backward();
    loss.dispose();
    const out: Weights = {};
    for (const [name, p] of this.model.namedParameters()) out[name] = p.grad ? Float64Array.from(p.grad.toArraySync()) : new Float64Array(p.size);
    this.model.zeroGrad();
    return out;
  };

  dispose(): void {
    this.model.dispose();
  }
}
