import { type Backend, DTypeError, registerBackend, setBackend, tensor } from '@siftjs/tensor';

/**
 * The backends the shared suites run on (default: cpu and cpu-ts; the parity suite also on cpu-wasm and cpu-primitives, see vitest.config.ts). `SIFT_BACKENDS=cpu,webgpu` (or `cuda`) picks them; each entry imports its package
 * (which registers it) and starts it. A suite written once runs unchanged on every backend listed here.
 *
 * Each backend also says what it can do (`BackendCaps`): a backend without float64 runs every float64 check in float32 at
 * float32 tolerances, against the same float64 reference; a backend without synchronous reads is read through
 * `await t.toArray()` (tests/support/read.ts). On cpu and cpu-ts every check stays float64 and as strict as before.
 *
 * `cpu-f32` is the CPU backend restricted to what WebGPU offers (no float64, asynchronous reads only): the float32 / async
 * path of the suites without a GPU, so a failure there is the test's path or the library above the kernels, not a device.
 *
 * Status (2026-12-02, HEAD e9584ef plus the working tree's nn/sift-optimizer/models fixes then uncommitted; adapter chosen
 * with SIFT_WEBGPU_ADAPTER). Not one failure is "not implemented on webgpu yet" any more (every kernel exists since 0cb2447).
 *
 *   suite    cpu,cpu-ts   cpu-f32      webgpu, OpenGL ES (llvmpipe)   webgpu, SwiftShader (Vulkan)
 *   parity   298/298      148/148      148/148   (~29 s)              147/148 (~37 s)
 *   nn        48/48        24/24        23/24    (~21 s)               23/24  (~33 s)
 *   sift      54/54        26/27        26/27    (~31 s)               26/27  (~67 s)
 *   models    92/92        53/53        53/53    (~75 s)               52/53  (~200 s)
 *
 * The failures, each for one reason:
 * - sift/delta "mergeInto writes a plain checkpoint…" (cpu-f32 and webgpu): mergeInto (sift-optimizer/src/merge.ts) loads
 *   and saves through the current backend with the synchronous saveSafetensors; it has no async form. Library, not device.
 * - nn/module "a mismatched state dict…" (webgpu): a WebGPU bug. copyInto whose source and destination share one GPU
 *   buffer (w.copy_(w), or w.narrow(0,0,2).copy_(w.narrow(0,2,2)) on a float32 [4]) binds the buffer read-write and
 *   read-only in one dispatch, which WebGPU rejects ("usage (Storage(read-write)|Storage(read-only)) includes writable
 *   usage and another usage in the same synchronization scope"). loadStateDict(m.stateDict()) copies each parameter into
 *   itself and hits it. The CPU gives [1,2,3,4] and [3,4,3,4].
 * - parity/compare "logical and / or / not and isnan…" (SwiftShader only): log(x) for x < 0 is log|x| (log(-5) =
 *   1.609), log(±0) = -88.03 (not -inf), log(-inf) = 88.72, log(NaN) = 89.13; the CPU (and llvmpipe) give NaN, -inf, NaN,
 *   NaN. WGSL leaves log's out-of-domain result undefined, so the kernel has to select NaN / -inf itself. Other
 *   special-value differences from the CPU, outside the suites' inputs — on both adapters: tanh(NaN) = -1,
 *   sin/cos(3e38) = NaN, pow(-inf, 0.5) = NaN, int32 cast of inf / -inf / 3e38 = 2147483520 / -2147483648 / 2147483520
 *   (CPU: 0); on SwiftShader also exp(NaN) = inf and float32 subnormals flushed to zero (see `subnormals`).
 * - models/gpt2 "learns: … 200 steps" (SwiftShader only): runs past the 60 s test timeout (~1–2 s a step there; its losses
 *   match the CPU's to 6 digits over the first steps). A speed limit of the software adapter, not a wrong result.
 */
