/** The exports of norm-f32.wat: layer norm / RMS norm over contiguous float32 rows (byte offsets). */
export interface NormKernels {
  normForward(x: number, w: number, b: number, y: number, mean: number, rstd: number, rows: number, cols: number, eps: number, flags: number): void;
  /** acc: 2·cols float32 of scratch, zero on entry (and left zero), for the dw and db block sums. */
  normBackward(dy: number, x: number, w: number, mean: number, rstd: number, dx: number, dw: number, db: number, acc: number, rows: number, cols: number, flags: number): void;
}

/** Flag bits of both kernels. */
export const NORM_CENTRED = 1;
export const NORM_WEIGHT = 2;
export const NORM_BIAS = 4;
/** Backward only: which gradients are computed (dw and db summed into the partials, dx written). */
export const NORM_WANT_DW = 8;
export const NORM_WANT_DB = 16;
export const NORM_WANT_DX = 32;
