import { createHash } from 'node:crypto';
import type { Arg } from '../src/geometry.js';
import type { KernelSource } from '../src/kernels/common.cu.js';

/**
 * A CUDA device that runs nothing: the driver and cuBLAS entry points the backend calls, answering as the real
 * ones do and writing down every launch, copy, memset and GEMM. Device memory is host bytes, so uploads, reads
 * and the host side of topkAbs go through their real code paths. Kernels do not run: their outputs stay as
 * allocated. Pinned host buffers are real native memory (koffi), as the backend reads them through koffi.
 *
 * Used with vi.mock of libraries.js (loadLibraries), compiler.js (KernelCompiler.get returns the KernelSource
 * itself, so a launch knows its source) and geometry.js (packArgs records the typed argument list).
 */

export interface Launch {
  kind: 'launch';
  kernel: KernelSource;
  grid: number;
  block: number;
  args: Arg[];
}

export type Event =
  | Launch
  | { kind: 'memset'; ptr: bigint; value: number; bytes: number }
  | { kind: 'htod'; ptr: bigint; bytes: number; sha: string }
  | { kind: 'dtoh'; ptr: bigint; bytes: number }
  | { kind: 'gemm'; args: unknown[] }
  | { kind: 'malloc'; ptr: bigint; bytes: number }
  | { kind: 'free'; ptr: bigint };

export interface FakeDevice {
  events: Event[];
  /** The arguments packArgs saw last (the launch that follows uses them). */
  pendingArgs: Arg[] | null;
  /** Writes bytes into fake device memory (e.g. a kernel's output the test wants the host to read). */
  poke(ptr: bigint, data: Uint8Array): void;
  libraries: unknown;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Koffi = any;

export function fakeDevice(koffi: Koffi): FakeDevice {
  const memory = new Map<bigint, Uint8Array>();
  let next = 0x7f00_0000_0000n;
  const find = (p: bigint): { mem: Uint8Array; at: number } => {
    for (const [base, mem] of memory) if (p >= base && p < base + BigInt(mem.length)) return { mem, at: Number(p - base) };
    throw new Error(`fake device: address 0x${p.toString(16)} is not allocated`);
  };
  const ok = 0;
  const fake: FakeDevice = {
    events: [],
    pendingArgs: null,
    poke(p, data) {
      const { mem, at } = find(p);
      mem.set(data, at);
    },
    libraries: null,
  };
  const ev = fake.events;
  const driver = {
    cuGetErrorName: () => ok,
    cuGetErrorString: () => ok,
    cuDeviceGet: (out: number[]) => ((out[0] = 0), ok),
    cuDevicePrimaryCtxRetain: (out: unknown[]) => ((out[0] = { ctx: 0 }), ok),
    cuCtxSetCurrent: () => ok,
    cuDeviceGetAttribute: (out: number[], attr: number) => ((out[0] = attr === 75 ? 9 : 0), ok),
    cuDeviceGetName: (buf: Buffer) => (buf.write('Fake H100\0'), ok),
    cuStreamCreate: (out: unknown[]) => ((out[0] = { stream: 0 }), ok),
    cuMemAlloc_v2: (out: bigint[], n: number) => {
      const p = next;
      next += BigInt(Math.ceil(n / 4096) * 4096 + 4096);
      memory.set(p, new Uint8Array(n));
      out[0] = p;
      ev.push({ kind: 'malloc', ptr: p, bytes: n });
      return ok;
    },
    cuMemFree_v2: (p: bigint) => {
      memory.delete(p);
      ev.push({ kind: 'free', ptr: p });
      return ok;
    },
    cuMemGetInfo_v2: (free: number[], total: number[]) => ((free[0] = 1 << 30), (total[0] = 1 << 30), ok),
    cuMemsetD8Async: (p: bigint, value: number, n: number) => {
      const { mem, at } = find(p);
      mem.fill(value, at, at + n);
      ev.push({ kind: 'memset', ptr: p, value, bytes: n });
      return ok;
    },
    cuMemHostAlloc: (out: unknown[], n: number) => ((out[0] = koffi.alloc('uint8_t', n)), ok),
    cuMemFreeHost: (h: unknown) => (koffi.free(h), ok),
    cuMemcpyHtoDAsync_v2: (p: bigint, host: unknown, n: number) => {
      const data = new Uint8Array(koffi.view(host, n)).slice();
      const { mem, at } = find(p);
      mem.set(data, at);
      ev.push({ kind: 'htod', ptr: p, bytes: n, sha: createHash('sha256').update(data).digest('hex').slice(0, 16) });
      return ok;
    },
    cuMemcpyDtoHAsync_v2: (host: unknown, p: bigint, n: number) => {
      const { mem, at } = find(p);
      new Uint8Array(koffi.view(host, n)).set(mem.subarray(at, at + n));
      ev.push({ kind: 'dtoh', ptr: p, bytes: n });
      return ok;
    },
    cuStreamSynchronize: () => ok,
    cuEventCreate: (out: unknown[]) => ((out[0] = { event: 0 }), ok),
    cuEventRecord: () => ok,
    cuEventQuery: () => ok,
    cuEventDestroy_v2: () => ok,
    cuLaunchKernel: (fn: KernelSource, gx: number, gy: number, gz: number, bx: number, by: number, bz: number) => {
      if (gy !== 1 || gz !== 1 || by !== 1 || bz !== 1) throw new Error(`fake device: ${fn.name} launched with a 2-D/3-D grid or block`);
      if (!fake.pendingArgs) throw new Error(`fake device: ${fn.name} launched without packed arguments`);
      ev.push({ kind: 'launch', kernel: fn, grid: gx, block: bx, args: fake.pendingArgs });
      fake.pendingArgs = null;
      return ok;
    },
  };
  const cublas = {
    cublasCreate_v2: (out: unknown[]) => ((out[0] = { cublas: 0 }), ok),
    cublasSetStream_v2: () => ok,
    cublasSetMathMode: () => ok,
    cublasGemmStridedBatchedEx: (...args: unknown[]) => {
      ev.push({ kind: 'gemm', args: args.slice(1).map((a) => (ArrayBuffer.isView(a) ? Array.from(a as Float64Array) : a)) });
      return ok;
    },
  };
  fake.libraries = { driver, nvrtc: {}, cublas, paths: { driver: null, nvrtc: null, cublas: null, cublasLt: null }, devices: 1, driverVersion: 13000 };
  return fake;
}
