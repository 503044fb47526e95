import { fc } from '@fast-check/vitest';
import * as ref from '../reference/index.js';

/** Random inputs for the op properties: shapes with size-1 and empty dims, broadcast-compatible pairs, values. */

export interface ShapeOptions {
  minRank?: number;
  maxRank?: number;
  minDim?: number;
  maxDim?: number;
}

export function shapeArb({ minRank = 0, maxRank = 3, minDim = 0, maxDim = 4 }: ShapeOptions = {}) {
  return fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: minRank, maxLength: maxRank });
}

/** A shape that broadcasts to `shape`: some leading dims dropped, some dims set to 1. */
export function broadcastableTo(shape: readonly number[]) {
  return fc
    .tuple(fc.integer({ min: 0, max: shape.length }), fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }))
    .map(([drop, ones]) => shape.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));
}

/** Two (or three) shapes that broadcast together, and their broadcast result. */
export function broadcastPairArb(opts: ShapeOptions = {}) {
  return shapeArb(opts).chain((out) => fc.tuple(broadcastableTo(out), broadcastableTo(out)));
}

export interface ValueOptions {
  min?: number;
  max?: number;
  /** Keep |x| at least this far from each of these points (kinks, poles). */
  awayFrom?: readonly number[];
  gap?: number;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Values drawn on a grid of doubles in [min, max], nudged away from non-differentiable points. */
export function refArb(shape: readonly number[], { min = -3, max = 3, awayFrom = [], gap = 1e-2 }: ValueOptions = {}) {
  return fc
    .array(fc.double({ min, max, noNaN: true, noDefaultInfinity: true }), { minLength: size(shape), maxLength: size(shape) })
    .map((vals) =>
      ref.ref(
        [...shape],
        vals.map((v) => {
          let x = v;
          for (const p of awayFrom) if (Math.abs(x - p) < gap) x = p + (x >= p ? gap : -gap);
          return x;
        }),
      ),
    );
}

export function refsArb(shapes: readonly (readonly number[])[], opts: ValueOptions = {}) {
  return fc.tuple(...shapes.map((s) => refArb(s, opts)));
}

/** Axes for a reduction of a rank-r tensor: undefined (all) or a subset, with keepdim. */
export function axesArb(rank: number) {
  return fc.tuple(
    fc.option(fc.subarray(Array.from({ length: rank }, (_, i) => i), { minLength: Math.min(1, rank) }), { nil: undefined }),
    fc.boolean(),
  );
}

/** Upstream-gradient weights for a gradcheck: a fixed random tensor the scalar loss is Σ out·w. */
export function weightsArb(shape: readonly number[]) {
  return refArb(shape, { min: -1, max: 1 });
}
