import { type DType, isHalf } from '@siftjs/tensor';
import { C_TYPE, GRID_LOOP, type KernelSource, PRELUDE, checkRank, loadAs } from './common.cu.js';

/**
 * The generic strided map behind unary, binary, where and cast: operand 0 is the output (contiguous for fresh
 * outputs, strided for copyInto), operands 1.. the inputs; each thread walks output positions and finds every
 * operand's element through the Geo block (geo_offset<R>). Values are computed in float for float32 and double
 * otherwise, and stored with the CPU's conversion rules (storeAs). A float16 / bfloat16 input is loaded as its float
 * value, or with `raw` as its 16-bit pattern (copies, where: patterns move unchanged). launch.ts's launchMap passes
 * its arguments.
 */

export interface MapSpec {
  name: string;
  rank: number;
  inputs: DType[];
  out: DType;
  /** Statements computing `r` from loaded inputs in0, in1, …; the result is stored with storeAs(out). */
  body: string;
  /** Half inputs are loaded as their patterns, not widened. */
  raw?: boolean;
}

/** The generic strided map kernel. */
export function mapKernel(s: MapSpec): KernelSource {
  checkRank(s.rank, s.name);
  const params = [...s.inputs.map((d, i) => `const ${C_TYPE[d]}* __restrict__ x${i}`), `${C_TYPE[s.out]}* __restrict__ out`, 'i64 n', 'Geo g'];
  const loads = s.inputs
    .map((d, i) => {
      const at = `x${i}[geo_offset<${s.rank}>(g, ${i + 1}, i)]`;
      return isHalf(d) && !s.raw ? `    const float in${i} = ${loadAs(d, at)};` : `    const ${C_TYPE[d]} in${i} = ${at};`;
    })
    .join('\n');
  const source = `${PRELUDE}
extern "C" __global__ void ${s.name}(${params.join(', ')}) {
  ${GRID_LOOP} {
${loads}
${s.body}
    out[geo_offset<${s.rank}>(g, 0, i)] = r;
  }
}
`;
  return { name: s.name, source, options: [] };
}
