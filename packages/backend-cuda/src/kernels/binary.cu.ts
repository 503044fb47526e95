import { type BinaryOp, COMPARISON_OPS, type DType } from '@siftjs/tensor';
import { C_TYPE, DTYPE_TAG, type KernelSource, computeType, mathFn, storeAs } from './common.cu.js';
import { mapKernel } from './map.cu.js';

export function binaryOutType(op: BinaryOp, dtype: DType): DType {
  return COMPARISON_OPS.has(op) ? 'bool' : dtype;
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

export function binaryKernel(op: BinaryOp, dtype: DType, rank: number): KernelSource {
  const c = computeType(dtype);
  const out = binaryOutType(op, dtype);
  const body = `    const ${c} a = (${c})in0;\n    const ${c} b = (${c})in1;\n    const ${C_TYPE[out]} r = ${storeAs(out, binaryExpr(op, c, dtype))};`;
  return mapKernel({ name: `binary_${op}_${DTYPE_TAG[dtype]}_r${rank}`, rank, inputs: [dtype, dtype], out, body });
}
