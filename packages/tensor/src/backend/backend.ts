import type { DType, TypedArray } from '../dtype.js';

/**
 * The seam between the op library and a device. A backend is storage, the primitives every backend must have, and
 * optional fused kernels; every op, gradient and model above is written once in terms of this list, so a new backend
 * is the required methods of this interface, and the shared parity suite (tests/parity) proves it.
 *
 * - Primitives (required): layout (fill, copy, copyInto, cast), elementwise (unary, binary, where), reductions
 *   (reduce, argReduce), matmul, indexing (gatherRows, scatterAddRows, gatherFlat, scatterFlat), random.
 * - Fused kernels (optional, `?`): each is one op's work in one pass (softmax, the norms, top-k, the optimizer
 *   steps). Where a backend leaves one out, the op in @siftjs/tensor runs its reference composed from the
 *   primitives, `src/fallbacks/<method>.ts`, to the same numerics (computed in the widest float the backend has and
 *   rounded once). `sampledMatmul` has no kernel-level fallback: without it, the matmul op computes the dense
 *   weight gradient, which is cheaper than any composition of the sampled one.
 *
 * Conventions, for every kernel:
 * - Inputs are `View`s: any strides (0 for broadcast dims, permuted for transposes) and an element offset.
 * - Outputs are fresh, contiguous, row-major storages owned by the caller (it frees them), unless the kernel
 *   is documented as in place.
 * - Kernels are dispatched synchronously and may run later; only `read` waits.
 */
export interface Backend {
  readonly name: string;
  info(): BackendInfo;
  /** Optional asynchronous start-up (an adapter, a context, worker threads); setBackend awaits it. */
  init?(): Promise<void>;

  // ---- storage ----
  /** A zero-filled storage of `size` elements. */
  alloc(dtype: DType, size: number): BackendStorage;
  upload(dtype: DType, data: TypedArray): BackendStorage;
  read(storage: BackendStorage, dtype: DType, size: number): Promise<TypedArray>;
  /** Only where the device can answer without waiting (the CPU). */
  readSync?(storage: BackendStorage, dtype: DType, size: number): TypedArray;
  free(storage: BackendStorage): void;
  memoryStats(): BackendMemoryStats;
  /** Restarts peak tracking from the bytes in use now (to measure the peak of one phase). */
  resetPeak?(): void;

  // ---- layout ----
  fill(dtype: DType, size: number, value: number): BackendStorage;
  /** A contiguous copy of a strided view. */
  copy(x: View): BackendStorage;
  /** In place: writes `src` (same shape and dtype) into the strided view `dst` of an existing storage. */
  copyInto(dst: View, src: View): void;
  cast(x: View, dtype: DType): BackendStorage;

  // ---- elementwise ----
  /** Same dtype out as in, except `not` (→ bool) and `isnan` (→ bool). */
  unary(op: UnaryOp, x: View): BackendStorage;
  /** `a` and `b` have the same shape (broadcasting is done by the caller with 0 strides) and dtype. Comparisons
   *  and logical ops produce `bool`; the others produce the inputs' dtype. */
  binary(op: BinaryOp, a: View, b: View): BackendStorage;
  /** `cond` is bool; `a`, `b` share a dtype; all three share a shape. */
  where(cond: View, a: View, b: View): BackendStorage;

  // ---- reductions ----
  /** Reduces over `axes` (sorted, non-empty); output has the input's rank with those dims set to 1. Sums of
   *  int32/bool give int32. */
  reduce(op: ReduceOp, x: View, axes: readonly number[]): BackendStorage;
  /** Index (int32) of the first max/min along `axis`; output keeps that dim as 1. */
  argReduce(op: 'argmax' | 'argmin', x: View, axis: number): BackendStorage;

  // ---- linear algebra ----
  /** a: [...batch, M, K], b: [...batch, K, N] with identical batch dims (broadcast by the caller through
   *  0 strides); out: [...batch, M, N]. Transposed operands arrive as permuted strides. Float dtypes only, the same
   *  for both, except that either operand may be float16 / bfloat16 where the other is float32 (a half weight in a
   *  float32 product; also float16 with bfloat16): the half values are read as float32, the product accumulates in
   *  float32 and out is float32. Two operands of one half dtype give that dtype. */
  matmul(a: View, b: View): BackendStorage;

