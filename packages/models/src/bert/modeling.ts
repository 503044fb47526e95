import { Dropout, Embedding, GradientCheckpointingLayer, init, LayerNorm, Linear, mergeHeads, Module, ModuleList, paddingMask, scaledDotProductAttention, splitHeads } from '@siftjs/nn';
import { arange, crossEntropy, ones, onesLike, scope, type Tensor, triu, zerosLike } from '@siftjs/tensor';
import { checkModelType, type RawConfig } from '../config.js';
import type { CheckpointLayout } from '../pretrained/layout.js';
import { PretrainedModel } from '../pretrained/model.js';
import { type BertConfig, bertConfig } from './config.js';

/** BERT (Devlin et al. 2019) in Hugging Face's layout: post-LayerNorm encoder blocks over word + position + type embeddings. */

/** Checkpoints saved by transformers before 4.31 carry the embeddings' position_ids buffer. */
const POSITION_IDS = /(^|\.)embeddings\.position_ids$/;
/** Published base checkpoints have a pooler; models without one (masked-LM, RoBERTa's) leave it, as transformers does. */
const POOLER = /(^|\.)pooler\.dense\.(weight|bias)$/;

/** The heads of transformers' task models: BERT's pre-training, masked-LM and next-sentence heads under `cls`, RoBERTa's LM head, classifiers, QA. */
const HEADS: Record<string, string[]> = { bert: ['cls', 'classifier', 'qa_outputs'], roberta: ['lm_head', 'classifier', 'qa_outputs'] };

/** The family's checkpoints: the encoder under `bert.` (`roberta.`) beside the task's head. */
function bertLayout(basePrefix: 'bert' | 'roberta', isBase: boolean, { pooler, newHeads = [] }: { pooler: boolean; newHeads?: string[] }): CheckpointLayout {
  return { basePrefix, isBase, newHeads, taskHeads: HEADS[basePrefix], ignoredKeys: pooler ? [POSITION_IDS] : [POSITION_IDS, POOLER] };
}

/** What every BERT class shares: config.json of model_type "bert". */
export abstract class BertPreTrainedModel extends PretrainedModel<BertConfig> {
  static configFromJson(this: { name: string }, raw: RawConfig, file: string): BertConfig {
    checkModelType(raw, file, ['bert'], this.name);
    return bertConfig(raw, file);
  }

  get modelType(): string {
    return 'bert';
  }
}

/** What every RoBERTa class shares: model_type "roberta", and RoBERTa's defaults (padding id 1, one token type). */
export abstract class RobertaPreTrainedModel extends PretrainedModel<BertConfig> {
  static configFromJson(this: { name: string }, raw: RawConfig, file: string): BertConfig {
    checkModelType(raw, file, ['roberta'], this.name);
    return robertaConfig(raw, file);
  }

  get modelType(): string {
    return 'roberta';
  }
}

function robertaConfig(raw: RawConfig, file: string): BertConfig {
  return bertConfig({ pad_token_id: 1, type_vocab_size: 1, ...raw }, file);
}

function act(name: BertConfig['hidden_act'], x: Tensor): Tensor {
  return name === 'relu' ? x.relu() : x.gelu(name === 'gelu' ? 'none' : 'tanh');
}

export class BertEmbeddings extends Module {
  word_embeddings: Embedding;
  position_embeddings: Embedding;
  token_type_embeddings: Embedding;
  LayerNorm: LayerNorm;
  dropout: Dropout;

  /**
   * `roberta`: positions count real tokens only and start after the padding index (RoBERTa's
   * create_position_ids_from_input_ids); otherwise positions are 0…T−1.
   */
  constructor(
    private readonly cfg: BertConfig,
    private readonly positions: 'absolute' | 'roberta' = 'absolute',
  ) {
    super();
    this.word_embeddings = new Embedding(cfg.vocab_size, cfg.hidden_size);
    this.position_embeddings = new Embedding(cfg.max_position_embeddings, cfg.hidden_size);
    this.token_type_embeddings = new Embedding(cfg.type_vocab_size, cfg.hidden_size);
    for (const e of [this.word_embeddings, this.position_embeddings, this.token_type_embeddings]) init.normal_(e.weight, 0, 0.02);
    this.LayerNorm = new LayerNorm(cfg.hidden_size, { eps: cfg.layer_norm_eps });
    this.dropout = new Dropout(cfg.hidden_dropout_prob);
  }

