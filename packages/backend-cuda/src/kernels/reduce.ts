import type { BackendStorage, ReduceOp, View } from '@siftjs/tensor';
import { type CudaDevice, storageOf } from '../device.js';
import { bytes, collapse, i64, packGeo, ptr } from '../geometry.js';
import { launch } from '../launch.js';
import { REDUCE_BLOCK, reduceKernel, reduceOutType } from './reduce.cu.js';

/** One block per output element: `kept` walks the outputs, `red` the reduced elements of each. */
export function reduce(dev: CudaDevice, op: ReduceOp, x: View, axes: readonly number[]): BackendStorage {
  const { kept, red, nOut, nRed } = splitAxes(x, axes);
  const out = dev.make(reduceOutType(op, x.dtype), nOut);
  const k = reduceKernel(op, x.dtype, kept.shape.length, red.shape.length);
  launch(dev, k, nOut * REDUCE_BLOCK, [ptr(storageOf(x.storage).ptr), ptr(out.ptr), i64(nOut), i64(nRed), bytes(packGeo(kept, [x.offset])), bytes(packGeo(red, [0]))], REDUCE_BLOCK);
  return out;
}

/** A view's dims split into those kept and those reduced over, each with its strides, merged where contiguous. */
export function splitAxes(x: View, axes: readonly number[]) {
  const keptShape: number[] = [];
  const keptStrides: number[] = [];
  const redShape: number[] = [];
  const redStrides: number[] = [];
  x.shape.forEach((d, i) => {
    if (axes.includes(i)) {
      redShape.push(d);
      redStrides.push(x.strides[i]);
    } else {
      keptShape.push(d);
      keptStrides.push(x.strides[i]);
    }
  });
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  return { kept: collapse(keptShape, [keptStrides]), red: collapse(redShape, [redStrides]), nOut: size(keptShape), nRed: size(redShape) };
}
