/** Reading GPU buffers back to the host through mapped staging buffers. */
import { MapMode, Usage, sizeClass } from './buffer-pool.js';

/**
 * Mapped read-back: the caller has encoded (or will encode) a copy into the staging buffer; `read` maps it and
 * copies the bytes out. Staging buffers are pooled by class too (they are not counted as tensor memory).
 */
export class StagingPool {
  private readonly free = new Map<number, GPUBuffer[]>();

  constructor(private readonly device: GPUDevice) {}

  acquire(bytes: number): GPUBuffer {
    const cls = sizeClass(bytes);
    return this.free.get(cls)?.pop() ?? this.device.createBuffer({ size: cls, usage: Usage.MAP_READ | Usage.COPY_DST, label: 'staging' });
  }

  /** Maps `staging` (after the copy into it was submitted), returns a copy of its first `bytes`, and pools it. */
  async read(staging: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    await staging.mapAsync(MapMode.READ, 0, sizeClass(bytes));
    const out = staging.getMappedRange(0, sizeClass(bytes)).slice(0, bytes);
    staging.unmap();
    const cls = staging.size;
    let list = this.free.get(cls);
    if (!list) this.free.set(cls, (list = []));
    // Keep a few per class: staging is only needed while reading.
    if (list.length < 4) list.push(staging);
    else staging.destroy();
    return out;
  }

  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
  }
}
