/**
 * Which matmul kernel runs (matmul.wgsl.ts), with which tile and how many K slices: a pure function of the
 * operands' shapes, strides and offsets and of the device's limits, so the choice is tested without a GPU.
 *
 * The rule:
 * 1. Kernel. The vec4 kernel when both operands can be read 4 elements at a time (`vec4Axis`: a unit-stride
 *    axis a multiple of 4 long, every other stride and the offset multiples of 4, in elements); otherwise the
 *    scalar kernel, which takes any strides (broadcast, odd shapes, misaligned views) and any float16 or
 *    bfloat16 operand (the vec4 kernel binds float32 operands as vec4<f32>).
 * 2. Tile. The vec4 kernel computes 8×8 outputs per invocation (a 128×128 tile on 16×16 invocations) when that
 *    still gives `largeTileGroups` workgroups or more, else 4×4 (64×64): a large tile reads workgroup memory
 *    half as often per multiply-add, but on a small output it would leave most of a large GPU idle. Every tile
 *    is shrunk to the device's invocation and workgroup-memory limits (never assumed to be desktop defaults).
 * 3. Split K. When the output gives fewer than `splitTargetGroups` workgroups and K ≥ 2·`splitMinK`, K is cut
 *    into S = min(maxSplits, ⌊splitTargetGroups / groups⌋, ⌊K / splitMinK⌋) slices (each slice is at least
 *    `splitMinK` long, so the extra S·M·N partial sums stay small next to the K·(M + N) inputs). Each slice's
 *    K range is a multiple of BK; the partial tiles go to a scratch buffer (which must fit one storage binding)
 *    and a second kernel adds them in slice order, so the result is deterministic.
 */
import { type DType, contiguousStrides } from '@siftjs/tensor';
import type { KernelLimits } from '../device/limits.js';
import { Params, collapse, floorPow2 } from '../wgsl/common.js';
import type { MatmulTile, Vec4Layout } from './matmul.wgsl.js';

export type { MatmulTile, Vec4Layout } from './matmul.wgsl.js';

/** What the plan reads of an operand view. */
export interface StridedOperand {
  shape: readonly number[];
  strides: readonly number[];
  offset: number;
  /** float32 when absent. */
  dtype?: DType;
}

/** The thresholds of the rule above; the defaults are for a large discrete GPU (~100+ compute units). */
export interface MatmulTuning {
  /** The 8×8-per-invocation vec4 tile is used when it yields at least this many workgroups. */
  largeTileGroups: number;
  /** K is split while the output yields fewer workgroups than this (about two per compute unit). */
  splitTargetGroups: number;
  /** The shortest K slice. */
  splitMinK: number;
  /** The most slices. */
  maxSplits: number;
}

export const DEFAULT_MATMUL_TUNING: Readonly<MatmulTuning> = {
  largeTileGroups: 256,
  splitTargetGroups: 256,
  splitMinK: 256,
  maxSplits: 32,
};

/** The problem: out[batch, M, N], with the batch dims merged where both operands allow. */
export interface MatmulDims {
  M: number;
  K: number;
  N: number;
  /** Batch elements (the product of the batch dims). */
  batch: number;
  batchShape: number[];
  aBatchStrides: number[];
  bBatchStrides: number[];
}

export interface MatmulPlan {
  kernel: 'scalar' | 'vec4';
  tile: MatmulTile;
  /** The vec4 kernel's load axes and store width; null for the scalar kernel. */
  layout: Vec4Layout | null;
  /** K slices (1: no split) and the K each slice reduces (K without a split). */
  splits: number;
  kChunk: number;
  dims: MatmulDims;
}

/** M, K, N and the batch of `a @ b` (shapes already checked to multiply). */
export function matmulDims(a: StridedOperand, b: StridedOperand): MatmulDims {
  const r = a.shape.length;
  const [M, K, N] = [a.shape[r - 2], a.shape[r - 1], b.shape[r - 1]];
  const batchShape = a.shape.slice(0, r - 2);
  const batch = batchShape.reduce((x, y) => x * y, 1);
  // The output is contiguous: batch dims merge only where the operands' strides allow it too.
  const outBatch = contiguousStrides(batchShape).map((s) => s * M * N);
  const c = collapse(batchShape, [a.strides.slice(0, r - 2), b.strides.slice(0, r - 2), outBatch]);
  return { M, K, N, batch, batchShape: c.shape, aBatchStrides: c.strides[0], bBatchStrides: c.strides[1] };
}

/** The largest scalar tile of the usual shape (4×4 outputs per invocation) that fits the limits. */
export function chooseTile(limits: KernelLimits): MatmulTile {
  const { wx, wy } = workgroupShape(limits);
  const tm = 4;
  const tn = 4;
  let bk = 16;
  while (bk > 1 && tileBytes({ wx, wy, tm, tn, bk }) > limits.maxComputeWorkgroupStorageSize) bk /= 2;
  return { wx, wy, tm, tn, bk };
}

/**
 * The vec4 kernel's tile of `outputs`×`outputs` per invocation with the longest BK (16, 8 or 4: a multiple of 4)
 * that fits the workgroup memory; null when none does.
 */
export function chooseVec4Tile(limits: KernelLimits, outputs: 4 | 8): MatmulTile | null {
  const { wx, wy } = workgroupShape(limits);
  for (const bk of [16, 8, 4]) {
    const t = { wx, wy, tm: outputs, tn: outputs, bk };
    if (tileBytes(t) <= limits.maxComputeWorkgroupStorageSize) return t;
  }
  return null;
}

