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
 * `SIFT_WEBGPU_ADAPTER=default|swiftshader|opengles` keeps only one of them.
 */

/** The limits the kernels are sized by: the device's, as granted (the adapter's where they exceed defaults). */
export interface KernelLimits {
  maxStorageBuffersPerShaderStage: number;
  maxUniformBufferBindingSize: number;
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  minUniformBufferOffsetAlignment: number;
  minStorageBufferOffsetAlignment: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupSizeY: number;
  maxComputeWorkgroupSizeZ: number;
  maxComputeWorkgroupsPerDimension: number;
}

const LIMIT_NAMES: readonly (keyof KernelLimits)[] = [
  'maxStorageBuffersPerShaderStage',
  'maxUniformBufferBindingSize',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'minUniformBufferOffsetAlignment',
  'minStorageBufferOffsetAlignment',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
];

/** Where the device came from. */
export type AdapterPath = 'navigator' | 'dawn-default' | 'dawn-swiftshader' | 'dawn-opengles';

/** Where Debian's chromium package puts SwiftShader's Vulkan ICD. */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export interface AdapterSummary {
  path: AdapterPath;
  /** 'core' or 'compatibility'. */
  featureLevel: 'core' | 'compatibility';
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** The adapter's own limits (what it could grant). */
  adapterLimits: KernelLimits;
}

export interface GpuContext {
  device: GPUDevice;
  adapter: AdapterSummary;
  /** The device's limits: what kernels must fit. */
  limits: KernelLimits;
  /** Dawn's GPU object in Node (kept referenced while the device lives); navigator.gpu in browsers. */
  gpu: GPU;
}

export interface AcquireOptions {
  /** Use this GPU object (navigator.gpu, or one made by the `webgpu` package's `create`) and nothing else. */
  gpu?: GPU;
  /** Feature level when `gpu` is given (default: core, then compatibility). */
  featureLevel?: 'core' | 'compatibility';
  /**
   * 'adapter' (default): request every kernel-relevant limit the adapter offers beyond the defaults.
   * 'default': take the WebGPU defaults of the feature level (the tightest a conforming device has), which
   * is how tests prove the kernels fit small limits.
   */
  limits?: 'adapter' | 'default';
  powerPreference?: GPUPowerPreference;
}

type Attempt = { path: AdapterPath; flags: string[] | null; featureLevel: 'core' | 'compatibility' };

/** The `webgpu` package's entry, loaded lazily (so importing this package never needs it). */
interface DawnModule {
  create(flags: string[]): GPU;
}

let dawn: Promise<DawnModule | string> | null = null;

function loadDawn(): Promise<DawnModule | string> {
  // A computed specifier, so browser bundlers leave it alone.
  const name = 'webgpu';
  dawn ??= import(/* @vite-ignore */ name).then(
    (m: DawnModule) => (typeof m.create === 'function' ? m : "the 'webgpu' package has no create()"),
    (e: unknown) => `the 'webgpu' package (Dawn for Node) did not load: ${message(e)}`,
  );
  return dawn;
}

function message(e: unknown): string {
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

function readLimits(src: GPUSupportedLimits): KernelLimits {
  const out = {} as KernelLimits;
  for (const k of LIMIT_NAMES) out[k] = Number((src as unknown as Record<string, number>)[k]);
  return out;
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
  const device = await adapter.requestDevice({ requiredLimits, label: 'siftjs' });
  const info = adapter.info as GPUAdapterInfo | undefined;
  return {
    device,
    gpu,
    limits: readLimits(device.limits),
    adapter: {
      path,
      featureLevel: level,
      vendor: info?.vendor ?? '',
      architecture: info?.architecture ?? '',
      device: info?.device ?? '',
      description: info?.description ?? '',
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
  const attempt = async (gpu: GPU, path: AdapterPath, level: 'core' | 'compatibility', label: string): Promise<GpuContext | null> => {
    try {
      const request: GPURequestAdapterOptions & { featureLevel?: string } = { powerPreference: opts.powerPreference };
      if (level === 'compatibility') request.featureLevel = 'compatibility';
      const adapter = await gpu.requestAdapter(request);
      if (!adapter) {
        tried.push(`${label}: no adapter`);
        return null;
      }
      return await fromAdapter(gpu, adapter, path, level, opts);
    } catch (e) {
      tried.push(`${label}: ${message(e)}`);
      return null;
    }
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
  const mod = await loadDawn();
  if (typeof mod === 'string') throw new Error(`WebGPU: ${mod}`);

  const only = env('SIFT_WEBGPU_ADAPTER');
  const attempts: Attempt[] = [
    { path: 'dawn-default', flags: [], featureLevel: 'core' },
    { path: 'dawn-swiftshader', flags: [], featureLevel: 'core' },
    { path: 'dawn-opengles', flags: ['backend=opengles'], featureLevel: 'compatibility' },
  ].filter((a) => !only || a.path === `dawn-${only}`) as Attempt[];
  if (only && attempts.length === 0) throw new Error(`WebGPU: SIFT_WEBGPU_ADAPTER='${only}' is not one of default, swiftshader, opengles`);
  const processEnv = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env;
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
    let ctx: GpuContext | null = null;
    try {
      const gpu = mod.create(a.flags ?? []);
      ctx = await attempt(gpu, a.path, a.featureLevel, `${a.path} (${a.featureLevel})`);
    } catch (e) {
      tried.push(`${a.path}: create failed: ${message(e)}`);
    } finally {
      if (icd && processEnv) {
        if (before === undefined) delete processEnv.VK_ICD_FILENAMES;
        else processEnv.VK_ICD_FILENAMES = before;
      }
    }
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

export interface Availability {
  available: boolean;
  /** Why not, or which adapter. */
  reason: string;
  adapter?: AdapterSummary;
}

let shared: Promise<GpuContext> | null = null;

/** The process-wide device (acquired once; a failed acquisition is retried on the next call). */
export function sharedContext(): Promise<GpuContext> {
  if (!shared) {
    const p = acquireDevice();
    shared = p;
    p.catch(() => {
      if (shared === p) shared = null;
    });
    // A lost device is not reused.
    p.then(
      (ctx) =>
        ctx.device.lost.then(() => {
          if (shared === p) shared = null;
        }),
      () => {},
    );
  }
  return shared;
}

/** Whether a WebGPU device can be had here, and why not. Never throws or rejects. */
export async function isAvailable(): Promise<Availability> {
  try {
    const ctx = await sharedContext();
    return { available: true, reason: describeAdapter(ctx.adapter), adapter: ctx.adapter };
  } catch (e) {
    return { available: false, reason: message(e) };
  }
}

export function describeAdapter(a: AdapterSummary): string {
  const name = [a.description || a.device, a.vendor, a.architecture].filter(Boolean).join(', ');
  return `${name || 'unnamed adapter'} via ${a.path}, ${a.featureLevel} feature level`;
}