  private positionIds(ids: Tensor): Tensor {
    return this.positions === 'roberta' ? robertaPositionIds(ids, this.cfg.pad_token_id) : arange(ids.shape[1]);
  }

  forward(ids: Tensor, tokenTypeIds?: Tensor): Tensor {
    return scope(() => {
      const types = tokenTypeIds ?? zerosLike(ids);
      const x = this.word_embeddings.forward(ids).add(this.position_embeddings.forward(this.positionIds(ids))).add(this.token_type_embeddings.forward(types));
      return this.dropout.forward(this.LayerNorm.forward(x));
    });
  }
}

function robertaPositionIds(ids: Tensor, pad: number): Tensor {
  return scope(() => {
    const t = ids.shape[1];
    const real = ids.ne(pad).cast('float32');
    const running = real.matmul(triu(ones([t, t]))); // cumulative count of real tokens (exact in float32)
    return running.mul(real).add(pad).cast('int32');
  });
}

export class BertSelfAttention extends Module {
  query: Linear;
  key: Linear;
  value: Linear;
  dropout: Dropout;

  constructor(private readonly cfg: BertConfig) {
    super();
    this.query = new Linear(cfg.hidden_size, cfg.hidden_size);
    this.key = new Linear(cfg.hidden_size, cfg.hidden_size);
    this.value = new Linear(cfg.hidden_size, cfg.hidden_size);
    this.dropout = new Dropout(cfg.attention_probs_dropout_prob);
  }

  forward(x: Tensor, mask: Tensor): Tensor {
    return scope(() => {
      const [q, k, v] = [this.query, this.key, this.value].map((l) => splitHeads(l.forward(x), this.cfg.num_attention_heads));
      return mergeHeads(scaledDotProductAttention(q, k, v, { mask, dropout: (att) => this.dropout.forward(att) }));
    });
  }
}

/** dense → dropout → LayerNorm(· + residual): the "output" sub-layers after attention and after the MLP. */
export class BertOutput extends Module {
  dense: Linear;
  LayerNorm: LayerNorm;
  dropout: Dropout;

  constructor(inSize: number, cfg: BertConfig) {
    super();
    this.dense = new Linear(inSize, cfg.hidden_size);
    this.LayerNorm = new LayerNorm(cfg.hidden_size, { eps: cfg.layer_norm_eps });
    this.dropout = new Dropout(cfg.hidden_dropout_prob);
  }

  forward(x: Tensor, residual: Tensor): Tensor {
    return scope(() => this.LayerNorm.forward(this.dropout.forward(this.dense.forward(x)).add(residual)));
  }
}

export class BertAttention extends Module {
  self: BertSelfAttention;
  output: BertOutput;

  constructor(cfg: BertConfig) {
    super();
    this.self = new BertSelfAttention(cfg);
    this.output = new BertOutput(cfg.hidden_size, cfg);
  }

  forward(x: Tensor, mask: Tensor): Tensor {
    return scope(() => this.output.forward(this.self.forward(x, mask), x));
  }
}

export class BertIntermediate extends Module {
  dense: Linear;

  constructor(private readonly cfg: BertConfig) {
    super();
    this.dense = new Linear(cfg.hidden_size, cfg.intermediate_size);
  }

  forward(x: Tensor): Tensor {
    return scope(() => act(this.cfg.hidden_act, this.dense.forward(x)));
  }
}

export class BertLayer extends GradientCheckpointingLayer {
  attention: BertAttention;
  intermediate: BertIntermediate;
  output: BertOutput;

