import { bytesPerElement, type DType, sampledGradWorkspaceBytes } from '@siftjs/tensor';
import type { SparseIncrement } from './sparse-increment.js';

/**
 * Bytes a fine-tuning method keeps besides the model's own weights — the same fields for SIFT and for every
 * baseline, so the main job's table compares like with like.
 */
export interface MemoryReport {
  /** Trainable values kept outside the weights: SIFT's base copy and increment δ of its k components. */
  values: number;
  /** SIFT's int32 flat indices. */
  indices: number;
  /** Gradients held from backward to the optimizer step (k-sized for SIFT's sparse tensors, dense otherwise). */
  gradients: number;
  /** AdamW's moments (and SIFT's per-component step counts after a re-selection). */
  optimizerState: number;
  /** Dense buffers of a selection in progress (ΣG, Σg²) and the nominees of a due re-selection. */
  selectionBuffers: number;
  /** The largest dense gradient that lives only inside a backward hook (SIFT's G of one tensor). */
  peakTransientGradient: number;
  /**
   * The most bytes beyond `total` held at once during the next backward and step: the dense gradient inside its
   * hook with the working buffers of choosing, nominating or gathering, and what the passes add to the resident
   * state. A backend's measured peak for that phase exceeds the bytes in use before it by this, plus the model's
   * own activations and their gradients.
   */
  peakTransient: number;
  /** Everything above that stays resident: values + indices + gradients + optimizerState + selectionBuffers. */
  total: number;
  /** `total` by dtype (SIFT: int32 indices, its state in float32 — float64 for float64 weights — whatever the weights' dtype). */
  byDtype: Partial<Record<DType, number>>;
}

/** Adds `bytes` of `dtype` into a by-dtype tally (nothing for 0). */
export function addBytes(tally: Partial<Record<DType, number>>, dtype: DType, bytes: number): void {
  if (bytes) tally[dtype] = (tally[dtype] ?? 0) + bytes;
}

export function memoryReport(parts: Omit<MemoryReport, 'total'>): MemoryReport {
  const total = parts.values + parts.indices + parts.gradients + parts.optimizerState + parts.selectionBuffers;
  const tallied = Object.values(parts.byDtype).reduce((n, b) => n + (b ?? 0), 0);
  if (tallied !== total) throw new Error(`memoryReport: the bytes by dtype (${tallied}) do not add up to the total (${total})`);
  return { ...parts, total };
}

/** Bytes one sparse tensor keeps between steps, by field. */
export function residentBytes(s: SparseIncrement): Pick<MemoryReport, 'values' | 'indices' | 'gradients' | 'optimizerState' | 'selectionBuffers'> & { int32: number } {
  const w = bytesPerElement(s.dtype);
  const chosen = s.indices !== null;
  const nominees = s.reselection.nominees?.size ?? 0;
  return {
    values: chosen ? 2 * w * s.k : 0, // base and δ
    indices: chosen ? 4 * s.k : 0,
    optimizerState: 2 * w * s.k + (s.steps ? w * s.k : 0),
    gradients: w * s.k,
    selectionBuffers: w * s.selector.heldElements() + (4 + w) * nominees,
    int32: (chosen ? 4 * s.k : 0) + 4 * nominees, // the rest is in the state's dtype
  };
}

/**
 * One sparse tensor's part of a phase (its hook in the next backward, or its part of the next step): `peak`, the most
 * it holds at once beyond the resident bytes it started from (what it adds and keeps included, if alive then); and
 * `growth`, what it leaves added to the resident state (negative when it frees a finished selection's sums). Each
 * term is an allocation of sparse-increment.ts, selection.ts or reselection.ts; k-sized ones are counted too, though
 * n-sized ones dominate at the paper's densities.
 */
export interface PhaseBytes {
  peak: number;
  growth: number;
}

/** The most a run of tensors' parts holds at once, in whatever order they come: one at its peak, the rest grown. */
export function sequencePeak(parts: PhaseBytes[]): number {
  const grown = parts.reduce((n, p) => n + Math.max(0, p.growth), 0);
  return parts.reduce((most, p) => Math.max(most, p.peak + grown - Math.max(0, p.growth)), 0);
}

