import { type Tensor, tensor } from '@siftjs/tensor';
import type { TokenBatch } from '../data/batches.js';

/** A token batch as the int32 tensors a model takes; dispose() frees them. */
export function batchTensors(b: TokenBatch): { ids: Tensor; mask: Tensor; labels: Tensor | null; tokens: number; dispose(): void } {
  const ids = tensor(b.inputIds, { shape: b.shape, dtype: 'int32' });
  const mask = tensor(b.attentionMask, { shape: b.shape, dtype: 'int32' });
  const labels = b.labels ? tensor(b.labels, { shape: [b.shape[0]], dtype: 'int32' }) : null;
  let tokens = 0;
  for (const m of b.attentionMask) tokens += m;
  return { ids, mask, labels, tokens, dispose: () => [ids, mask, labels].forEach((t) => t?.dispose()) };
}