  constructor(cfg: BertConfig) {
    super();
    this.attention = new BertAttention(cfg);
    this.intermediate = new BertIntermediate(cfg);
    this.output = new BertOutput(cfg.intermediate_size, cfg);
  }

  /** With gradient checkpointing on, recomputed in backward. */
  forward(x: Tensor, mask: Tensor): Tensor {
    return this.checkpointed((h, m) => this.run(h, m), x, mask);
  }

  private run(x: Tensor, mask: Tensor): Tensor {
    return scope(() => {
      const a = this.attention.forward(x, mask);
      return this.output.forward(this.intermediate.forward(a), a);
    });
  }
}

export class BertEncoder extends Module {
  layer: ModuleList<BertLayer>;

  constructor(cfg: BertConfig) {
    super();
    this.layer = new ModuleList(Array.from({ length: cfg.num_hidden_layers }, () => new BertLayer(cfg)));
  }

  forward(x: Tensor, mask: Tensor): Tensor {
    return scope(() => {
      let h = x;
      for (const l of this.layer) h = l.forward(h, mask);
      return h;
    });
  }
}

/** tanh(dense(h[:, 0])): the [CLS] representation used by the classification head. */
export class BertPooler extends Module {
  dense: Linear;

  constructor(cfg: BertConfig) {
    super();
    this.dense = new Linear(cfg.hidden_size, cfg.hidden_size);
  }

  forward(h: Tensor): Tensor {
    return scope(() => this.dense.forward(h.select(1, 0)).tanh());
  }
}

export interface BertInputs {
  attentionMask?: Tensor;
  tokenTypeIds?: Tensor;
}

export class BertModel extends BertPreTrainedModel {
  embeddings: BertEmbeddings;
  encoder: BertEncoder;
  pooler: BertPooler | null;

  constructor(config: BertConfig, { pooler = true, positions = 'absolute' as 'absolute' | 'roberta' } = {}) {
    super(config);
    this.embeddings = new BertEmbeddings(config, positions);
    this.encoder = new BertEncoder(config);
    this.pooler = pooler ? new BertPooler(config) : null;
  }

  get architecture(): string {
    return 'BertModel';
  }

  /** A base-model checkpoint, or the encoder of a task checkpoint (its "bert." names; the head goes unused). */
  get checkpointLayout(): CheckpointLayout {
    return bertLayout('bert', true, { pooler: this.pooler !== null });
  }

  /** Hidden states [B, T, H] and the pooled [CLS] output [B, H] (null without a pooler). */
  forward(ids: Tensor, opts: BertInputs = {}): { hidden: Tensor; pooled: Tensor | null } {
    return scope(() => {
      // Bidirectional: every query may attend to every real token; padding keys get a large negative score.
      const mask = opts.attentionMask ? paddingMask(opts.attentionMask) : paddingMask(onesLike(ids));
      const hidden = this.encoder.forward(this.embeddings.forward(ids, opts.tokenTypeIds), mask);
      return { hidden, pooled: this.pooler ? this.pooler.forward(hidden) : null };
    });
  }
}

export class BertForSequenceClassification extends BertPreTrainedModel {
  bert: BertModel;
  dropout: Dropout;
  classifier: Linear;

  constructor(config: BertConfig) {
    super(config);
    this.bert = new BertModel(config);
    this.dropout = new Dropout(config.hidden_dropout_prob);
    this.classifier = new Linear(config.hidden_size, config.num_labels);
  }

  get architecture(): string {
    return 'BertForSequenceClassification';
  }

  /** A pre-trained checkpoint has no `classifier`: it keeps its initialisation (named in the load's notice). */
  get checkpointLayout(): CheckpointLayout {
    return bertLayout('bert', false, { pooler: true, newHeads: ['classifier'] });
  }

