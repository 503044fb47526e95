import { ConfigError, intField, numberField, type RawConfig, sizeField, stringField } from '../config.js';

/** The model types built on LLaMA's architecture, each with its own config.json. */
export type LlamaFamily = 'llama' | 'qwen2' | 'mistral';
export const LLAMA_FAMILY: readonly LlamaFamily[] = ['llama', 'qwen2', 'mistral'];

/** rope_scaling as config.json gives it (transformers' modeling_rope_utils); the kinds implemented here. */
export type RopeScaling =
  | { rope_type: 'linear'; factor: number }
  | { rope_type: 'llama3'; factor: number; low_freq_factor: number; high_freq_factor: number; original_max_position_embeddings: number };

/**
 * LLaMA-family hyper-parameters under Hugging Face's names: config.json of model_type "llama" (Llama 2, Llama 3.x,
 * SmolLM2…), "qwen2" (Qwen2, Qwen2.5) or "mistral". Fields a family does not have are left undefined, so a saved
 * config.json holds the family's own fields.
 */
export interface LlamaConfig {
  model_type: LlamaFamily;
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  /** Grouped-query attention: key/value heads shared by num_attention_heads / num_key_value_heads queries. */
  num_key_value_heads: number;
  /** Width of each attention head; config.json may set it apart from hidden_size / num_attention_heads. */
  head_dim: number;
  max_position_embeddings: number;
  rms_norm_eps: number;
  rope_theta: number;
  rope_scaling: RopeScaling | null;
  hidden_act: 'silu';
  tie_word_embeddings: boolean;
  /** LLaMA: biases on q/k/v/o_proj. (Qwen2 always has them on q/k/v and never on o; Mistral never.) */
  attention_bias?: boolean;
  /** Mistral: every layer attends within this window; Qwen2: the layers from max_window_layers on, where enabled. */
  sliding_window?: number | null;
  use_sliding_window?: boolean;
  max_window_layers?: number;
  /** Qwen2, where config.json lists them: which layers attend within the window. */
  layer_types?: ('full_attention' | 'sliding_attention')[];
}

export function llamaConfig(raw: RawConfig, file: string): LlamaConfig {
  const type = raw.model_type ?? 'llama';
  if (!LLAMA_FAMILY.includes(type as LlamaFamily)) throw new ConfigError(file, `model_type ${JSON.stringify(type)} is not one of LLaMA's family (${LLAMA_FAMILY.join(', ')})`);
  const family = type as LlamaFamily;
  const heads = sizeField(raw, 'num_attention_heads', file);
  const hidden = sizeField(raw, 'hidden_size', file);
  const act = stringField(raw, 'hidden_act', file, 'silu');
  if (act !== 'silu') throw new ConfigError(file, `hidden_act '${act}' is not supported (silu)`);
  refuseUnsupported(raw, file);
  const cfg: LlamaConfig = {
    model_type: family,
    vocab_size: sizeField(raw, 'vocab_size', file),
    hidden_size: hidden,
    intermediate_size: sizeField(raw, 'intermediate_size', file),
    num_hidden_layers: intField(raw, 'num_hidden_layers', file),
    num_attention_heads: heads,
    num_key_value_heads: sizeField(raw, 'num_key_value_heads', file, heads),
    head_dim: raw.head_dim === null || raw.head_dim === undefined ? hidden / heads : sizeField(raw, 'head_dim', file),
    max_position_embeddings: sizeField(raw, 'max_position_embeddings', file, 2048),
    rms_norm_eps: numberField(raw, 'rms_norm_eps', file, 1e-6),
    rope_theta: numberField(raw, 'rope_theta', file, 10000),
    rope_scaling: ropeScaling(raw.rope_scaling, file),
    hidden_act: 'silu',
    tie_word_embeddings: raw.tie_word_embeddings === true,
  };
  if (family === 'llama') cfg.attention_bias = raw.attention_bias === true;
  // Where config.json leaves them out, transformers' defaults (MistralConfig, Qwen2Config) apply.
  if (family === 'mistral') cfg.sliding_window = optionalInt(raw, 'sliding_window', file, 4096);
  if (family === 'qwen2') {
    cfg.use_sliding_window = raw.use_sliding_window === true;
    cfg.sliding_window = optionalInt(raw, 'sliding_window', file, 4096);
    cfg.max_window_layers = intField(raw, 'max_window_layers', file, 28);
    if (raw.layer_types !== undefined && raw.layer_types !== null) cfg.layer_types = layerTypes(raw.layer_types, cfg.num_hidden_layers, file);
  }
  if (!Number.isInteger(cfg.head_dim) || cfg.head_dim % 2 !== 0) {
    throw new ConfigError(file, `head_dim ${cfg.head_dim} (hidden_size ${hidden} / num_attention_heads ${heads} unless set) must be an even integer`);
  }
  if (heads === 0 || heads % cfg.num_key_value_heads !== 0) {
    throw new ConfigError(file, `num_attention_heads ${heads} is not a positive multiple of num_key_value_heads ${cfg.num_key_value_heads}`);
  }
  if (cfg.sliding_window === 0) throw new ConfigError(file, 'sliding_window must be positive or null');
  return cfg;
}

