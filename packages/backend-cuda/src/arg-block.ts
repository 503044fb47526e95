import * as F from './ffi.js';

/**
 * The one native block a device keeps for kernel arguments (launch.ts packs each launch's arguments into it). Apart
 * from launch.ts so that device.ts, which creates it, and launch.ts, which fills it, do not import each other.
 */
export const ARG_BYTES = 8192;
export const ARG_SLOTS = 64;

/** The native block holding one launch's arguments, and the pointer array into it (kernelParams). */
export interface ArgBlock {
  data: unknown;
  ptrs: unknown;
  base: bigint;
}

export function createArgBlock(): ArgBlock {
  const k = F.koffi();
  const data = k.alloc('uint8_t', ARG_BYTES);
  return { data, ptrs: k.alloc('void *', ARG_SLOTS), base: BigInt(k.address(data)) };
}
