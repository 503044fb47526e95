/**
 * Acquiring a GPUDevice. Only this file knows where WebGPU comes from: `navigator.gpu` in a browser (or a
 * worker), the `webgpu` package (Dawn) in Node. Everything after acquisition is one code path over a
 * `GpuContext`.
 *
 * Node tries, in order:
 * 1. Dawn's default backend at the full (core) feature level: Vulkan on a real GPU (or whatever driver
 *    `VK_ICD_FILENAMES` names).
 * 2. SwiftShader's Vulkan, a CPU implementation at the full feature level, where its driver is installed
 *    (Debian's chromium ships it; `SIFT_SWIFTSHADER_ICD` names another ICD file). Its ICD is named in
 *    `VK_ICD_FILENAMES` only while a second Dawn instance is created, so a real GPU is never hidden.
 * 3. Dawn's OpenGL ES backend in compatibility mode (Mesa llvmpipe on a machine without a GPU; needs
 *    libEGL + Mesa, and `EGL_PLATFORM=surfaceless`, which is set here when unset).
 * A software adapter (SwiftShader, llvmpipe, lavapipe: a CPU emulation of a GPU, slower than the CPU backend) is
 * taken only when no path gives a hardware one, and is marked `software` so that callers can say so and prefer
 * the CPU backend (software-adapter.ts names them). `SIFT_WEBGPU_ADAPTER=default|swiftshader|opengles` keeps only
 * one path and takes what it gives.
 */
import type { AdapterPath, GpuContext } from './context.js';
import { withDawnStderrFiltered } from './dawn-stderr.js';
import { LIMIT_NAMES, readLimits } from './limits.js';
import { adapterNames, isSoftwareAdapter } from './software-adapter.js';

/** Where Debian's chromium package puts SwiftShader's Vulkan ICD. */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export interface AcquireOptions {
  /** Use this GPU object (navigator.gpu, or one made by the `webgpu` package's `create`) and nothing else. */
  gpu?: GPU;
  /** In Node, the Dawn module whose `create(flags)` makes GPU objects (default: the `webgpu` package). */
  dawn?: DawnModule;
  /** Feature level when `gpu` is given (default: core, then compatibility). */
  featureLevel?: 'core' | 'compatibility';
  /**
   * 'adapter' (default): request every kernel-relevant limit the adapter offers beyond the defaults.
   * 'default': take the WebGPU defaults of the feature level (the tightest a conforming device has), which
   * is how tests prove the kernels fit small limits.
   */
  limits?: 'adapter' | 'default';
  powerPreference?: GPUPowerPreference;
  /**
   * Declare float16 storage `array<f16>` where the adapter offers `shader-f16` (default true; the environment's
   * SIFT_WEBGPU_SHADER_F16=0 turns it off). Without it float16 is packed two to a u32 word, as bfloat16 always is.
   */
  shaderF16?: boolean;
}

type Attempt = { path: AdapterPath; flags: string[] | null; featureLevel: 'core' | 'compatibility' };

/** The `webgpu` package's entry, loaded lazily (so importing this package never needs it). */
export interface DawnModule {
  create(flags: string[]): GPU;
}

let dawn: Promise<DawnModule | string> | null = null;

function loadDawn(): Promise<DawnModule | string> {
  // A computed specifier, so browser bundlers leave it alone.
  const name = 'webgpu';
  dawn ??= import(/* @vite-ignore */ name).then(
    (m: DawnModule) => (typeof m.create === 'function' ? m : "the 'webgpu' package has no create()"),
    (e: unknown) => `the 'webgpu' package (Dawn for Node) did not load: ${errorLine(e)}`,
  );
  return dawn;
}

/** The first line of an error's message. */
export function errorLine(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0] : String(e);
}

