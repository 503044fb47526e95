import type { RowModules, WasmKernels } from '../runtime/tiers.js';

/**
 * Jobs of the WebAssembly row and elementwise kernels split over the thread pool. A job is `total` items (rows,
 * or elements for the elementwise kernels) cut into chunks whose size depends on the job alone, never on the
 * thread count; every item's result depends only on its own inputs, so the output is bitwise the same whichever
 * thread computes which chunk, and the same as one call over all items. The jobs that sum across items — the
 * norms' weight and bias gradients, a long sum (kernels/reduce.ts) — sum each chunk into a partial of its own, and
 * the partials are added in chunk order afterwards: the same order whatever the thread count.
 *
 * Each job is written beside its kernel (kernels/<method>.ts) and runs items [r0, r1) with arguments `a` (heap
 * byte offsets and scalars, listed there). Jobs are self-contained: workers are built from their source text.
 */
export type RowJob = (k: WasmKernels, a: Float64Array, r0: number, r1: number) => void;

/** What workers need to run row jobs: the kernels' modules and the jobs themselves (built from their source). */
export interface RowWork {
  modules: RowModules;
  jobs: readonly RowJob[];
}
