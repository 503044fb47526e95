import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type CublasApi, type DriverApi, type NvrtcApi, CUDA_SUCCESS, bindCublas, bindDriver, bindNvrtc, driverErrorText } from './ffi.js';

/**
 * Finds the three native libraries the CUDA backend needs, without loading anything: the driver (libcuda.so.1,
 * installed with the NVIDIA driver), NVRTC (run-time compiler) and cuBLAS (+ cuBLASLt, which cuBLAS needs).
 *
 * Search order, first hit wins:
 *   1. an environment override: SIFT_CUDA_DRIVER, SIFT_NVRTC, SIFT_CUBLAS (SIFT_CUBLASLT) — a file path;
 *   2. toolkit folders: $CUDA_HOME/lib64, $CUDA_PATH/lib64, /usr/local/cuda/lib64, /usr/local/cuda-X.Y/lib64 (newest first);
 *   3. system folders: /usr/lib/x86_64-linux-gnu, /usr/lib64, /usr/lib/wsl/lib (the driver also in /usr/local/cuda/compat);
 *   4. PyTorch's wheels: <site-packages>/nvidia/<anything>/lib (nvidia-cuda-nvrtc-cu12, nvidia-cublas-cu12, cu13 …).
 * The driver may also be found by the dynamic loader alone (LD_LIBRARY_PATH, ld.so.cache): `located` then
 * holds the bare soname and loading decides.
 */

export type LibraryName = 'driver' | 'nvrtc' | 'cublas' | 'cublasLt';

export interface LibrarySpec {
  name: LibraryName;
  /** Matches the file names this library ships under (versioned sonames included). */
  pattern: RegExp;
  env: string;
  /** What to tell the user when it is missing. */
  hint: string;
}

export const LIBRARIES: Record<LibraryName, LibrarySpec> = {
  driver: {
    name: 'driver',
    pattern: /^libcuda\.so(\.1)?$/,
    env: 'SIFT_CUDA_DRIVER',
    hint: 'libcuda.so.1 comes with the NVIDIA driver; set SIFT_CUDA_DRIVER to its path',
  },
  nvrtc: {
    name: 'nvrtc',
    pattern: /^libnvrtc\.so(\.\d+)*$/,
    env: 'SIFT_NVRTC',
    hint: 'install the CUDA toolkit or the nvidia-cuda-nvrtc wheel, or set SIFT_NVRTC to libnvrtc.so',
  },
  cublas: {
    name: 'cublas',
    pattern: /^libcublas\.so(\.\d+)*$/,
    env: 'SIFT_CUBLAS',
    hint: 'install the CUDA toolkit or the nvidia-cublas wheel, or set SIFT_CUBLAS to libcublas.so',
  },
  cublasLt: {
    name: 'cublasLt',
    pattern: /^libcublasLt\.so(\.\d+)*$/,
    env: 'SIFT_CUBLASLT',
    hint: 'libcublasLt.so sits beside libcublas.so; set SIFT_CUBLASLT to its path',
  },
};

/** The file system as the search sees it (a fake in tests). */
export interface SearchFs {
  exists(path: string): boolean;
  /** Entry names of a folder; [] when it does not exist or cannot be read. */
  list(dir: string): string[];
}

export const nodeFs: SearchFs = {
  exists: (p) => {
    try {
      return existsSync(p);
    } catch {
      return false;
    }
  },
  list: (d) => {
    try {
      return readdirSync(d);
    } catch {
      return [];
    }
  },
};

export interface Located {
  name: LibraryName;
  /** A file path, or a bare soname left to the dynamic loader; null: not found. */
  path: string | null;
  /** Where it was found ('SIFT_NVRTC', a folder, 'dynamic loader'). */
  via?: string;
  /** The folders searched, for the error message. */
  searched: string[];
}

/** Numeric version parts of a file or folder name, for newest-first ordering (libnvrtc.so.12.4 → [12, 4]). */
function versionOf(name: string): number[] {
  return (name.match(/\d+/g) ?? []).map(Number);
}

