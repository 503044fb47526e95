/**
 * The strided map every elementwise kernel is (copy, copyInto, cast, unary, binary, where): one template over
 * strided views. Each output element's linear index is split into coordinates (the rank is baked into the source
 * after dims are collapsed), and each operand's offset is its own offset plus coordinates times its strides (0 for
 * broadcast dims). The output is a strided view too, which is how `copyInto` writes into a slice in place.
 *
 * Operands are read through their accessors (wgsl/common.ts's `binding`): float16 and bfloat16 widen to f32, or
 * — a `bits` operand — move as their 16-bit patterns. Two ways to store:
 * - 'element': one invocation per output element, stored through `out_set` (packed halves change only their own
 *   half of a word, atomically): any output strides.
 * - 'words': a packed output that is contiguous (every fresh output is): one invocation per 32-bit word computes
 *   both of its elements and writes the word once. A word at either end of the range that is only half in it
 *   keeps its other half (read and written back by the one invocation that owns the word).
 */
import { type DType, type View, contiguousStrides, sizeOf } from '@siftjs/tensor';
import type { GpuStorage } from '../../memory/storage.js';
import type { GpuRuntime } from '../../runtime.js';
import {
  type Elem,
  HELPERS,
  Params,
  binding,
  collapse,
  grid,
  halfFormat,
  halfFunctions,
  isPacked,
  linearMain,
  paramBlock,
  pu,
  storage,
  stridedOffsets,
  valueType,
} from '../../wgsl/common.js';

/** An operand's storage type; `bits`: a packed half read or written as its 16-bit pattern (u32), not its value. */
export interface MapElem {
  elem: Elem;
  bits?: boolean;
}

export interface MapSpec {
  /** Inputs, bound as a, b, c. */
  inputs: MapElem[];
  out: MapElem;
  /** WGSL expression over the loaded inputs `a`, `b`, `c` giving the output value (or 16-bit pattern). */
  expr: string;
  /** Extra WGSL functions the expression calls. */
  functions?: string;
  rank: number;
  workgroup: number;
  mode: 'element' | 'words';
}

const NAMES = ['a', 'b', 'c'];

/** Parameter words: n, shape[rank], then for the output and each input: offset, strides[rank]. */
export function mapParamWords(rank: number, inputs: number): number {
  return 1 + rank + (inputs + 1) * (1 + rank);
}

/** The WGSL type an operand's loaded value (or pattern) has. */
const loadedType = (m: MapElem): string => (m.bits && isPacked(m.elem) ? 'u32' : valueType(m.elem));

export function mapSource(spec: MapSpec): string {
  const { rank, inputs, out } = spec;
  const words = mapParamWords(rank, inputs.length);
  const outAt = 1 + rank;
  const inputOffsets = inputs.map((_, j) => ({ name: `${NAMES[j]}_off`, at: 1 + rank + (j + 1) * (1 + rank) }));
  const load = (m: MapElem, j: number) => `in_${NAMES[j]}_${m.bits && isPacked(m.elem) ? 'bits' : 'at'}(u32(${NAMES[j]}_off))`;
  // The output value of element i, from the inputs alone.
  const value = `fn value(i: u32) -> ${loadedType(out)} {
    ${stridedOffsets('i', rank, 1, inputOffsets)}
    ${inputs.map((m, j) => `let ${NAMES[j]} = ${load(m, j)};`).join('\n    ')}
    return ${spec.expr};
}`;
  const decls = inputs.map((m, j) => binding(j + 2, `in_${NAMES[j]}`, m.elem, false)).join('\n');
  const header = `${paramBlock(words)}
${decls}
${HELPERS}
${halfFunctions(out.elem, ...inputs.map((m) => m.elem))}
${spec.functions ?? ''}
${value}`;
  if (spec.mode === 'element') {
    const set = out.bits && isPacked(out.elem) ? 'out_set_bits' : 'out_set';
    return `${binding(1, 'out', out.elem, true)}
${header}
${linearMain(spec.workgroup, 'i')}
    if (i >= ${pu(0)}) { return; }
    ${stridedOffsets('i', rank, 1, [{ name: 'o_off', at: outAt }])}
    ${set}(u32(o_off), value(i));
}
`;
  }
  const half = out.elem;
  if (!isPacked(half)) throw new Error('strided map: the words mode is for packed outputs');
  const pattern = (v: string) => (out.bits ? v : `round_${halfFormat(half)}(bitcast<u32>(${v}))`);
  return `${storage(1, 'out', 'u32', true)}
${header}
${linearMain(spec.workgroup, 't')}
    let n = ${pu(0)};
    let first = ${pu(outAt)};
    // Word w holds elements 2w - first (low half) and 2w - first + 1 (high half) of the output.
    let w = first / 2u + t;
    if (2u * w >= first + n) { return; }
    let j = i32(2u * w) - i32(first);
    var word = 0u;
    if (j < 0 || u32(j) + 1u >= n) { word = out[w]; }
    var lo = word & 0xffffu;
    var hi = word >> 16u;
    if (j >= 0) { lo = ${pattern('value(u32(j))')}; }
    if (u32(j + 1) < n) { hi = ${pattern('value(u32(j + 1))')}; }
    out[w] = lo | (hi << 16u);
}
`;
}

