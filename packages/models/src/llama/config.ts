import { ConfigError, intField, numberField, type RawConfig, sizeField, stringField } from '../config.js';

/** LLaMA-family hyper-parameters under Hugging Face's names (config.json of model_type "llama"). */
export interface LlamaConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  /** Grouped-query attention: key/value heads shared by num_attention_heads / num_key_value_heads queries. */
  num_key_value_heads: number;
  max_position_embeddings: number;
  rms_norm_eps: number;
  rope_theta: number;
  hidden_act: 'silu';
  tie_word_embeddings: boolean;
  attention_bias: boolean;
}

export function llamaConfig(raw: RawConfig, file: string): LlamaConfig {
  const heads = sizeField(raw, 'num_attention_heads', file);
  const act = stringField(raw, 'hidden_act', file, 'silu');
  if (act !== 'silu') throw new ConfigError(file, `hidden_act '${act}' is not supported (silu)`);
  const cfg: LlamaConfig = {
    vocab_size: sizeField(raw, 'vocab_size', file),
    hidden_size: sizeField(raw, 'hidden_size', file),
    intermediate_size: sizeField(raw, 'intermediate_size', file),
    num_hidden_layers: intField(raw, 'num_hidden_layers', file),
    num_attention_heads: heads,
    num_key_value_heads: sizeField(raw, 'num_key_value_heads', file, heads),
    max_position_embeddings: sizeField(raw, 'max_position_embeddings', file, 2048),
    rms_norm_eps: numberField(raw, 'rms_norm_eps', file, 1e-6),
    rope_theta: numberField(raw, 'rope_theta', file, 10000),
    hidden_act: 'silu',
    tie_word_embeddings: raw.tie_word_embeddings === true,
    attention_bias: raw.attention_bias === true,
  };
  if (cfg.hidden_size % heads !== 0) throw new ConfigError(file, `hidden_size ${cfg.hidden_size} is not divisible by num_attention_heads ${heads}`);
  if (heads % cfg.num_key_value_heads !== 0) {
    throw new ConfigError(file, `num_attention_heads ${heads} is not a multiple of num_key_value_heads ${cfg.num_key_value_heads}`);
  }
  return cfg;
}
