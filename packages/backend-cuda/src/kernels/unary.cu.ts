import type { DType, UnaryOp } from '@siftjs/tensor';
import { C_TYPE, DTYPE_TAG, type KernelSource, computeType, mathFn, storeAs } from './common.cu.js';
import { mapKernel } from './map.cu.js';

export function unaryOutType(op: UnaryOp, dtype: DType): DType {
  return op === 'not' || op === 'isnan' ? 'bool' : dtype;
}

/** The C expression of a unary op on `v` (compute type c). */
export function unaryExpr(op: UnaryOp, c: 'float' | 'double'): string {
  const f = (name: string) => mathFn(name, c);
  const k = (x: number) => `(${c})${x}`;
  const sig = (x: string) => `(${x} >= ${k(0)} ? ${k(1)} / (${k(1)} + ${f('exp')}(-${x})) : ${f('exp')}(${x}) / (${k(1)} + ${f('exp')}(${x})))`;
  switch (op) {
    case 'neg':
      return '-v';
    case 'abs':
      return `${f('fabs')}(v)`;
    case 'sign':
      return `(v > ${k(0)} ? ${k(1)} : v < ${k(0)} ? ${k(-1)} : v)`;
    case 'exp':
    case 'log':
    case 'sqrt':
    case 'sin':
    case 'cos':
    case 'tanh':
    case 'erf':
    case 'floor':
      return `${f(op)}(v)`;
    case 'rsqrt':
      return `${k(1)} / ${f('sqrt')}(v)`;
    case 'sigmoid':
      return sig('v');
    case 'relu':
      return `(v > ${k(0)} ? v : (v == v ? ${k(0)} : v))`;
    case 'gelu':
      return `${k(0.5)} * v * (${k(1)} + ${f('erf')}(v * ${k(Math.SQRT1_2)}))`;
    case 'geluGrad':
      return `(v > ${k(40)} ? ${k(1)} : v < ${k(-40)} ? ${k(0)} : ${k(0.5)} * (${k(1)} + ${f('erf')}(v * ${k(Math.SQRT1_2)})) + v * ${f('exp')}(${k(-0.5)} * v * v) * ${k(1 / Math.sqrt(2 * Math.PI))})`;
    case 'geluTanhGrad': {
      // t appears twice; the compiler computes the pure tanh once
      const t = `${f('tanh')}(${k(Math.sqrt(2 / Math.PI))} * (v + ${k(0.044715)} * v * v * v))`;
      const d = `${k(0.5)} * (${k(1)} + ${t}) + ${k(0.5)} * v * (${k(1)} - ${t} * ${t}) * ${k(Math.sqrt(2 / Math.PI))} * (${k(1)} + ${k(0.134145)} * v * v)`;
      return `(v > ${k(15)} ? ${k(1)} : v < ${k(-15)} ? ${k(0)} : ${d})`;
    }
    case 'geluTanh':
      return `${k(0.5)} * v * (${k(1)} + ${f('tanh')}(${k(Math.sqrt(2 / Math.PI))} * (v + ${k(0.044715)} * v * v * v)))`;
    case 'silu':
      return `v * ${sig('v')}`;
    case 'square':
      return 'v * v';
    case 'reciprocal':
      return `${k(1)} / v`;
    case 'not':
      return `(truthy((double)v) ? 0 : 1)`;
    case 'isnan':
      return '(v != v ? 1 : 0)';
  }
}

export function unaryKernel(op: UnaryOp, dtype: DType, rank: number): KernelSource {
  const c = computeType(dtype);
  const out = unaryOutType(op, dtype);
  // int32 neg, abs, square in exact integer-valued doubles then ToInt32 (the CPU's -v|0 and typed-array stores).
  const body = `    const ${c} v = (${c})in0;\n    const ${C_TYPE[out]} r = ${storeAs(out, unaryExpr(op, c))};`;
  return mapKernel({ name: `unary_${op}_${DTYPE_TAG[dtype]}_r${rank}`, rank, inputs: [dtype], out, body });
}
