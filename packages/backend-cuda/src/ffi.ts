import { createRequire } from 'node:module';

/**
 * Typed FFI declarations of the CUDA driver API, NVRTC and cuBLAS through koffi. Nothing here runs at import:
 * koffi itself is required on first use (so a platform without its native module still imports this package),
 * and each library is bound only when `bindDriver` / `bindNvrtc` / `bindCublas` is called with a found path.
 *
 * Every prototype is written in the headers' own types (CUresult, CUdeviceptr, …) so the test suite can check
 * the driver's against the local cuda.h (test/ffi-signatures.test.ts); koffi maps those names through the
 * aliases below. Device pointers are `bigint` (CUdeviceptr is a 64-bit integer; cuBLAS's `float *` device
 * arguments are declared as CUdeviceptr too, which is the same 64-bit register in the x86-64 ABI).
 */

// ------------------------------------------------------------------------------------------------ koffi

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Koffi = any;
let koffiModule: Koffi | null = null;

/** koffi, required lazily; throws a clear error where its native module cannot load. */
export function koffi(): Koffi {
  if (koffiModule) return koffiModule;
  try {
    koffiModule = createRequire(import.meta.url)('koffi');
  } catch (e) {
    throw new Error(`CUDA backend: the koffi FFI module could not be loaded (${(e as Error).message})`);
  }
  defineTypes(koffiModule);
  return koffiModule;
}

let typesDefined = false;
function defineTypes(k: Koffi): void {
  if (typesDefined) return;
  typesDefined = true;
  for (const [name, type] of Object.entries({
    CUresult: 'int',
    CUdevice: 'int',
    CUdevice_attribute: 'int',
    CUdeviceptr: 'uint64_t',
    CUjit_option: 'int',
    nvrtcResult: 'int',
    cublasStatus_t: 'int',
    cublasOperation_t: 'int',
    cublasMath_t: 'int',
    cudaDataType: 'int',
    cublasComputeType_t: 'int',
    cublasGemmAlgo_t: 'int',
  })) {
    k.alias(name, type);
  }
  for (const [name, opaque] of Object.entries({
    CUcontext: 'CUctx_st',
    CUmodule: 'CUmod_st',
    CUfunction: 'CUfunc_st',
    CUstream: 'CUstream_st',
    CUevent: 'CUevent_st',
    nvrtcProgram: '_nvrtcProgram',
    cublasHandle_t: 'cublasContext',
  })) {
    k.pointer(name, k.opaque(opaque));
  }
  // cuBLAS names the driver's stream type after the runtime's.
  k.alias('cudaStream_t', 'CUstream');
}

// ------------------------------------------------------------------------------------------------ prototypes

