import { ConfigError, intField, numberField, type RawConfig, sizeField, stringField } from '../config.js';

/** GPT-2's hyper-parameters under Hugging Face's names (config.json of model_type "gpt2"). */
export interface GPT2Config {
  vocab_size: number;
  n_positions: number;
  n_embd: number;
  n_layer: number;
  n_head: number;
  n_inner: number | null;
  layer_norm_epsilon: number;
  activation_function: 'gelu_new' | 'gelu' | 'relu' | 'gelu_pytorch_tanh';
  resid_pdrop: number;
  embd_pdrop: number;
  attn_pdrop: number;
  num_labels: number;
  pad_token_id: number | null;
}

export function gpt2Config(raw: RawConfig, file: string): GPT2Config {
  const act = stringField(raw, 'activation_function', file, 'gelu_new');
  if (!['gelu_new', 'gelu', 'relu', 'gelu_pytorch_tanh'].includes(act)) {
    throw new ConfigError(file, `activation_function '${act}' is not supported (gelu_new, gelu, gelu_pytorch_tanh, relu)`);
  }
  const cfg: GPT2Config = {
    vocab_size: sizeField(raw, 'vocab_size', file),
    n_positions: sizeField(raw, 'n_positions', file),
    n_embd: sizeField(raw, 'n_embd', file),
    n_layer: intField(raw, 'n_layer', file),
    n_head: sizeField(raw, 'n_head', file),
    n_inner: raw.n_inner === null || raw.n_inner === undefined ? null : sizeField(raw, 'n_inner', file),
    layer_norm_epsilon: numberField(raw, 'layer_norm_epsilon', file, 1e-5),
    activation_function: act as GPT2Config['activation_function'],
    resid_pdrop: numberField(raw, 'resid_pdrop', file, 0.1),
    embd_pdrop: numberField(raw, 'embd_pdrop', file, 0.1),
    attn_pdrop: numberField(raw, 'attn_pdrop', file, 0.1),
    num_labels: intField(raw, 'num_labels', file, Object.keys((raw.id2label as object) ?? {}).length || 2),
    pad_token_id: raw.pad_token_id === null || raw.pad_token_id === undefined ? null : intField(raw, 'pad_token_id', file),
  };
  // The head is the token embedding in every GPT-2 here, as in every published one.
  if (raw.tie_word_embeddings === false) throw new ConfigError(file, 'tie_word_embeddings false is not supported (GPT-2\'s lm_head is its token embedding)');
  if (cfg.n_embd % cfg.n_head !== 0) throw new ConfigError(file, `n_embd ${cfg.n_embd} is not divisible by n_head ${cfg.n_head}`);
  return cfg;
}
