import type { View } from '@siftjs/tensor';
import type { CpuContext } from '../runtime/context.js';
import { converter, copyStrided } from './support/copy-strided.js';

/** In place: `src` written into the strided view `dst` (converted where the dtypes differ). */
export function copyInto(cpu: CpuContext, dst: View, src: View): void {
  copyStrided(cpu.array(src.storage), src, cpu.array(dst.storage), dst, converter(src.dtype, dst.dtype));
}