  forward(ids: Tensor, opts: BertInputs & { labels?: Tensor } = {}): { logits: Tensor; loss: Tensor | null } {
    const logits = scope(() => this.classifier.forward(this.dropout.forward(this.bert.forward(ids, opts).pooled as Tensor)));
    if (!opts.labels) return { logits, loss: null };
    const labels = opts.labels;
    const loss = scope(() => (this.config.num_labels === 1 ? logits.reshape([ids.shape[0]]).sub(labels).square().mean() : crossEntropy(logits, labels)));
    return { logits, loss };
  }
}

/** RoBERTa's encoder: BERT's, with padding-aware positions and no pooler by default (Hugging Face's RobertaModel). */
export class RobertaModel extends BertModel {
  constructor(config: BertConfig, { pooler = false } = {}) {
    super(config, { pooler, positions: 'roberta' });
  }

  static override configFromJson(this: { name: string }, raw: RawConfig, file: string): BertConfig {
    checkModelType(raw, file, ['roberta'], this.name);
    return robertaConfig(raw, file);
  }

  override get modelType(): string {
    return 'roberta';
  }

  override get architecture(): string {
    return 'RobertaModel';
  }

  override get checkpointLayout(): CheckpointLayout {
    return bertLayout('roberta', true, { pooler: this.pooler !== null });
  }
}

/** RoBERTa's classification head on the <s> token: out_proj(dropout(tanh(dense(dropout(h[:, 0]))))). */
export class RobertaClassificationHead extends Module {
  dense: Linear;
  dropout: Dropout;
  out_proj: Linear;

  constructor(cfg: BertConfig) {
    super();
    this.dense = new Linear(cfg.hidden_size, cfg.hidden_size);
    this.dropout = new Dropout(cfg.hidden_dropout_prob);
    this.out_proj = new Linear(cfg.hidden_size, cfg.num_labels);
  }

  forward(hidden: Tensor): Tensor {
    return scope(() => this.out_proj.forward(this.dropout.forward(this.dense.forward(this.dropout.forward(hidden.select(1, 0))).tanh())));
  }
}

/** RoBERTa (Liu et al. 2019): BERT's encoder with padding-aware positions and its own head, under `roberta.`. */
export class RobertaForSequenceClassification extends RobertaPreTrainedModel {
  roberta: BertModel;
  classifier: RobertaClassificationHead;

  constructor(config: BertConfig) {
    super(config);
    this.roberta = new RobertaModel(config);
    this.classifier = new RobertaClassificationHead(config);
  }

  get architecture(): string {
    return 'RobertaForSequenceClassification';
  }

  /** A pre-trained checkpoint has no `classifier`: it keeps its initialisation (named in the load's notice). */
  get checkpointLayout(): CheckpointLayout {
    return bertLayout('roberta', false, { pooler: false, newHeads: ['classifier'] });
  }

  forward(ids: Tensor, opts: BertInputs & { labels?: Tensor } = {}): { logits: Tensor; loss: Tensor | null } {
    const logits = scope(() => this.classifier.forward(this.roberta.forward(ids, opts).hidden));
    if (!opts.labels) return { logits, loss: null };
    const labels = opts.labels;
    const loss = scope(() => crossEntropy(logits, labels));
    return { logits, loss };
  }
}

/** dense → activation → LayerNorm, then the vocabulary projection tied to the word embeddings plus a bias. */
export class BertPredictionHeadTransform extends Module {
  dense: Linear;
  LayerNorm: LayerNorm;

  constructor(private readonly cfg: BertConfig) {
    super();
    this.dense = new Linear(cfg.hidden_size, cfg.hidden_size);
    this.LayerNorm = new LayerNorm(cfg.hidden_size, { eps: cfg.layer_norm_eps });
  }

  forward(h: Tensor): Tensor {
    return scope(() => this.LayerNorm.forward(act(this.cfg.hidden_act, this.dense.forward(h))));
  }
}

export class BertLMPredictionHead extends Module {
  transform: BertPredictionHeadTransform;
  decoder: Linear;
  bias: Tensor;