/** The driver API, by symbol (the `_v2` entry points the cuda.h macros resolve to). */
export const DRIVER_PROTOTYPES = {
  cuInit: 'CUresult cuInit(unsigned int Flags)',
  cuDriverGetVersion: 'CUresult cuDriverGetVersion(_Out_ int *driverVersion)',
  cuGetErrorName: 'CUresult cuGetErrorName(CUresult error, _Out_ const char **pStr)',
  cuGetErrorString: 'CUresult cuGetErrorString(CUresult error, _Out_ const char **pStr)',
  cuDeviceGetCount: 'CUresult cuDeviceGetCount(_Out_ int *count)',
  cuDeviceGet: 'CUresult cuDeviceGet(_Out_ CUdevice *device, int ordinal)',
  cuDeviceGetName: 'CUresult cuDeviceGetName(_Out_ char *name, int len, CUdevice dev)',
  cuDeviceGetAttribute: 'CUresult cuDeviceGetAttribute(_Out_ int *pi, CUdevice_attribute attrib, CUdevice dev)',
  cuDeviceTotalMem_v2: 'CUresult cuDeviceTotalMem_v2(_Out_ size_t *bytes, CUdevice dev)',
  cuDevicePrimaryCtxRetain: 'CUresult cuDevicePrimaryCtxRetain(_Out_ CUcontext *pctx, CUdevice dev)',
  cuDevicePrimaryCtxRelease_v2: 'CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev)',
  cuCtxSetCurrent: 'CUresult cuCtxSetCurrent(CUcontext ctx)',
  cuCtxSynchronize: 'CUresult cuCtxSynchronize()',
  cuMemGetInfo_v2: 'CUresult cuMemGetInfo_v2(_Out_ size_t *free, _Out_ size_t *total)',
  cuMemAlloc_v2: 'CUresult cuMemAlloc_v2(_Out_ CUdeviceptr *dptr, size_t bytesize)',
  cuMemFree_v2: 'CUresult cuMemFree_v2(CUdeviceptr dptr)',
  cuMemHostAlloc: 'CUresult cuMemHostAlloc(_Out_ void **pp, size_t bytesize, unsigned int Flags)',
  cuMemFreeHost: 'CUresult cuMemFreeHost(void *p)',
  cuMemcpyHtoDAsync_v2: 'CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dstDevice, const void *srcHost, size_t ByteCount, CUstream hStream)',
  cuMemcpyDtoHAsync_v2: 'CUresult cuMemcpyDtoHAsync_v2(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream)',
  cuMemcpyDtoDAsync_v2: 'CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dstDevice, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream)',
  cuMemsetD8Async: 'CUresult cuMemsetD8Async(CUdeviceptr dstDevice, unsigned char uc, size_t N, CUstream hStream)',
  cuModuleLoadData: 'CUresult cuModuleLoadData(_Out_ CUmodule *module, const void *image)',
  cuModuleUnload: 'CUresult cuModuleUnload(CUmodule hmod)',
  cuModuleGetFunction: 'CUresult cuModuleGetFunction(_Out_ CUfunction *hfunc, CUmodule hmod, const char *name)',
  cuLaunchKernel:
    'CUresult cuLaunchKernel(CUfunction f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ, unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ, unsigned int sharedMemBytes, CUstream hStream, void **kernelParams, void **extra)',
  cuStreamCreate: 'CUresult cuStreamCreate(_Out_ CUstream *phStream, unsigned int Flags)',
  cuStreamSynchronize: 'CUresult cuStreamSynchronize(CUstream hStream)',
  cuStreamDestroy_v2: 'CUresult cuStreamDestroy_v2(CUstream hStream)',
  cuEventCreate: 'CUresult cuEventCreate(_Out_ CUevent *phEvent, unsigned int Flags)',
  cuEventRecord: 'CUresult cuEventRecord(CUevent hEvent, CUstream hStream)',
  cuEventQuery: 'CUresult cuEventQuery(CUevent hEvent)',
  cuEventSynchronize: 'CUresult cuEventSynchronize(CUevent hEvent)',
  cuEventElapsedTime_v2: 'CUresult cuEventElapsedTime_v2(_Out_ float *pMilliseconds, CUevent hStart, CUevent hEnd)',
  cuEventDestroy_v2: 'CUresult cuEventDestroy_v2(CUevent hEvent)',
} as const;

export const NVRTC_PROTOTYPES = {
  nvrtcVersion: 'nvrtcResult nvrtcVersion(_Out_ int *major, _Out_ int *minor)',
  nvrtcGetErrorString: 'const char *nvrtcGetErrorString(nvrtcResult result)',
  nvrtcCreateProgram:
    'nvrtcResult nvrtcCreateProgram(_Out_ nvrtcProgram *prog, const char *src, const char *name, int numHeaders, const char **headers, const char **includeNames)',
  nvrtcCompileProgram: 'nvrtcResult nvrtcCompileProgram(nvrtcProgram prog, int numOptions, const char **options)',
  nvrtcGetPTXSize: 'nvrtcResult nvrtcGetPTXSize(nvrtcProgram prog, _Out_ size_t *ptxSizeRet)',
  nvrtcGetPTX: 'nvrtcResult nvrtcGetPTX(nvrtcProgram prog, _Out_ char *ptx)',
  nvrtcGetCUBINSize: 'nvrtcResult nvrtcGetCUBINSize(nvrtcProgram prog, _Out_ size_t *cubinSizeRet)',
  nvrtcGetCUBIN: 'nvrtcResult nvrtcGetCUBIN(nvrtcProgram prog, _Out_ char *cubin)',
  nvrtcGetProgramLogSize: 'nvrtcResult nvrtcGetProgramLogSize(nvrtcProgram prog, _Out_ size_t *logSizeRet)',
  nvrtcGetProgramLog: 'nvrtcResult nvrtcGetProgramLog(nvrtcProgram prog, _Out_ char *log)',
  nvrtcDestroyProgram: 'nvrtcResult nvrtcDestroyProgram(_Inout_ nvrtcProgram *prog)',
} as const;

