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
 * When the memory cannot grow any more, free blocks that touch are merged and cut again (see `coalesce`): one
 * model trained after another leaves freed blocks of sizes the new shapes never ask for.
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
    if (offset === undefined) offset = this.fromTop(size, bytes);
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
    this.file(offset, size);
    this.bytesInUse -= size;
    this.allocations--;
  }

  /** Bytes on the free lists (freed, kept for reuse). */
  get bytesFree(): number {
    let total = 0;
    for (const [size, list] of this.freeLists) total += size * list.length;
    return total;
  }

  private file(offset: number, size: number): void {
    let list = this.freeLists.get(size);
    if (!list) this.freeLists.set(size, (list = []));
    list.push(offset);
  }

  /** A new block of class `size` past the top; where the memory cannot grow, one carved from merged free blocks. */
  private fromTop(size: number, requested: number): number {
    if (this.top + size > this.maxPages * PAGE || !this.tryEnsure(this.top + size)) {
      const merged = this.coalesce(size);
      if (merged !== undefined) return merged;
    }
    const offset = this.top;
    this.ensure(offset + size, requested);
    this.top = offset + size;
    return offset;
  }

  private tryEnsure(end: number): boolean {
    try {
      this.ensure(end, end);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Merges every run of touching free blocks, hands a run that ends at the top back to it, and takes a block of
   * `size` from the first run that holds one; what is left of the runs is filed again as size-class blocks.
   * Returns the block's offset, or undefined (the caller then tries the lowered top).
   */
  private coalesce(size: number): number | undefined {
    const blocks: [number, number][] = [];
    for (const [s, list] of this.freeLists) for (const o of list) blocks.push([o, s]);
    this.freeLists.clear();
    blocks.sort((a, b) => a[0] - b[0]);
    const runs: [number, number][] = [];
    for (const [o, s] of blocks) {
      const last = runs[runs.length - 1];
      if (last && last[0] + last[1] === o) last[1] += s;
      else runs.push([o, s]);
    }
    const tail = runs[runs.length - 1];
    if (tail && tail[0] + tail[1] === this.top) {
      this.top = tail[0];
      runs.pop();
    }
    let taken: number | undefined;
    for (const run of runs) {
      let [o, len] = run;
      if (taken === undefined && len >= size) {
        taken = o;
        o += size;
        len -= size;
      }
      // Every length here is a multiple of 64, so it splits exactly into size classes.
      while (len > 0) {
        const piece = CpuHeap.largestClassAtMost(len);
        this.file(o, piece);
        o += piece;
        len -= piece;
      }
    }
    return taken;
  }

  /** The largest size class not above `bytes` (a multiple of 64). */
  static largestClassAtMost(bytes: number): number {
    const m = Math.floor(Math.log2(bytes));
    if (bytes <= 1 << 20) return 2 ** m;
    const step = 2 ** m / 8;
    return Math.floor(bytes / step) * step;
  }

  resetPeak(): void {
    this.peakBytes = this.bytesInUse;
  }

  private ensure(end: number, requested: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    if (end > this.maxPages * PAGE) throw this.outOfMemory(requested);
    // Grow by at least a quarter, so growth (which may move or re-map memory) is rare.
    const want = Math.max(end, have + Math.floor(have / 4)); // not `>> 2`: past 2 GiB it goes negative
    const pages = Math.min(this.maxPages, Math.ceil(want / PAGE)) - have / PAGE;
    const needed = Math.ceil((end - have) / PAGE);
    try {
      this.memory.grow(Math.max(pages, needed));
    } catch {
      throw this.outOfMemory(requested);
    }
  }

  private outOfMemory(requested: number): RangeError {
    return new RangeError(
      `CPU backend out of memory: cannot allocate ${requested} bytes (${this.bytesInUse} in use, ${this.bytesFree} free in blocks too small, ${this.memory.buffer.byteLength} reserved, limit ${this.maxPages * PAGE} bytes)`,
    );
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
      case 'float16':
      case 'bfloat16':
        return new Uint16Array(buf, offset, length);
    }
  }

  static bytesFor(dtype: DType, size: number): number {
    return size * bytesPerElement(dtype);
  }
}
