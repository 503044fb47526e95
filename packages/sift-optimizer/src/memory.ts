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
  /** Dense score buffers of a multi-batch selection, freed once it is made. */
  selectionBuffers: number;
  /** The largest gradient that lived only inside a backward hook (SIFT's dense gradient of one tensor). */
  peakTransientGradient: number;
  /** Everything above that stays resident: values + indices + gradients + optimizerState + selectionBuffers. */
  total: number;
}

export function memoryReport(parts: Omit<MemoryReport, 'total'>): MemoryReport {
  const total = parts.values + parts.indices + parts.gradients + parts.optimizerState + parts.selectionBuffers;
  return { ...parts, total };
}

