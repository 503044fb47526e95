import type { DType, TypedArray } from '@siftjs/tensor';
import { bytesPerElement } from '@siftjs/tensor';

const PAGE = 65536;
const ALIGN = 64;
const MAX_PAGES = 65536; // 4 GiB: the wasm32 address space

/**
 * All CPU tensor storage lives in one WebAssembly.Memory (shared when the platform allows), so WebAssembly
 * kernels on several worker threads can read and write tensors in place — no copy in or out per op.
 *
 * Blocks are 64-byte aligned (SIMD and cache lines) and rounded to size classes; a freed block goes on its class's
 * free list for reuse, so a training loop that allocates the same shapes every step stops growing after step one.
 */
export class CpuHeap {
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  private top = ALIGN; // offset 0 is never handed out
  private readonly freeLists = new Map<number, number[]>();
  bytesInUse = 0;
  peakBytes = 0;
  allocations = 0;

  private readonly maxPages: number;

  constructor(initialBytes = 16 << 20, maxBytes = MAX_PAGES * PAGE) {
    const initial = Math.ceil(initialBytes / PAGE);
    const maximum = Math.min(MAX_PAGES, Math.ceil(maxBytes / PAGE));
    this.maxPages = maximum;
    let memory: WebAssembly.Memory;
    let shared = false;
    try {
      memory = new WebAssembly.Memory({ initial, maximum, shared: true });
      shared = true;
    } catch {
      // No SharedArrayBuffer (a page without cross-origin isolation): single-threaded, same layout.
      memory = new WebAssembly.Memory({ initial, maximum });
    }
    this.memory = memory;
    this.shared = shared;
  }

  get bytesReserved(): number {
    return this.memory.buffer.byteLength;
  }

  /** The size class a request is rounded to: powers of two up to 1 MiB, then multiples of 1/8 of one. */
  static classOf(bytes: number): number {
    const b = Math.max(ALIGN, bytes);
    if (b <= 1 << 20) return 2 ** Math.ceil(Math.log2(b));
    const step = 2 ** Math.floor(Math.log2(b)) / 8;
    return Math.ceil(b / step) * step;
  }

  /** Returns the byte offset of a block of at least `bytes`. Contents are unspecified. */
  alloc(bytes: number): number {
    const size = CpuHeap.classOf(bytes);
    const list = this.freeLists.get(size);
    let offset = list?.pop();
    if (offset === undefined) {
      offset = this.top;
      this.ensure(offset + size, bytes);
      this.top = offset + size;
    }
    this.bytesInUse += size;
    this.allocations++;
    if (this.bytesInUse > this.peakBytes) this.peakBytes = this.bytesInUse;
    return offset;
  }

  /**
   * A block held for the backend's lifetime (kernel scratch): counted in bytesReserved, not in bytesInUse,
   * because no tensor owns it.
   */
  reserve(bytes: number): number {
    const size = CpuHeap.classOf(bytes);
    const offset = this.top;
    this.ensure(offset + size, bytes);
    this.top = offset + size;
    return offset;
  }

  free(offset: number, bytes: number): void {
    const size = CpuHeap.classOf(bytes);
    let list = this.freeLists.get(size);
    if (!list) this.freeLists.set(size, (list = []));
    list.push(offset);
    this.bytesInUse -= size;
    this.allocations--;
  }

  resetPeak(): void {
    this.peakBytes = this.bytesInUse;
  }

  private ensure(end: number, requested: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    // Grow by at least a quarter, so growth (which may move or re-map memory) is rare.
    const want = Math.max(end, have + (have >> 2));
    const pages = Math.min(this.maxPages, Math.ceil(want / PAGE)) - have / PAGE;
    const needed = Math.ceil((end - have) / PAGE);
    try {
      this.memory.grow(Math.max(pages, needed));
    } catch {
      throw new RangeError(
        `CPU backend out of memory: cannot allocate ${requested} bytes (${this.bytesInUse} in use, ${have} reserved, limit ${this.maxPages * PAGE} bytes)`,
      );
    }
  }

  /** A typed-array view of `length` elements at byte `offset`. Take views after allocating: growth may detach. */
  view(dtype: DType, offset: number, length: number): TypedArray {
    const buf = this.memory.buffer as ArrayBuffer;
    switch (dtype) {
      case 'float32':
        return new Float32Array(buf, offset, length);
      case 'float64':
        return new Float64Array(buf, offset, length);
      case 'int32':
        return new Int32Array(buf, offset, length);
      case 'bool':
        return new Uint8Array(buf, offset, length);
    }
  }

  static bytesFor(dtype: DType, size: number): number {
    return size * bytesPerElement(dtype);
  }
}
