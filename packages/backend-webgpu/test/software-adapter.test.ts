import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireDevice, type DawnModule, describeAdapter, isAvailable, isSoftwareAdapter } from '../src/index.js';

/**
 * Software adapters (SwiftShader, llvmpipe, lavapipe) compute WebGPU on the CPU, far slower than the CPU backend:
 * they are recognised, named, and taken only when no path gives a GPU. The names below are what the drivers
 * report (the SwiftShader and llvmpipe ones as read from Dawn on this project's machines; the hardware ones as
 * NVIDIA's, Intel's Mesa and AMD's RADV Vulkan drivers publish them).
 */
const SWIFTSHADER = { vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device-subzero-', description: 'SwiftShader driver 5.0.0', isFallbackAdapter: true };
const LLVMPIPE_GLES = { vendor: '', architecture: '', device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'OpenGL version OpenGL ES 3.2 Mesa 22.3.6' };
const LAVAPIPE = { vendor: 'mesa', architecture: '', device: 'llvmpipe (LLVM 15.0.6, 256 bits)', description: 'Mesa 22.3.6 (LLVM 15.0.6)' };
const NVIDIA = { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H100 80GB HBM3' };
const INTEL_MESA = { vendor: 'intel', architecture: 'gen-9', device: 'Mesa Intel(R) UHD Graphics 620 (KBL GT2)', description: 'Intel open-source Mesa driver: Mesa 22.3.6' };
const AMD_RADV = { vendor: 'amd', architecture: 'rdna-2', device: 'AMD Radeon RX 6800 (RADV NAVI21)', description: 'radv Mesa 22.3.6' };

describe('isSoftwareAdapter', () => {
  it('knows the CPU emulations by the fallback flag or by name', () => {
    expect(isSoftwareAdapter(SWIFTSHADER)).toBe(true);
    expect(isSoftwareAdapter({ ...SWIFTSHADER, isFallbackAdapter: undefined })).toBe(true);
    expect(isSoftwareAdapter(LLVMPIPE_GLES)).toBe(true);
    expect(isSoftwareAdapter(LAVAPIPE)).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'unknown', architecture: '', device: '', description: '', isFallbackAdapter: true })).toBe(true);
  });

  it("takes GPUs (Mesa's hardware drivers included) for GPUs", () => {
    for (const gpu of [NVIDIA, INTEL_MESA, AMD_RADV]) expect(isSoftwareAdapter(gpu), gpu.description).toBe(false);
  });
});

const LIMITS = {
  maxStorageBuffersPerShaderStage: 8,
  maxUniformBufferBindingSize: 65536,
  maxStorageBufferBindingSize: 2 ** 27,
  maxBufferSize: 2 ** 28,
  minUniformBufferOffsetAlignment: 256,
  minStorageBufferOffsetAlignment: 256,
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
  maxComputeWorkgroupSizeZ: 64,
  maxComputeWorkgroupsPerDimension: 65535,
};

type Names = typeof NVIDIA & { isFallbackAdapter?: boolean };

/**
 * A stand-in for Dawn: `create(flags)` gives a GPU whose adapter depends on the path being tried — Vulkan by
 * default, SwiftShader's Vulkan while VK_ICD_FILENAMES names its ICD, OpenGL ES with 'backend=opengles' — so the
 * order of acquireDevice's search can be tested without the hardware.
 */
function fakeDawn(paths: { default?: Names; swiftshader?: Names; opengles?: Names }, icd: string): DawnModule {
  const adapter = (names: Names) => ({ info: names, limits: LIMITS, features: new Set<string>(), requestDevice: async () => ({ limits: LIMITS, lost: new Promise(() => {}) }) });
  return {
    create: (flags: string[]) =>
      ({
        requestAdapter: async () => {
          const path = flags.includes('backend=opengles') ? 'opengles' : process.env.VK_ICD_FILENAMES === icd ? 'swiftshader' : 'default';
          const names = paths[path];
          return names ? adapter(names) : null;
        },
      }) as unknown as GPU,
  };
}

describe('acquireDevice takes a GPU over a software adapter', () => {
  let dir = '';
  let icd = '';
  const saved = { ...process.env };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'siftjs-adapter-'));
    icd = join(dir, 'vk_swiftshader_icd.json');
    writeFileSync(icd, '{}');
    process.env.SIFT_SWIFTSHADER_ICD = icd;
    delete process.env.SIFT_WEBGPU_ADAPTER;
  });
  afterAll(() => {
    for (const k of ['SIFT_SWIFTSHADER_ICD', 'SIFT_WEBGPU_ADAPTER', 'EGL_PLATFORM']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('a GPU on a later path wins over SwiftShader found first', async () => {
    const ctx = await acquireDevice({ dawn: fakeDawn({ swiftshader: SWIFTSHADER, opengles: INTEL_MESA }, icd) });
    expect(ctx.adapter.path).toBe('dawn-opengles');
    expect(ctx.adapter.software).toBe(false);
    expect(describeAdapter(ctx.adapter)).not.toMatch(/software/);
  });

  it('with only software adapters, the first is taken and named as such', async () => {
    const ctx = await acquireDevice({ dawn: fakeDawn({ swiftshader: SWIFTSHADER, opengles: LLVMPIPE_GLES }, icd) });
    expect(ctx.adapter.path).toBe('dawn-swiftshader');
    expect(ctx.adapter.software).toBe(true);
    expect(describeAdapter(ctx.adapter)).toMatch(/^a software adapter \(a CPU emulation of a GPU, slower than the CPU backend\): SwiftShader driver 5\.0\.0/);
  });

  it('the default Vulkan path on a GPU is taken at once', async () => {
    const ctx = await acquireDevice({ dawn: fakeDawn({ default: NVIDIA, swiftshader: SWIFTSHADER, opengles: LLVMPIPE_GLES }, icd) });
    expect(ctx.adapter.path).toBe('dawn-default');
    expect(ctx.adapter.software).toBe(false);
  });

  it('SIFT_WEBGPU_ADAPTER keeps the one path asked for, software or not, and it is still named', async () => {
    process.env.SIFT_WEBGPU_ADAPTER = 'swiftshader';
    try {
      const ctx = await acquireDevice({ dawn: fakeDawn({ swiftshader: SWIFTSHADER, opengles: INTEL_MESA }, icd) });
      expect(ctx.adapter.path).toBe('dawn-swiftshader');
      expect(ctx.adapter.software).toBe(true);
    } finally {
      delete process.env.SIFT_WEBGPU_ADAPTER;
    }
  });
});

describe('on this machine', () => {
  it('isAvailable says whether the adapter is a software one, and its reason names it', async () => {
    const a = await isAvailable();
    if (!a.available) return expect(a.software).toBeUndefined();
    expect(a.software).toBe(a.adapter?.software);
    expect(a.software).toBe(isSoftwareAdapter(a.adapter!));
    if (a.adapter?.path === 'dawn-swiftshader' || a.adapter?.path === 'dawn-opengles') console.log(`[webgpu adapter] ${a.reason}`);
    expect(a.reason.startsWith('a software adapter')).toBe(a.software);
  });
});