function navigatorGpu(): GPU | undefined {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  return nav?.gpu ?? undefined;
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

function env(name: string): string | undefined {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return p?.env?.[name];
}

async function fromAdapter(gpu: GPU, adapter: GPUAdapter, path: AdapterPath, level: 'core' | 'compatibility', opts: AcquireOptions): Promise<GpuContext> {
  const adapterLimits = readLimits(adapter.limits);
  const requiredLimits: Record<string, number> = {};
  if ((opts.limits ?? 'adapter') === 'adapter') {
    for (const k of LIMIT_NAMES) {
      // Alignments are minimums (smaller is better) and cannot be requested above the default; skip them.
      if (k.startsWith('min')) continue;
      requiredLimits[k] = adapterLimits[k];
    }
  }
  const shaderF16 = (opts.shaderF16 ?? env('SIFT_WEBGPU_SHADER_F16') !== '0') && adapter.features.has('shader-f16');
  const requiredFeatures: GPUFeatureName[] = shaderF16 ? ['shader-f16'] : [];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'siftjs' });
  const info = adapterNames(adapter);
  return {
    device,
    gpu,
    shaderF16,
    limits: readLimits(device.limits),
    adapter: {
      path,
      software: isSoftwareAdapter(info),
      featureLevel: level,
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      adapterLimits,
    },
  };
}

/**
 * A device, or an Error whose message lists every attempt and why it failed. Never throws for a missing
 * WebGPU: rejects with that Error.
 */
export async function acquireDevice(opts: AcquireOptions = {}): Promise<GpuContext> {
  const tried: string[] = [];
  const find = async (gpu: GPU, level: 'core' | 'compatibility', label: string): Promise<GPUAdapter | null> => {
    try {
      const request: GPURequestAdapterOptions & { featureLevel?: string } = { powerPreference: opts.powerPreference };
      if (level === 'compatibility') request.featureLevel = 'compatibility';
      const adapter = await gpu.requestAdapter(request);
      if (!adapter) tried.push(`${label}: no adapter`);
      return adapter;
    } catch (e) {
      tried.push(`${label}: ${errorLine(e)}`);
      return null;
    }
  };
  const open = async (gpu: GPU, adapter: GPUAdapter, path: AdapterPath, level: 'core' | 'compatibility', label: string): Promise<GpuContext | null> => {
    try {
      return await fromAdapter(gpu, adapter, path, level, opts);
    } catch (e) {
      tried.push(`${label}: ${errorLine(e)}`);
      return null;
    }
  };
  const attempt = async (gpu: GPU, path: AdapterPath, level: 'core' | 'compatibility', label: string): Promise<GpuContext | null> => {
    const adapter = await find(gpu, level, label);
    return adapter && open(gpu, adapter, path, level, label);
  };

  const given = opts.gpu ?? (isNode() ? undefined : navigatorGpu());
  if (given) {
    const path: AdapterPath = opts.gpu ? 'dawn-default' : 'navigator';
    const levels: ('core' | 'compatibility')[] = opts.featureLevel ? [opts.featureLevel] : ['core', 'compatibility'];
    for (const level of levels) {
      const ctx = await attempt(given, path, level, `${path} (${level})`);
      if (ctx) return ctx;
    }
    throw new Error(`WebGPU: no device (${tried.join('; ')})`);
  }

  if (!isNode()) {
    throw new Error('WebGPU: navigator.gpu is missing (this browser has no WebGPU, or it is disabled)');
  }
  const mod = opts.dawn ?? (await loadDawn());
  if (typeof mod === 'string') throw new Error(`WebGPU: ${mod}`);
  // Dawn prints the expected misses of its search (no Vulkan driver, a software adapter's lowered limits) on fd 2.
  return withDawnStderrFiltered(() => searchDawn(mod, opts, tried, find, open));
}

