import type { Module } from '@siftjs/nn';
import { fmtShape, keep, noGrad, scatterFlatInto, scope, type Tensor, tensor } from '@siftjs/tensor';
import { combineFingerprints, type SparseDelta, tensorFingerprint } from './delta.js';

export interface ApplyOptions {
  /** Multiplies the increments (and interpolates dense tensors: P + scale·(V − P)); 1 reproduces the fine-tune. */
  scale?: number;
  /**
   * Check that the model is the delta's base (its values at the delta's indices hash to the fingerprint); false
   * applies a delta to a model that differs there (a second delta over the same components, on purpose).
   */
  verifyBase?: boolean;
}

/** What applying changed, so that `removeDelta` can restore it exactly. */
export interface AppliedDelta {
  entries: { param: Tensor; indices: Tensor | null; original: Tensor; written: Tensor }[];
}

/** A delta that does not fit the model or checkpoint it is applied to: another architecture, or another base. */
export class DeltaError extends Error {
  override name = 'DeltaError';
}

function parameters(model: Module): Map<string, Tensor> {
  return new Map(model.namedParameters());
}

function find(params: Map<string, Tensor>, name: string, shape: readonly number[]): Tensor {
  const p = params.get(name);
  if (!p) throw new DeltaError(`sparse delta: the model has no parameter '${name}'`);
  if (p.size !== shape.reduce((a, b) => a * b, 1) || p.shape.length !== shape.length || p.shape.some((d, i) => d !== shape[i])) {
    throw new DeltaError(`sparse delta: '${name}' is ${fmtShape(shape)} in the delta but ${fmtShape(p.shape)} in the model; the delta was made from another model`);
  }
  return p;
}

/** Checks, before anything is written, that the model holds the base the delta was made from. */
async function verify(params: Map<string, Tensor>, delta: SparseDelta): Promise<void> {
  const perTensor: Record<string, string> = {};
  for (const [name, e] of Object.entries(delta.sparse)) {
    const p = find(params, name, e.shape);
    const at = noGrad(() => scope(() => p.detach().gatherFlat(tensor(e.indices, { dtype: 'int32' }))));
    const values = Float32Array.from(await at.toArray());
    at.dispose();
    perTensor[name] = await tensorFingerprint(name, e.shape, e.indices, values);
    const expected = delta.metadata.tensorFingerprints[name];
    if (expected !== undefined && perTensor[name].slice(0, 16) !== expected) {
      throw new DeltaError(`sparse delta: '${name}' differs from the base the delta was made from (fingerprint ${perTensor[name].slice(0, 16)}, expected ${expected})`);
    }
  }
  if (delta.metadata.fingerprint && (await combineFingerprints(perTensor)) !== delta.metadata.fingerprint) {
    throw new DeltaError('sparse delta: the model is not the base the delta was made from (fingerprint mismatch)');
  }
}

/**
 * Adds a delta to a model in place: P[idx] ← P[idx] + scale·δ on the device (the same float32 addition training
 * did, so scale 1 on the base reproduces the fine-tuned weights bit for bit), dense tensors set to their values.
 * Several deltas compose by applying one after the other (the second with `verifyBase: false` where they overlap).
 */
export async function applyDelta(model: Module, delta: SparseDelta, { scale = 1, verifyBase = true }: ApplyOptions = {}): Promise<AppliedDelta> {
  const params = parameters(model);
  for (const [name, e] of Object.entries(delta.sparse)) find(params, name, e.shape);
  for (const [name, e] of Object.entries(delta.dense)) find(params, name, e.shape);
  if (verifyBase) await verify(params, delta);
  const applied: AppliedDelta = { entries: [] };
  noGrad(() => {
    for (const [name, e] of Object.entries(delta.sparse)) {
      const p = params.get(name) as Tensor;
      scope(() => {
        const indices = tensor(e.indices, { dtype: 'int32' });
        const original = p.detach().gatherFlat(indices);
        const inc = tensor(e.values).cast(p.dtype);
        const written = original.add(scale === 1 ? inc : inc.mul(scale));
        scatterFlatInto(p, indices, written);
        applied.entries.push({ param: p, indices: keep(indices), original: keep(original), written: keep(written) });
      });
    }
    for (const [name, e] of Object.entries(delta.dense)) {
      const p = params.get(name) as Tensor;
      scope(() => {
        const original = p.detach().clone();
        const target = tensor(e.values, { shape: e.shape }).cast(p.dtype);
        const written = scale === 1 ? target : original.add(target.sub(original).mul(scale));
        p.copy_(written);
        applied.entries.push({ param: p, indices: null, original: keep(original), written: keep(written.clone()) });
      });
    }
  });
  return applied;
}

/**
 * Undoes `applyDelta`: where a weight still holds what applying wrote, its original value returns exactly;
 * where something changed it since (another delta on the same components), the applied change is subtracted.
 * Undo composed deltas in reverse order for exact restoration everywhere.
 */
export function removeDelta(applied: AppliedDelta): void {
  noGrad(() => {
    for (const { param, indices, original, written } of [...applied.entries].reverse()) {
      scope(() => {
        const now = indices ? param.detach().gatherFlat(indices) : param.detach();
        const restored = original.where(now.eq(written), now.sub(written.sub(original)));
        if (indices) scatterFlatInto(param, indices, restored);
        else param.copy_(restored);
      });
      for (const t of [indices, original, written]) t?.dispose();
    }
    applied.entries.length = 0;
  });
}
