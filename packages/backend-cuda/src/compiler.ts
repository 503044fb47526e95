import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type DriverApi, type NvrtcApi, checkDriver, checkNvrtc } from './ffi.js';
import type { KernelSource } from './kernels/common.cu.js';

/**
 * Kernel source → loaded CUfunction: NVRTC compiles for the device's architecture (a CUBIN where NVRTC can
 * make one, else PTX for the driver to JIT), cached in memory and on disk by a hash of source, options and
 * architecture ($SIFT_CUDA_CACHE, default ~/.cache/siftjs/cuda; SIFT_CUDA_CACHE=off disables the disk).
 */

export function nvrtcOptions(k: KernelSource, arch: string, image: 'cubin' | 'ptx'): string[] {
  return [`--gpu-architecture=${image === 'cubin' ? 'sm' : 'compute'}_${arch}`, '--std=c++17', ...k.options];
}

export function cacheKey(k: KernelSource, arch: string): string {
  return createHash('sha256').update(`${arch}\0${k.options.join(' ')}\0${k.source}`).digest('hex').slice(0, 32);
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const v = env.SIFT_CUDA_CACHE;
  if (v === 'off' || v === '0') return null;
  if (v) return v;
  try {
    return join(homedir(), '.cache', 'siftjs', 'cuda');
  } catch {
    return null;
  }
}

export class KernelCompiler {
  private readonly functions = new Map<string, unknown>();
  private readonly modules: unknown[] = [];

  constructor(
    private readonly driver: DriverApi,
    private readonly nvrtc: NvrtcApi,
    /** Compute capability as digits, e.g. '90'. */
    readonly arch: string,
    private readonly dir: string | null = cacheDir(),
  ) {}

  /** The CUfunction of a kernel, compiling and loading it on first use. */
  get(k: KernelSource): unknown {
    const key = cacheKey(k, this.arch);
    const hit = this.functions.get(key);
    if (hit) return hit;
    const image = this.readDisk(key) ?? this.compile(k, key);
    const mod: [unknown] = [null];
    checkDriver(this.driver, `cuModuleLoadData (${k.name})`, this.driver.cuModuleLoadData(mod, image));
    this.modules.push(mod[0]);
    const fn: [unknown] = [null];
    checkDriver(this.driver, `cuModuleGetFunction (${k.name})`, this.driver.cuModuleGetFunction(fn, mod[0], k.name));
    this.functions.set(key, fn[0]);
    return fn[0];
  }

  get size(): number {
    return this.functions.size;
  }

  private compile(k: KernelSource, key: string): Buffer {
    const n = this.nvrtc;
    const prog: [unknown] = [null];
    checkNvrtc('nvrtcCreateProgram', n.nvrtcCreateProgram(prog, k.source, `${k.name}.cu`, 0, null, null));
    try {
      let image: 'cubin' | 'ptx' = 'cubin';
      const opts = nvrtcOptions(k, this.arch, image);
      const rc = n.nvrtcCompileProgram(prog[0], opts.length, opts);
      if (rc !== 0) checkNvrtc(`nvrtcCompileProgram (${k.name}, ${opts.join(' ')})`, rc, this.log(prog[0]));
      const size = [0];
      let data: Buffer;
      try {
        checkNvrtc('nvrtcGetCUBINSize', n.nvrtcGetCUBINSize(prog[0], size));
        data = Buffer.alloc(Number(size[0]));
        checkNvrtc('nvrtcGetCUBIN', n.nvrtcGetCUBIN(prog[0], data));
        if (data.length === 0) throw new Error('empty CUBIN');
      } catch {
        // An NVRTC without CUBIN output: compile again for the virtual architecture and hand the driver PTX.
        image = 'ptx';
        const ptxOpts = nvrtcOptions(k, this.arch, image);
        n.nvrtcDestroyProgram(prog);
        checkNvrtc('nvrtcCreateProgram', n.nvrtcCreateProgram(prog, k.source, `${k.name}.cu`, 0, null, null));
        const rc2 = n.nvrtcCompileProgram(prog[0], ptxOpts.length, ptxOpts);
        if (rc2 !== 0) checkNvrtc(`nvrtcCompileProgram (${k.name}, ${ptxOpts.join(' ')})`, rc2, this.log(prog[0]));
        checkNvrtc('nvrtcGetPTXSize', n.nvrtcGetPTXSize(prog[0], size));
        data = Buffer.alloc(Number(size[0]));
        checkNvrtc('nvrtcGetPTX', n.nvrtcGetPTX(prog[0], data));
      }
      this.writeDisk(key, data);
      return data;
    } finally {
      if (prog[0]) n.nvrtcDestroyProgram(prog);
    }
  }

  private log(prog: unknown): string {
    const size = [0];
    if (this.nvrtc.nvrtcGetProgramLogSize(prog, size) !== 0) return '';
    const buf = Buffer.alloc(Number(size[0]));
    this.nvrtc.nvrtcGetProgramLog(prog, buf);
    return buf.toString('utf8').replace(/\0+$/, '');
  }

  private readDisk(key: string): Buffer | null {
    if (!this.dir) return null;
    try {
      return readFileSync(join(this.dir, `${key}-sm${this.arch}.bin`));
    } catch {
      return null;
    }
  }

  private writeDisk(key: string, data: Buffer): void {
    if (!this.dir) return;
    try {
      mkdirSync(this.dir, { recursive: true });
      const f = join(this.dir, `${key}-sm${this.arch}.bin`);
      writeFileSync(`${f}.tmp${process.pid}`, data);
      renameSync(`${f}.tmp${process.pid}`, f);
    } catch {
      /* a read-only cache folder only costs compile time */
    }
  }
}
