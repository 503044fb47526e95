import type { DType } from '@siftjs/tensor';
import { BLOCK_REDUCE, DTYPE_TAG, type KernelSource, PRELUDE, ROW_BLOCK, ROW_LOOP, floatOnly, loadAs, storeAs } from './common.cu.js';

/** dx = y ⊙ (dy − Σ dy⊙y), or for log-softmax dx = dy − exp(y)·Σ dy; one block per row, in double. */
export function softmaxBackwardKernel(dtype: DType, log: boolean): KernelSource {
  const T = floatOnly(dtype, 'softmaxBackward');
  const name = `softmaxBackward${log ? '_log' : ''}_${DTYPE_TAG[dtype]}`;
  const [yj, dyj] = [`(double)${loadAs(dtype, 'y[o + j]')}`, `(double)${loadAs(dtype, 'dy[o + j]')}`];
  const term = log ? dyj : `${dyj} * ${yj}`;
  const dx = log ? `${dyj} - exp(${yj}) * s` : `${yj} * (${dyj} - s)`;
  const source = `${PRELUDE}${BLOCK_REDUCE}
extern "C" __global__ void ${name}(const ${T}* __restrict__ y, const ${T}* __restrict__ dy, ${T}* __restrict__ dx, i64 rows, i64 cols) {
  __shared__ double sh[${ROW_BLOCK}];
  ${ROW_LOOP} {
    const i64 o = r * cols;
    double s = 0.0;
    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) s += ${term};
    s = block_sum(s, sh);
    for (i64 j = threadIdx.x; j < cols; j += blockDim.x) dx[o + j] = ${storeAs(dtype, `(${dx})`)};
  }
}
`;
  return { name, source, options: [] };
}
