import { type Tensor, tensor } from '@siftjs/tensor';
import type { TokenBatch } from '../data/batches.js';

/**
 * A token batch as the int32 tensors a model takes; dispose() frees them. Labels are the class ids [B] of
 * classification, or, for instruction data (a target mask), the token labels [B, T]: the id where the loss is
 * computed (the response), −100 elsewhere. `targets` counts the tokens the loss covers.
 */
export function batchTensors(b: TokenBatch): { ids: Tensor; mask: Tensor; labels: Tensor | null; tokens: number; targets: number; dispose(): void } {
  const ids = tensor(b.inputIds, { shape: b.shape, dtype: 'int32' });
  const mask = tensor(b.attentionMask, { shape: b.shape, dtype: 'int32' });
  let labels: Tensor | null = null;
  let tokens = 0;
  for (const m of b.attentionMask) tokens += m;
  let targets = tokens;
  if (b.targetMask) {
    const tm = b.targetMask;
    labels = tensor(b.inputIds.map((id, i) => (tm[i] ? id : -100)), { shape: b.shape, dtype: 'int32' });
    targets = tm.reduce((n, v) => n + v, 0);
  } else if (b.labels) labels = tensor(b.labels, { shape: [b.shape[0]], dtype: 'int32' });
  return { ids, mask, labels, tokens, targets, dispose: () => [ids, mask, labels].forEach((t) => t?.dispose()) };
}
