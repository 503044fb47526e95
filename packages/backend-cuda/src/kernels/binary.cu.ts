import { type BinaryOp, COMPARISON_OPS, type DType } from '@siftjs/tensor';
import { C_TYPE, DTYPE_TAG, type KernelSource, computeType, mathFn, storeAs } from './common.cu.js';
import { mapKernel } from './map.cu.js';

export function binaryOutType(op: BinaryOp, dtype: DType): DType {
  return COMPARISON_OPS.has(op) ? 'bool' : dtype;
}

/** Each binary op but pow as a C expression on `a`, `b`: NaN propagates through maximum/minimum, as on the CPU. */
const BINARY_EXPR: Record<Exclude<BinaryOp, 'pow'>, string> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  maximum: '(a != a ? a : b != b ? b : a > b ? a : b)',
  minimum: '(a != a ? a : b != b ? b : a < b ? a : b)',
  eq: '(a == b)',
  ne: '(a != b)',
  lt: '(a < b)',
  le: '(a <= b)',
  gt: '(a > b)',
  ge: '(a >= b)',
  and: '(truthy((double)a) && truthy((double)b))',
  or: '(truthy((double)a) || truthy((double)b))',
};

/** The C expression of a binary op on `a`, `b` (compute type c; `int` ops have the CPU's int rules). */
export function binaryExpr(op: BinaryOp, c: 'float' | 'double', dtype: DType): string {
  if (dtype === 'int32') {
    // Integer rules (CPU INT_BINARY): division truncates (x/0 = 0), multiplication wraps (Math.imul), negative powers are 0.
    if (op === 'div') return '(b == 0 ? 0.0 : trunc(a / b))';
    if (op === 'mul') return '(double)(int)((u32)(int)a * (u32)(int)b)';
    if (op === 'pow') return '(b < 0 ? 0.0 : pow(a, b))';
  }
  if (op === 'pow') return `${mathFn('pow', c)}(a, b)`;
  return BINARY_EXPR[op];
}

export function binaryKernel(op: BinaryOp, dtype: DType, rank: number): KernelSource {
  const c = computeType(dtype);
  const out = binaryOutType(op, dtype);
  const body = `    const ${c} a = (${c})in0;\n    const ${c} b = (${c})in1;\n    const ${C_TYPE[out]} r = ${storeAs(out, binaryExpr(op, c, dtype))};`;
  return mapKernel({ name: `binary_${op}_${DTYPE_TAG[dtype]}_r${rank}`, rank, inputs: [dtype, dtype], out, body });
}