/** An input of a map: a view and how it is read. */
export interface MapInput extends MapElem {
  view: View;
}

/** A map's output: a strided view of `buffer`. */
export interface MapOutput extends MapElem {
  buffer: GPUBuffer;
  offset: number;
  strides: readonly number[];
}

/**
 * An elementwise map: `out` (a strided view of its buffer) ← expr(inputs) over `shape`. The dims are collapsed
 * first, so most views run as rank 1 or 2.
 */
export function map(rt: GpuRuntime, label: string, shape: readonly number[], out: MapOutput, inputs: MapInput[], expr: string, functions = ''): void {
  const n = sizeOf(shape);
  if (n === 0) return;
  const c = collapse(shape, [out.strides, ...inputs.map((i) => i.view.strides)]);
  const rank = c.shape.length;
  const mode = isPacked(out.elem) && isRowMajor(shape, out.strides) ? 'words' : 'element';
  const source = mapSource({ inputs, out, expr, functions, rank, workgroup: rt.wg, mode });
  const p = new Params().u32(n);
  for (const d of c.shape) p.u32(d);
  p.i32(out.offset);
  for (const s of c.strides[0]) p.i32(s);
  inputs.forEach((inp, j) => {
    p.i32(inp.view.offset);
    for (const s of c.strides[j + 1]) p.i32(s);
  });
  // 'words': one invocation per word the output's elements touch.
  const invocations = mode === 'words' ? Math.floor((out.offset + n - 1) / 2) - Math.floor(out.offset / 2) + 1 : n;
  const groups = grid(Math.ceil(invocations / rt.wg), rt.limits.maxComputeWorkgroupsPerDimension);
  rt.launch(label, source, p, [out.buffer, ...inputs.map((i) => rt.buf(i.view.storage, label))], groups);
}

/** The map into a fresh contiguous storage of `dtype` (`bits`: the expression gives 16-bit patterns). */
export function mapNew(rt: GpuRuntime, label: string, dtype: DType, shape: readonly number[], inputs: MapInput[], expr: string, functions = '', bits = false): GpuStorage {
  const out = rt.make(dtype, sizeOf(shape), label);
  map(rt, label, shape, { buffer: out.buffer, elem: rt.elem(dtype, label), bits, offset: 0, strides: contiguousStrides(shape) }, inputs, expr, functions);
  return out;
}

/** Whether element i of `shape` (row-major) is at offset + i: strides row-major, size-1 dims ignored. */
function isRowMajor(shape: readonly number[], strides: readonly number[]): boolean {
  let expect = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] === 1) continue;
    if (strides[d] !== expect) return false;
    expect *= shape[d];
  }
  return true;
}