/** Each layer's attention window (null: every earlier position), as the family's config.json says. */
export function layerWindows(cfg: LlamaConfig): (number | null)[] {
  const n = cfg.num_hidden_layers;
  const window = cfg.sliding_window ?? null;
  if (cfg.model_type === 'mistral') return Array(n).fill(window);
  if (cfg.model_type === 'qwen2' && cfg.use_sliding_window && window !== null) {
    if (cfg.layer_types) return cfg.layer_types.map((t) => (t === 'sliding_attention' ? window : null));
    return Array.from({ length: n }, (_, i) => (i >= (cfg.max_window_layers ?? n) ? window : null));
  }
  return Array(n).fill(null);
}

/** Which projections carry a bias: Qwen2 q/k/v (never o_proj), LLaMA all four with attention_bias, Mistral none. */
export function attentionBiases(cfg: LlamaConfig): { qkv: boolean; o: boolean } {
  if (cfg.model_type === 'qwen2') return { qkv: true, o: false };
  return { qkv: cfg.attention_bias === true, o: cfg.attention_bias === true };
}

/** Fields that would change the architecture in ways not built here: refused, never silently ignored. */
function refuseUnsupported(raw: RawConfig, file: string): void {
  if (raw.mlp_bias === true) throw new ConfigError(file, 'mlp_bias true is not supported (biases on gate/up/down_proj)');
  if (raw.rope_interleaved === true) throw new ConfigError(file, 'rope_interleaved true is not supported (rotary embeddings rotate the two halves of each head)');
  const partial = raw.partial_rotary_factor;
  if (partial !== undefined && partial !== null && partial !== 1) throw new ConfigError(file, `partial_rotary_factor ${JSON.stringify(partial)} is not supported (1)`);
}

function ropeScaling(v: unknown, file: string): RopeScaling | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(file, `rope_scaling must be an object or null, got ${JSON.stringify(v)}`);
  const s = v as RawConfig;
  // transformers reads the legacy key 'type' where 'rope_type' is absent.
  const kind = s.rope_type ?? s.type ?? 'default';
  const where = `${file} (rope_scaling)`;
  if (kind === 'default') return null;
  if (kind === 'linear') return { rope_type: 'linear', factor: positive(s, 'factor', where) };
  if (kind === 'llama3') {
    const r: RopeScaling = {
      rope_type: 'llama3',
      factor: positive(s, 'factor', where),
      low_freq_factor: numberField(s, 'low_freq_factor', where),
      high_freq_factor: numberField(s, 'high_freq_factor', where),
      original_max_position_embeddings: positive(s, 'original_max_position_embeddings', where),
    };
    if (r.high_freq_factor <= r.low_freq_factor) throw new ConfigError(file, `rope_scaling: high_freq_factor ${r.high_freq_factor} must exceed low_freq_factor ${r.low_freq_factor}`);
    return r;
  }
  throw new ConfigError(file, `rope_scaling of type ${JSON.stringify(kind)} is not supported (llama3, linear)`);
}

function positive(raw: RawConfig, name: string, where: string): number {
  const v = numberField(raw, name, where);
  if (v <= 0) throw new ConfigError(where, `field '${name}' must be positive, got ${v}`);
  return v;
}

/** An integer or null; `fallback` where the field is absent. */
function optionalInt(raw: RawConfig, name: string, file: string, fallback: number): number | null {
  if (raw[name] === null) return null;
  return intField(raw, name, file, fallback);
}

function layerTypes(v: unknown, n: number, file: string): ('full_attention' | 'sliding_attention')[] {
  if (!Array.isArray(v) || v.length !== n || !v.every((t) => t === 'full_attention' || t === 'sliding_attention')) {
    throw new ConfigError(file, `layer_types must list 'full_attention' or 'sliding_attention' for each of the ${n} layers`);
  }
  return v;
}
