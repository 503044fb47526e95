import type { SIFT } from './sift.js';

/** Sorted flat indices and the increments δ there: P[idx] = P₀[idx] + δ. */
export interface SparseEntry {
  shape: number[];
  indices: Int32Array;
  values: Float32Array;
}

/** A densely trained tensor (a classifier head), stored whole: it replaces the base's (or is new). */
export interface DenseEntry {
  shape: number[];
  values: Float32Array;
}

export interface DeltaMetadata {
  density: number;
  targets: string[];
  dense: string[];
  selection: string;
  /** SHA-256 over each sparse tensor's name, shape, indices and base values there: identifies the base. */
  fingerprint: string;
  /** The same digest per tensor (16 hex digits), to name the tensor where a different base differs. */
  tensorFingerprints: Record<string, string>;
}

/**
 * A fine-tune as a sparse delta: per sparse tensor its increments at sorted indices, per dense tensor its values,
 * and what made it. Small (k values + k indices per tensor) and applicable to any copy of the base.
 */
export interface SparseDelta {
  sparse: Record<string, SparseEntry>;
  dense: Record<string, DenseEntry>;
  metadata: DeltaMetadata;
}

async function sha256Hex(chunks: Uint8Array[]): Promise<string> {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', all));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

const bytesOf = (a: Int32Array | Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** What one tensor's fingerprint digests: its name, shape, indices and float32 base values at them. */
export function tensorFingerprintBytes(name: string, shape: readonly number[], indices: Int32Array, baseValues: Float32Array): Uint8Array[] {
  return [new TextEncoder().encode(`${name}\u0000${shape.join('x')}\u0000`), bytesOf(indices), bytesOf(baseValues)];
}

/** What the whole base's fingerprint digests: the per-tensor digests in name order. */
export function combinedFingerprintBytes(perTensor: Record<string, string>): Uint8Array[] {
  const text = Object.keys(perTensor)
    .sort()
    .map((n) => `${n}:${perTensor[n]}`)
    .join('\n');
  return [new TextEncoder().encode(text)];
}

/** The digest of one tensor's base (SHA-256 of `tensorFingerprintBytes`, hex). */
export function tensorFingerprint(name: string, shape: readonly number[], indices: Int32Array, baseValues: Float32Array): Promise<string> {
  return sha256Hex(tensorFingerprintBytes(name, shape, indices, baseValues));
}

/** The whole base's digest, over the per-tensor digests in name order. */
export function combineFingerprints(perTensor: Record<string, string>): Promise<string> {
  return sha256Hex(combinedFingerprintBytes(perTensor));
}

/** The fine-tune held by `sift` now, as a delta (reads the sparse state and the dense parameters back). */
export async function extractDelta(sift: SIFT): Promise<SparseDelta> {
  const sparse: Record<string, SparseEntry> = {};
  const full: Record<string, string> = {};
  for (const s of sift.sparse) {
    const { indices, base, delta } = s;
    if (!indices || !base || !delta) continue; // never chosen (no gradient yet): nothing changed
    const [idx, baseValues, values] = [await indices.toArray(), await base.toArray(), await delta.toArray()];
    // Training keeps the indices in the order chosen; files hold them ascending.
    const order = Array.from(idx.keys()).sort((a, b) => idx[a] - idx[b]);
    sparse[s.name] = { shape: [...s.param.shape], indices: Int32Array.from(order, (j) => idx[j]), values: Float32Array.from(order, (j) => values[j]) };
    full[s.name] = await tensorFingerprint(s.name, s.param.shape, sparse[s.name].indices, Float32Array.from(order, (j) => baseValues[j]));
  }
  const dense: Record<string, DenseEntry> = {};
  for (const d of sift.denseParams) dense[d.name] = { shape: [...d.param.shape], values: Float32Array.from(await d.param.toArray()) };
  const o = sift.options;
  return {
    sparse,
    dense,
    metadata: {
      density: o.density,
      targets: [...o.targets],
      dense: [...(o.dense ?? [])],
      selection: sift.describe().selection,
      fingerprint: await combineFingerprints(full),
      tensorFingerprints: Object.fromEntries(Object.entries(full).map(([n, f]) => [n, f.slice(0, 16)])),
    },
  };
}
