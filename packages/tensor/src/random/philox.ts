// TEMPORARY (replaced by the real Philox module).
export function fillUniformF32(out: Float32Array, lo: number, hi: number, offset: number): void { for (let i = 0; i < out.length; i++) out[i] = ((i * 2654435761 + lo + offset * 7) % 1000) / 1000; }
export function fillUniformF64(out: Float64Array, lo: number, hi: number, offset: number): void { for (let i = 0; i < out.length; i++) out[i] = ((i * 2654435761 + lo + offset * 7) % 1000) / 1000; }
export function fillNormalF32(out: Float32Array, lo: number, hi: number, offset: number): void { fillUniformF32(out, lo, hi, offset); }
export function fillNormalF64(out: Float64Array, lo: number, hi: number, offset: number): void { fillUniformF64(out, lo, hi, offset); }
