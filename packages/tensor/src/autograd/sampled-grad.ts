import type { Tensor } from '../tensor.js';

/**
 * A leaf's request for only some components of its gradient — SIFT's, once it has chosen them. An op whose backward
 * can compute exactly those components computes them alone and delivers them instead of the dense gradient: today
 * matmul, for a 2-D weight used whole, as it is or transposed (`x·W`, `x·Wᵀ`), on a backend with the
 * `sampledMatmul` kernel. Computing k entries of Aᵀ·G costs k·M multiply-adds instead of the dense product's
 * rows·cols·M. Any other use of the leaf sends the dense gradient to its hooks as before, so the parts add up to
 * the same gradient.
 */
export interface SampledGradRequest {
  /** int32 [k]: flat positions in the leaf, row-major. */
  readonly indices: Tensor;
  /**
   * Receives G[indices] ([k], the leaf's dtype — float32 for a float16 / bfloat16 leaf) for one use of the leaf in the graph (valid during the call), and the
   * rows M of that product (its activations' rows), which bound the workspace it took (`sampledGradWorkspaceBytes`).
   */
  deliver(values: Tensor, info: { rows: number }): void;
}

const requests = new WeakMap<Tensor, SampledGradRequest>();

/** Rows of A and G a backend's sampledMatmul lays out column by column at a time (see the bound below). */
export const SAMPLED_CHUNK_ROWS = 64;

/**
 * The most bytes one delivery of `count` components of a [rows, cols] weight's gradient allocates, its result included —
 * a bound every backend's sampledMatmul keeps to: per index its two column numbers and a float64 sum (16 bytes), one
 * chunk of A's and G's rows (at most SAMPLED_CHUNK_ROWS of the product's M rows) laid out column by column, and the
 * result. Without M, the bound for a full chunk.
 */
export function sampledGradWorkspaceBytes(rows: number, cols: number, count: number, elementBytes: number, productRows = SAMPLED_CHUNK_ROWS): number {
  return 16 * count + (rows + cols) * Math.min(SAMPLED_CHUNK_ROWS, productRows) * elementBytes + count * elementBytes;
}

/** Sets (or with null, clears) `leaf`'s request; it holds for the backward passes that follow. */
export function setSampledGrad(leaf: Tensor, request: SampledGradRequest | null): void {
  if (request) requests.set(leaf, request);
  else requests.delete(leaf);
}

export function sampledGradRequest(leaf: Tensor): SampledGradRequest | undefined {
  return requests.get(leaf);
}

/** The 2-D leaf `t` is, whole, or whose whole transpose it is (a view made by `transpose`/`.T`); else null. */
export function wholeLeafOf(t: Tensor): { leaf: Tensor; transposed: boolean } | null {
  if (t.rank !== 2) return null;
  const whole = (leaf: Tensor) => leaf.rank === 2 && leaf.isContiguous() && leaf.coversStorage();
  if (t.isLeaf) return t.requiresGrad && whole(t) ? { leaf: t, transposed: false } : null;
  const node = t.gradFn;
  const leaf = node?.name === 'permute' ? node.inputs[0]?.leaf : null;
  if (!leaf || !whole(leaf) || t.storage() !== leaf.storage() || t.offset !== leaf.offset) return null;
  const [r, c] = leaf.shape;
  const transposed = t.shape[0] === c && t.shape[1] === r && t.strides[0] === leaf.strides[1] && t.strides[1] === leaf.strides[0];
  return transposed ? { leaf, transposed: true } : null;
}