export interface BackendCaps {
  /** float64 tensors exist (else every float64 check runs in float32, at float32 tolerances). */
  float64: boolean;
  /** `toArraySync` / `itemSync` work (else only `await toArray()`; errors found on the device, such as an
   *  out-of-range index, surface at the next read). */
  syncReads: boolean;
  /** randn gives the CPU's Philox normals bit for bit (Box–Muller in float64, rounded once). WebGPU evaluates them
   *  in float32 and documents a few ulps (packages/backend-webgpu/src/kernels/random.ts); uniforms are exact everywhere. */
  exactNormals: boolean;
  /** float32 subnormals survive arithmetic and comparisons. WGSL lets a device flush them to zero (SwiftShader does:
   *  1e-45 > 0 is false there; llvmpipe keeps them), so this is measured when the backend starts, and float32 test
   *  inputs are flushed first where they would not survive. */
  subnormals: boolean;
  /** float16 and bfloat16 tensors exist (the CPU, WebGPU, CUDA). Elsewhere a half storage is refused with a
   *  DTypeNotImplementedError until that backend's half storage is written, and the half suites check that instead. */
  half: boolean;
  /** Every kernel takes float16 / bfloat16 operands (widened to f32, rounded once on store), so the half op suites
   *  (tests/parity/half-*.test.ts) run there: the CPU, WebGPU, CUDA where a GPU is. */
  halfKernels: boolean;
  /** The contract's optional fused kernels exist (softmax, the norms and their backwards, topkAbs, the AdamW steps,
   *  sampledMatmul): all but cpu-primitives, whose ops run the fallbacks from primitives. Suites that call a fused
   *  kernel directly run only where this is true. */
  fusedKernels: boolean;
}

export interface BackendUnderTest extends BackendCaps {
  name: string;
  start(): Promise<void>;
}

interface Known extends Omit<BackendCaps, 'subnormals' | 'half' | 'halfKernels' | 'fusedKernels'> {
  /** Default true. */
  half?: boolean;
  /** Default true. */
  halfKernels?: boolean;
  /** Default true. */
  fusedKernels?: boolean;
  load(): Promise<unknown>;
}

const known: Record<string, Known> = {
  cpu: { float64: true, syncReads: true, exactNormals: true, load: () => import('@siftjs/backend-cpu') },
  // The CPU backend with its TypeScript kernels only: the fallback where WebAssembly SIMD is missing.
  'cpu-ts': {
    float64: true,
    syncReads: true,
    exactNormals: true,
    async load() {
      const { CpuBackend } = await import('@siftjs/backend-cpu');
      registerBackend('cpu-ts', () => new CpuBackend({ simd: false, blas: false }));
    },
  },
  // The CPU backend with WebAssembly kernels only: `cpu` uses the platform's BLAS for matmul where one is found
  // (OpenBLAS, SIFT_BLAS), so this keeps the WebAssembly matmul under the same suites.
  'cpu-wasm': {
    float64: true,
    syncReads: true,
    exactNormals: true,
    async load() {
      const { CpuBackend } = await import('@siftjs/backend-cpu');
      registerBackend('cpu-wasm', () => new CpuBackend({ blas: false }));
    },
  },
  // The CPU backend as WebGPU sees the world: no float64, no synchronous reads.
  'cpu-f32': {
    float64: false,
    syncReads: false,
    exactNormals: true,
    async load() {
      const { CpuBackend } = await import('@siftjs/backend-cpu');
      registerBackend('cpu-f32', () => withoutFloat64OrSyncReads(new CpuBackend()));
    },
  },
  // The CPU backend with only the contract's primitives: every fused kernel (softmax, the norms, topkAbs, the AdamW
  // steps, sampledMatmul) hidden, so the ops run their references from primitives (packages/tensor/src/fallbacks).
  // A new backend that implements only the primitives is this; the parity suite on it is the issue-18 proof.
  'cpu-primitives': {
    fusedKernels: false,
    float64: true,
    syncReads: true,
    exactNormals: true,
    async load() {
      const [{ CpuBackend }, { primitivesOnly }] = await Promise.all([import('@siftjs/backend-cpu'), import('./primitives-only.js')]);
      registerBackend('cpu-primitives', () => primitivesOnly(new CpuBackend(), 'cpu-primitives'));
    },
  },
  // WebGPU (Dawn in Node; every kernel of the Backend list since 0cb2447).
  // Half storage packed two to a 32-bit word, every kernel widening to f32 (packages/backend-webgpu/src/wgsl/half.ts).
  webgpu: { float64: false, syncReads: false, exactNormals: false, half: true, halfKernels: true, load: () => import('@siftjs/backend-webgpu') },
  // CUDA (driver API + NVRTC + cuBLAS through koffi). Importing the package registers 'cuda' where libcuda, NVRTC,
  // cuBLAS and a device are found; elsewhere `setBackend('cuda')` throws one BackendError naming what is missing.
  // Reads are asynchronous only; normals are Box–Muller in double on the device, whose log/sin/cos may differ from
  // V8's in the last bit, so they are not promised bit for bit. Halves are 16-bit patterns there, every kernel
  // widening to float (packages/backend-cuda/src/kernels/half.cu.ts) — compiled and host-tested, not yet run on a GPU.
  cuda: { float64: true, syncReads: false, exactNormals: false, half: true, halfKernels: true, load: () => import('@siftjs/backend-cuda') },
};