  constructor(cfg: BertConfig, wordEmbeddings: Tensor) {
    super();
    this.transform = new BertPredictionHeadTransform(cfg);
    this.decoder = new Linear(cfg.hidden_size, cfg.vocab_size);
    this.bias = this.decoder.bias as Tensor;
    tie(this.decoder, wordEmbeddings);
  }

  forward(h: Tensor): Tensor {
    return scope(() => this.decoder.forward(this.transform.forward(h)));
  }
}

/** Makes `layer.weight` the same tensor as `weight` (Hugging Face's tied input and output embeddings). */
function tie(layer: Linear, weight: Tensor): void {
  layer.weight.dispose();
  (layer as unknown as { weight: Tensor }).weight = weight;
}

export class BertOnlyMLMHead extends Module {
  predictions: BertLMPredictionHead;

  constructor(cfg: BertConfig, wordEmbeddings: Tensor) {
    super();
    this.predictions = new BertLMPredictionHead(cfg, wordEmbeddings);
  }
}

/** Masked-LM loss over all positions, −100 labels ignored. */
function mlmLoss(logits: Tensor, labels: Tensor): Tensor {
  const [b, t, v] = logits.shape;
  return scope(() => crossEntropy(logits.reshape([b * t, v]), labels.reshape([b * t])));
}

export class BertForMaskedLM extends BertPreTrainedModel {
  bert: BertModel;
  cls: BertOnlyMLMHead;

  constructor(config: BertConfig) {
    super(config);
    this.bert = new BertModel(config, { pooler: false });
    this.cls = new BertOnlyMLMHead(config, this.bert.embeddings.word_embeddings.weight);
  }

  get architecture(): string {
    return 'BertForMaskedLM';
  }

  get checkpointLayout(): CheckpointLayout {
    return bertLayout('bert', false, { pooler: false });
  }

  /** Logits [B, T, vocab]; with labels (int32 [B, T], −100 where not masked) the masked-LM loss. */
  forward(ids: Tensor, opts: BertInputs & { labels?: Tensor } = {}): { logits: Tensor; loss: Tensor | null } {
    const logits = scope(() => this.cls.predictions.forward(this.bert.forward(ids, opts).hidden));
    return { logits, loss: opts.labels ? mlmLoss(logits, opts.labels) : null };
  }
}

/** RoBERTa's LM head: dense → GELU → layer_norm → decoder (tied to the word embeddings) + bias. */
export class RobertaLMHead extends Module {
  dense: Linear;
  layer_norm: LayerNorm;
  decoder: Linear;
  bias: Tensor;

  constructor(private readonly cfg: BertConfig, wordEmbeddings: Tensor) {
    super();
    this.dense = new Linear(cfg.hidden_size, cfg.hidden_size);
    this.layer_norm = new LayerNorm(cfg.hidden_size, { eps: cfg.layer_norm_eps });
    this.decoder = new Linear(cfg.hidden_size, cfg.vocab_size);
    this.bias = this.decoder.bias as Tensor;
    tie(this.decoder, wordEmbeddings);
  }

  forward(h: Tensor): Tensor {
    return scope(() => this.decoder.forward(this.layer_norm.forward(act(this.cfg.hidden_act, this.dense.forward(h)))));
  }
}

export class RobertaForMaskedLM extends RobertaPreTrainedModel {
  roberta: BertModel;
  lm_head: RobertaLMHead;

  constructor(config: BertConfig) {
    super(config);
    this.roberta = new RobertaModel(config);
    this.lm_head = new RobertaLMHead(config, this.roberta.embeddings.word_embeddings.weight);
  }

  get architecture(): string {
    return 'RobertaForMaskedLM';
  }

  get checkpointLayout(): CheckpointLayout {
    return bertLayout('roberta', false, { pooler: false });
  }

  forward(ids: Tensor, opts: BertInputs & { labels?: Tensor } = {}): { logits: Tensor; loss: Tensor | null } {
    const logits = scope(() => this.lm_head.forward(this.roberta.forward(ids, opts).hidden));
    return { logits, loss: opts.labels ? mlmLoss(logits, opts.labels) : null };
  }
}
