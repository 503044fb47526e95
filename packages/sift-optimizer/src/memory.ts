import { bytesPerElement, sampledGradWorkspaceBytes } from '@siftjs/tensor';
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
}

export function memoryReport(parts: Omit<MemoryReport, 'total'>): MemoryReport {
  const total = parts.values + parts.indices + parts.gradients + parts.optimizerState + parts.selectionBuffers;
  return { ...parts, total };
}

/** Bytes one sparse tensor keeps between steps, by field. */
export function residentBytes(s: SparseIncrement): Pick<MemoryReport, 'values' | 'indices' | 'gradients' | 'optimizerState' | 'selectionBuffers'> {
  const w = bytesPerElement(s.dtype);
  const chosen = s.indices !== null;
  const nominees = s.reselection.nominees?.size ?? 0;
  return {
    values: chosen ? 2 * w * s.k : 0, // base and δ
    indices: chosen ? 4 * s.k : 0,
    optimizerState: 2 * w * s.k + (s.steps ? w * s.k : 0),
    gradients: w * s.k,
    selectionBuffers: w * s.selector.heldElements() + (4 + w) * nominees,
  };
}

/**
 * What one sparse tensor's next hook holds beyond its resident bytes: `work`, the buffers alive at the hook's busiest
 * moment that are freed when it returns (the dense gradient G among them); and `growth`, what the hook adds to the
 * resident state and keeps (negative when it frees a finished selection's sums). At the busiest moment both are
 * alive, so the hook's peak is their sum. Each term is an allocation of sparse-increment.ts, selection.ts or
 * reselection.ts; k-sized ones are counted too, though n-sized ones dominate.
 */
export function nextStepBytes(s: SparseIncrement): { work: number; growth: number } {
  const n = s.param.size;
  const { k } = s;
  // G arrives in the weight's dtype, which is the sparse state's: only float32 and float64 tensors train (requiresGrad
  // refuses the others), and the state keeps each in its own dtype, so no cast is ever needed.
  const w = bytesPerElement(s.dtype);
  const G = n * w;
  // Gathering G[idx] into the sparse gradient: the gathered values, then the sum before copy_.
  const gather = 2 * k * w;
  if (s.indices) {
    const r = s.reselection.pending;
    // Asked for G[idx] alone on a backend that computes it, for a matrix, and no backward since has sent it densely (a
    // use the ops cannot sample reaches the hook, and the previous backward shows it): no dense gradient exists, only
    // the sampled product's workspace and the add into the sparse gradient.
    if (r === 0 && s.param.rank === 2 && s.param.backend.sampledMatmul && s.lastDelivery !== 'dense') {
      const [rows, cols] = s.param.shape;
      return { work: sampledGradWorkspaceBytes(rows, cols, k, w, s.sampledRows ?? undefined) + k * w, growth: 0 };
    }
    // Later passes of a due re-selection gather G at the nominees too, after the main gather.
    if (r === 0 || s.reselection.nominees) return { work: G + Math.max(gather, 2 * r * w), growth: 0 };
    // Nominating: |G|, |G| + tiny and the zeros written over the chosen components live together until the top r are
    // taken (their values go; their indices, the nominees, stay, and so does the nominees' gathered gradient).
    return { work: G + 2 * n * w + k * w + r * w, growth: r * (4 + w) };
  }
  const sel = s.selector;
  // Adopting a choice: the top-k values (the indices stay), then the gather into the sparse gradient. The indices,
  // the base and δ stay.
  const adopt = k * w + gather;
  const adopted = 2 * w * k + 4 * k;
  if (sel.total <= 1) return { work: G + adopt, growth: adopted };
  const first = sel.passes === 0;
  const last = sel.passes + 1 === sel.total;
  const buffers = sel.denseBuffers * n * w;
  // A pass adds G into ΣG — a clone the first time (it stays: growth), else a sum before copy_ — and Fisher squares G
  // and adds that likewise: the square and its sum live together.
  const passWork = sel.denseBuffers === 2 ? (first ? n * w : 2 * n * w) : first ? 0 : n * w;
  const work = G + Math.max(passWork, last ? adopt : 0);
  const growth = (first ? buffers : 0) + (last ? adopted - buffers : 0);
  return { work, growth };
}