/** Node: the paths in order (see the top of this file), the first hardware adapter, else the software one found. */
async function searchDawn(
  mod: DawnModule,
  opts: AcquireOptions,
  tried: string[],
  find: (gpu: GPU, level: 'core' | 'compatibility', label: string) => Promise<GPUAdapter | null>,
  open: (gpu: GPU, adapter: GPUAdapter, path: AdapterPath, level: 'core' | 'compatibility', label: string) => Promise<GpuContext | null>,
): Promise<GpuContext> {

  const only = env('SIFT_WEBGPU_ADAPTER');
  const attempts: Attempt[] = [
    { path: 'dawn-default', flags: [], featureLevel: 'core' },
    { path: 'dawn-swiftshader', flags: [], featureLevel: 'core' },
    { path: 'dawn-opengles', flags: ['backend=opengles'], featureLevel: 'compatibility' },
  ].filter((a) => !only || a.path === `dawn-${only}`) as Attempt[];
  if (only && attempts.length === 0) throw new Error(`WebGPU: SIFT_WEBGPU_ADAPTER='${only}' is not one of default, swiftshader, opengles`);
  const processEnv = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env;
  // A software adapter is kept aside while the later paths are searched for a GPU (unless one path was asked for).
  let software: { gpu: GPU; adapter: GPUAdapter; attempt: Attempt; label: string } | null = null;
  for (const a of attempts) {
    if (a.path === 'dawn-opengles' && processEnv && !processEnv.EGL_PLATFORM) {
      // Mesa's EGL needs a platform without a display server.
      processEnv.EGL_PLATFORM = 'surfaceless';
    }
    let icd: string | undefined;
    if (a.path === 'dawn-swiftshader') {
      icd = await swiftShaderIcd();
      if (!icd) {
        tried.push(`dawn-swiftshader: no SwiftShader Vulkan driver (${SWIFTSHADER_ICD}; Debian: chromium and libvulkan1)`);
        continue;
      }
    }
    // The Vulkan loader reads VK_ICD_FILENAMES when Dawn first looks for adapters (not at create()): it is
    // set until the adapter is had, then put back.
    const before = processEnv?.VK_ICD_FILENAMES;
    if (icd && processEnv) processEnv.VK_ICD_FILENAMES = icd;
    const label = `${a.path} (${a.featureLevel})`;
    let found: { gpu: GPU; adapter: GPUAdapter } | null = null;
    try {
      const gpu = mod.create(a.flags ?? []);
      const adapter = await find(gpu, a.featureLevel, label);
      if (adapter) found = { gpu, adapter };
    } catch (e) {
      tried.push(`${a.path}: create failed: ${errorLine(e)}`);
    } finally {
      if (icd && processEnv) {
        if (before === undefined) delete processEnv.VK_ICD_FILENAMES;
        else processEnv.VK_ICD_FILENAMES = before;
      }
    }
    if (!found) continue;
    const names = adapterNames(found.adapter);
    if (!only && isSoftwareAdapter(names)) {
      tried.push(`${label}: a software adapter (${names.description || names.device})`);
      software ??= { ...found, attempt: a, label };
      continue;
    }
    const ctx = await open(found.gpu, found.adapter, a.path, a.featureLevel, label);
    if (ctx) return ctx;
  }
  if (software) {
    const ctx = await open(software.gpu, software.adapter, software.attempt.path, software.attempt.featureLevel, software.label);
    if (ctx) return ctx;
  }
  throw new Error(
    `WebGPU: no adapter in Node (${tried.join('; ')}). On a machine without a GPU install Mesa's EGL/GLES ` +
      '(Debian: libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri) or SwiftShader (Debian: chromium libvulkan1).',
  );
}

/** SwiftShader's ICD file where one is installed (SIFT_SWIFTSHADER_ICD, else Debian chromium's). */
async function swiftShaderIcd(): Promise<string | undefined> {
  const file = env('SIFT_SWIFTSHADER_ICD') ?? SWIFTSHADER_ICD;
  try {
    const fs = 'node:fs'; // a computed specifier, so browser bundlers leave it alone
    const { existsSync } = (await import(/* @vite-ignore */ fs)) as { existsSync(path: string): boolean };
    return existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
}