/** The backend whose suite is running: set by `start()`, which each describe block's beforeAll calls. */
let active: BackendUnderTest | null = null;

export function backendsUnderTest(): BackendUnderTest[] {
  const names = (process.env.SIFT_BACKENDS ?? 'cpu,cpu-ts').split(',').map((s) => s.trim()).filter(Boolean);
  return names.map((name) => {
    const entry = known[name];
    const b: BackendUnderTest = {
      name,
      float64: entry?.float64 ?? true,
      syncReads: entry?.syncReads ?? true,
      exactNormals: entry?.exactNormals ?? true,
      subnormals: true,
      half: entry?.half ?? true,
      halfKernels: entry?.halfKernels ?? true,
      fusedKernels: entry?.fusedKernels ?? true,
      async start() {
        if (!entry) throw new Error(`SIFT_BACKENDS names '${name}', which the test suite does not know`);
        await entry.load();
        await setBackend(name);
        b.subnormals = await keepsSubnormals();
        active = b;
      },
    };
    return b;
  });
}

/** Whether the smallest float32 subnormal compares greater than zero on the current backend. */
async function keepsSubnormals(): Promise<boolean> {
  const x = tensor(new Float32Array([2 ** -149]));
  const gt = x.gt(0);
  const [kept] = await gt.toArray();
  x.dispose();
  gt.dispose();
  return kept === 1;
}

/** What the running backend can do; outside a suite (no backend started through here), the CPU's answer. */
export function caps(): BackendCaps {
  return active ?? { float64: true, syncReads: true, exactNormals: true, subnormals: true, half: true, halfKernels: true, fusedKernels: true };
}

/**
 * The synchronous form of an API (saveSafetensors, savePretrained…) where the backend reads synchronously — the CPU,
 * which keeps covering it — and its async form (saveSafetensorsAsync…) where reads are asynchronous.
 */
export async function syncOrAsync<T>(syncForm: () => T, asyncForm: () => Promise<T>): Promise<T> {
  return caps().syncReads ? syncForm() : asyncForm();
}

/** The widest float the running backend has: float64 on the CPU, float32 on WebGPU. */
export function floatDtype(c: BackendCaps = caps()): 'float32' | 'float64' {
  return c.float64 ? 'float64' : 'float32';
}

/** The float dtypes a test that covers "float32 and float64" runs in (pass the suite's backend to name tests by them). */
export function floatDtypes(c: BackendCaps = caps()): ('float32' | 'float64')[] {
  return c.float64 ? ['float32', 'float64'] : ['float32'];
}

/**
 * A backend that refuses float64 (as WebGPU does, with a DTypeError naming the kernel) and has no readSync. Every kernel
 * call is checked: a dtype argument or a View argument of float64 is refused.
 */
function withoutFloat64OrSyncReads(inner: Backend): Backend {
  const isF64 = (a: unknown): boolean =>
    a === 'float64' || (typeof a === 'object' && a !== null && 'dtype' in a && 'strides' in a && (a as { dtype: unknown }).dtype === 'float64');
  return new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'readSync') return undefined;
      if (key === 'name') return 'cpu-f32';
      const v = Reflect.get(target, key, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (args.some(isF64)) throw new DTypeError(`cpu-f32 ${String(key)}: float64 is not supported here (emulating WebGPU); use float32`);
        return v.apply(target, args);
      };
    },
  });
}
