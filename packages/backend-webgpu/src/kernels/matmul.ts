/**
 * Backend.matmul: the plan (matmul-plan.ts) picks the kernel (matmul.wgsl.ts); split K adds a second, summing kernel.
 * Operands are float32, float16 or bfloat16, each read in its own format (a half weight beside float32
 * activations is widened in the tile loader, never copied); the output has the operands' dtype, or float32 where
 * they differ (PyTorch's promotion), accumulated in f32 either way.
 */
import { type BackendStorage, DTypeError, ShapeError, type View, promoteTypes, sizeOf } from '@siftjs/tensor';
import { WebGpuError } from '../errors.js';
import { type GpuRuntime, shapeOf } from '../runtime.js';
import { Params } from '../wgsl/common.js';
import { matmulParams, matmulPlan } from './matmul-plan.js';
import { matmulSource, matmulVec4Source, matmulSplitSumSource } from './matmul.wgsl.js';

/** Batched `a @ b` with the kernel, tile and K split that matmulPlan picks for these operands and this device. */
export function matmul(rt: GpuRuntime, a: View, b: View): BackendStorage {
  const label = `matmul ${a.dtype} ${shapeOf(a)} @ ${b.dtype} ${shapeOf(b)}`;
  return rt.op(label, () => {
    const r = a.shape.length;
    const floats = ['float32', 'float16', 'bfloat16'];
    if (!floats.includes(a.dtype) || !floats.includes(b.dtype)) {
      throw new DTypeError(`webgpu matmul: float32, float16 or bfloat16 operands only, got ${a.dtype} ${shapeOf(a)} and ${b.dtype} ${shapeOf(b)}`);
    }
    const batchOk = b.shape.length === r && r >= 2 && a.shape.slice(0, r - 2).every((d, i) => d === b.shape[i]);
    if (!batchOk || a.shape[r - 1] !== b.shape[r - 2]) {
      throw new ShapeError(`webgpu matmul: shapes ${shapeOf(a)} and ${shapeOf(b)} do not multiply ([...batch, M, K] @ [...batch, K, N])`);
    }
    const [M, N] = [a.shape[r - 2], b.shape[r - 1]];
    const total = sizeOf(a.shape.slice(0, r - 2)) * M * N;
    const outDtype = promoteTypes(a.dtype, b.dtype);
    const out = rt.make(outDtype, total, 'matmul');
    if (total === 0) return out;
    const plan = matmulPlan(a, b, rt.limits, rt.matmulTuning);
    const { tile, splits, dims } = plan;
    const rb = dims.batchShape.length;
    const split = splits > 1;
    const elems = { a: rt.elem(a.dtype, label), b: rt.elem(b.dtype, label), out: split ? ('f32' as const) : rt.elem(outDtype, label) };
    const source = plan.layout ? matmulVec4Source(tile, rb, plan.layout) : matmulSource(tile, rb, elems);
    const [bm, bn] = [tile.wy * tile.tm, tile.wx * tile.tn];
    const [ga, gb] = [rt.buf(a.storage, 'matmul'), rt.buf(b.storage, 'matmul')];
    // Split K: each slice writes its partial products to scratch, summed into `out` in slice order below.
    const target = split ? rt.make('float32', splits * total, 'matmul') : out;
    const maxZ = rt.limits.maxComputeWorkgroupsPerDimension;
    const perDispatch = Math.floor(maxZ / splits);
    for (let base = 0; base < dims.batch; base += perDispatch) {
      const groups: [number, number, number] = [Math.ceil(N / bn), Math.ceil(M / bm), Math.min(perDispatch, dims.batch - base) * splits];
      if (groups[0] > maxZ || groups[1] > maxZ) throw new WebGpuError(`webgpu ${label}: output too large for one dispatch grid`);
      rt.launch(label, source, matmulParams(plan, a, b, base, total), [target.buffer, ga, gb], groups);
    }
    if (target !== out) {
      rt.launch(label, matmulSplitSumSource(rt.wg, rt.elem(outDtype, label)), new Params().u32(total).u32(splits), [out.buffer, target.buffer], rt.groups(total));
      rt.free(target);
    }
    return out;
  });
}
