import type { BinaryOp, DType, UnaryOp } from '@siftjs/tensor';
import { C_TYPE, DTYPE_TAG, GRID_LOOP, type KernelSource, PRELUDE, checkRank, computeType, mathFn, storeAs } from './common.js';

/**
 * Elementwise kernels over strided views: operand 0 is the output (contiguous for fresh outputs, strided for
 * copyInto), operands 1.. the inputs; each thread walks output positions and finds every operand's element
 * through the Geo block (geo_offset<R>). Values are computed in float for float32 and double otherwise, and
 * stored with the CPU's conversion rules (storeAs).
 */

const COMPARE = new Set<BinaryOp>(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or']);

export function unaryOutType(op: UnaryOp, dtype: DType): DType {
  return op === 'not' || op === 'isnan' ? 'bool' : dtype;
}

export function binaryOutType(op: BinaryOp, dtype: DType): DType {
  return COMPARE.has(op) ? 'bool' : dtype;
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

/** The C expression of a binary op on `a`, `b` (compute type c; `int` ops have the CPU's int rules). */
export function binaryExpr(op: BinaryOp, c: 'float' | 'double', dtype: DType): string {
  if (dtype === 'int32') {
    // Integer rules (CPU INT_BINARY): division truncates (x/0 = 0), multiplication wraps (Math.imul), negative powers are 0.
    if (op === 'div') return '(b == 0 ? 0.0 : trunc(a / b))';
    if (op === 'mul') return '(double)(int)((u32)(int)a * (u32)(int)b)';
    if (op === 'pow') return '(b < 0 ? 0.0 : pow(a, b))';
  }
  switch (op) {
    case 'add':
      return 'a + b';
    case 'sub':
      return 'a - b';
    case 'mul':
      return 'a * b';
    case 'div':
      return 'a / b';
    case 'pow':
      return `${mathFn('pow', c)}(a, b)`;
    case 'maximum':
      return '(a != a ? a : b != b ? b : a > b ? a : b)';
    case 'minimum':
      return '(a != a ? a : b != b ? b : a < b ? a : b)';
    case 'eq':
      return '(a == b)';
    case 'ne':
      return '(a != b)';
    case 'lt':
      return '(a < b)';
    case 'le':
      return '(a <= b)';
    case 'gt':
      return '(a > b)';
    case 'ge':
      return '(a >= b)';
    case 'and':
      return '(truthy((double)a) && truthy((double)b))';
    case 'or':
      return '(truthy((double)a) || truthy((double)b))';
  }
}

interface MapSpec {
  name: string;
  rank: number;
  inputs: DType[];
  out: DType;
  /** Statements computing `r` from loaded inputs in0, in1, …; the result is stored with storeAs(out). */
  body: string;
}

/** The generic strided map kernel. */
function mapKernel(s: MapSpec): KernelSource {
  checkRank(s.rank, s.name);
  const params = [...s.inputs.map((d, i) => `const ${C_TYPE[d]}* __restrict__ x${i}`), `${C_TYPE[s.out]}* __restrict__ out`, 'i64 n', 'Geo g'];
  const loads = s.inputs.map((d, i) => `    const ${C_TYPE[d]} in${i} = x${i}[geo_offset<${s.rank}>(g, ${i + 1}, i)];`).join('\n');
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

export function unaryKernel(op: UnaryOp, dtype: DType, rank: number): KernelSource {
  const c = computeType(dtype);
  const out = unaryOutType(op, dtype);
  // int32 neg, abs, square in exact integer-valued doubles then ToInt32 (the CPU's -v|0 and typed-array stores).
  const body = `    const ${c} v = (${c})in0;\n    const ${C_TYPE[out]} r = ${storeAs(out, unaryExpr(op, c))};`;
  return mapKernel({ name: `unary_${op}_${DTYPE_TAG[dtype]}_r${rank}`, rank, inputs: [dtype], out, body });
}

export function binaryKernel(op: BinaryOp, dtype: DType, rank: number): KernelSource {
  const c = computeType(dtype);
  const out = binaryOutType(op, dtype);
  const body = `    const ${c} a = (${c})in0;\n    const ${c} b = (${c})in1;\n    const ${C_TYPE[out]} r = ${storeAs(out, binaryExpr(op, c, dtype))};`;
  return mapKernel({ name: `binary_${op}_${DTYPE_TAG[dtype]}_r${rank}`, rank, inputs: [dtype, dtype], out, body });
}

export function whereKernel(dtype: DType, rank: number): KernelSource {
  const body = `    const ${C_TYPE[dtype]} r = in0 ? in1 : in2;`;
  return mapKernel({ name: `where_${DTYPE_TAG[dtype]}_r${rank}`, rank, inputs: ['bool', dtype, dtype], out: dtype, body });
}

/** Strided → strided copy with conversion (copy, cast and copyInto are all this). */
export function castKernel(from: DType, to: DType, rank: number): KernelSource {
  let expr: string;
  if (from === to) expr = 'in0';
  else if (to === 'bool') expr = '(unsigned char)((double)in0 != 0.0)'; // non-zero or NaN → 1, as the CPU's converter
  else if (to === 'int32') expr = 'to_i32((double)in0)';
  else expr = `(${C_TYPE[to]})in0`;
  const body = `    const ${C_TYPE[to]} r = ${expr};`;
  return mapKernel({ name: `cast_${DTYPE_TAG[from]}_${DTYPE_TAG[to]}_r${rank}`, rank, inputs: [from], out: to, body });
}

/** A contiguous fill with one value (passed as a double and converted like a typed-array store). */
export function fillKernel(dtype: DType): KernelSource {
  const name = `fill_${DTYPE_TAG[dtype]}`;
  const value = dtype === 'bool' ? '(unsigned char)truthy(value)' : storeAs(dtype, 'value');
  const source = `${PRELUDE}
extern "C" __global__ void ${name}(${C_TYPE[dtype]}* __restrict__ out, i64 n, double value) {
  const ${C_TYPE[dtype]} r = ${value};
  ${GRID_LOOP} out[i] = r;
}
`;
  return { name, source, options: [] };
}