/** Up to 16×16 invocations, within the device's per-dimension and per-workgroup limits. */
function workgroupShape(limits: KernelLimits): { wx: number; wy: number } {
  const wx = Math.min(16, floorPow2(limits.maxComputeWorkgroupSizeX), floorPow2(limits.maxComputeInvocationsPerWorkgroup));
  const wy = Math.max(1, Math.min(16, floorPow2(limits.maxComputeWorkgroupSizeY), floorPow2(Math.floor(limits.maxComputeInvocationsPerWorkgroup / wx))));
  return { wx, wy };
}

/** Workgroup memory of a tile: a BK × BM slab of A and a BK × BN slab of B, f32. */
export function tileBytes(t: MatmulTile): number {
  return (t.wy * t.tm * t.bk + t.bk * t.wx * t.tn) * 4;
}

const aligned = (...xs: number[]): boolean => xs.every((x) => x % 4 === 0);

/**
 * The axis an operand [..., R, C] can be loaded along 4 at a time: 'col' when C is a multiple of 4 with unit
 * stride, 'row' when R is, with the offset, the batch strides and the other axis's stride multiples of 4. A
 * stride of a length-1 axis is never used and does not count. Null when neither.
 */
function vec4Axis(v: StridedOperand, rows: number, cols: number, batchStrides: readonly number[]): 'row' | 'col' | null {
  const r = v.shape.length;
  const sr = rows > 1 ? v.strides[r - 2] : 0;
  const sc = cols > 1 ? v.strides[r - 1] : 0;
  if ((v.dtype ?? 'float32') !== 'float32') return null;
  if (rows === 0 || cols === 0 || !aligned(v.offset, ...batchStrides)) return null;
  if (cols % 4 === 0 && sc === 1 && aligned(sr)) return 'col';
  if (rows % 4 === 0 && sr === 1 && aligned(sc)) return 'row';
  return null;
}

function groupsOf(t: MatmulTile, d: MatmulDims): number {
  return d.batch * Math.ceil(d.M / (t.wy * t.tm)) * Math.ceil(d.N / (t.wx * t.tn));
}

/** The kernel, tile and K split for `a @ b` on a device with `limits` (see the rule at the top of this file). */
export function matmulPlan(a: StridedOperand, b: StridedOperand, limits: KernelLimits, tuning: MatmulTuning = DEFAULT_MATMUL_TUNING): MatmulPlan {
  const dims = matmulDims(a, b);
  const { M, K, N } = dims;

  let kernel: MatmulPlan['kernel'] = 'scalar';
  let tile = chooseTile(limits);
  let layout: Vec4Layout | null = null;
  const va = vec4Axis(a, M, K, dims.aBatchStrides);
  const vb = vec4Axis(b, K, N, dims.bBatchStrides);
  const small = chooseVec4Tile(limits, 4);
  if (va && vb && small) {
    kernel = 'vec4';
    layout = { a: va === 'col' ? 'k' : 'm', b: vb === 'col' ? 'n' : 'k', out: N % 4 === 0 };
    const large = chooseVec4Tile(limits, 8);
    tile = large && groupsOf(large, dims) >= tuning.largeTileGroups ? large : small;
  }

  let splits = 1;
  let kChunk = K;
  const groups = groupsOf(tile, dims);
  if (groups < tuning.splitTargetGroups && K >= 2 * tuning.splitMinK) {
    const total = dims.batch * M * N;
    const fit = Math.floor(Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize) / (4 * total));
    const want = Math.min(tuning.maxSplits, Math.floor(tuning.splitTargetGroups / groups), Math.floor(K / tuning.splitMinK), fit);
    if (want >= 2) {
      kChunk = Math.ceil(Math.ceil(K / want) / tile.bk) * tile.bk;
      splits = Math.ceil(K / kChunk);
    }
    if (splits < 2) {
      splits = 1;
      kChunk = K;
    }
  }
  return { kernel, tile, layout, splits, kChunk, dims };
}

/**
 * The kernel's parameter words (matmul.wgsl.ts's matmulParamWords) for batches from `base`, the slices
 * `sliceStride` elements apart. For an operand the vec4 kernel loads 4-wide, offset and strides are in vec4s.
 */
export function matmulParams(plan: MatmulPlan, a: StridedOperand, b: StridedOperand, base: number, sliceStride: number): Params {
  const d = plan.dims;
  const r = a.shape.length;
  const unit = plan.kernel === 'vec4' ? 4 : 1;
  // A stride of a length-1 axis is never used (and may not be a multiple of 4): pass 0.
  const used = (len: number, s: number) => (len > 1 ? s / unit : 0);
  const p = new Params().u32(d.M).u32(d.N).u32(d.K).u32(base).u32(plan.kChunk).u32(plan.splits).u32(sliceStride);
  for (const n of d.batchShape) p.u32(n);
  p.i32(a.offset / unit);
  for (const s of d.aBatchStrides) p.i32(s / unit);
  p.i32(used(d.M, a.strides[r - 2])).i32(used(d.K, a.strides[r - 1]));
  p.i32(b.offset / unit);
  for (const s of d.bBatchStrides) p.i32(s / unit);
  p.i32(used(d.K, b.strides[r - 2])).i32(used(d.N, b.strides[r - 1]));
  return p;
}