export const CUBLAS_PROTOTYPES = {
  cublasCreate_v2: 'cublasStatus_t cublasCreate_v2(_Out_ cublasHandle_t *handle)',
  cublasDestroy_v2: 'cublasStatus_t cublasDestroy_v2(cublasHandle_t handle)',
  cublasSetStream_v2: 'cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t streamId)',
  cublasSetMathMode: 'cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode)',
  cublasSgemmStridedBatched:
    'cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k, const float *alpha, CUdeviceptr A, int lda, long long strideA, CUdeviceptr B, int ldb, long long strideB, const float *beta, CUdeviceptr C, int ldc, long long strideC, int batchCount)',
  cublasDgemmStridedBatched:
    'cublasStatus_t cublasDgemmStridedBatched(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k, const double *alpha, CUdeviceptr A, int lda, long long strideA, CUdeviceptr B, int ldb, long long strideB, const double *beta, CUdeviceptr C, int ldc, long long strideC, int batchCount)',
  cublasGemmStridedBatchedEx:
    'cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k, const void *alpha, CUdeviceptr A, cudaDataType Atype, int lda, long long strideA, CUdeviceptr B, cudaDataType Btype, int ldb, long long strideB, const void *beta, CUdeviceptr C, cudaDataType Ctype, int ldc, long long strideC, int batchCount, cublasComputeType_t computeType, cublasGemmAlgo_t algo)',
} as const;

// ------------------------------------------------------------------------------------------------ constants

export const CUDA_SUCCESS = 0;
export const CUDA_ERROR_OUT_OF_MEMORY = 2;
export const CUDA_ERROR_NOT_READY = 600;
export const CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
export const CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
export const CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
export const CU_STREAM_NON_BLOCKING = 1;
export const CU_EVENT_DISABLE_TIMING = 2;
export const CU_MEMHOSTALLOC_PORTABLE = 1;
export const CUBLAS_OP_N = 0;
export const CUBLAS_OP_T = 1;
export const CUBLAS_DEFAULT_MATH = 0;
export const CUBLAS_TF32_TENSOR_OP_MATH = 3;
/** cudaDataType (library_types.h; the values are checked against the header in test/ffi-signatures.test.ts). */
export const CUDA_R_32F = 0;
export const CUDA_R_64F = 1;
export const CUDA_R_16F = 2;
export const CUDA_R_16BF = 14;
export const CUBLAS_COMPUTE_32F = 68;
export const CUBLAS_COMPUTE_32F_FAST_TF32 = 77;
export const CUBLAS_COMPUTE_64F = 70;
export const CUBLAS_GEMM_DEFAULT = -1;

const CUBLAS_STATUS: Record<number, string> = {
  1: 'CUBLAS_STATUS_NOT_INITIALIZED',
  3: 'CUBLAS_STATUS_ALLOC_FAILED',
  7: 'CUBLAS_STATUS_INVALID_VALUE',
  8: 'CUBLAS_STATUS_ARCH_MISMATCH',
  11: 'CUBLAS_STATUS_MAPPING_ERROR',
  13: 'CUBLAS_STATUS_EXECUTION_FAILED',
  14: 'CUBLAS_STATUS_INTERNAL_ERROR',
  15: 'CUBLAS_STATUS_NOT_SUPPORTED',
  16: 'CUBLAS_STATUS_LICENSE_ERROR',
};