/** What one sparse tensor's hook in the next backward holds beyond its resident bytes (see PhaseBytes). */
export function nextStepBytes(s: SparseIncrement): PhaseBytes {
  const n = s.param.size;
  const { k } = s;
  // G arrives in the weight's dtype; the hook widens a half-precision G to the state's float32 (and divides by a loss
  // scale) into a copy that lives beside it while the hook runs.
  const w = bytesPerElement(s.dtype);
  const converted = s.param.dtype !== s.dtype || s.lossScale !== 1;
  const G = n * bytesPerElement(s.param.dtype) + (converted ? n * w : 0);
  // Gathering G[idx] into the sparse gradient: the gathered values, then the sum before copy_.
  const gather = 2 * k * w;
  if (s.indices) {
    const r = s.reselection.pending;
    // Asked for G[idx] alone on a backend that computes it, for a matrix, and no backward since has sent it densely (a
    // use the ops cannot sample reaches the hook, and the previous backward shows it): no dense gradient exists, only
    // the sampled product's workspace and the add into the sparse gradient.
    if (r === 0 && s.param.rank === 2 && s.param.backend.sampledMatmul && s.lastDelivery !== 'dense') {
      const [rows, cols] = s.param.shape;
      return { peak: sampledGradWorkspaceBytes(rows, cols, k, w, s.sampledRows ?? undefined) + k * w, growth: 0 };
    }
    // Later passes of a due re-selection add G at the nominees (gathered, then summed) before the main gather.
    if (r === 0 || s.reselection.nominees) return { peak: G + Math.max(gather, 2 * r * w), growth: 0 };
    // Nominating: |G|, |G| + tiny, the zeros written over the chosen components and the top r's values and indices
    // live together until the scope ends (the indices, the nominees, stay, and so does their gathered gradient).
    const nominees = r * (4 + w);
    return { peak: G + 2 * n * w + k * w + r * w + 4 * r, growth: nominees };
  }
  const sel = s.selector;
  // Adopting a choice: the indices, the base and δ stay; the gather into the sparse gradient runs while they are
  // alive and before a multi-pass selection frees its sums (the top-k values, freed before, need less).
  const adopted = 2 * w * k + 4 * k;
  const adopting = adopted + gather;
  if (sel.total <= 1) return { peak: G + adopting, growth: adopted };
  const first = sel.passes === 0;
  const last = sel.passes + 1 === sel.total;
  const buffers = sel.denseBuffers * n * w;
  // A pass adds G into ΣG — a clone the first time (it stays: growth), else a sum before copy_ — and Fisher squares G
  // and adds that likewise (the square and its clone, or its sum, live together; ΣG's sum is freed by then).
  const passWork = sel.denseBuffers === 2 ? (first ? 3 * n * w : 2 * n * w) : n * w;
  const peak = G + Math.max(passWork, last ? adopting : 0);
  const growth = (first ? buffers : 0) + (last ? adopted - buffers : 0);
  return { peak, growth };
}

/**
 * What one sparse tensor's part of the next step() holds beyond its resident bytes: a due re-selection's swap
 * (reselection.ts) — the kept positions, the k − r kept values of each of the seven state tensors, the nominees'
 * base values and the fresh zeros, and the new state, all alive until the swap's scope ends; the old state goes
 * after. The AdamW step itself is one kernel in place.
 */
export function stepBytes(s: SparseIncrement): PhaseBytes {
  const r = s.reselection.pending;
  if (!s.indices || r === 0) return { peak: 0, growth: 0 };
  const { k } = s;
  const w = bytesPerElement(s.dtype);
  const kept = k - r;
  const stepsVector = s.steps ? 0 : k * w; // filled with the shared count the first time
  const peak = 4 * kept + stepsVector + kept * (4 + 6 * w) + r * w + 4 * r * w + (4 * k + 6 * k * w);
  return { peak, growth: stepsVector - r * (4 + w) };
}
