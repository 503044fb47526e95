import { ConfigError, intField, numberField, type RawConfig, sizeField, stringField } from '../config.js';

/** BERT's hyper-parameters under Hugging Face's names (config.json of model_type "bert"). */
export interface BertConfig {
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: 'gelu' | 'gelu_new' | 'relu';
  max_position_embeddings: number;
  type_vocab_size: number;
  layer_norm_eps: number;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  num_labels: number;
  pad_token_id: number;
}

export function bertConfig(raw: RawConfig, file: string): BertConfig {
  const act = stringField(raw, 'hidden_act', file, 'gelu');
  if (!['gelu', 'gelu_new', 'relu'].includes(act)) throw new ConfigError(file, `hidden_act '${act}' is not supported (gelu, gelu_new, relu)`);
  const cfg: BertConfig = {
    vocab_size: sizeField(raw, 'vocab_size', file),
    hidden_size: sizeField(raw, 'hidden_size', file),
    num_hidden_layers: intField(raw, 'num_hidden_layers', file),
    num_attention_heads: sizeField(raw, 'num_attention_heads', file),
    intermediate_size: sizeField(raw, 'intermediate_size', file),
    hidden_act: act as BertConfig['hidden_act'],
    max_position_embeddings: sizeField(raw, 'max_position_embeddings', file),
    type_vocab_size: intField(raw, 'type_vocab_size', file, 2),
    layer_norm_eps: numberField(raw, 'layer_norm_eps', file, 1e-12),
    hidden_dropout_prob: numberField(raw, 'hidden_dropout_prob', file, 0.1),
    attention_probs_dropout_prob: numberField(raw, 'attention_probs_dropout_prob', file, 0.1),
    num_labels: intField(raw, 'num_labels', file, Object.keys((raw.id2label as object) ?? {}).length || 2),
    pad_token_id: intField(raw, 'pad_token_id', file, 0),
  };
  if (cfg.hidden_size % cfg.num_attention_heads !== 0) {
    throw new ConfigError(file, `hidden_size ${cfg.hidden_size} is not divisible by num_attention_heads ${cfg.num_attention_heads}`);
  }
  return cfg;
}
