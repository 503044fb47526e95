/** Backend.matmul: the plan (matmul-plan.ts) picks the kernel (matmul.wgsl.ts); split K adds a second, summing kernel. */
import { type BackendStorage, DTypeError, ShapeError, type View, sizeOf } from '@siftjs/tensor';
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
    if (a.dtype !== 'float32' || b.dtype !== 'float32') {
      throw new DTypeError(`webgpu matmul: float32 operands only, got ${a.dtype} ${shapeOf(a)} and ${b.dtype} ${shapeOf(b)}`);
    }
    const batchOk = b.shape.length === r && r >= 2 && a.shape.slice(0, r - 2).every((d, i) => d === b.shape[i]);
    if (!batchOk || a.shape[r - 1] !== b.shape[r - 2]) {
      throw new ShapeError(`webgpu matmul: shapes ${shapeOf(a)} and ${shapeOf(b)} do not multiply ([...batch, M, K] @ [...batch, K, N])`);
    }
    const [M, N] = [a.shape[r - 2], b.shape[r - 1]];
    const total = sizeOf(a.shape.slice(0, r - 2)) * M * N;
    const out = rt.make('float32', total, 'matmul');
    if (total === 0) return out;
    const plan = matmulPlan(a, b, rt.limits, rt.matmulTuning);
    const { tile, splits, dims } = plan;
    const rb = dims.batchShape.length;
    const source = plan.layout ? matmulVec4Source(tile, rb, plan.layout) : matmulSource(tile, rb);
    const [bm, bn] = [tile.wy * tile.tm, tile.wx * tile.tn];
    const [ga, gb] = [rt.buf(a.storage, 'matmul'), rt.buf(b.storage, 'matmul')];
    // Split K: each slice writes its partial products to scratch, summed into `out` in slice order below.
    const target = splits > 1 ? rt.make('float32', splits * total, 'matmul') : out;
    const maxZ = rt.limits.maxComputeWorkgroupsPerDimension;
    const perDispatch = Math.floor(maxZ / splits);
    for (let base = 0; base < dims.batch; base += perDispatch) {
      const groups: [number, number, number] = [Math.ceil(N / bn), Math.ceil(M / bm), Math.min(perDispatch, dims.batch - base) * splits];
      if (groups[0] > maxZ || groups[1] > maxZ) throw new WebGpuError(`webgpu ${label}: output too large for one dispatch grid`);
      rt.launch(label, source, matmulParams(plan, a, b, base, total), [target.buffer, ga, gb], groups);
    }
    if (target !== out) {
      rt.launch(label, matmulSplitSumSource(rt.wg), new Params().u32(total).u32(splits), [out.buffer, target.buffer], rt.groups(total));
      rt.free(target);
    }
    return out;
  });
}
