/**
 * The strided map every elementwise kernel is (copy, copyInto, cast, unary, binary, where): one template over
 * strided views. Each invocation computes one output element: its linear index is split into coordinates (the
 * rank is baked into the source after dims are collapsed), and each operand's offset is its own offset plus
 * coordinates times its strides (0 for broadcast dims). The output is a strided view too, which is how
 * `copyInto` writes into a slice in place.
 */
import { type DType, type View, contiguousStrides, sizeOf } from '@siftjs/tensor';
import type { GpuStorage } from '../../memory/storage.js';
import type { GpuRuntime } from '../../runtime.js';
import { HELPERS, Params, type Scalar, collapse, grid, linearMain, paramBlock, pu, storage, stridedOffsets } from '../../wgsl/common.js';

export interface MapSpec {
  /** Input element types, bound as a, b, c. */
  inputs: Scalar[];
  out: Scalar;
  /** WGSL expression over the loaded inputs `a`, `b`, `c` giving the output value. */
  expr: string;
  /** Extra WGSL functions the expression calls. */
  functions?: string;
  rank: number;
  workgroup: number;
}

const NAMES = ['a', 'b', 'c'];

/** Parameter words: n, shape[rank], then for the output and each input: offset, strides[rank]. */
export function mapParamWords(rank: number, inputs: number): number {
  return 1 + rank + (inputs + 1) * (1 + rank);
}

export function mapSource(spec: MapSpec): string {
  const { rank, inputs } = spec;
  const words = mapParamWords(rank, inputs.length);
  const operands = [{ name: 'o_off', at: 1 + rank }, ...inputs.map((_, j) => ({ name: `${NAMES[j]}_off`, at: 1 + rank + (j + 1) * (1 + rank) }))];
  return `${paramBlock(words)}
${storage(1, 'out', spec.out, true)}
${inputs.map((t, j) => storage(j + 2, `in_${NAMES[j]}`, t, false)).join('\n')}
${HELPERS}
${spec.functions ?? ''}
${linearMain(spec.workgroup, 'i')}
    if (i >= ${pu(0)}) { return; }
    ${stridedOffsets('i', rank, 1, operands)}
    ${inputs.map((_, j) => `let ${NAMES[j]} = in_${NAMES[j]}[${NAMES[j]}_off];`).join('\n    ')}
    out[o_off] = ${spec.expr};
}
`;
}

/**
 * An elementwise map: `out` (a strided view of `outBuffer`) ← expr(inputs) over `shape`. The dims are
 * collapsed first, so most views run as rank 1 or 2.
 */
export function map(
  rt: GpuRuntime,
  label: string,
  shape: readonly number[],
  out: { buffer: GPUBuffer; type: Scalar; offset: number; strides: readonly number[] },
  inputs: { view: View; type: Scalar }[],
  expr: string,
  functions = '',
): void {
  const n = sizeOf(shape);
  if (n === 0) return;
  const c = collapse(shape, [out.strides, ...inputs.map((i) => i.view.strides)]);
  const rank = c.shape.length;
  const source = mapSource({ inputs: inputs.map((i) => i.type), out: out.type, expr, functions, rank, workgroup: rt.wg });
  const p = new Params().u32(n);
  for (const d of c.shape) p.u32(d);
  p.i32(out.offset);
  for (const s of c.strides[0]) p.i32(s);
  inputs.forEach((inp, j) => {
    p.i32(inp.view.offset);
    for (const s of c.strides[j + 1]) p.i32(s);
  });
  const groups = grid(Math.ceil(n / rt.wg), rt.limits.maxComputeWorkgroupsPerDimension);
  rt.launch(label, source, p, [out.buffer, ...inputs.map((i) => rt.buf(i.view.storage, label))], groups);
}

/** The map into a fresh contiguous storage of `dtype`. */
export function mapNew(rt: GpuRuntime, label: string, dtype: DType, shape: readonly number[], inputs: { view: View; type: Scalar }[], expr: string, functions = ''): GpuStorage {
  const out = rt.make(dtype, sizeOf(shape), label);
  map(rt, label, shape, { buffer: out.buffer, type: rt.scalar(dtype, label), offset: 0, strides: contiguousStrides(shape) }, inputs, expr, functions);
  return out;
}
