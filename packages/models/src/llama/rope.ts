import type { LlamaConfig, RopeScaling } from './config.js';

/**
 * The rotary frequencies of a LLaMA-family config, one per pair of head dimensions: θ^(−2i/d) (Su et al. 2021),
 * then rope_scaling applied — linear divides them all by the factor; Llama 3.1's keeps the high frequencies,
 * divides the low ones by the factor and blends those between (transformers' modeling_rope_utils, Meta's
 * apply_scaling).
 */
export function rotaryFrequencies(cfg: LlamaConfig): Float64Array {
  const d = cfg.head_dim;
  const freqs = Float64Array.from({ length: d / 2 }, (_, i) => cfg.rope_theta ** ((-2 * i) / d));
  const s = cfg.rope_scaling;
  if (s?.rope_type === 'linear') return freqs.map((f) => f / s.factor);
  if (s?.rope_type === 'llama3') return freqs.map((f) => llama3Scaled(f, s));
  return freqs;
}

function llama3Scaled(freq: number, s: Extract<RopeScaling, { rope_type: 'llama3' }>): number {
  const old = s.original_max_position_embeddings;
  const wavelength = (2 * Math.PI) / freq;
  if (wavelength < old / s.high_freq_factor) return freq;
  if (wavelength > old / s.low_freq_factor) return freq / s.factor;
  const smooth = (old / wavelength - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
  return ((1 - smooth) * freq) / s.factor + smooth * freq;
}
