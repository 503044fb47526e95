/**
 * Out-of-range indices. On the CPU an index is checked before it is used and the op throws at once; on the GPU
 * the indices are not on the host, so indexing kernels skip a bad index and record the first one in a 16-byte
 * word [code, index, limit] (`INDEX_ERROR`, the WGSL side, below). The next read or sync copies the word back, clears it, and throws
 * the CPU's RangeError — later than the CPU, at the first point where the program waits for the GPU anyway.
 */
import { MapMode, Usage } from '../memory/buffer-pool.js';
import type { Encoder } from './encoder.js';

/** Error codes of the kernels that check indices, reported with the CPU backend's op names. */
export const IndexOp = { gatherRows: 1, scatterAddRows: 2, gatherFlat: 3, scatterFlat: 4, adamwIncrement: 5 } as const;
const INDEX_OP_NAMES: Record<number, string> = { 1: 'embedding', 2: 'embedding backward', 3: 'gatherFlat', 4: 'scatterFlat', 5: 'adamwIncrement' };

/** The error word [code, index, limit] at `binding`, and report_index() to record the first bad index. */
export function INDEX_ERROR(binding: number): string {
  return `@group(0) @binding(${binding}) var<storage, read_write> index_error: array<atomic<u32>, 4>;
fn report_index(code: u32, index: i32, limit: u32) {
    // Weak CAS may fail spuriously: retry until some code is in place.
    loop {
        let r = atomicCompareExchangeWeak(&index_error[0], 0u, code);
        if (r.exchanged) {
            atomicStore(&index_error[1], bitcast<u32>(index));
            atomicStore(&index_error[2], limit);
            break;
        }
        if (r.old_value != 0u) { break; }
    }
}`;
}

export class IndexErrors {
  readonly buffer: GPUBuffer;
  private readonly staging: GPUBuffer;
  /** Whether an indexing kernel was recorded since the word was last read. */
  private pending = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(device: GPUDevice) {
    // New buffers are zero-filled.
    this.buffer = device.createBuffer({ size: 16, usage: Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST, label: 'index error word' });
    this.staging = device.createBuffer({ size: 16, usage: Usage.MAP_READ | Usage.COPY_DST, label: 'index error staging' });
  }

  /** The word's buffer, for a kernel about to be recorded. */
  use(): GPUBuffer {
    this.pending = true;
    return this.buffer;
  }

  /** Throws the first out-of-range index recorded since the last check (then clears it). */
  check(encoder: Encoder): Promise<void> {
    // One check at a time: concurrent reads must not map the staging buffer twice.
    const run = this.chain.then(() => this.checkNow(encoder));
    this.chain = run.catch(() => {});
    return run;
  }

  private async checkNow(encoder: Encoder): Promise<void> {
    if (!this.pending) return;
    this.pending = false;
    encoder.copy(this.buffer, 0, this.staging, 0, 16);
    encoder.clear(this.buffer, 16);
    encoder.flush();
    await this.staging.mapAsync(MapMode.READ, 0, 16);
    const [code, index, limit] = new Int32Array(this.staging.getMappedRange(0, 16).slice(0));
    this.staging.unmap();
    if (code !== 0) {
      throw new RangeError(`${INDEX_OP_NAMES[code] ?? 'index'}: index ${index} is out of range for ${limit >>> 0} elements (found on the GPU; reported at the next read)`);
    }
  }

  destroy(): void {
    this.buffer.destroy();
    this.staging.destroy();
  }
}
