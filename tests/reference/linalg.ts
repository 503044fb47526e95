import { type Ref, broadcastShapes, size, unravel } from './core.js';

/** Flat batch number, in a tensor with batch dims `batchShape`, read at broadcast batch position `idx`. */
function batchOffset(batchShape: readonly number[], idx: readonly number[]): number {
  const lead = idx.length - batchShape.length;
  let flat = 0;
  for (let i = 0; i < batchShape.length; i++) flat = flat * batchShape[i] + (batchShape[i] === 1 ? 0 : idx[lead + i]);
  return flat;
}

/**
 * torch.matmul / numpy.matmul:
 * - a 1-D left operand [k] is treated as a row [1, k], and that dim is removed from the result;
 * - a 1-D right operand [k] is treated as a column [k, 1], and that dim is removed from the result;
 * - the dims before the last two are batch dims and broadcast (NumPy rules).
 * A plain triple loop per batch element, accumulating in float64.
 */
export function matmul(a: Ref, b: Ref): Ref {
  if (a.shape.length === 0 || b.shape.length === 0) throw new Error('matmul: operands must have at least one dim');
  const aShape = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
  const bShape = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
  const m = aShape[aShape.length - 2];
  const k = aShape[aShape.length - 1];
  const kb = bShape[bShape.length - 2];
  const n = bShape[bShape.length - 1];
  if (k !== kb) throw new Error(`matmul: inner dims differ in [${a.shape}] @ [${b.shape}]`);
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const batch = broadcastShapes(aBatch, bBatch);
  const batches = size(batch);
  const out = new Float64Array(batches * m * n);
  for (let t = 0; t < batches; t++) {
    const idx = unravel(t, batch);
    const aOff = batchOffset(aBatch, idx) * m * k;
    const bOff = batchOffset(bBatch, idx) * k * n;
    const oOff = t * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a.data[aOff + i * k + p] * b.data[bOff + p * n + j];
        out[oOff + i * n + j] = s;
      }
    }
  }
  const shape = [...batch];
  if (a.shape.length !== 1) shape.push(m);
  if (b.shape.length !== 1) shape.push(n);
  return { shape, data: out };
}