  // ---- indexing ----
  /** out[i, :] = table[ids[i], :] for a [V, D] table and int32 ids; out is [ids.size, D]. */
  gatherRows(table: View, ids: View): BackendStorage;
  /** A zero [rows, D] storage with src[i, :] added into row ids[i] (the embedding backward). */
  scatterAddRows(rows: number, ids: View, src: View): BackendStorage;
  /** out[i] = x.flat[idx[i]] (x in row-major element order of its view). */
  gatherFlat(x: View, idx: View): BackendStorage;
  /** In place on a contiguous storage: dst[idx[i]] = src[i] ('set') or += src[i] ('add'). */
  scatterFlat(dst: BackendStorage, dtype: DType, idx: View, src: View, mode: 'set' | 'add'): void;

  // ---- random (Philox 4x32-10; the stream layout is in random/philox.ts and every backend matches it) ----
  random(kind: 'uniform' | 'normal', dtype: DType, size: number, seed: readonly [number, number], offset: number): BackendStorage;

  // ---- fused kernels (optional; fallbacks in @siftjs/tensor src/fallbacks/<method>.ts) ----
  // rows: contiguous input, viewed as [rows, cols] over the last dim(s)
  softmax?(x: View, cols: number, log: boolean): BackendStorage;
  /** Softmax backward along rows: dx = y ⊙ (dy − Σ dy⊙y) (or for log-softmax dx = dy − exp(y) Σ dy). */
  softmaxBackward?(y: View, dy: View, cols: number, log: boolean): BackendStorage;
  /** y in x's dtype and the row statistics the backward takes, in `opmathDtype(x.dtype)` (float32 for a half x). */
  layerNorm?(x: View, weight: View | null, bias: View | null, cols: number, eps: number): NormForward;
  /**
   * Computes only the gradients `wanted` names (a frozen weight's is never computed), in x's dtype; the others
   * come back null. `stats` are the forward's, in `opmathDtype(x.dtype)`.
   */
  layerNormBackward?(dy: View, x: View, weight: View | null, stats: NormStats, cols: number, wanted: NormGradients): NormBackward;
  rmsNorm?(x: View, weight: View | null, cols: number, eps: number): NormForward;
  /** As layerNormBackward; `wanted.bias` is ignored (RMS norm has no bias) and `dbias` is null. */
  rmsNormBackward?(dy: View, x: View, weight: View | null, stats: NormStats, cols: number, wanted: NormGradients): NormBackward;

  // selection
  /** The k largest |x| (ties: lower index first; `selectTopkAbs` in host/ is the rule), by |x| descending: values
   *  (x's dtype) and flat int32 indices. */
  topkAbs?(x: View, k: number): { values: BackendStorage; indices: BackendStorage };

  // optimizer steps, in place
  /** In place AdamW on contiguous float storages of `size` elements (PyTorch's semantics). */
  adamw?(p: BackendStorage, g: BackendStorage, m: BackendStorage, v: BackendStorage, dtype: DType, size: number, h: AdamWHyper): void;
  /**
   * SIFT's step on one sparse tensor, in place (the paper's Figure 5): AdamW on the increment δ of its k chosen
   * components, then the weight written there as its pre-trained value plus the increment. For i < k:
   *   m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  δ ← δ·decay − stepSize·m / (√v / bc2 + eps);  param[idx] ← base + δ
   * With per-component step counts (`steps`, after a re-selection), each count is incremented first and the bias
   * corrections come from it: stepSize = lr / (1 − β₁ᵗ), bc2 = √(1 − β₂ᵗ). An index outside the parameter is
   * reported as the other indexing kernels report theirs.
   */
  adamwIncrement?(a: AdamWIncrementArgs): void;

  // linear algebra
  /**
   * SIFT's weight gradients without the dense product): for a [M, K], g [M, N] and int32 idx [k],
   * out[j] = Σₘ a[m, r]·g[m, c] with (r, c) = (f / N, f % N) of f = idx[j], or (f % K, f / K) when `transposed`
   * (the weight is stored [N, K]). Out is [k] in a's dtype. Without it, the matmul op computes the dense gradient
   * (no fallback file: that is cheaper than composing the sampled one). It allocates at most `sampledGradWorkspaceBytes(K, N, k, …)` (autograd/sampled-grad.ts), its result included.
   */
  sampledMatmul?(a: View, g: View, idx: View, transposed: boolean): BackendStorage;
}

/** A backend's own handle to an allocation; opaque above the seam. */
export type BackendStorage = object;

export interface View {
  readonly storage: BackendStorage;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  /** In elements. */
  readonly offset: number;
}

