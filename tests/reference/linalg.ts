import { type Ref, broadcastShapes, ravel, size, unravel } from './core.js';

/**
 * torch.matmul: a 1-D left operand is a row (the dim removed afterwards), a 1-D right operand a column; batch
 * dims broadcast. A triple loop in float64 per batch element.
 */
export function matmul(a: Ref, b: Ref): Ref {
  const aShape = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
  const bShape = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
  const [m, k] = aShape.slice(-2);
  const [k2, n] = bShape.slice(-2);
  if (k !== k2) throw new Error(`matmul: [${a.shape}] @ [${b.shape}]`);
  const batch = broadcastShapes(aShape.slice(0, -2), bShape.slice(0, -2));
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const out = new Float64Array(size(batch) * m * n);
  for (let bi = 0; bi < size(batch); bi++) {
    const idx = unravel(bi, batch);
    const pick = (shape: number[]) => ravel(shape.map((d, i) => (d === 1 ? 0 : idx[idx.length - shape.length + i])), shape);
    const aOff = pick(aBatch) * m * k;
    const bOff = pick(bBatch) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a.data[aOff + i * k + p] * b.data[bOff + p * n + j];
        out[bi * m * n + i * n + j] = s;
      }
    }
  }
  const shape = [...batch, m, n];
  if (b.shape.length === 1) shape.pop();
  if (a.shape.length === 1) shape.splice(shape.length - (b.shape.length === 1 ? 1 : 2), 1);
  return { shape, data: out };
}
