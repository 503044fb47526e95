import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsFile, saveSafetensors, saveSafetensorsAsync } from '@siftjs/safetensors';
import { DTypeNotImplementedError, type HalfDType, halfBitsToFloat32Array, type Tensor } from '@siftjs/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, caps, syncOrAsync } from '../support/backends.js';
import { read } from '../support/read.js';

/**
 * float16 / bfloat16 tensors PyTorch wrote (tests/golden/half_safetensors.py): loaded without widening, their bits
 * equal to the bits PyTorch held (bits.json, from `t.view(torch.int16)`), and saved back as F16 / BF16 byte for byte.
 */
const golden = new URL('../golden/half-safetensors/', import.meta.url);
const file = new URL('halves.safetensors', golden).pathname;
const want = JSON.parse(readFileSync(new URL('bits.json', golden), 'utf8')) as { tensors: Record<string, { shape: number[]; bits: number[] }> };
const dtypeOf = (name: string): HalfDType => (name.endsWith('.bf16') ? 'bfloat16' : 'float16');

const dir = mkdtempSync(join(tmpdir(), 'sift-st-half-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(backendsUnderTest())('a half-precision safetensors file from PyTorch on $name', (backend) => {
  beforeAll(() => backend.start());

  it('loads F16 and BF16 tensors as float16 / bfloat16 with PyTorch\'s bits (NaN, ±Inf, -0, subnormals)', async () => {
    const f = SafetensorsFile.open(file);
    try {
      for (const [name, { shape, bits }] of Object.entries(want.tensors)) {
        if (!caps().half) {
          // no half storage on this backend yet: widened to float32, exactly; asking for the half dtype says why not
          const values = await read(() => f.read(name));
          const exact = halfBitsToFloat32Array(Uint16Array.from(bits), dtypeOf(name));
          expect(values.map((v, i) => (Number.isNaN(v) ? Number.isNaN(exact[i]) : Object.is(v, exact[i])))).toEqual(bits.map(() => true));
          expect(() => f.read(name, dtypeOf(name))).toThrow(DTypeNotImplementedError);
          continue;
        }
        const t = f.read(name);
        expect(t.dtype, name).toBe(dtypeOf(name));
        expect([...t.shape], name).toEqual(shape);
        expect(Array.from(await t.toBits()), name).toEqual(bits);
        t.dispose();
      }
    } finally {
      f.close();
    }
  });

  // Without half storage there are no half tensors to save (the test above checks such a backend refuses them).
  it.runIf(backend.half)('saves them back as F16 / BF16 with the same bytes PyTorch wrote', async () => {
    const src = SafetensorsFile.open(file);
    const out = join(dir, `${backend.name}.safetensors`);
    const tensors: Record<string, Tensor> = {};
    try {
      for (const name of src.keys()) tensors[name] = src.read(name);
      await syncOrAsync(() => saveSafetensors(out, tensors), () => saveSafetensorsAsync(out, tensors));
      const back = SafetensorsFile.open(out);
      try {
        for (const name of Object.keys(want.tensors)) {
          expect(back.info(name).dtype, name).toBe(src.info(name).dtype);
          expect(Buffer.from(back.readBytes(name)).equals(Buffer.from(src.readBytes(name))), name).toBe(true);
        }
      } finally {
        back.close();
      }
    } finally {
      src.close();
      for (const t of Object.values(tensors)) t.dispose();
    }
  });
});
