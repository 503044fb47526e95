import { record } from '../autograd/record.js';
import { ShapeError, fmtShape } from '../errors.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { sumTo } from './reduce.js';
import { backendOf, expandedView, fromStorage, requireFloat } from './util.js';
import { reshape, transpose, unsqueeze } from './views.js';
import { cast } from './cast.js';
import { isHalf, promoteTypes } from '../dtype.js';
import { noGrad } from '../autograd/grad-mode.js';
import { sampledGradRequest, wholeLeafOf } from '../autograd/sampled-grad.js';

/**
 * Matrix product with torch.matmul's rules: 1-D operands are promoted to a row/column and the added dim removed
 * afterwards; batch dims broadcast. Transposed operands are strided views — the kernel reads them in place.
 * Gradients: dA = G·Bᵀ, dB = Aᵀ·G, each summed back over broadcast batch dims.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  requireFloat('matmul', a);
  requireFloat('matmul', b);
  if (a.rank === 0 || b.rank === 0) {
    throw new ShapeError(`matmul: both operands need at least 1 dim, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  if (a.rank === 1 || b.rank === 1) {
    const a2 = a.rank === 1 ? unsqueeze(a, 0) : a;
    const b2 = b.rank === 1 ? unsqueeze(b, -1) : b;
    const p = matmul2(a2, b2);
    const shape = [...p.shape];
    if (b.rank === 1) shape.splice(shape.length - 1, 1);
    if (a.rank === 1) shape.splice(shape.length - (b.rank === 1 ? 1 : 2), 1);
    const out = reshape(p, shape);
    for (const t of [p, a2 !== a ? a2 : null, b2 !== b ? b2 : null]) t?.dispose();
    return out;
  }
  return matmul2(a, b);
}

function matmul2(a: Tensor, b: Tensor): Tensor {
  const backend = backendOf('matmul', a, b);
  const [m, k] = a.shape.slice(-2);
  const [k2, n] = b.shape.slice(-2);
  if (k !== k2) {
    throw new ShapeError(`matmul: inner dims differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)} (${k} vs ${k2})`);
  }
  const batch = broadcastShapes('matmul (batch dims)', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const dtype = promoteTypes(a.dtype, b.dtype);
  // A half operand of a float32 product (a bf16 weight times float32 activations) goes to the kernel as it is: the
  // backend widens it inside the product (Backend.matmul), so no float32 copy of the weight outlives the call.
  const asIs = (t: Tensor) => t.dtype === dtype || (dtype === 'float32' && isHalf(t.dtype));
  const ac = asIs(a) ? a : noGrad(() => cast(a, dtype));
  const bc = asIs(b) ? b : noGrad(() => cast(b, dtype));
  const out = fromStorage(
    backend,
    backend.matmul(expandedView(ac, [...batch, m, k]), expandedView(bc, [...batch, k, n])),
    dtype,
    [...batch, m, n],
  );
  if (ac !== a) ac.dispose();
  if (bc !== b) bc.dispose();
  const aShape = a.shape;
  const bShape = b.shape;
  const [aType, bType] = [a.dtype, b.dtype];
  // A weight used whole (x·W or x·Wᵀ) may ask for only some components of its gradient (sampled-grad.ts).
  const weight = b.requiresGrad && backend.sampledMatmul ? wholeLeafOf(b) : null;
  return record(
    'matmul',
    out,
    [a, b],
    (g, [as, bs], need) => {
      const request = need[1] && weight ? sampledGradRequest(weight.leaf) : undefined;
      if (request && weight) {
        const values = sampledWeightGrad(as, g, request.indices, weight.transposed, weight.leaf.dtype);
        request.deliver(values, { rows: as.size / as.shape[as.rank - 1] });
        values.dispose();
      }
      return [
        need[0] ? inDtype(sumTo(matmul2(g, transpose(bs)), aShape), aType) : null,
        need[1] && !request ? inDtype(weightGrad(as, g, bs), bType) : null,
      ];
    },
    [a, b],
  );
}

/** A gradient in its input's dtype (a product with a half operand is float32; the half input's gradient is half). */
function inDtype(g: Tensor, dtype: Tensor['dtype']): Tensor {
  if (g.dtype === dtype) return g;
  const c = cast(g, dtype);
  g.dispose();
  return c;
}

/**
 * dB = Aᵀ·G summed over the batch dims. A matrix B shared by every batch (a layer's weight, x [B, T, K] · W [K, N])
 * takes it as one product over all B·T rows, as PyTorch does: per-batch products and a sum over them wrote and read
 * B partial [K, N] gradients (GPT-2's lm_head: 8 × 256 × 8192 floats per step, and the sum 16 ms).
 */
function weightGrad(a: Tensor, g: Tensor, b: Tensor): Tensor {
  const bShape = b.shape;
  if (bShape.length !== 2 || a.rank <= 2) return sumTo(matmul2(transpose(a), g), bShape);
  const rows = a.shape.slice(0, -1).reduce((x, y) => x * y, 1);
  const a2 = reshape(a, [rows, a.shape[a.rank - 1]]);
  const g2 = reshape(g, [rows, g.shape[g.rank - 1]]);
  // B read column by column (Wᵀ of a weight W: GPT-2's lm_head tied to the token embedding) gets its gradient in
  // that layout, (Gᵀ·A)ᵀ: W's gradient then arrives contiguous where it is added to the embedding's (a transposed
  // add of 8192 × 256 floats was 10 ms of a GPT-2 step).
  const columns = b.strides[0] === 1 && b.strides[1] !== 1;
  const [x, y] = columns ? [transpose(g2), a2] : [transpose(a2), g2];
  const p = matmul2(x, y);
  const out = columns ? transpose(p) : p;
  for (const t of [a2, g2, x, columns ? p : null]) t?.dispose();
  return out;
}

/**
 * The components `indices` of the weight's gradient Aᵀ·G (summed over the batch), without the dense product: for the
 * weight W = B [K, N] each index f is (f / N, f % N) of Aᵀ·G; for W with B = Wᵀ (W [N, K]) it is (f % K, f / K).
 */
function sampledWeightGrad(a: Tensor, g: Tensor, indices: Tensor, transposed: boolean, dtype: Tensor['dtype']): Tensor {
  const k = a.shape[a.rank - 1];
  const n = g.shape[g.rank - 1];
  const a2 = reshape(a, [-1, k]);
  const g2 = reshape(g, [-1, n]);
  const backend = backendOf('matmul (sampled weight gradient)', a2, g2, indices);
  if (!backend.sampledMatmul) throw new Error(`matmul: backend ${backend.name} has no sampledMatmul kernel`);
  const out = fromStorage(backend, backend.sampledMatmul(a2.raw(), g2.raw(), indices.raw(), transposed), a2.dtype, [indices.size]);
  a2.dispose();
  g2.dispose();
  // A half-precision weight's components stay in the float32 they were summed in: the one who asked (SIFT) keeps
  // its state in float32, and rounding them to the weight's format first would cost 8 bits (bfloat16) for nothing.
  if (out.dtype === dtype || isHalf(dtype)) return out;
  const c = cast(out, dtype);
  out.dispose();
  return c;
}
