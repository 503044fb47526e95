/**
 * Batched command encoding. Kernels are recorded into one open command encoder (one compute pass while
 * consecutive dispatches allow it) and submitted together: on `flush()`, when the batch is full, and before
 * anything that must see the queue in order (a `writeBuffer`, a read, destroying a buffer).
 *
 * Kernel parameters (shapes, strides, offsets) go into one uniform arena per batch, written with a single
 * `writeBuffer` just before the batch is submitted. Queue operations run in order, so the arena buffer can be
 * rewritten for the next batch right away.
 *
 * Errors: every kernel's pipeline creation and every submit run inside error scopes labelled with the op and
 * its shapes; the first error is kept and thrown by the next `read` (the only place that waits).
 */
import { WebGpuError } from '../errors.js';
import { Usage } from '../memory/buffer-pool.js';

export interface Binding {
  buffer: GPUBuffer;
}

const ARENA_BYTES = 1 << 16;
const MAX_DISPATCHES = 256;

export class Encoder {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly arena: Uint8Array<ArrayBuffer>;
  private arenaUsed = 0;
  private readonly uniform: GPUBuffer;
  private readonly align: number;
  private dispatches = 0;
  private labels: string[] = [];
  private readonly pendingScopes = new Set<Promise<void>>();
  private firstError: WebGpuError | null = null;
  lostReason: string | null = null;
  /** Submits so far (a training step should be a handful). */
  submits = 0;

  constructor(private readonly device: GPUDevice) {
    this.align = Math.max(16, device.limits.minUniformBufferOffsetAlignment);
    const size = ARENA_BYTES;
    this.arena = new Uint8Array(size);
    this.uniform = device.createBuffer({ size, usage: Usage.UNIFORM | Usage.COPY_DST, label: 'kernel params' });
    device.lost.then((info) => {
      this.lostReason = `${info.reason ?? 'unknown'}: ${info.message}`;
    });
  }

  /** Throws when the device is gone (every op checks before it encodes). */
  checkAlive(op: string): void {
    if (this.lostReason !== null) throw new WebGpuError(`webgpu ${op}: the device was lost (${this.lostReason})`);
  }

  /** Runs `fn` inside validation and out-of-memory error scopes; an error is recorded with `label`. */
  scoped<T>(label: string, fn: () => T): T {
    const d = this.device;
    d.pushErrorScope('out-of-memory');
    d.pushErrorScope('validation');
    let out: T;
    try {
      out = fn();
    } finally {
      const v = d.popErrorScope();
      const m = d.popErrorScope();
      const p: Promise<void> = Promise.all([v, m]).then(
          ([ve, me]) => {
            const e = ve ?? me;
            if (e && !this.firstError) {
              const kind = me && !ve ? 'out of GPU memory' : 'error';
              this.firstError = new WebGpuError(`webgpu ${label}: ${kind}: ${e.message.trim()}`);
            }
          },
          () => {},
        )
        .finally(() => this.pendingScopes.delete(p));
      this.pendingScopes.add(p);
    }
    return out;
  }

  private ensureEncoder(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder({ label: 'siftjs batch' }));
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  /** Records one dispatch. `params` (32-bit words) become binding 0 as a uniform; `buffers` follow from 1. */
  dispatch(label: string, pipeline: GPUComputePipeline, params: Uint32Array, buffers: GPUBuffer[], groups: [number, number, number]): void {
    const bytes = Math.max(16, Math.ceil(params.byteLength / 16) * 16);
    if (this.arenaUsed + bytes > this.arena.byteLength || this.dispatches >= MAX_DISPATCHES) this.flush();
    const at = this.arenaUsed;
    this.arena.set(new Uint8Array(params.buffer, params.byteOffset, params.byteLength), at);
    this.arenaUsed = Math.ceil((at + bytes) / this.align) * this.align;
    this.dispatches++;
    this.labels.push(label);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.uniform, offset: at, size: bytes } }];
    buffers.forEach((buffer, i) => entries.push({ binding: i + 1, resource: { buffer } }));
    const group = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const enc = this.ensureEncoder();
    this.pass ??= enc.beginComputePass();
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, group);
    this.pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
  }

  clear(buffer: GPUBuffer, bytes: number): void {
    this.endPass();
    this.ensureEncoder().clearBuffer(buffer, 0, Math.ceil(bytes / 4) * 4);
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.endPass();
    this.ensureEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /** Submits everything recorded. */
  flush(): void {
    if (!this.encoder) return;
    this.endPass();
    const enc = this.encoder;
    this.encoder = null;
    const labels = this.labels;
    this.labels = [];
    const used = this.arenaUsed;
    this.arenaUsed = 0;
    this.dispatches = 0;
    const what = labels.length ? `batch of ${labels.length} kernels (${summarize(labels)})` : 'copy batch';
    this.scoped(what, () => {
      if (used > 0) this.device.queue.writeBuffer(this.uniform, 0, this.arena, 0, used);
      this.device.queue.submit([enc.finish()]);
    });
    this.submits++;
  }

  /** Waits for every error scope opened so far; throws the first error recorded (once). */
  async check(): Promise<void> {
    while (this.pendingScopes.size) await Promise.all([...this.pendingScopes]);
    if (this.firstError) {
      const e = this.firstError;
      this.firstError = null;
      throw e;
    }
    if (this.lostReason !== null) throw new WebGpuError(`webgpu: the device was lost (${this.lostReason})`);
  }
}

function summarize(labels: string[]): string {
  if (labels.length <= 3) return labels.join('; ');
  return `${labels.slice(0, 2).join('; ')}; … ${labels[labels.length - 1]}`;
}
