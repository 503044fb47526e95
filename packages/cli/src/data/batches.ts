import { permutation } from './split.js';

/** A tokenized example: token ids and, for classification, its class id. */
export interface EncodedExample {
  ids: ArrayLike<number>;
  label?: number;
  /** Instruction data: 1 on the tokens the loss is computed on (the response), 0 on the prompt. */
  targetMask?: ArrayLike<number>;
}

export interface MakeBatchesOptions {
  batchSize: number;
  /** Longer sequences keep their first maxLength tokens. */
  maxLength?: number;
  padId: number;
  /**
   * Put examples of similar length together so less of each batch is padding: the (shuffled) examples are cut
   * into chunks of `bucketBatches` batches, each chunk is sorted by length and cut into batches, and the batch
   * order is then shuffled by the seed so lengths do not follow a pattern across steps.
   */
  bucketByLength?: boolean;
  /** Batches per sorting chunk when bucketing. Default 8. */
  bucketBatches?: number;
  /** Shuffles examples (and batch order) when given; pass a new one each epoch (e.g. seed + epoch). Without it the input order is kept (evaluation). */
  seed?: number | bigint;
  /** Drop a final batch smaller than batchSize. Default false. */
  dropLast?: boolean;
}

/** One padded batch, row-major [rows, width] in plain typed arrays (turned into tensors by the trainer). */
export interface TokenBatch {
  /** [rows, width]: rows ≤ batchSize, width = the longest row after truncation. */
  shape: [rows: number, width: number];
  /** int32 [rows × width], padded on the right with padId. */
  inputIds: Int32Array;
  /** int32 [rows × width]: 1 on tokens, 0 on padding. */
  attentionMask: Int32Array;
  /** int32 [rows] class ids, or null when the examples have no labels. */
  labels: Int32Array | null;
  /** Which input example each row holds. */
  indices: number[];
  /** int32 [rows × width]: 1 on the tokens the loss is computed on (instruction data), 0 elsewhere; null when every real token is. */
  targetMask: Int32Array | null;
}

const BATCH_STREAM = 2 << 20;
const BATCH_ORDER_STREAM = 3 << 20;

export function makeBatches(encoded: readonly EncodedExample[], opts: MakeBatchesOptions): TokenBatch[] {
  const { batchSize, maxLength = Infinity, padId, bucketByLength = false, bucketBatches = 8, seed, dropLast = false } = opts;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`makeBatches: batchSize must be a positive integer, got ${batchSize}`);
  if (maxLength !== Infinity && (!Number.isInteger(maxLength) || maxLength < 1)) throw new RangeError(`makeBatches: maxLength must be a positive integer, got ${maxLength}`);
  if (!Number.isInteger(bucketBatches) || bucketBatches < 1) throw new RangeError(`makeBatches: bucketBatches must be a positive integer, got ${bucketBatches}`);
  if (!Number.isInteger(padId)) throw new RangeError(`makeBatches: padId must be an integer, got ${padId}`);
  const labelled = encoded.filter((e) => e.label !== undefined).length;
  if (labelled !== 0 && labelled !== encoded.length) throw new RangeError(`makeBatches: ${encoded.length - labelled} of ${encoded.length} examples have no label`);

  const n = encoded.length;
  const len = (i: number) => Math.min(encoded[i].ids.length, maxLength);
  const order = seed === undefined ? Array.from({ length: n }, (_, i) => i) : permutation(n, seed, BATCH_STREAM);
  if (bucketByLength) {
    const chunk = batchSize * bucketBatches;
    for (let s = 0; s < n; s += chunk) {
      // Stable sort, so equal lengths keep their shuffled order.
      const sorted = order.slice(s, s + chunk).sort((a, b) => len(a) - len(b));
      for (let j = 0; j < sorted.length; j++) order[s + j] = sorted[j];
    }
  }
  let groups: number[][] = [];
  for (let s = 0; s < n; s += batchSize) groups.push(order.slice(s, s + batchSize));
  if (dropLast && groups.length > 0 && groups[groups.length - 1].length < batchSize) groups.pop();
  if (bucketByLength && seed !== undefined) {
    const p = permutation(groups.length, seed, BATCH_ORDER_STREAM);
    groups = p.map((i) => groups[i]);
  }
  return groups.map((rows) => pad(encoded, rows, maxLength, padId, labelled > 0));
}

function pad(encoded: readonly EncodedExample[], rows: number[], maxLength: number, padId: number, labelled: boolean): TokenBatch {
  const width = Math.max(0, ...rows.map((i) => Math.min(encoded[i].ids.length, maxLength)));
  const inputIds = new Int32Array(rows.length * width).fill(padId);
  const attentionMask = new Int32Array(rows.length * width);
  rows.forEach((i, r) => {
    const ids = encoded[i].ids;
    const l = Math.min(ids.length, maxLength);
    for (let t = 0; t < l; t++) inputIds[r * width + t] = ids[t];
    attentionMask.fill(1, r * width, r * width + l);
  });
  const labels = labelled ? Int32Array.from(rows, (i) => encoded[i].label as number) : null;
  let targetMask: Int32Array | null = null;
  if (rows.some((i) => encoded[i].targetMask)) {
    targetMask = new Int32Array(rows.length * width);
    rows.forEach((i, r) => {
      const { ids, targetMask: m } = encoded[i];
      const l = Math.min(ids.length, maxLength);
      for (let t = 0; t < l; t++) targetMask![r * width + t] = m ? m[t] : 1;
    });
  }
  return { shape: [rows.length, width], inputIds, attentionMask, labels, indices: rows, targetMask };
}
