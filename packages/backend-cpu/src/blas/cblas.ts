import { BackendError } from '@siftjs/tensor';

/**
 * The platform's BLAS through koffi (Node only): `cblas_sgemm` / `cblas_dgemm` straight on the heap's memory, no
 * copies. Found automatically where it is fast — OpenBLAS on Linux, Accelerate on macOS — or named by SIFT_BLAS (a
 * library path, or `0` / `off` for none). A reference BLAS (Debian's plain libblas.so.3) is never picked on its own:
 * it is slower than our WebAssembly kernels.
 *
 * Nothing here loads at import: `loadCblas` is awaited when the backend starts, and a browser never gets past the
 * `process` check, so bundlers see no native module.
 */

/** CBLAS enums (cblas.h). */
const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

type Gemm = (
  order: number,
  transA: number,
  transB: number,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array | Float64Array,
  lda: number,
  b: Float32Array | Float64Array,
  ldb: number,
  beta: number,
  c: Float32Array | Float64Array,
  ldc: number,
) => void;

export interface Cblas {
  /** e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64". */
  readonly name: string;
  readonly path: string;
  /**
   * C[M×N] (row-major, ldc) = op(A)·op(B), where op(X) reads X transposed when `trans*` is set; leading dimensions
   * in elements. The arrays start at their matrix's first element.
   */
  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: Float32Array | Float64Array,
    lda: number,
    b: Float32Array | Float64Array,
    ldb: number,
    c: Float32Array | Float64Array,
    ldc: number,
  ): void;
  /** The BLAS's own thread count (a no-op where the library has no such call). Process-wide. */
  setThreads(n: number): void;
  /**
   * What a worker thread needs to load the same library (koffi's module file and the library's path), for batches
   * of small products split between threads (threads/pool.ts); null where koffi's file cannot be resolved.
   */
  readonly forWorkers: BlasForWorkers | null;
}

/** koffi's CommonJS entry and the BLAS library, for a worker thread to `require` and load. */
export interface BlasForWorkers {
  koffi: string;
  path: string;
}

/** The library SIFT_BLAS names: undefined for automatic, null for none. */
export function blasFromEnv(): string | null | undefined {
  const env = typeof process !== 'undefined' ? process.env?.SIFT_BLAS : undefined;
  if (env === undefined || env === '') return undefined;
  return ['0', 'off', 'none', 'false'].includes(env.toLowerCase()) ? null : env;
}

/** Where OpenBLAS / Accelerate live when nothing is named. */
function candidates(): string[] {
  if (process.platform === 'darwin') return ['/System/Library/Frameworks/Accelerate.framework/Accelerate'];
  if (process.platform === 'win32') return ['libopenblas.dll'];
  return ['libopenblas.so.0', 'libopenblas.so'];
}

interface KoffiLib {
  func(signature: string): (...args: unknown[]) => unknown;
}
interface Koffi {
  load(path: string): KoffiLib;
}

/**
 * The BLAS to use: `wanted` a path (must load: a clear error otherwise), null for none, undefined to search.
 * Resolves to null where none is found or koffi cannot load (a platform without its native module).
 */
export async function loadCblas(wanted: string | null | undefined): Promise<Cblas | null> {
  if (wanted === null || typeof process === 'undefined' || !process.versions?.node) return null;
  let koffi: Koffi;
  try {
    // A computed name: bundlers for the browser must not try to resolve the native module.
    const name = 'koffi';
    const mod = (await import(/* @vite-ignore */ name)) as { default?: Koffi } & Koffi;
    koffi = mod.default ?? mod;
  } catch (e) {
    if (wanted !== undefined) throw new BackendError(`SIFT_BLAS=${wanted}: the koffi FFI module could not be loaded (${(e as Error).message})`);
    return null;
  }
  // OpenBLAS's threads spin for a while after each product before they sleep (2^28 cycles by default), on the cores
  // where our worker threads then run the row kernels: softmax, gelu and the norms ran at half speed after every
  // matmul of a GPT-2 step. 2^4 cycles lets them sleep at once (read when the library loads; a user's value stands).
  process.env.OPENBLAS_THREAD_TIMEOUT ??= '4';
  for (const path of wanted !== undefined ? [wanted] : candidates()) {
    let lib: KoffiLib;
    try {
      lib = koffi.load(path);
    } catch (e) {
      if (wanted !== undefined) throw new BackendError(`SIFT_BLAS=${wanted}: cannot load it (${(e as Error).message.split('\n')[0]})`);
      continue;
    }
    return bind(lib, path, wanted !== undefined, await koffiFile());
  }
  return null;
}

/** koffi's CommonJS entry as `require` resolves it from here, or null (a bundle that moved it, say). */
async function koffiFile(): Promise<string | null> {
  try {
    const name = 'node:module';
    const { createRequire } = (await import(/* @vite-ignore */ name)) as typeof import('node:module');
    return createRequire(import.meta.url).resolve('koffi');
  } catch {
    return null;
  }
}

/** The BLAS's thread count as last set: one library per process, shared by every backend that uses it. */
let blasThreads = 0;

function bind(lib: KoffiLib, path: string, named: boolean, koffi: string | null): Cblas | null {
  const optional = (signature: string) => {
    try {
      return lib.func(signature);
    } catch {
      return null;
    }
  };
  const sgemm = optional(
    'void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, void *a, int lda, void *b, int ldb, float beta, void *c, int ldc)',
  ) as Gemm | null;
  const dgemm = optional(
    'void cblas_dgemm(int order, int transA, int transB, int m, int n, int k, double alpha, void *a, int lda, void *b, int ldb, double beta, void *c, int ldc)',
  ) as Gemm | null;
  if (!sgemm || !dgemm) {
    if (named) throw new BackendError(`SIFT_BLAS=${path}: the library has no cblas_sgemm / cblas_dgemm`);
    return null;
  }
  const config = optional('const char *openblas_get_config()') as (() => string) | null;
  const setNum = optional('void openblas_set_num_threads(int n)') as ((n: number) => void) | null;
  return {
    name: config ? config().trim() : path.split('/').pop()!,
    path,
    gemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc) {
      const f = a instanceof Float64Array ? dgemm : sgemm;
      f(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, 1, a, lda, b, ldb, 0, c, ldc);
    },
    setThreads(n) {
      if (setNum && n !== blasThreads) {
        setNum(n);
        blasThreads = n;
      }
    },
    // Only where the thread count can be set: concurrent calls must each run on their caller's thread alone.
    forWorkers: koffi && setNum ? { koffi, path } : null,
  };
}