/**
 * A norm's per-row statistics, contiguous [rows], in `opmathDtype(x.dtype)`: x's dtype for float32 and float64,
 * float32 for a float16 / bfloat16 x (as PyTorch keeps them). The forward returns them so; the backward takes them
 * so, beside a half x and dy. Rounded to a half format, the mean of a row whose mean is large against its spread
 * would move x̂ = (x − μ)·rstd by half an ulp of μ times rstd, and the gradient with it.
 */
export interface NormStats {
  /** Per row: the mean (layer norm only). */
  mean?: BackendStorage;
  /** Per row: 1 / sqrt(var + eps) (layer norm) or 1 / sqrt(mean(x²) + eps) (RMS norm). */
  rstd: BackendStorage;
}

/** `y` in x's dtype; the statistics in `opmathDtype(x.dtype)` (NormStats). */
export interface NormForward extends NormStats {
  y: BackendStorage;
}

/**
 * Which gradients a norm backward computes: those of the inputs that require one. The op asks for nothing else,
 * so training with frozen norm parameters (SIFT, LoRA, BitFit…) spends no work or memory on their gradients.
 */
export interface NormGradients {
  /** dx */
  input: boolean;
  /** dweight; only where there is a weight */
  weight: boolean;
  /** dbias (layer norm only) */
  bias: boolean;
}

/** Each gradient is null where it was not wanted. */
export interface NormBackward {
  dx: BackendStorage | null;
  dweight: BackendStorage | null;
  dbias: BackendStorage | null;
}

/** The buffers and constants of `adamwIncrement`: every k-sized buffer in `dtype`, the parameter in its own. */
export interface AdamWIncrementArgs {
  /** The dense weight, contiguous, `paramSize` elements of `paramDtype`. */
  param: BackendStorage;
  paramDtype: DType;
  paramSize: number;
  /** int32 [k]: flat positions in `param`. */
  indices: BackendStorage;
  /** [k]: the pre-trained values at `indices` (read only). */
  base: BackendStorage;
  /** [k]: the increment, stepped in place. */
  delta: BackendStorage;
  /** [k]: the gradient of δ (read only). */
  grad: BackendStorage;
  m: BackendStorage;
  v: BackendStorage;
  /** [k] per-component step counts, incremented in place; null when every component shares `c.stepSize`/`c.bc2`. */
  steps: BackendStorage | null;
  dtype: DType;
  k: number;
  c: AdamWConstants;
}

/** AdamW's constants for one step, computed once in float64 by `adamwConstants` (ops/optim.ts) for every backend. */
export interface AdamWConstants {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay as a factor: 1 − lr·λ. */
  decay: number;
  /** 1 − β₁ and 1 − β₂, the moments' update weights. */
  oneMinusBeta1: number;
  oneMinusBeta2: number;
  /** ln β₁ and ln β₂: a device that raises β to a per-component step count computes βᵗ as exp(t·ln β). */
  logBeta1: number;
  logBeta2: number;
  /** lr / (1 − β₁ᵗ) at the shared step t (per-component counts: `adamwBiasCorrection`, ops/optim.ts). */
  stepSize: number;
  /** √(1 − β₂ᵗ) at the shared step t. */
  bc2: number;
}

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step number, for bias correction. */
  step: number;
}

export interface BackendInfo {
  name: string;
  /** What runs the kernels, in words (e.g. "TypeScript, 1 thread"). */
  description: string;
  [key: string]: unknown;
}

export interface BackendMemoryStats {
  bytesInUse: number;
  peakBytes: number;
  /** Bytes the backend holds from the system, in use or pooled. */
  bytesReserved: number;
  allocations: number;
}

export type UnaryOp =
  | 'neg'
  | 'abs'
  | 'sign'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'rsqrt'
  | 'sin'
  | 'cos'
  | 'tanh'
  | 'sigmoid'
  | 'relu'
  | 'erf'
  | 'gelu'
  | 'geluTanh'
  /** d/dx gelu(x) (erf form), for gelu's backward in one pass. */
  | 'geluGrad'
  /** d/dx gelu(x) (tanh form). */
  | 'geluTanhGrad'
  | 'silu'
  | 'square'
  | 'reciprocal'
  | 'floor'
  | 'not'
  | 'isnan';

export type BinaryOp =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'pow'
  | 'maximum'
  | 'minimum'
  | 'eq'
  | 'ne'
  | 'lt'
  | 'le'
  | 'gt'
  | 'ge'
  | 'and'
  | 'or';

export const COMPARISON_OPS: ReadonlySet<BinaryOp> = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or']);

export type ReduceOp = 'sum' | 'max' | 'min';
