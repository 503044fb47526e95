import { type BackendStorage, type DType, type View, bytesPerElement } from '@siftjs/tensor';
import { type Block, CachingAllocator, type DeviceMemory, DeviceOutOfMemory } from './allocator.js';
import { createCublasHandle } from './cublas.js';
import { KernelCompiler } from './compiler.js';
import * as F from './ffi.js';
import { type ArgBlock, createArgBlock } from './arg-block.js';
import { type LoadedLibraries, loadLibraries } from './libraries.js';

/** A device allocation. `size` in elements of `dtype`. */
export class CudaStorage {
  constructor(
    readonly block: Block,
    readonly dtype: DType,
    readonly size: number,
  ) {}
  get ptr(): bigint {
    if (this.block.freed) throw new Error('CUDA backend: storage used after it was freed');
    return this.block.ptr;
  }
}

export interface CudaBackendOptions {
  /** Device ordinal (default 0, or $SIFT_CUDA_DEVICE). */
  device?: number;
  /** float32 matmuls on TF32 tensor cores (faster, ~10 mantissa bits); default false. */
  tf32?: boolean;
}

/**
 * One CUDA device as every kernel (kernels/*.ts) sees it: the bound libraries (koffi, ffi.ts), the primary
 * context, one stream ordering all work, the cuBLAS handle, the kernel compiler, the caching allocator, the
 * native block launches pack their arguments into, and the device error word [code, index, limit] that the
 * indexing kernels write.
 */
export class CudaDevice {
  libs!: LoadedLibraries;
  d!: F.DriverApi;
  stream: unknown = null;
  cublas: unknown = null;
  compiler!: KernelCompiler;
  allocator!: CachingAllocator;
  args!: ArgBlock;
  errWord: Block | null = null;
  deviceName = '';
  arch = '';
  started = false;

  constructor(readonly opts: CudaBackendOptions) {}

  /** Driver and context set-up (the contract's init). */
  start(): void {
    if (this.started) return;
    this.libs = loadLibraries();
    const d = (this.d = this.libs.driver);
    const ordinal = this.opts.device ?? Number(process.env.SIFT_CUDA_DEVICE ?? 0);
    const dev = [0];
    F.checkDriver(d, 'cuDeviceGet', d.cuDeviceGet(dev, ordinal));
    const ctx: [unknown] = [null];
    F.checkDriver(d, 'cuDevicePrimaryCtxRetain', d.cuDevicePrimaryCtxRetain(ctx, dev[0]));
    F.checkDriver(d, 'cuCtxSetCurrent', d.cuCtxSetCurrent(ctx[0]));
    const major = [0];
    const minor = [0];
    F.checkDriver(d, 'cuDeviceGetAttribute', d.cuDeviceGetAttribute(major, F.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev[0]));
    F.checkDriver(d, 'cuDeviceGetAttribute', d.cuDeviceGetAttribute(minor, F.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev[0]));
    this.arch = `${major[0]}${minor[0]}`;
    const name = Buffer.alloc(256);
    F.checkDriver(d, 'cuDeviceGetName', d.cuDeviceGetName(name, 256, dev[0]));
    this.deviceName = name.toString('utf8').replace(/\0.*$/s, '');
    const stream: [unknown] = [null];
    F.checkDriver(d, 'cuStreamCreate', d.cuStreamCreate(stream, F.CU_STREAM_NON_BLOCKING));
    this.stream = stream[0];
    this.cublas = createCublasHandle(this.libs.cublas, this.stream, !!this.opts.tf32);
    this.compiler = new KernelCompiler(d, this.libs.nvrtc, this.arch);
    this.allocator = new CachingAllocator(deviceMemory(d));
    this.args = createArgBlock();
    this.errWord = this.allocator.alloc(16);
    F.checkDriver(d, 'cuMemsetD8Async', d.cuMemsetD8Async(this.errWord.ptr, 0, 16, this.stream));
    this.started = true;
  }

  check(): void {
    if (!this.started) throw new Error("CUDA backend: not started (use await setBackend('cuda'), which runs init())");
  }

  /** A fresh, uninitialised storage (float16 / bfloat16: 2 bytes an element, their 16-bit patterns). */
  make(dtype: DType, size: number): CudaStorage {
    this.check();
    return new CudaStorage(this.allocator.alloc(Math.max(1, size) * bytesPerElement(dtype)), dtype, size);
  }

  /** Zeroes `bytes` bytes at `ptr`, in stream order. */
  zero(ptr: bigint, bytes: number): void {
    F.checkDriver(this.d, 'cuMemsetD8Async', this.d.cuMemsetD8Async(ptr, 0, bytes, this.stream));
  }
}

export function storageOf(s: BackendStorage): CudaStorage {
  return s as CudaStorage;
}

/** Device address of a view's first element. */
export function addressOf(v: View | { storage: BackendStorage; dtype: DType; offset: number }): bigint {
  return storageOf(v.storage).ptr + BigInt(v.offset * bytesPerElement(v.dtype));
}

/** The caching allocator's view of the driver. */
function deviceMemory(d: F.DriverApi): DeviceMemory {
  return {
    malloc: (n) => {
      const p: [number | bigint] = [0];
      const rc = d.cuMemAlloc_v2(p, n);
      if (rc === F.CUDA_ERROR_OUT_OF_MEMORY) throw new DeviceOutOfMemory(n);
      F.checkDriver(d, `cuMemAlloc_v2 (${n} bytes)`, rc);
      return BigInt(p[0]);
    },
    free: (p) => F.checkDriver(d, 'cuMemFree_v2', d.cuMemFree_v2(p)),
    memInfo: () => {
      const free: [number] = [0];
      const total: [number] = [0];
      F.checkDriver(d, 'cuMemGetInfo_v2', d.cuMemGetInfo_v2(free, total));
      return { free: Number(free[0]), total: Number(total[0]) };
    },
  };
}