function newestFirst(a: string, b: string): number {
  const va = versionOf(a);
  const vb = versionOf(b);
  for (let i = 0; i < Math.max(va.length, vb.length); i++) {
    const d = (vb[i] ?? -1) - (va[i] ?? -1);
    if (d) return d;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Python site-packages folders where PyTorch's nvidia-* wheels may live (no Python is run). */
export function sitePackages(env: NodeJS.ProcessEnv, fs: SearchFs, home = safeHome()): string[] {
  const roots: string[] = [];
  for (const p of (env.PYTHONPATH ?? '').split(':')) if (p) roots.push(p);
  const prefixes = [env.VIRTUAL_ENV, env.CONDA_PREFIX, '/usr', '/usr/local', '/opt/conda', home && join(home, '.local')].filter(
    (p): p is string => !!p,
  );
  if (home) {
    const pyenv = join(home, '.pyenv', 'versions');
    for (const v of fs.list(pyenv)) prefixes.push(join(pyenv, v));
  }
  for (const prefix of prefixes) {
    const lib = join(prefix, 'lib');
    for (const py of fs.list(lib).filter((d) => /^python3(\.\d+)?$/.test(d)).sort(newestFirst)) {
      roots.push(join(lib, py, 'site-packages'), join(lib, py, 'dist-packages'));
    }
  }
  roots.push('/usr/lib/python3/dist-packages');
  return [...new Set(roots)];
}

function safeHome(): string | undefined {
  try {
    return homedir();
  } catch {
    return undefined;
  }
}

/** The folders searched for a library, in order. */
export function searchDirs(name: LibraryName, env: NodeJS.ProcessEnv, fs: SearchFs): string[] {
  const dirs: string[] = [];
  for (const v of [env.CUDA_HOME, env.CUDA_PATH]) if (v) dirs.push(join(v, 'lib64'), join(v, 'lib'));
  dirs.push('/usr/local/cuda/lib64');
  for (const d of fs.list('/usr/local').filter((d) => /^cuda-\d/.test(d)).sort(newestFirst)) dirs.push(join('/usr/local', d, 'lib64'));
  if (name === 'driver') dirs.push('/usr/local/cuda/compat');
  dirs.push('/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib/wsl/lib');
  for (const site of sitePackages(env, fs)) {
    const nvidia = join(site, 'nvidia');
    for (const pkg of fs.list(nvidia).sort()) dirs.push(join(nvidia, pkg, 'lib'));
  }
  return [...new Set(dirs)];
}

/** Finds one library's file (no loading). Never throws. */
export function locate(name: LibraryName, env: NodeJS.ProcessEnv = process.env, fs: SearchFs = nodeFs): Located {
  const spec = LIBRARIES[name];
  const override = env[spec.env];
  if (override) {
    return fs.exists(override)
      ? { name, path: override, via: spec.env, searched: [] }
      : { name, path: null, via: `${spec.env} (set to ${override}, which does not exist)`, searched: [override] };
  }
  const searched = searchDirs(name, env, fs);
  for (const dir of searched) {
    const hits = fs.list(dir).filter((f) => spec.pattern.test(f));
    if (hits.length === 0) continue;
    // The unversioned name is often a dev-package symlink that may dangle; prefer the newest versioned soname.
    hits.sort((a, b) => newestFirst(a, b));
    return { name, path: join(dir, hits[0]), via: dir, searched };
  }
  if (name === 'driver' && env.LD_LIBRARY_PATH) return { name, path: 'libcuda.so.1', via: 'dynamic loader', searched };
  return { name, path: null, searched };
}

export function locateAll(env: NodeJS.ProcessEnv = process.env, fs: SearchFs = nodeFs): Record<LibraryName, Located> {
  return {
    driver: locate('driver', env, fs),
    nvrtc: locate('nvrtc', env, fs),
    cublas: locate('cublas', env, fs),
    cublasLt: locate('cublasLt', env, fs),
  };
}

/** One line saying why a library was not found. */
export function missingReason(l: Located): string {
  const spec = LIBRARIES[l.name];
  const where = l.via ? ` (${l.via})` : l.searched.length ? ` in ${l.searched.length} folders (${l.searched.slice(0, 4).join(', ')}, …)` : '';
  return `${l.name}: no ${spec.pattern.source.replace(/\\/g, '').replace(/[\^$]/g, '')} found${where}; ${spec.hint}`;
}

// ------------------------------------------------------------------------------------------------ availability

export interface Availability {
  available: boolean;
  /** Why not (every missing piece, one per clause); absent when available. */
  reason?: string;
  /** What was found, for info(). */
  libraries?: Partial<Record<LibraryName, string>>;
  devices?: number;
  driverVersion?: number;
}

export interface LoadedLibraries {
  driver: DriverApi;
  nvrtc: NvrtcApi;
  cublas: CublasApi;
  paths: Record<LibraryName, string | null>;
  devices: number;
  driverVersion: number;
}

let loaded: { ok: LoadedLibraries } | { error: Availability } | null = null;

/**
 * Finds and binds the libraries, initialises the driver and counts the devices, once. Never throws: a missing
 * piece comes back as `{ available: false, reason }` naming it.
 */
export function isAvailable(env: NodeJS.ProcessEnv = process.env, fs: SearchFs = nodeFs): Availability {
  // The memo is only for the real environment; a test passing its own env/fs gets a fresh answer.
  const memo = env === process.env && fs === nodeFs;
  const result = memo && loaded ? loaded : probe(env, fs);
  if (memo) loaded = result;
  if ('error' in result) return result.error;
  const { paths, devices, driverVersion } = result.ok;
  const libraries: Partial<Record<LibraryName, string>> = {};
  for (const [k, v] of Object.entries(paths)) if (v) libraries[k as LibraryName] = v;
  return { available: true, libraries, devices, driverVersion };
}

/** The bound libraries; throws the unavailability reason. */
export function loadLibraries(): LoadedLibraries {
  const a = isAvailable();
  if (!a.available || !loaded || !('ok' in loaded)) throw new Error(`CUDA backend is not available: ${a.reason}`);
  return loaded.ok;
}

function probe(env: NodeJS.ProcessEnv, fs: SearchFs): { ok: LoadedLibraries } | { error: Availability } {
  try {
    const found = locateAll(env, fs);
    const reasons: string[] = [];
    for (const name of ['driver', 'nvrtc', 'cublas'] as const) if (!found[name].path) reasons.push(missingReason(found[name]));
    const paths = {
      driver: found.driver.path,
      nvrtc: found.nvrtc.path,
      cublas: found.cublas.path,
      cublasLt: found.cublasLt.path,
    };
    const partial = Object.fromEntries(Object.entries(paths).filter(([, v]) => v)) as Partial<Record<LibraryName, string>>;
    if (reasons.length) return { error: { available: false, reason: reasons.join('; '), libraries: partial } };

    let driver: DriverApi;
    try {
      driver = bindDriver(paths.driver!);
    } catch (e) {
      return { error: { available: false, reason: `driver: ${paths.driver} could not be loaded (${(e as Error).message})`, libraries: partial } };
    }
    const init = driver.cuInit(0);
    if (init !== CUDA_SUCCESS) {
      const [name, text] = driverErrorText(driver, init);
      return { error: { available: false, reason: `driver: cuInit failed with ${name}${text ? ` (${text})` : ''}: no usable GPU or driver`, libraries: partial } };
    }
    const count = [0];
    const rc = driver.cuDeviceGetCount(count);
    if (rc !== CUDA_SUCCESS || count[0] < 1) {
      return { error: { available: false, reason: 'driver: cuDeviceGetCount found no CUDA device', libraries: partial } };
    }
    const version = [0];
    driver.cuDriverGetVersion(version);
    let nvrtc: NvrtcApi;
    let cublas: CublasApi;
    try {
      nvrtc = bindNvrtc(paths.nvrtc!);
    } catch (e) {
      return { error: { available: false, reason: `nvrtc: ${paths.nvrtc} could not be loaded (${(e as Error).message})`, libraries: partial } };
    }
    try {
      cublas = bindCublas(paths.cublas!, paths.cublasLt);
    } catch (e) {
      return { error: { available: false, reason: `cublas: ${paths.cublas} could not be loaded (${(e as Error).message})`, libraries: partial } };
    }
    return { ok: { driver, nvrtc, cublas, paths, devices: count[0], driverVersion: version[0] } };
  } catch (e) {
    return { error: { available: false, reason: `unexpected error while probing CUDA: ${(e as Error).message}` } };
  }
}
