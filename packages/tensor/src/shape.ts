import { ShapeError, fmtShape } from './errors.js';

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export function isContiguous(shape: Shape, strides: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== expected) return false;
    expected *= shape[i];
  }
  return true;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Maps a possibly negative axis into [0, rank); `op` names the caller in the error. */
export function normalizeAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new ShapeError(`${op}: axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return a;
}

/** Sorted, unique, non-negative axes; `undefined` means every axis. */
export function normalizeAxes(axes: number | readonly number[] | undefined, rank: number, op: string): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = [...new Set(list.map((a) => normalizeAxis(a, rank, op)))];
  return out.sort((x, y) => x - y);
}

/** NumPy broadcasting: align on the right; each pair of dims must be equal or contain a 1. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o]) {
        throw new ShapeError(
          `${op}: shapes ${shapes.map(fmtShape).join(' and ')} cannot be broadcast together (dim ${o - rank}: ${out[o]} vs ${d})`,
        );
      }
    }
  }
  return out;
}

export function checkShape(shape: Shape, op: string): number[] {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`${op}: invalid shape ${fmtShape(shape)}`);
  }
  return [...shape];
}

/** Views of one shape walked together: the merged shape and each operand's strides over it. */
export interface CollapsedDims {
  shape: number[];
  /** Per operand. */
  strides: number[][];
}

/**
 * Drops size-1 dims and merges neighbours that are contiguous for every operand, so kernels index as few dims as
 * possible. The result has rank ≥ 1 (all-size-1 or rank-0 views become one dim of size 1, stride 1). Every
 * backend's strided kernels start here.
 */
export function collapseDims(shape: Shape, strides: readonly (readonly number[])[]): CollapsedDims {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[d] * shape[d])) {
      outShape[last] *= shape[d];
      strides.forEach((s, k) => (outStrides[k][last] = s[d]));
    } else {
      outShape.push(shape[d]);
      strides.forEach((s, k) => outStrides[k].push(s[d]));
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    outStrides.forEach((s) => s.push(1));
  }
  return { shape: outShape, strides: outStrides };
}

/** A reduction's view split in two: the kept dims (one output each) and the reduced dims (walked per output). */
export interface SplitAxes {
  /** The kept dims with the view's strides, merged by `collapseDims`. */
  kept: CollapsedDims;
  /** The reduced dims likewise. */
  reduced: CollapsedDims;
  /** How many outputs: the product of the kept dims. */
  keptSize: number;
  /** How many elements each output reduces: the product of the reduced dims. */
  reducedSize: number;
}

/**
 * A view's dims split into those a reduction keeps and those it reduces over, each part with its strides and
 * merged where contiguous. Every backend's reduce and argReduce start here.
 */
export function splitAxes(shape: Shape, strides: readonly number[], axes: readonly number[]): SplitAxes {
  const parts = { kept: { shape: [] as number[], strides: [] as number[] }, reduced: { shape: [] as number[], strides: [] as number[] } };
  shape.forEach((d, i) => {
    const part = axes.includes(i) ? parts.reduced : parts.kept;
    part.shape.push(d);
    part.strides.push(strides[i]);
  });
  return {
    kept: collapseDims(parts.kept.shape, [parts.kept.strides]),
    reduced: collapseDims(parts.reduced.shape, [parts.reduced.strides]),
    keptSize: sizeOf(parts.kept.shape),
    reducedSize: sizeOf(parts.reduced.shape),
  };
}
