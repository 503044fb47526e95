/** The exports of half-f32.wat: contiguous runs converted between half bit patterns and float32 (byte offsets). */
export interface HalfKernels {
  widenBf16(src: number, dst: number, n: number): void;
  narrowBf16(src: number, dst: number, n: number): void;
  widenF16(src: number, dst: number, n: number): void;
  narrowF16(src: number, dst: number, n: number): void;
}