const NVRTC_STATUS: Record<number, string> = {
  1: 'NVRTC_ERROR_OUT_OF_MEMORY',
  2: 'NVRTC_ERROR_PROGRAM_CREATION_FAILURE',
  3: 'NVRTC_ERROR_INVALID_INPUT',
  4: 'NVRTC_ERROR_INVALID_PROGRAM',
  5: 'NVRTC_ERROR_INVALID_OPTION',
  6: 'NVRTC_ERROR_COMPILATION',
  7: 'NVRTC_ERROR_BUILTIN_OPERATION_FAILURE',
};

// ------------------------------------------------------------------------------------------------ errors

/** A CUDA, NVRTC or cuBLAS call returned an error code. */
export class CudaError extends Error {
  constructor(
    readonly call: string,
    readonly code: number,
    readonly codeName: string,
    detail?: string,
  ) {
    super(`${call} failed: ${codeName} (${code})${detail ? `: ${detail}` : ''}`);
    this.name = 'CudaError';
  }
}

/** The driver error's name and description (cuGetErrorName / cuGetErrorString where the driver is bound). */
export function driverErrorText(d: Pick<DriverApi, 'cuGetErrorName' | 'cuGetErrorString'> | null, code: number): [string, string | undefined] {
  if (!d) return [`CUresult ${code}`, undefined];
  const name: [string | null] = [null];
  const text: [string | null] = [null];
  try {
    d.cuGetErrorName(code, name);
    d.cuGetErrorString(code, text);
  } catch {
    /* keep the number */
  }
  return [name[0] ?? `CUresult ${code}`, text[0] ?? undefined];
}

export function statusName(lib: 'nvrtc' | 'cublas', code: number): string {
  return (lib === 'nvrtc' ? NVRTC_STATUS : CUBLAS_STATUS)[code] ?? `${lib} status ${code}`;
}

// ------------------------------------------------------------------------------------------------ bound APIs

/** A bound C function: koffi converts arguments; out-parameters are one-element arrays it fills. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type CFn = (...args: any[]) => any;

export type DriverApi = { [K in keyof typeof DRIVER_PROTOTYPES]: CFn };
export type NvrtcApi = { [K in keyof typeof NVRTC_PROTOTYPES]: CFn };
export type CublasApi = { [K in keyof typeof CUBLAS_PROTOTYPES]: CFn };

function bind<P extends Record<string, string>>(path: string, prototypes: P, global: boolean, optional: readonly string[] = []): { [K in keyof P]: CFn } {
  const k = koffi();
  const lib = k.load(path, { global });
  const out: Record<string, CFn> = {};
  for (const [name, proto] of Object.entries(prototypes)) {
    try {
      out[name] = lib.func(proto);
    } catch (e) {
      if (!optional.includes(name)) throw new Error(`${path}: symbol ${name} could not be bound (${(e as Error).message})`);
      out[name] = () => {
        throw new Error(`${name} is not exported by ${path}`);
      };
    }
  }
  return out as { [K in keyof P]: CFn };
}

export function bindDriver(path: string): DriverApi {
  // cuEventElapsedTime_v2 appeared in CUDA 12.8; older drivers still run everything else.
  return bind(path, DRIVER_PROTOTYPES, false, ['cuEventElapsedTime_v2']);
}

export function bindNvrtc(path: string): NvrtcApi {
  return bind(path, NVRTC_PROTOTYPES, false, ['nvrtcGetCUBINSize', 'nvrtcGetCUBIN']);
}

/** cuBLASLt first and global, so libcublas finds it whatever its RPATH says. */
export function bindCublas(path: string, ltPath: string | null): CublasApi {
  if (ltPath) koffi().load(ltPath, { global: true });
  return bind(path, CUBLAS_PROTOTYPES, false);
}

/** Throws a CudaError naming the call unless the driver returned CUDA_SUCCESS. */
export function checkDriver(d: DriverApi | null, call: string, code: number): void {
  if (code === CUDA_SUCCESS) return;
  const [name, text] = driverErrorText(d, code);
  throw new CudaError(call, code, name, text);
}

export function checkNvrtc(call: string, code: number, detail?: string): void {
  if (code !== 0) throw new CudaError(call, code, statusName('nvrtc', code), detail);
}

export function checkCublas(call: string, code: number): void {
  if (code !== 0) throw new CudaError(call, code, statusName('cublas', code));
}
